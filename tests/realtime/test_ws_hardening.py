"""The websockets under abuse, over a real server: strict `start`, per-socket message and
per-user session limits, accounts checked on connect and while observing, and protocol
garbage logged as one warning line with no token in the log."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from realtime.protocol import CloseCode
from tests.realtime.client import JFK, learner, pcm
from tests.realtime.observer import School, build_school, observer
from tests.realtime.server import sqlite_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[School]:
    with sqlite_server(
        tmp_path_factory.mktemp("hardening"),
        PARLEY_SERVER__LOG_LEVEL="info",
        PARLEY_LIMITS__WS_MESSAGES_PER_SOCKET="20/second",
        PARLEY_LIMITS__SESSION_START_PER_USER="2/minute",
        PARLEY_AUTH__ACCOUNT_CHECK_S="1",
    ) as server:
        yield build_school(server)


async def test_start_refuses_strings_for_numbers_and_flags(school: School) -> None:
    person = school.person("learner")
    async with learner(school.server, person.token) as client:
        await client.send(type="start", exercise_id=school.exercise, audio={"sample_rate": "16000"})
        error = await client.until("error")
        assert error["code"] == "unsupported_audio" and "sample_rate" in error["message"]
        await client.send(
            type="start",
            exercise_id=school.exercise,
            audio={"sample_rate": 16000},
            interim="yes",
        )
        error = await client.until("error")
        assert error["code"] == "bad_message" and "interim" in error["message"]


async def test_a_message_flood_closes_the_socket_with_4429(school: School) -> None:
    person = school.person("learner")
    async with learner(school.server, person.token) as client:
        for i in range(60):
            try:
                await client.send(type="ping", id=str(i))
            except ConnectionClosed:
                break
        error = await client.until("error")
        assert error["code"] == "rate_limited" and error["fatal"] is True
        assert await client.closed() == CloseCode.TOO_MANY
        assert len(client.of_type("pong")) == 20


async def test_session_starts_per_user_are_limited(school: School) -> None:
    person = school.person("learner")
    start = {"type": "start", "exercise_id": school.exercise, "audio": {"sample_rate": 16000}}
    for _ in range(2):
        async with learner(school.server, person.token) as client:
            await client.send(**start)
            await client.until("ack")
            await client.send(type="cancel")
    async with learner(school.server, person.token) as client:
        await client.send(**start)
        error = await client.until("error")
        assert error["code"] == "rate_limited" and "retry in" in error["message"]
        assert await client.closed() == CloseCode.TOO_MANY


async def test_a_disabled_account_cannot_open_a_socket(school: School) -> None:
    person = school.person("learner")
    headers = {"Authorization": f"Bearer {school.admin.token}"}
    async with httpx.AsyncClient(headers=headers) as http:
        off = await http.patch(f"{school.server.url}/v1/users/{person.id}", json={"active": False})
    assert off.status_code == 200
    async with learner(school.server, person.token) as client:
        assert await client.closed() == CloseCode.UNAUTHORIZED


async def test_an_account_disabled_mid_session_ends_it_within_seconds(school: School) -> None:
    person = school.person("learner")
    async with learner(school.server, person.token) as client:
        await client.send(type="start", exercise_id=school.exercise)
        ack = await client.until("ack")
        await client.stream(pcm(JFK)[:64000])
        headers = {"Authorization": f"Bearer {school.admin.token}"}
        async with httpx.AsyncClient(headers=headers) as http:
            off = await http.patch(
                f"{school.server.url}/v1/users/{person.id}", json={"active": False}
            )
            assert off.status_code == 200
            ended = await client.until("error", limit_s=10)
            assert ended["code"] == "access_ended" and ended["fatal"] is True
            assert await client.closed() == CloseCode.UNAUTHORIZED
            # Recorded as failed, with the audio said before the account was disabled.
            url = f"{school.server.url}/v1/sessions/{ack['session_id']}"
            async with asyncio.timeout(10):
                # Polled: the server records the end after closing the socket.
                while (stored := (await http.get(url)).json())["status"] == "active":  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
    assert stored["status"] == "failed" and "access ended" in stored["failure_reason"]
    assert stored["audio_duration_ms"] == 2000


async def test_a_demoted_tutor_stops_observing_within_seconds(school: School) -> None:
    tutor = school.person("tutor")
    school.enrol(tutor, "tutor")
    async with observer(school.server, tutor.token) as watching:
        answer = await watching.subscribe("course", school.course)
        assert answer["type"] == "subscribed"
        headers = {"Authorization": f"Bearer {school.admin.token}"}
        async with httpx.AsyncClient(headers=headers) as http:
            demoted = await http.patch(
                f"{school.server.url}/v1/users/{tutor.id}", json={"role": "learner"}
            )
        assert demoted.status_code == 200
        ended = await watching.wait(lambda m: m["type"] == "error", limit_s=10)
        assert ended["code"] == "access_ended" and school.course in ended["message"]


async def test_protocol_garbage_is_one_warning_and_tokens_stay_out_of_the_log(
    school: School,
) -> None:
    person = school.person("learner")
    url = f"{school.server.ws_url}/v1/ws/practice?access_token={person.token}"
    async with connect(url) as ws:
        await ws.send(b"\xff\xfe{not utf-8", text=True)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007
    log = school.server.log.read_text()
    assert "Invalid UTF-8" in log and "Traceback" not in log
    assert person.token not in log and "access_token=[redacted]" in log
