"""An oversized body is refused while it streams in, over a real server: a chunked upload has no
Content-Length, and the node must stop reading it at the limit rather than hold it whole."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from rest.deps import MAX_BODY_BYTES
from tests.realtime.server import Server, sqlite_server

pytestmark = pytest.mark.slow

CHUNK = 64 * 1024
# What a client may push before the server answers: the limit, plus what the kernel's socket
# buffers and the server's read-ahead hold. Far below what an unbounded read takes.
MOST_SENT = MAX_BODY_BYTES + 16 * 1024 * 1024
ENDLESS = 256 * 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with sqlite_server(
        tmp_path_factory.mktemp("body"), PARLEY_REALTIME__PRELOAD_MODEL="false"
    ) as s:
        yield s


def _post_chunked(server: Server, path: str, total: int) -> tuple[int, bytes]:
    """Streams a chunked JSON body of up to `total` bytes; returns the bytes sent before the
    server answered, and its answer."""
    url = urlsplit(server.url)
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        sock.sendall(head.encode())
        payload = b" " * CHUNK
        frame = f"{CHUNK:x}\r\n".encode() + payload + b"\r\n"
        sent = 0
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += CHUNK
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        return sent, answer


def test_a_chunked_body_past_the_limit_is_refused_before_it_is_read_whole(
    server: Server,
) -> None:
    sent, answer = _post_chunked(server, "/v1/auth/login", ENDLESS)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413"), answer[:200]
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert body["error"]["code"] == "too_large"
    assert sent < MOST_SENT


def test_a_chunked_body_within_the_limit_is_read(server: Server) -> None:
    # A small, well-formed chunked login reaches the handler: a wrong password, not a 413.
    url = urlsplit(server.url)
    data = json.dumps({"email": "nobody@example.org", "password": "wrong password"}).encode()
    request = (
        (
            f"POST /v1/auth/login HTTP/1.1\r\nHost: {url.netloc}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        + f"{len(data):x}\r\n".encode()
        + data
        + b"\r\n0\r\n\r\n"
    )
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
