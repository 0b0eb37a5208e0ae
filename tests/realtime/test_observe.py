"""Observers end to end: two real nodes sharing Redis and PostgreSQL, real speech.

The tests share one cluster and run in file order; the last one kills node A.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from realtime.protocol import CloseCode
from tests.realtime.client import JFK, learner, pcm
from tests.realtime.cluster import Cluster, cluster, eventually, postgres_database
from tests.realtime.observer import observer
from tests.realtime.server import BIN
from tests.services import REDIS_URL, require

pytestmark = pytest.mark.slow

TTL_S = 2.0
PINGS = 60_000
MAX_LEN = 40
SETTINGS = {
    "PARLEY_HUB__PRESENCE_TTL_S": str(TTL_S),
    "PARLEY_HUB__PRESENCE_HEARTBEAT_S": "0.4",
    "PARLEY_HUB__STREAM_MAX_LEN": str(MAX_LEN),
    "PARLEY_HUB__OBSERVER_OUTBOX_SIZE": "64",
    "PARLEY_REALTIME__IDLE_TIMEOUT_S": "30",
}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    require("Redis", REDIS_URL)
    with (
        postgres_database() as db_url,
        cluster(tmp_path_factory.mktemp("hub"), db_url, REDIS_URL, **SETTINGS) as nodes,
    ):
        yield nodes


def message(event: dict[str, Any]) -> dict[str, Any]:
    inner: dict[str, Any] = event["event"]["message"]
    return inner


async def test_a_tutor_on_node_b_follows_a_session_on_node_a_and_resumes(hub: Cluster) -> None:
    school, audio = hub.school, pcm(JFK)
    async with observer(hub.b, school.tutor.token) as whole:
        first = await whole.subscribe("course", school.course)
        assert first["type"] == "subscribed" and first["channel"] == f"course:{school.course}"
        async with observer(hub.b, school.tutor.token) as part:
            assert (await part.subscribe("learner", school.learner.id))["type"] == "subscribed"
            async with learner(hub.a, school.learner.token) as client:
                await client.send(type="start", exercise_id=school.exercise)
                ack = await client.until("ack")
                streaming = asyncio.create_task(client.stream(audio))
                await part.wait(lambda _m: len(part.events()) >= 3)
                await part.aclose()  # drops out mid-utterance
                await streaming
                await client.send(type="stop")
                final = await client.until("final")
                await whole.event("session_ended")

        events = whole.events()
        offsets = [e["offset"] for e in events]
        assert offsets == list(range(first["offset"] + 1, first["offset"] + 1 + len(events)))
        assert {e["epoch"] for e in events} == {first["epoch"]}
        kinds = [message(e)["type"] for e in events]
        assert kinds[0] == "session_started" and kinds[-3:] == [
            "final",
            "feedback",
            "session_ended",
        ]
        interims = [message(e) for e in events if message(e)["type"] == "interim_transcript"]
        assert interims == client.of_type("interim_transcript") and len(interims) >= 3
        assert message(events[-3]) == final
        assert message(events[-2]) == client.of_type("feedback")[0]
        meta = events[1]["event"]
        assert meta["session_id"] == ack["session_id"] and meta["node"] == "node-a"
        assert meta["learner_id"] == school.learner.id and meta["course_id"] == school.course

        # Back after the session ended, via the other node: exactly what it missed.
        seen = part.events()
        last = seen[-1]
        async with observer(hub.a, school.tutor.token) as again:
            answer = await again.subscribe(
                "learner", school.learner.id, offset=last["offset"], epoch=last["epoch"]
            )
            assert answer["type"] == "subscribed" and answer["offset"] == last["offset"]
            await again.event("session_ended")
            missed = again.events()
        assert [e["offset"] for e in missed] == [last["offset"] + 1 + i for i in range(len(missed))]
        assert [e["event"] for e in seen + missed] == [e["event"] for e in events]


async def start_and_cancel(hub: Cluster, token: str, times: int) -> None:
    """Sessions that start and are cancelled: two events each, no speech needed."""
    async with learner(hub.a, token) as client:
        for _ in range(times):
            await client.send(type="start", exercise_id=hub.school.exercise)
            await client.until("ack")
            await client.send(type="cancel")


async def test_recovery_is_all_or_nothing(hub: Cluster) -> None:
    school = hub.school
    busy = school.person("learner")
    school.enrol(busy, "learner")
    async with observer(hub.b, school.tutor.token) as watcher:
        start = await watcher.subscribe("learner", busy.id)
        await start_and_cancel(hub, busy.token, 22)  # 44 events, 40 kept
        await watcher.wait(lambda _m: len(watcher.events()) >= 44)
    epoch = start["epoch"]
    async with observer(hub.a, school.tutor.token) as late:
        trimmed = await late.subscribe("learner", busy.id, offset=start["offset"], epoch=epoch)
        assert trimmed == {
            "type": "reload",
            "channel": f"learner:{busy.id}",
            "reason": "history_trimmed",
        }
        other = await late.subscribe("learner", busy.id, offset=3, epoch="0123456789abcdef")
        assert other["type"] == "reload" and other["reason"] == "epoch_changed"
        kept = await late.subscribe("learner", busy.id, offset=30, epoch=epoch)
        assert kept["type"] == "subscribed"
        await late.wait(lambda _m: len(late.events()) >= 14)
        assert [e["offset"] for e in late.events()] == list(range(31, 45))
        assert late.events() == [
            {**e, "channel": f"learner:{busy.id}"} for e in watcher.events()[30:]
        ]


async def test_who_may_observe_what(hub: Cluster) -> None:
    school = hub.school
    stranger = school.person("tutor")  # teaches nothing here
    other = school.person("learner")
    school.enrol(other, "learner")
    async with learner(hub.a, school.learner.token) as client:
        await client.send(type="start", exercise_id=school.exercise)
        session = (await client.until("ack"))["session_id"]
        await client.send(type="cancel")

    async with observer(hub.b, stranger.token) as outsider:
        for kind, id_ in (("course", school.course), ("learner", school.learner.id)):
            refused = await outsider.subscribe(kind, id_)
            assert refused["type"] == "error" and refused["code"] == f"{kind}_not_found"
        refused = await outsider.subscribe("session", session)
        assert refused["code"] == "session_not_found"
        assert (await outsider.subscribe("all"))["code"] == "forbidden"
        assert not outsider.closed, "refusals are not fatal"

    async with observer(hub.b, other.token) as peer:
        assert (await peer.subscribe("learner", school.learner.id))["code"] == "forbidden"
        assert (await peer.subscribe("session", session))["code"] == "session_not_found"
        assert (await peer.subscribe("course", school.course))["code"] == "forbidden"
        assert (await peer.subscribe("learner", other.id))["type"] == "subscribed"
        assert (await peer.subscribe("learner", "not-an-id"))["code"] == "bad_message"
        seen = len(peer.messages)
        await peer.send(type="dance")
        unknown = await peer.wait(lambda m: m["type"] == "error", after=seen)
        assert unknown["code"] == "unknown_message"

    async with observer(hub.b, school.learner.token) as owner:
        assert (await owner.subscribe("session", session))["type"] == "subscribed"
    async with observer(hub.a, school.tutor.token) as tutor:
        assert (await tutor.subscribe("session", session))["type"] == "subscribed"
        assert (await tutor.subscribe("all"))["code"] == "forbidden"
    async with observer(hub.a, school.admin.token) as admin:
        assert (await admin.subscribe("all"))["type"] == "subscribed"

    # A tutor following a learner sees only the courses they teach.
    elsewhere, other_exercise = school.another_course()
    school.enrol(other, "learner", elsewhere)
    async with observer(hub.b, school.tutor.token) as tutor:
        assert (await tutor.subscribe("learner", other.id))["type"] == "subscribed"
        async with learner(hub.a, other.token) as client:
            for exercise in (other_exercise, school.exercise):
                await client.send(type="start", exercise_id=exercise)
                await client.until("ack")
                await client.send(type="cancel")
        # The other course's session came first: by the time these two arrive, its events
        # have been through the filter (a channel is delivered in offset order).
        await tutor.wait(lambda _m: len(tutor.events()) >= 2)
        assert {e["event"]["course_id"] for e in tutor.events()} == {school.course}
        assert len(tutor.events()) == 2

    async with connect(f"{hub.b.ws_url}/v1/ws/observe?access_token=forged") as ws:
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.close_code == CloseCode.UNAUTHORIZED


async def test_a_slow_observer_is_cut_off_and_nobody_else_waits(hub: Cluster) -> None:
    school, audio = hub.school, pcm(JFK)
    # A client that reads nothing, with a tiny receive window: its backlog stays on node B.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", int(hub.b.url.rsplit(":", 1)[1])))
    url = f"{hub.b.ws_url}/v1/ws/observe?access_token={school.admin.token}"
    async with (
        connect(url, sock=sock, max_queue=1) as slow,
        observer(hub.b, school.tutor.token) as steady,
    ):
        for kind, id_ in (("all", "*"), ("course", school.course)):
            await slow.send(f'{{"type":"subscribe","channel":{{"kind":"{kind}","id":"{id_}"}}}}')
        assert (await steady.subscribe("learner", school.learner.id))["type"] == "subscribed"
        async with learner(hub.a, school.learner.token) as client:
            await client.send(type="start", exercise_id=school.exercise)
            await client.until("ack")
            streaming = asyncio.create_task(client.stream(audio))
            # Pongs pile up behind the events: megabytes the kernel buffers cannot hide.
            ping = '{"type":"ping","id":"%s"}' % ("p" * 64)
            for _ in range(PINGS):
                await slow.send(ping)
            await streaming
            await client.send(type="stop")
            await client.until("final")
        await steady.event("session_ended")
        interims = [m for m in map(message, steady.events()) if m["type"] == "interim_transcript"]
        assert interims == client.of_type("interim_transcript") and len(interims) >= 3

        received = 0
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(30):
                while True:
                    await slow.recv()
                    received += 1
        assert slow.close_code == CloseCode.SLOW_CLIENT
        assert received < PINGS, "cut off long before all it asked for"


async def test_parley_observe_prints_a_session_from_another_node(hub: Cluster) -> None:
    school = hub.school
    command = [str(BIN / "parley"), "observe", "--course", school.course, "--exit-on-end"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    watcher = await asyncio.create_subprocess_exec(
        *command,
        "--server",
        hub.b.url,
        env={**env, "PARLEY_TOKEN": school.tutor.token},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert watcher.stdout is not None
    async with asyncio.timeout(30):
        first = await watcher.stdout.readline()
    assert first.decode().startswith(f"watching course:{school.course}")
    async with learner(hub.a, school.learner.token) as client:
        await client.send(type="start", exercise_id=school.exercise)
        await client.until("ack")
        await client.stream(pcm(JFK)[: 32000 * 4])
        await client.send(type="stop")
        final = await client.until("final")
    out, err = await asyncio.wait_for(watcher.communicate(), 60)
    lines = out.decode().splitlines()
    assert watcher.returncode == 0, err.decode()
    assert "node-a" in lines[0] and "started   'JFK'" in lines[0]
    assert any("hearing" in line for line in lines)
    assert any(f"final     {final['transcript']!r}" in line for line in lines)
    assert "ended     (done)" in lines[-1]

    refused = await asyncio.create_subprocess_exec(
        *command[:2],
        "--all",
        "--server",
        hub.b.url,
        env={**env, "PARLEY_TOKEN": school.tutor.token},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(refused.communicate(), 30)
    assert refused.returncode == 1
    assert err.decode().strip() == "error: only admins may observe every session"


async def live(server: str, token: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.get(
            f"{server}/v1/tutor/live", headers={"Authorization": f"Bearer {token}"}
        )


async def test_live_sessions_across_nodes_and_a_killed_node_leaves_them(hub: Cluster) -> None:
    school = hub.school
    stranger = school.person("tutor")
    async with learner(hub.a, school.learner.token) as client:
        await client.send(type="start", exercise_id=school.exercise)
        session = (await client.until("ack"))["session_id"]
        await client.stream(pcm(JFK)[: 32000 * 2])

        listed: list[dict[str, Any]] = []

        async def listed_now() -> bool:
            listed[:] = (await live(hub.b.url, school.tutor.token)).json()["items"]
            return bool(listed)

        await eventually(listed_now)
        entry = listed[0]
        assert entry["session_id"] == session and entry["node"] == "node-a"
        assert entry["learner"] == {"id": school.learner.id, "display_name": "Learner"}
        assert entry["exercise"] == {"id": school.exercise, "title": "JFK"}
        assert entry["course_id"] == school.course and entry["started_at"]
        admin_view = (await live(hub.b.url, school.admin.token)).json()
        assert session in [s["session_id"] for s in admin_view["items"]]
        assert (await live(hub.b.url, stranger.token)).json() == {"items": [], "partial": False}
        refused = await live(hub.b.url, school.learner.token)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"

        async def absent() -> bool:
            return not (await live(hub.b.url, school.tutor.token)).json()["items"]

        hub.a.process.kill()  # SIGKILL: no goodbye, only the TTL removes its sessions
        hub.a.process.wait()
        gone = await eventually(absent, TTL_S * 3)
        # Its last beat was at most a heartbeat before the kill: gone within one TTL of it
        # (the margin covers polling over HTTP on a busy machine).
        assert gone <= TTL_S + 1.0, "a dead node's sessions leave within one TTL"
