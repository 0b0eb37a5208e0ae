"""A practice socket's outbox: in order, bounded, and no sender task while idle."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.websockets import WebSocketState

from realtime.connection import Connection
from realtime.protocol import CloseCode, Pong


class Socket:
    """What the outbox uses of a Starlette WebSocket; `gate` holds sends back."""

    def __init__(self) -> None:
        self.application_state = WebSocketState.CONNECTED
        self.sent: list[str] = []
        self.closed: tuple[int, str] | None = None
        self.gate = asyncio.Event()
        self.gate.set()

    async def send_text(self, text: str) -> None:
        await self.gate.wait()
        self.sent.append(text)

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)
        self.application_state = WebSocketState.DISCONNECTED


def outbox(socket: Socket, size: int) -> Connection:
    ws: Any = socket
    return Connection(ws, size)


async def test_messages_go_out_in_order_and_an_idle_outbox_has_no_task() -> None:
    socket = Socket()
    conn = outbox(socket, 8)
    before = len(asyncio.all_tasks())
    for n in range(3):
        conn.send(Pong(id=str(n)))
    await conn.drain()
    assert [text.count(f'"{n}"') for n, text in enumerate(socket.sent)] == [1, 1, 1]
    assert len(asyncio.all_tasks()) == before  # sent: nothing runs for an idle socket
    conn.close(CloseCode.NORMAL)
    await conn.drain()
    assert socket.closed == (CloseCode.NORMAL, "")


async def test_a_client_that_falls_behind_is_closed_and_nothing_more_is_queued() -> None:
    socket = Socket()
    socket.gate.clear()  # the client reads nothing
    conn = outbox(socket, 2)
    for n in range(4):
        conn.send(Pong(id=str(n)))
    assert conn.closing
    socket.gate.set()
    await conn.drain()
    assert socket.closed == (CloseCode.SLOW_CLIENT, "client too slow")
    conn.send(Pong(id="late"))
    await conn.drain()
    assert not any("late" in text for text in socket.sent)
