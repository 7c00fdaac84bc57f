"""Finding oracle specs by name.

Specs are looked up in the project's `oracles/` folder, then in every folder listed in the
environment variable HDBENCH_ORACLES (separated by the OS path separator), then in folders
passed explicitly. Files whose name starts with `_` (the template) are not oracles.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from hdbench.bundled import project_folder
from hdbench.errors import SpecError
from hdbench.oracles.oracle import Oracle, kind_params
from hdbench.oracles.spec import OracleSpec, read_spec

ENV_VAR = "HDBENCH_ORACLES"
BUNDLED_DIR = project_folder("oracles")


def search_path(extra_dirs: Sequence[Path | str] = ()) -> list[Path]:
    """Folders searched for specs, in order."""
    from_env = [Path(p) for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
    return [BUNDLED_DIR, *from_env, *(Path(d) for d in extra_dirs)]


def find_specs(extra_dirs: Sequence[Path | str] = ()) -> dict[str, Path]:
    """Every spec file on the search path, by oracle name (the file's stem)."""
    found: dict[str, Path] = {}
    for folder in search_path(extra_dirs):
        if not folder.is_dir():
            if folder != BUNDLED_DIR:
                raise SpecError(f"{ENV_VAR} or --oracles: expected a folder, got {folder}")
            continue
        for path in sorted(folder.glob("*.toml")):
            if path.name.startswith("_"):
                continue
            if path.stem in found and found[path.stem].resolve() != path.resolve():
                raise SpecError(
                    f"{path}: oracle {path.stem!r} is also defined in {found[path.stem]}"
                )
            found[path.stem] = path
    return found


def load_oracle(name_or_path: str | Path, extra_dirs: Sequence[Path | str] = ()) -> Oracle:
    """An oracle by name, or from a spec file's path."""
    if not isinstance(name_or_path, str | Path):
        raise SpecError(
            f"oracle: expected an oracle's name or a spec file's path, got "
            f"{type(name_or_path).__name__} {name_or_path!r}"
        )
    path = Path(name_or_path)
    if path.suffix != ".toml":
        specs = find_specs(extra_dirs)
        if str(name_or_path) not in specs:
            known = ", ".join(specs) or "none"
            raise SpecError(f"oracle: unknown name {str(name_or_path)!r}; expected one of: {known}")
        path = specs[str(name_or_path)]
    return Oracle.from_spec(read_spec(path), source=path)


def check_spec(path: Path) -> OracleSpec:
    """Read a spec file and validate its kind's parameters (a Python D is probed) without
    building D; SpecError names the file and the field."""
    spec = read_spec(path)
    kind_params(spec, str(path))
    return spec


def load_all(extra_dirs: Sequence[Path | str] = ()) -> list[Oracle]:
    """Every oracle on the search path, sorted by name."""
    return [load_oracle(path) for _, path in sorted(find_specs(extra_dirs).items())]
