"""Methods by name: the registered ones, a user's class by import path, or a user's folder.

- `humandiffusion`, … : registered in `hdbench.methods`;
- `package.module:Class` : any importable class (or instance) implementing `Method`;
- a name found in a folder of methods: `DIR/NAME.py`, whose module-level `method` is the class
  (or instance). Folders come from `HDBENCH_METHODS` (separated by the OS path separator) and
  from `--methods DIR`, as oracle folders do; the command line puts `--methods` folders into the
  environment, so that worker processes find them too. A module named like a bundled method
  is refused: it would otherwise be silently ignored.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from hdbench.errors import SpecError
from hdbench.methods.base import METHODS
from hdbench.protocol import Method

ENV_VAR = "HDBENCH_METHODS"
REQUIRED = ("Params", "init", "ask", "tell", "finish")


def method_dirs(extra_dirs: Sequence[Path | str] = ()) -> list[Path]:
    from_env = [Path(p) for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
    return [*from_env, *(Path(d) for d in extra_dirs)]


def use_method_dirs(dirs: Sequence[Path | str]) -> None:
    """Add folders of methods to this process's search path and to its children's."""
    for folder in dirs:
        if not Path(folder).is_dir():
            raise SpecError(f"--methods: expected a folder of method modules, got {folder}")
        check_no_shadowing(Path(folder))
    known = os.environ.get(ENV_VAR, "").split(os.pathsep)
    added = [str(Path(d).resolve()) for d in dirs if str(Path(d).resolve()) not in known]
    os.environ[ENV_VAR] = os.pathsep.join([p for p in known if p] + added)


def resolve_method(name: str) -> Method:
    """The method called `name`; an unknown one raises one line listing what is known."""
    if name in METHODS:
        return METHODS[name]
    if ":" in name:
        return _from_import_path(name)
    for folder in method_dirs():
        path = folder / f"{name}.py"
        if path.is_file():
            return _from_file(path)
    known = ", ".join(method_names())
    raise SpecError(
        f"method: unknown method {name!r}; expected one of: {known}, or package.module:Class"
    )


def method_names() -> list[str]:
    """Registered methods and those in the method folders."""
    return [*METHODS, *(path.stem for path in user_method_files())]


def user_method_files() -> list[Path]:
    """The modules of the method folders, each checked not to shadow a bundled method."""
    return [
        path for folder in method_dirs() if folder.is_dir() for path in check_no_shadowing(folder)
    ]


def check_no_shadowing(folder: Path) -> list[Path]:
    """The method modules of `folder`; SpecError when one is named like a bundled method."""
    paths = [p for p in sorted(folder.glob("*.py")) if not p.name.startswith("_")]
    for path in paths:
        if path.stem in METHODS:
            raise SpecError(
                f"{path}: a method folder's module may not be named like the bundled method "
                f"{path.stem!r}, which it would shadow; expected another name"
            )
    return paths


def describe_methods() -> list[tuple[str, str, str, str]]:
    """(name, where from, one-line description, parameters with defaults) of every method, the
    bundled first; a user module that cannot be loaded says why instead of its description."""
    rows = []
    for name in method_names():
        origin = "bundled" if name in METHODS else "plug-in"
        try:
            method = resolve_method(name)
        except SpecError as error:
            rows.append((name, origin, f"cannot load: {error}", ""))
            continue
        params = ", ".join(
            f"{field.alias or key}"
            + (
                " (required)"
                if field.is_required()
                else f"={field.get_default(call_default_factory=True)!r}"
            )
            for key, field in method.Params.model_fields.items()
        )
        rows.append((name, origin, getattr(method, "description", ""), params))
    return rows


@cache
def _from_import_path(name: str) -> Method:
    module_name, _, attribute = name.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise SpecError(f"method: cannot import {module_name!r} for {name!r}: {error}") from None
    if not hasattr(module, attribute):
        raise SpecError(f"method: module {module_name!r} has no {attribute!r}")
    return _checked(getattr(module, attribute), name)


@cache
def _from_file(path: Path) -> Method:
    module_name = f"hdbench_user_methods.{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise SpecError(f"{path}: cannot load this method module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise SpecError(f"{path}: the module raised {type(error).__name__}: {error}") from None
    if not hasattr(module, "method"):
        raise SpecError(f"{path}: expected a module-level `method` (the method's class)")
    return _checked(module.method, str(path))


def _checked(entry: object, where: str) -> Method:
    method = entry() if isinstance(entry, type) else entry
    missing = [name for name in REQUIRED if not hasattr(method, name)]
    if missing:
        raise SpecError(
            f"method {where}: expected a class with Params, init, ask, tell and finish; "
            f"missing {', '.join(missing)}"
        )
    return method  # type: ignore[return-value]
