"""A method's state survives the disk: arrays, JSON, torch state dicts and its generator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hdbench.protocol.state import (
    MethodState,
    StateFormatError,
    copy_state,
    load_state,
    save_state,
)


def trained_state() -> tuple[MethodState, torch.nn.Module, torch.optim.Optimizer]:
    model = torch.nn.Linear(3, 2)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    model(torch.ones(4, 3)).sum().backward()
    optimiser.step()
    rng = np.random.default_rng(7)
    rng.standard_normal(5)
    state = MethodState(
        "update",
        rng,
        values={"round": 3, "best": None, "names": ["a", "b"]},
        arrays={"x": np.arange(6.0).reshape(3, 2), "index": np.array([2, 0, 1])},
        modules={"model": model.state_dict(), "optimiser": optimiser.state_dict()},
    )
    return state, model, optimiser


def test_a_saved_state_loads_equal_and_its_generator_goes_on_the_same(tmp_path):
    state, _, _ = trained_state()
    path = save_state(state, tmp_path / "state.npz", extra={"position": 2})
    loaded, extra = load_state(path)
    assert extra == {"position": 2}
    assert loaded.phase == "update" and loaded.values == state.values
    for name, array in state.arrays.items():
        np.testing.assert_array_equal(loaded.arrays[name], array)
        assert loaded.arrays[name].dtype == array.dtype
    for key, tensor in state.modules["model"].items():
        assert torch.equal(loaded.modules["model"][key], tensor)
    np.testing.assert_array_equal(loaded.rng.standard_normal(4), state.rng.standard_normal(4))


def test_an_optimiser_restored_from_a_state_takes_the_same_step():
    state, model, optimiser = trained_state()
    restored = copy_state(state)
    twin = torch.nn.Linear(3, 2)
    twin.load_state_dict(restored.modules["model"])
    twin_optimiser = torch.optim.Adam(twin.parameters(), lr=0.01)
    twin_optimiser.load_state_dict(restored.modules["optimiser"])
    for m, o in ((model, optimiser), (twin, twin_optimiser)):
        o.zero_grad()
        (m(torch.ones(4, 3)) ** 2).sum().backward()
        o.step()
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        assert torch.equal(a, b)


def test_a_damaged_state_file_is_named_in_one_line(tmp_path):
    path = tmp_path / "state.npz"
    path.write_bytes(b"not a state")
    with pytest.raises(StateFormatError, match=r"state\.npz: cannot read the method's state"):
        load_state(path)


def test_a_state_holds_no_pickle(tmp_path):
    state, _, _ = trained_state()
    path = save_state(state, tmp_path / "state.npz")
    with np.load(path, allow_pickle=False) as stored:
        assert all(stored[name].dtype != object for name in stored.files)
