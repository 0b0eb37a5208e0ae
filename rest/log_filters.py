"""Logging filters for the server's log lines (on the log handler: `cli.logging_setup`).

- Tokens never reach the log: a browser's websocket carries its access token in the query
  string, which uvicorn writes into every connection line.
- A client's protocol garbage (a text frame that is not UTF-8) is one warning line: uvicorn
  logs it as an error with a traceback, so any client could flood the log with tracebacks.
"""

from __future__ import annotations

import logging
import re

_SECRET_QUERY = re.compile(r"((?:access_token|refresh_token|token)=)[^&\s\"']+", re.IGNORECASE)
_PROTOCOL_GARBAGE = ("Invalid UTF-8 sequence received from client.",)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _SECRET_QUERY.sub(r"\1[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class QuietProtocolErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and record.getMessage() in _PROTOCOL_GARBAGE:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True
