"""One websocket connection's outbox: a bounded queue, sent by a task that runs only while
there is something to send.

Publishers never wait on a client: `send` only enqueues. A client whose queue fills up is
too slow to follow a live session and is disconnected with `SLOW_CLIENT`; it can resume.
An idle connection holds no sender task and no queue machinery beyond an empty list:
thousands of idle sockets cost a node little memory.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from realtime.protocol import CloseCode, ServerMessage

log = logging.getLogger("parley.ws")


class _Close:
    def __init__(self, code: CloseCode, reason: str) -> None:
        self.code = code
        self.reason = reason


class Connection:
    def __init__(self, websocket: WebSocket, outbox_size: int) -> None:
        self._ws = websocket
        # A list, not a deque: an empty deque holds a 64-slot block (~0.7 KiB) per socket,
        # and an outbox is short (at most `outbox_size`).
        self._outbox: list[ServerMessage | _Close] = []
        self._limit = outbox_size
        self._sender: asyncio.Task[None] | None = None
        self.closing = False

    def send(self, message: ServerMessage) -> None:
        if self.closing:
            return
        if len(self._outbox) >= self._limit:
            log.warning("client too slow: %d messages queued", self._limit)
            self.close(CloseCode.SLOW_CLIENT, "client too slow")
            return
        self._outbox.append(message)
        self._start_sender()

    def close(self, code: CloseCode, reason: str = "") -> None:
        if self.closing:
            return
        self.closing = True
        self._outbox.append(_Close(code, reason))
        self._start_sender()

    def _start_sender(self) -> None:
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send_queued())

    async def _send_queued(self) -> None:
        """Send until the outbox is empty, or until a close (queued or by the peer)."""
        try:
            while self._outbox:
                item = self._outbox.pop(0)
                if isinstance(item, _Close):
                    self._outbox.clear()
                    if self._ws.application_state is WebSocketState.CONNECTED:
                        await self._ws.close(item.code, item.reason[:120])
                    return
                await self._ws.send_text(item.model_dump_json())
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:  # the peer went away
            log.debug("send stopped: %s", exc)
            self.closing = True
            self._outbox.clear()  # nobody will send these now

    async def drain(self) -> None:
        """Wait until queued messages are sent (or dropped because the peer left)."""
        while self._sender is not None and not self._sender.done():
            # wait(), not await: a cancelled drain must not cancel the sending.
            await asyncio.wait({self._sender})
