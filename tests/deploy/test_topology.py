"""compose.yaml's topology with real processes (deploy/topology.py): nginx in front of two
nodes, two workers, PostgreSQL, Redis, an S3 store; then faults under live load, in order.

1. An API node is SIGKILLed while learners stream through nginx and two tutors watch: the
   learners reconnect through nginx, resume on the other node and get the final of an
   undisturbed session, with every byte sent acknowledged and stored; the tutor whose
   socket was on the dead node reconnects from its offset and misses nothing.
2. A worker is SIGKILLed holding a task of a rescoring job: the job finishes, each session
   rescored exactly once.
3. Redis restarts with its data gone: the hub and the workers recover, no Parley restarted.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import time
import wave
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.topology import Topology
from tests.deploy.people import Event, School, finals, follow, practise, reach, ws
from tests.realtime.client import JFK, pcm
from tests.realtime.observer import Observer
from tests.services import POSTGRES_URL, require, require_program

pytestmark = pytest.mark.slow

# Learners streaming at once, plus 2 tutors watching; fewer with
# PARLEY_TEST_TOPOLOGY_LEARNERS=N on a machine where 8 real-time streams are too many.
LEARNERS = int(os.environ.get("PARLEY_TEST_TOPOLOGY_LEARNERS", "8"))
AUDIO = pcm(JFK)  # 11 s of speech
# The figures each scenario measured: `-o log_cli=true --log-cli-level=INFO` shows them.
log = logging.getLogger("parley.test.topology")


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    require("PostgreSQL", POSTGRES_URL)
    require_program("nginx", "/usr/sbin/nginx")
    running = Topology(tmp_path_factory.mktemp("topology"), postgres=POSTGRES_URL)
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def school(topology: Topology) -> School:
    return School(topology.url)


def stored_audio(school: School, session_id: str) -> bytes:
    """The recording as stored in the S3 store, fetched from the URL the API hands out."""
    detail = httpx.get(f"{school.lb}/v1/sessions/{session_id}", headers=school.headers).json()
    assert detail["status"] == "completed", detail
    with wave.open(io.BytesIO(httpx.get(detail["playback_url"]).content)) as wav:
        frames: bytes = wav.readframes(wav.getnframes())
        return frames


def same_final(final: Event) -> Event:
    return {k: v for k, v in final.items() if k != "session_id"}


async def test_an_api_node_dies_mid_session(
    topology: Topology, school: School, record_property: Callable[[str, object], None]
) -> None:
    lb = topology.url
    undisturbed = await practise(lb, school.person("learner"), school.exercise, AUDIO)
    learners = [school.person("learner") for _ in range(LEARNERS)]

    def all_finals(events: list[Event]) -> bool:
        return len(finals(events)) >= LEARNERS

    # The admin watches from api-2, which stays up; the course's tutor from api-1, which
    # dies: that tutor comes back through nginx.
    admin = [topology.node_url("api-2")]
    watching = asyncio.create_task(follow(admin, school.admin, school.course, all_finals))
    tutor_urls = [topology.node_url("api-1"), lb]
    tutoring = asyncio.create_task(follow(tutor_urls, school.tutor, school.course, all_finals))
    await asyncio.sleep(1)  # both subscribed
    sessions = [
        asyncio.create_task(practise(lb, token, school.exercise, AUDIO)) for token in learners
    ]
    await asyncio.sleep(4)  # mid-utterance for every learner
    topology.kill("api-1")
    results = await asyncio.gather(*sessions)
    async with asyncio.timeout(60):
        watched, tutored = await watching, await tutoring

    moved = [r for r in results if r.resumes_s]
    identical = sum(same_final(r.final) == same_final(undisturbed.final) for r in results)
    lost = sum(len(AUDIO) - r.acknowledged for r in results)
    assert moved, "no session was on the killed node"
    for result in results:
        assert same_final(result.final) == same_final(undisturbed.final)
        assert result.acknowledged == len(AUDIO)  # not a byte lost...
        assert stored_audio(school, result.final["session_id"]) == AUDIO  # ...nor changed
    ids = {r.final["session_id"] for r in results}
    assert finals(watched.events) == finals(tutored.events) == ids
    # The tutor got the events of the course once each, in order, across the node's death.
    assert tutored.reconnects == 1
    offsets = [e["offset"] for e in tutored.events]
    assert offsets == list(range(tutored.first + 1, tutored.first + 1 + len(offsets)))
    by_offset = {e["offset"]: e for e in watched.events}
    assert all(by_offset[e["offset"]] == e for e in tutored.events)

    resume_s = sorted(round(s, 2) for r in moved for s in r.resumes_s)
    figures = {
        "sessions_moved": len(moved),
        "resume_s": resume_s,
        "bytes_lost": lost,
        "finals_identical": f"{identical}/{len(results)}",
        "node_full": sum(r.refused.count("node_full") for r in results),
    }
    for name, value in figures.items():
        record_property(name, value)
    log.info("api node killed: %s", figures)


async def test_a_worker_dies_holding_a_task(
    topology: Topology, school: School, record_property: Callable[[str, object], None]
) -> None:
    lb = topology.url
    async with httpx.AsyncClient(headers=school.headers) as http:
        job = await http.post(f"{lb}/v1/rescore-jobs", json={"scope": {"course_id": school.course}})
    assert job.status_code == 201, job.text
    job_id, total = job.json()["id"], job.json()["total"]
    assert total == LEARNERS + 1  # the sessions of the first test
    started = time.monotonic()
    held = re.compile(rf"rescoring session (\S+) \(job {job_id}\)")
    async with asyncio.timeout(30):
        while not (match := held.search(topology.log("worker-1"))):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    topology.kill("worker-1")  # holding the task: worker-2 takes it once it lies idle
    done = await finished(lb, school, job_id)

    assert (done["status"], done["done"], done["failed"]) == ("completed", total, 0)
    # The task the dead worker held was handed out again, to the other worker.
    assert f"rescoring session {match[1]} (job {job_id}), attempt 2" in topology.log("worker-2")
    count, sessions = await evaluations_of(topology, job_id)
    assert count == sessions == total  # one evaluation per session, none twice
    async with httpx.AsyncClient(headers=school.headers) as http:
        listed = await http.get(f"{lb}/v1/sessions", params={"course_id": school.course})
        assert len(listed.json()["items"]) == total
        for item in listed.json()["items"]:
            detail = (await http.get(f"{lb}/v1/sessions/{item['id']}")).json()
            assert sorted(e["version"] for e in detail["evaluations"]) == [1, 2]
    job_s = round(time.monotonic() - started, 1)
    record_property("job_s", job_s)
    log.info("worker killed: a job of %d sessions completed in %.1f s", total, job_s)


async def test_redis_restarts_under_the_hub(
    topology: Topology, school: School, record_property: Callable[[str, object], None]
) -> None:
    topology.start_node("api-1")  # killed in the first test: both nodes live through this
    parley = {n: p for n, p in topology.processes.items() if n not in ("redis", "s3")}
    learner = school.person("learner")
    watch = f"{ws(topology.node_url('api-2'))}/v1/ws/observe?access_token={school.tutor}"
    tutor = Observer(await reach(watch))
    try:
        assert (await tutor.subscribe("course", school.course))["type"] == "subscribed"
        killed = time.monotonic()
        topology.kill("redis")
        topology.start_redis()  # empty: no persistence, as a Redis without a volume
        # The node finds out by itself, with nothing published meanwhile, and says so.
        reload = await tutor.wait(lambda m: m["type"] == "reload", limit_s=30)
        reload_s = time.monotonic() - killed
        assert reload["reason"] == "epoch_changed"  # the history went with Redis's data
        await both_ready(topology)
        ready_s = time.monotonic() - killed

        # A learner on api-1, watched from api-2: only Redis joins them.
        seen = len(tutor.messages)
        assert (await tutor.subscribe("course", school.course))["type"] == "subscribed"
        result = await practise(topology.node_url("api-1"), learner, school.exercise, AUDIO)
        event = await tutor.wait(
            lambda m: (
                m["type"] == "event"
                and m["event"]["session_id"] == result.final["session_id"]
                and m["event"]["message"]["type"] == "final"
            ),
            after=seen,
        )
    finally:
        await tutor.aclose()
    assert event["event"]["message"] == result.final
    assert event["event"]["node"] == "api-1" and event["offset"] is not None  # via Redis
    started = [e for e in tutor.events() if e["event"]["session_id"] == result.final["session_id"]]
    assert started[0]["event"]["message"]["type"] == "session_started"  # live from its start

    async with httpx.AsyncClient(headers=school.headers) as http:
        scope = {"session_ids": [result.final["session_id"]]}
        again = await http.post(f"{topology.url}/v1/rescore-jobs", json={"scope": scope})
    assert again.status_code == 201, again.text
    assert (await finished(topology.url, school, again.json()["id"]))["done"] == 1
    assert all(p.poll() is None for p in parley.values())  # nothing of Parley restarted
    record_property("reload_s", round(reload_s, 2))
    record_property("ready_s", round(ready_s, 2))
    log.info("redis killed and restarted: reload after %.2f s, ready %.2f s", reload_s, ready_s)


async def both_ready(topology: Topology) -> None:
    urls = [f"{topology.node_url(n)}/readyz" for n in ("api-1", "api-2")]
    async with asyncio.timeout(60), httpx.AsyncClient() as http:
        while [(await http.get(url)).status_code for url in urls] != [200, 200]:  # noqa: ASYNC110
            await asyncio.sleep(0.2)


async def finished(lb: str, school: School, job_id: str) -> dict[str, Any]:
    async with asyncio.timeout(90), httpx.AsyncClient(headers=school.headers) as http:
        while True:
            job: dict[str, Any] = (await http.get(f"{lb}/v1/rescore-jobs/{job_id}")).json()
            if job["status"] not in ("pending", "running"):
                return job
            await asyncio.sleep(0.5)


async def evaluations_of(topology: Topology, job_id: str) -> tuple[int, int]:
    """The job's stored evaluations, and the distinct sessions they belong to."""
    engine = create_async_engine(topology.db_url)
    try:
        async with engine.connect() as db:
            query = "SELECT count(*), count(DISTINCT session_id) FROM evaluations"
            row = await db.execute(text(f"{query} WHERE rescore_job_id = :job"), {"job": job_id})
            count, sessions = row.one()
            return int(count), int(sessions)
    finally:
        await engine.dispose()
