"""A minimal HTTP/1.1 client for load generation: keep-alive GETs over a pool of asyncio
streams, about a tenth of httpx's CPU per request, so that on a small machine the load
generator takes as little as it can from the server it measures.

It speaks only what a Parley node answers to a GET: a status line, headers, and a body of
`Content-Length` bytes or chunked.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit


class Pool:
    """Up to `size` keep-alive connections to one host; a request waits for a free one."""

    def __init__(self, url: str, size: int) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots = asyncio.Semaphore(size)

    async def get(self, path: str, token: str) -> tuple[int, bytes]:
        """(status, body). A connection that fails or is cancelled mid-request is closed."""
        async with self._slots:
            if self._idle:
                reader, writer = self._idle.pop()
            else:
                reader, writer = await asyncio.open_connection(self._host, self._port)
            try:
                writer.write(
                    f"GET {path} HTTP/1.1\r\nHost: {self._host}\r\n"
                    f"Authorization: Bearer {token}\r\n\r\n".encode()
                )
                status, body, keep = await _response(reader)
            except BaseException:
                writer.close()
                raise
            if keep:
                self._idle.append((reader, writer))
            else:
                writer.close()
            return status, body

    def close(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    headers = {}
    for line in head[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        await reader.readuntil(b"\r\n")  # the empty trailer
        body = b"".join(parts)
    else:
        raise ValueError("a response without Content-Length or chunked body")
    return status, body, headers.get("connection", "").lower() != "close"
