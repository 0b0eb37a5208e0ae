"""What only the disk store promises: its sessions outlive the process that wrote them."""

from __future__ import annotations

from pathlib import Path

from realtime.session_store_disk import DiskSessionStore
from tests.realtime.test_session_store import LEASE_MS, a_state


async def test_a_new_process_finds_the_sessions_and_may_claim_them(tmp_path: Path) -> None:
    root = tmp_path / "live"
    before = DiskSessionStore(root)
    state = a_state()
    await before.create(state, "a/1", LEASE_MS * 100)
    await before.append(state.session_id, "a/1", 0, b"\x01\x02\x03\x04")
    await before.mark_stopped(state.session_id, "a/1")
    before.close()  # no delete, no release: as a killed process leaves it
    (root / "notes.json").write_text("{}")  # not a session's file: ignored

    after = DiskSessionStore(root)
    assert after.session_ids() == [state.session_id]
    assert await after.holder(state.session_id) is None  # leases died with the process
    assert await after.claim(state.session_id, "b/1", LEASE_MS) is True
    stored = await after.load(state.session_id)
    assert stored is not None
    assert (stored.state, stored.audio, stored.stopped) == (state, b"\x01\x02\x03\x04", True)
    assert await after.append(state.session_id, "b/1", 4, b"\x05") == 5
    await after.delete(state.session_id, "b/1")
    assert after.session_ids() == []
    assert sorted(p.name for p in root.iterdir()) == ["notes.json"]
    after.close()
