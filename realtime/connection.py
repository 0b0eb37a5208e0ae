"""One websocket connection's outbox: a bounded queue drained by a sender task.

Publishers never wait on a client: `send` only enqueues. A client whose queue fills up is
too slow to follow a live session and is disconnected with `SLOW_CLIENT`; it can resume.
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
        self._outbox: asyncio.Queue[ServerMessage | _Close] = asyncio.Queue(outbox_size + 1)
        self._limit = outbox_size
        self.closing = False

    def send(self, message: ServerMessage) -> None:
        if self.closing:
            return
        if self._outbox.qsize() >= self._limit:
            log.warning("client too slow: %d messages queued", self._limit)
            self.close(CloseCode.SLOW_CLIENT, "client too slow")
            return
        self._outbox.put_nowait(message)

    def close(self, code: CloseCode, reason: str = "") -> None:
        if self.closing:
            return
        self.closing = True
        # One slot is kept free for this, so a full outbox can still be closed.
        self._outbox.put_nowait(_Close(code, reason))

    async def pump(self) -> None:
        """Send queued messages until a close (queued or by the peer)."""
        try:
            while True:
                item = await self._outbox.get()
                try:
                    if isinstance(item, _Close):
                        if self._ws.application_state is WebSocketState.CONNECTED:
                            await self._ws.close(item.code, item.reason[:120])
                        return
                    await self._ws.send_text(item.model_dump_json())
                finally:
                    self._outbox.task_done()
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:  # the peer went away
            log.debug("send stopped: %s", exc)
        finally:
            self.closing = True
            while not self._outbox.empty():  # nobody will send these now; unblock drain()
                self._outbox.get_nowait()
                self._outbox.task_done()

    async def drain(self) -> None:
        """Wait until queued messages are sent (or dropped because the peer left)."""
        await self._outbox.join()
