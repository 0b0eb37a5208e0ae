"""Background loops that live on through errors still end when cancelled, also when the
cancellation comes out of a library as an ordinary error."""

from __future__ import annotations

import asyncio

from realtime.lease import LeaseKeeper


async def test_a_cancellation_turned_into_an_error_still_ends_the_loop() -> None:
    renewing = asyncio.Event()
    swallowed: list[bool] = []

    async def renew() -> bool:
        renewing.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            if swallowed:
                raise  # a second cancel ends a broken loop, so the test cannot hang
            swallowed.append(True)
            # What redis-py does when the cancel lands as its own timeout fires.
            raise ConnectionError("Connection closed by server.") from None
        return True

    keeper = LeaseKeeper(
        name="s", renew=renew, lease_ms=3000, on_lost=lambda: None, on_gone=lambda: None
    )
    task = asyncio.create_task(keeper.run())
    await asyncio.wait_for(renewing.wait(), 5)
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=2)
    ended = task in done and task.cancelled()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert ended and swallowed
