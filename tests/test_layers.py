"""The package's layers: no import runs back up them, and no package imports itself round a
cycle. The order is the one docs/design.md shows under *Layers*; every import counts, inside
functions and TYPE_CHECKING blocks too."""

from __future__ import annotations

import ast
from pathlib import Path

import hdbench

ROOT = Path(hdbench.__file__).parent

#: Lowest first. A unit may import any unit of a lower layer, and of its own only in the base
#: (whose small modules lean on `errors`). `__init__` is the root package's lazy re-export of
#: `load_oracle`; `hdbench`, the root package's own names.
LAYERS: list[set[str]] = [
    {"hdbench", "bundled", "errors", "files", "lazy", "memory", "progress", "registry", "rng"}
    | {"threads", "timeout"}
    | {"validation", "version"},
    {"protocol"},
    {"estimators", "models", "samplers"},
    {"methods"},
    {"speech"},
    {"oracles"},
    {"studies"},
    {"metrics"},
    {"report"},
    {"experiments"},
    {"serve"},
    {"cli", "__init__"},
]
BASE = 0


def unit_of(module: str) -> str:
    """The package or root module `hdbench.X…` belongs to; `hdbench` for the root package's own
    names (`__version__`), which every import of hdbench runs first anyway."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "hdbench"


def is_module(name: str) -> bool:
    return (ROOT / name).is_dir() or (ROOT / f"{name}.py").is_file()


def imported_modules(path: Path) -> set[str]:
    """The hdbench modules `path` imports; `from hdbench import X` names the module hdbench.X
    when X is one, else the root package."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "hdbench":
                found |= {
                    f"hdbench.{alias.name}" if is_module(alias.name) else "hdbench"
                    for alias in node.names
                }
            else:
                found.add(node.module)
    return {name for name in found if name == "hdbench" or name.startswith("hdbench.")}


def unit_edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT).with_suffix("")
        unit = relative.parts[0] if len(relative.parts) > 1 else relative.name
        targets = {unit_of(name) for name in imported_modules(path)} - {unit}
        edges.setdefault(unit, set()).update(targets)
    return edges


def layer_of(unit: str) -> int:
    for index, layer in enumerate(LAYERS):
        if unit in layer:
            return index
    raise AssertionError(f"hdbench.{unit} is in no layer: add it to LAYERS and docs/design.md")


def test_every_unit_has_a_layer():
    for unit in unit_edges():
        layer_of(unit)


def test_no_import_runs_up_the_layers():
    upward = [
        f"hdbench.{unit} imports hdbench.{target}"
        for unit, targets in sorted(unit_edges().items())
        for target in sorted(targets)
        if layer_of(target) > layer_of(unit) or (layer_of(target) == layer_of(unit) != BASE)
    ]
    assert upward == []


def test_no_package_cycle():
    edges = unit_edges()
    cycles = []

    def visit(unit: str, path: list[str]) -> None:
        for target in sorted(edges.get(unit, ())):
            if target in path:
                cycles.append(" → ".join([*path[path.index(target) :], target]))
            elif target not in done:
                visit(target, [*path, target])
        done.add(unit)

    done: set[str] = set()
    for unit in sorted(edges):
        visit(unit, [unit])
    assert cycles == []


def test_the_docs_show_the_layers():
    """The design page's diagram (the first code block under *Layers*) lists them lowest first."""
    readme = (ROOT.parent / "docs" / "design.md").read_text()
    section = readme[readme.index("### Layers") :]
    start = section.index("```") + 3
    diagram = section[start : section.index("```", start)].split()
    shown = [word.strip(",:/") for word in diagram]
    order = [unit for layer in LAYERS for unit in sorted(layer)]
    assert [unit for unit in shown if unit in order] == [u for u in order if u in shown]
    assert set(order) - {"__init__", "hdbench"} <= set(shown)


def test_the_checker_sees_an_upward_import(tmp_path):
    """The check can fail: a function-level import of the experiments from a metric is found."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from hdbench.experiments.run import execute\n")
    assert {unit_of(name) for name in imported_modules(module)} == {"experiments"}
    assert layer_of("experiments") > layer_of("metrics")
