"""Logging filters for the server's log lines (on the log handler: `cli.logging_setup`).

- Secrets never reach the log: a browser's websocket carries its access token in the query
  string, which uvicorn writes into its connection lines; any line may quote a header, a
  form or a traceback's locals. The filter rewrites the message, the exception text and
  every extra field (JSON lines print each one), whatever logger wrote them.
- A client's protocol garbage (a text frame that is not UTF-8) is one warning line: uvicorn
  logs it as an error with a traceback, so any client could flood the log with tracebacks.
"""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[redacted]"
_KEYS = r"access_token|refresh_token|resume_token|token|password|secret|secret_key|api_key"
_SECRETS = (
    # A query string or form: `?access_token=...&`.
    (re.compile(rf"\b((?:{_KEYS})=)[^&\s\"']+", re.IGNORECASE), rf"\1{REDACTED}"),
    # A JSON body or a dict's repr: `"password": "..."`.
    (
        re.compile(rf"""(["'](?:{_KEYS})["']\s*:\s*)(["'])(?:\\.|(?!\2).)*\2""", re.IGNORECASE),
        rf"\1\2{REDACTED}\2",
    ),
    # An Authorization header, or the websocket subprotocol `bearer.<token>`.
    # (16 characters at least: "a bearer token" in a sentence is no secret.)
    (re.compile(r"\b(bearer(?:\s+|\.))[\w.~+/=-]{16,}", re.IGNORECASE), rf"\1{REDACTED}"),
    # Any JWT (Parley's access and refresh tokens are JWTs), wherever it is quoted.
    (re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]*"), REDACTED),
)
_SECRET_NAME = re.compile(_KEYS, re.IGNORECASE)
# What every record has; anything else was passed as `extra` and becomes a JSON field.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_PROTOCOL_GARBAGE = ("Invalid UTF-8 sequence received from client.",)


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(name: object, value: Any) -> Any:
    if isinstance(name, str) and _SECRET_NAME.fullmatch(name):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(None, v) for v in value)
    return value


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info:
            # Formatted here once, so that every formatter prints the redacted text.
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, redact(text)
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name in vars(record).keys() - _STANDARD:
            setattr(record, name, _redact_value(name, getattr(record, name)))
        return True


class QuietProtocolErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and record.getMessage() in _PROTOCOL_GARBAGE:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True
