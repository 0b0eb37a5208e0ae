"""The log handler of `parley serve` and `parley worker`, line by line: the fields an operator
reads, in JSON or in text, and no secret in any of them, wherever a logger put it."""

from __future__ import annotations

import contextvars
import io
import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any, Literal

import pytest

from cli import logging_setup
from realtime import log_context

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
PASSWORD = "hunter2-correct-horse"
USER, SESSION = uuid.uuid4(), uuid.uuid4()


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    # Its own logger, not the root: pytest's capture stays as it is.
    found = logging.getLogger(f"parley.test.{uuid.uuid4().hex}")
    found.propagate = False
    found.setLevel(logging.DEBUG)
    yield found
    found.handlers.clear()


def emit(logger: logging.Logger, output: Literal["json", "text"], write: Any) -> str:
    stream = io.StringIO()
    logger.handlers[:] = [logging_setup.handler("node-3", output, stream)]

    def within_a_request() -> None:
        log_context.request_id.set("req-9")
        log_context.set_user(USER)
        log_context.set_session(SESSION)
        write()

    contextvars.copy_context().run(within_a_request)  # the ids stay in this test
    return stream.getvalue()


def leaky(logger: logging.Logger) -> None:
    logger.info("GET /v1/ws/practice?access_token=%s&x=1 with Bearer %s", JWT, JWT)
    logger.warning(
        "login refused",
        extra={
            "body": {"email": "a@example.org", "password": PASSWORD},
            "header": f"Bearer {JWT}",
            "api_key": "sk-live-0123456789",
        },
    )
    try:
        raise ValueError(f"bad token {JWT}")
    except ValueError:
        logger.exception("failed for refresh_token=%s", JWT)


def test_json_lines_carry_the_ids_and_no_secret(logger: logging.Logger) -> None:
    text = emit(logger, "json", lambda: leaky(logger))
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 3
    for line in lines:
        assert {"time", "level", "logger", "message"} <= line.keys()
        assert (line["node_id"], line["request_id"]) == ("node-3", "req-9")
        assert (line["user_id"], line["session_id"]) == (str(USER), str(SESSION))
    assert [line["level"] for line in lines] == ["INFO", "WARNING", "ERROR"]
    assert lines[0]["message"] == (
        "GET /v1/ws/practice?access_token=[redacted]&x=1 with Bearer [redacted]"
    )
    assert lines[1]["body"] == {"email": "a@example.org", "password": "[redacted]"}
    assert lines[1]["header"] == "Bearer [redacted]" and lines[1]["api_key"] == "[redacted]"
    assert "ValueError: bad token [redacted]" in lines[2]["exc_info"]
    assert JWT not in text and PASSWORD not in text
    # The signature alone would let no one in, but nothing of the token is left anyway.
    assert JWT.split(".")[1] not in text


def test_text_lines_for_a_terminal_show_the_ids_and_no_secret(logger: logging.Logger) -> None:
    text = emit(logger, "text", lambda: leaky(logger))
    first = text.splitlines()[0]
    # One node per terminal: its id would only repeat on every line.
    assert f" [request=req-9 user={USER} session={SESSION}]: " in first
    assert first.endswith("access_token=[redacted]&x=1 with Bearer [redacted]")
    assert "ValueError: bad token [redacted]" in text
    assert JWT not in text and PASSWORD not in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(first)


def test_protocol_garbage_is_one_warning_without_its_traceback(logger: logging.Logger) -> None:
    def garbage() -> None:
        try:
            b"\xff".decode()
        except UnicodeDecodeError:
            logger.exception("Invalid UTF-8 sequence received from client.")

    (line,) = emit(logger, "json", garbage).splitlines()
    found = json.loads(line)
    assert found["level"] == "WARNING" and "exc_info" not in found
