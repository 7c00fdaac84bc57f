"""mkdocs hooks: the generated parts of the reference, written from the code at build time so
that they cannot fall behind it. A page asks for one with a marker line, e.g. `<!-- cli -->`."""

from __future__ import annotations

import argparse
import re
import types
import typing
from collections.abc import Callable, Iterator

from pydantic import BaseModel
from pydantic_core import PydanticUndefined


def cli_reference() -> str:
    """Every command's `--help`, nested commands under their parents."""
    from hdbench.cli import build_parser

    return "\n".join(
        f"### `{name}`\n\n```text\n{parser.format_help().rstrip()}\n```\n"
        for name, parser in commands(build_parser())
    )


def commands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield parser.prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield from commands(sub)


def type_name(annotation: object) -> str:
    """A field's type as a reader writes it: `int | None`, `list[str]`, `"slider" | …`."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " \\| ".join(
            f'`"{v}"`' if isinstance(v, str) else f"`{v}`" for v in typing.get_args(annotation)
        )
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(type_name(a) for a in typing.get_args(annotation))
    if origin is not None:
        inner = ", ".join(type_name(a).strip("`") for a in typing.get_args(annotation))
        return f"`{origin.__name__}[{inner}]`"
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return f"table ([{annotation.__name__}](#{annotation.__name__.lower()}))"
        return f"`{'None' if annotation is type(None) else annotation.__name__}`"
    return f"`{annotation}`"


CONSTRAINTS = {
    "ge": "≥",
    "gt": ">",
    "le": "≤",
    "lt": "<",
    "min_length": "length ≥",
    "pattern": "matches",
}


def constraints(field) -> str:
    found = []
    for item in field.metadata:
        for attr, sign in CONSTRAINTS.items():
            value = getattr(item, attr, None)
            if value is not None:
                found.append(f"{sign} `{value}`")
    return ", ".join(found)


def default(field) -> str:
    if field.is_required():
        return "required"
    value = field.default_factory() if field.default_factory is not None else field.default
    if isinstance(value, BaseModel):
        return "its defaults"
    return "" if value is PydanticUndefined else f"`{value!r}`"


def model_table(model: type[BaseModel], heading: str | None = None, level: str = "###") -> str:
    """A model's fields as a table: key, type, default, constraints, description."""
    lines = [f"{level} {heading or model.__name__}", ""]
    doc = (model.__doc__ or "").strip().split("\n\n")[0]
    if doc and not doc.startswith(("Base", "A model a user")):
        lines += [" ".join(doc.split()), ""]
    lines += ["| key | type | default | allowed | description |", "|---|---|---|---|---|"]
    for name, field in model.model_fields.items():
        key = field.alias or name
        cells = [f"`{key}`", type_name(field.annotation), default(field), constraints(field)]
        cells.append(" ".join((field.description or "").split()))
        lines.append(
            "| "
            + " | ".join(
                cell.replace("|", "\\|") if i == 4 else cell for i, cell in enumerate(cells)
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


def nested_models(model: type[BaseModel]) -> list[type[BaseModel]]:
    """The models a model's fields hold, depth first, each once."""
    found: dict[type[BaseModel], None] = {}

    def visit(annotation: object) -> None:
        model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        if model and annotation not in found:
            found[annotation] = None
            for field in annotation.model_fields.values():
                visit(field.annotation)
        for arg in typing.get_args(annotation):
            visit(arg)

    for field in model.model_fields.values():
        visit(field.annotation)
    return list(found)


def oracle_schema() -> str:
    import hdbench.oracles  # noqa: F401  (registers every kind)
    from hdbench.oracles.kinds import ACCEPTABILITY_KINDS
    from hdbench.oracles.real_data import REAL_DATA_KINDS
    from hdbench.oracles.spec import OracleSpec

    parts = [model_table(OracleSpec, "The spec file")]
    parts += [model_table(m) for m in nested_models(OracleSpec)]
    parts.append("### `[acceptability]`: one table per kind, chosen by `kind`\n")
    for name, kind in ACCEPTABILITY_KINDS.items():
        parts.append(model_table(kind.Params, f'`kind = "{name}"`', "####"))
        parts += [model_table(m, level="####") for m in nested_models(kind.Params)]
    parts.append("### `[real_data]`: one table per kind, chosen by `kind`\n")
    for name, kind in REAL_DATA_KINDS.items():
        parts.append(model_table(kind.Params, f'`kind = "{name}"`', "####"))
    return "\n".join(parts)


def sweep_schema() -> str:
    from hdbench.experiments.plan import SweepSpec

    return model_table(SweepSpec, "A suite or sweep file")


def method_parameters() -> str:
    from hdbench.methods import METHODS

    return "\n".join(
        model_table(method.Params, f"`{name}`", "###").replace(
            "\n\n|", f"\n\n{method.description}\n\n|", 1
        )
        for name, method in METHODS.items()
    )


MARKERS: dict[str, Callable[[], str]] = {
    "cli": cli_reference,
    "oracle-schema": oracle_schema,
    "sweep-schema": sweep_schema,
    "method-parameters": method_parameters,
}


def on_page_markdown(markdown: str, page, config, files) -> str:
    def generated(match: re.Match) -> str:
        return MARKERS[match.group(1)]()

    return re.sub(r"^<!-- (" + "|".join(MARKERS) + r") -->$", generated, markdown, flags=re.M)


def on_files(files, config):
    """The committed result figures (results/reference/**.png) as files of the site, under the
    same paths, so that the pages show what the README shows."""
    from pathlib import Path

    from mkdocs.structure.files import File

    root = Path(config["config_file_path"]).parent
    for path in sorted((root / "results" / "reference").rglob("*.png")):
        uri = path.relative_to(root).as_posix()
        files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files
