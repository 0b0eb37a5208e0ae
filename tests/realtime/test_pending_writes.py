"""Results kept through a database outage: applied in order once it is back, by this
process or the next; a record refused for another reason is set aside, not lost."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from realtime.pending_writes import PendingWrites


def kept(folder: Path) -> list[Path]:
    return list(folder.glob("*.json"))


class Database:
    def __init__(self) -> None:
        self.up = False
        self.applied: list[str] = []

    async def apply(self, record: dict[str, Any]) -> None:
        if not self.up:
            raise ConnectionRefusedError("connection refused")
        if record["kind"] == "broken":
            raise ValueError("no such column")
        self.applied.append(record["kind"])


async def test_kept_records_are_applied_in_order_by_the_next_process(tmp_path: Path) -> None:
    database, session = Database(), uuid.uuid4()
    before = PendingWrites(tmp_path, database.apply)
    await before.add(session, {"kind": "completed"})
    await before.add(session, {"kind": "feedback"})
    assert before.waiting(session) and not before.waiting(uuid.uuid4())
    assert await before.flush() is False  # still down: nothing applied, nothing lost
    assert len(before) == 2

    database.up = True
    after = PendingWrites(tmp_path, database.apply)  # a restart finds them on disk
    assert len(after) == 2
    assert await after.flush() is True
    assert database.applied == ["completed", "feedback"]
    assert len(after) == 0 and not after.waiting(session)
    assert kept(tmp_path) == []


async def test_a_refused_record_is_set_aside_and_the_rest_applied(tmp_path: Path) -> None:
    database = Database()
    database.up = True
    pending = PendingWrites(tmp_path, database.apply)
    await pending.add(uuid.uuid4(), {"kind": "broken"})
    await pending.add(uuid.uuid4(), {"kind": "ended"})
    assert await pending.flush() is True
    assert database.applied == ["ended"]
    assert len(kept(tmp_path / "rejected")) == 1
