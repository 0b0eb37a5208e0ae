"""Renders the settings tree as the configuration table of docs/configuration.md.

`python -m rest.settings_doc` prints it, `--write` puts it into docs/configuration.md; a test
keeps that copy in step.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import BaseModel, SecretStr

from rest.settings import Settings

BEGIN = "<!-- settings:begin -->"
END = "<!-- settings:end -->"


def _default(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return "(secret)"
    if isinstance(value, bool):
        return str(value).lower()
    return f"`{value}`" if value != "" else '`""`'


def rows() -> list[tuple[str, str, str]]:
    table: list[tuple[str, str, str]] = []
    for section, field in Settings.model_fields.items():
        model = field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        for name, info in model.model_fields.items():
            env = f"PARLEY_{section}__{name}".upper()
            table.append((env, _default(info.default), info.description or ""))
    return table


def markdown() -> str:
    lines = [BEGIN, "| environment variable | default | meaning |", "|---|---|---|"]
    lines += [f"| `{env}` | {default} | {meaning} |" for env, default, meaning in rows()]
    lines.append(END)
    return "\n".join(lines)


def write(path: Path) -> None:
    text = path.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    path.write_text(head + markdown() + tail)


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write(Path(__file__).resolve().parent.parent / "docs" / "configuration.md")
    else:
        print(markdown())  # noqa: T201
