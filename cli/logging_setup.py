"""Log configuration of Parley's processes: JSON lines for machines, or text for people.

The filters sit on the handler, not on loggers, so they see every line that reaches it,
whichever logger wrote it: the ids of the line's context, tokens redacted, a client's
protocol garbage turned into one warning.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from realtime.log_context import FIELDS, ContextFilter
from rest.log_filters import QuietProtocolErrors, RedactTokens

_TEXT = "%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s"


class _TextContext(logging.Filter):
    """The ids a text line shows: only those it has."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = [f"{f.removesuffix('_id')}={getattr(record, f)}" for f in FIELDS[1:]]
        shown = " ".join(i for i in ids if not i.endswith("=None"))
        setattr(record, "context", f" [{shown}]" if shown else "")  # noqa: B010  # a new attribute
        return True


def handler(
    node_id: str, output: Literal["json", "text"], stream: TextIO | None = None
) -> logging.Handler:
    """Lines to `stream` (stderr by default), each with its ids, secrets redacted."""
    out = logging.StreamHandler(stream or sys.stderr)
    for check in (ContextFilter(node_id), RedactTokens(), QuietProtocolErrors()):
        out.addFilter(check)
    if output == "json":
        out.setFormatter(
            JsonFormatter(
                ["levelname", "name", "message", *FIELDS],
                rename_fields={"levelname": "level", "name": "logger"},
                timestamp="time",  # ISO 8601 in UTC, from the record's own clock
                # uvicorn's copy of its message with terminal colours: noise in JSON.
                reserved_attrs=[*RESERVED_ATTRS, "color_message"],
            )
        )
    else:
        out.addFilter(_TextContext())
        out.setFormatter(logging.Formatter(_TEXT))
    return out


def configure(level: str, node_id: str, output: Literal["json", "text"]) -> None:
    """The root logger's only handler: every logger's lines, uvicorn's included."""
    root = logging.getLogger()
    root.handlers[:] = [handler(node_id, output)]
    root.setLevel(level.upper())
    # Alembic reports every plugin it loads at INFO; only its warnings matter to an operator.
    logging.getLogger("alembic").setLevel(logging.WARNING)
