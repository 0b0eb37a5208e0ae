"""compose.yaml's topology with real processes (deploy/topology.py): nginx in front of two
nodes, two workers, PostgreSQL, Redis, an S3 store; then faults under live load.

- An API node is SIGKILLed while learners stream through nginx: they reconnect through
  nginx, resume on the other node, and get the final of an undisturbed session with every
  byte acknowledged; a tutor watching from the other node sees every final.
- A worker is SIGKILLed in the middle of a rescoring job: the job finishes, each session
  rescored exactly once.
- Redis restarts (its data gone): the nodes and workers recover without a restart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from deploy.topology import ADMIN_EMAIL, ADMIN_PASSWORD, Topology
from tests.realtime.client import CHUNK_BYTES, JFK, JFK_TEXT, Learner, pcm
from tests.realtime.observer import Observer
from tests.services import POSTGRES_URL, require, require_program

pytestmark = pytest.mark.slow

LEARNERS = 4
AUDIO = pcm(JFK)


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


def ws(url: str) -> str:
    return url.replace("http://", "ws://")


class Setup:
    def __init__(self, topology: Topology) -> None:
        lb = topology.url
        admin = httpx.post(
            f"{lb}/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        ).json()["access_token"]
        self.admin = {"Authorization": f"Bearer {admin}"}
        course = httpx.post(
            f"{lb}/v1/courses",
            json={"title": "Speeches", "status": "published"},
            headers=self.admin,
        ).json()
        self.course = course["id"]
        self.exercise = httpx.post(
            f"{lb}/v1/courses/{self.course}/exercises",
            json={"kind": "read_aloud", "title": "JFK", "reference_text": JFK_TEXT},
            headers=self.admin,
        ).json()["id"]
        self.learners = [self.register(lb, f"learner-{n}") for n in range(LEARNERS)]

    @staticmethod
    def register(lb: str, name: str) -> str:
        body = {
            "email": f"{name}@example.org",
            "password": "learner password",
            "display_name": name,
        }
        answer = httpx.post(f"{lb}/v1/auth/register", json=body)
        answer.raise_for_status()
        token: str = answer.json()["tokens"]["access_token"]
        return token


async def a_session(url: str, token: str, exercise: str, gone: asyncio.Event) -> dict[str, Any]:
    """Stream the whole clip at real-time pace; on a dropped connection reconnect (through
    `url`, the load balancer) and resume from what the server holds. Returns the final, the
    bytes acknowledged and how long each resume took."""
    sent, resume, resumes, final = 0, None, [], None
    dropped_at = 0.0
    while final is None:
        async with connect(f"{ws(url)}/v1/ws/practice?access_token={token}") as socket:
            client = Learner(socket)
            try:
                if resume is None:
                    await client.send(type="start", exercise_id=exercise)
                else:
                    await client.send(type="start", resume=resume)
                answer = await client.until("ack", "error")
                if answer["type"] == "error":
                    assert answer["code"] == "session_busy", answer  # the dead node's lease
                    await asyncio.sleep(0.5)
                    continue
                if resume is not None:
                    resumes.append(time.monotonic() - dropped_at)
                resume = {"session_id": answer["session_id"], "token": answer["resume_token"]}
                sent = answer["received_bytes"]
                while sent < len(AUDIO):
                    await socket.send(AUDIO[sent : sent + CHUNK_BYTES])
                    sent += CHUNK_BYTES
                    await asyncio.sleep(0.1)
                await client.send(type="stop")
                final = await client.until("final")
                acknowledged = client.of_type("audio_received")[-1]["bytes"]
            except (ConnectionClosed, AssertionError) as exc:
                if isinstance(exc, AssertionError) and "closed before" not in str(exc):
                    raise
                dropped_at = time.monotonic()
                gone.set()
                await asyncio.sleep(0.2)
    return {"final": final, "acknowledged": acknowledged, "resumes": resumes}


async def test_the_topology_survives_its_faults(
    topology: Topology, record_property: Callable[[str, object], None]
) -> None:
    setup = Setup(topology)
    lb = topology.url
    never = asyncio.Event()
    undisturbed = await a_session(lb, setup.learners[0], setup.exercise, never)

    # A tutor (the admin) watches the course from api-2, which stays up.
    watch = f"{ws(topology.node_url('api-2'))}/v1/ws/observe?access_token="
    token = setup.admin["Authorization"].removeprefix("Bearer ")
    async with connect(watch + token) as socket:
        tutor = Observer(socket)
        subscribed = await tutor.subscribe("course", setup.course)
        assert subscribed["type"] == "subscribed"

        dropped = asyncio.Event()
        learners = [
            asyncio.create_task(a_session(lb, learner, setup.exercise, dropped))
            for learner in setup.learners
        ]
        await asyncio.sleep(4)  # mid-utterance for every learner
        topology.kill("api-1")
        results = await asyncio.gather(*learners)
        finals = {r["final"]["session_id"] for r in results}
        await tutor.wait(
            lambda m: (
                m["type"] == "event"
                and m["event"]["message"]["type"] == "final"
                and finals <= {e["event"]["session_id"] for e in tutor.events()}
            )
        )
        await tutor.aclose()

    assert dropped.is_set()  # some learners were on the node that died
    moved = [r for r in results if r["resumes"]]
    assert moved, "no session was on the killed node"
    for result in results:
        assert result["final"]["transcript"] == undisturbed["final"]["transcript"]
        assert result["acknowledged"] == len(AUDIO)  # not a byte lost
    resume_s = [s for r in moved for s in r["resumes"]]
    record_property("sessions_moved", len(moved))
    record_property("resume_s", [round(s, 2) for s in resume_s])

    # A worker dies in the middle of a rescoring job: the job finishes, each session once.
    job = await rescore_and_kill(topology, setup)
    assert job["status"] == "completed" and job["done"] == job["total"] == LEARNERS + 1
    assert await evaluations_of(topology, job["id"]) == LEARNERS + 1

    # Redis restarts without its data: the nodes and the remaining worker recover.
    topology.kill("redis")
    topology.start_redis()
    topology.start_node("api-1")  # the node killed above comes back for the cross-node check
    await cross_node_watch(topology, setup)
    async with httpx.AsyncClient(headers=setup.admin) as http:
        scope = {"session_ids": [undisturbed["final"]["session_id"]]}
        again = await http.post(f"{lb}/v1/rescore-jobs", json={"scope": scope})
    assert again.status_code == 201, again.text
    assert (await finished(lb, setup, again.json()["id"]))["done"] == 1


async def rescore_and_kill(topology: Topology, setup: Setup) -> dict[str, Any]:
    lb = topology.url
    async with httpx.AsyncClient(headers=setup.admin) as http:
        job = await http.post(f"{lb}/v1/rescore-jobs", json={"scope": {"course_id": setup.course}})
    assert job.status_code == 201, job.text
    job_id = job.json()["id"]
    async with asyncio.timeout(30):
        # The worker's log is the only sign that it holds a task of this job.
        while f"(job {job_id})" not in topology.log("worker-1"):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    topology.kill("worker-1")  # holding a task: it is reclaimed and done by worker-2
    return await finished(lb, setup, job_id)


async def finished(lb: str, setup: Setup, job_id: str) -> dict[str, Any]:
    async with asyncio.timeout(90), httpx.AsyncClient(headers=setup.admin) as http:
        while True:
            job: dict[str, Any] = (await http.get(f"{lb}/v1/rescore-jobs/{job_id}")).json()
            if job["status"] not in ("pending", "running"):
                return job
            await asyncio.sleep(0.5)


async def evaluations_of(topology: Topology, job_id: str) -> int:
    engine = create_async_engine(topology.db_url)
    try:
        async with engine.connect() as db:
            query = text("SELECT count(*) FROM evaluations WHERE rescore_job_id = :job")
            return int((await db.execute(query, {"job": job_id})).scalar_one())
    finally:
        await engine.dispose()


async def cross_node_watch(topology: Topology, setup: Setup) -> None:
    """A learner on api-1, watched live from api-2: only Redis joins them."""
    token = setup.admin["Authorization"].removeprefix("Bearer ")
    watch = f"{ws(topology.node_url('api-2'))}/v1/ws/observe?access_token={token}"
    async with asyncio.timeout(60):
        while True:  # the hub reconnects on its own schedule
            async with httpx.AsyncClient() as http:
                ready = [
                    (await http.get(f"{topology.node_url(n)}/readyz")).status_code
                    for n in ("api-1", "api-2")
                ]
            if ready == [200, 200]:
                break
            await asyncio.sleep(0.5)
    async with connect(watch) as socket:
        tutor = Observer(socket)
        assert (await tutor.subscribe("course", setup.course))["type"] == "subscribed"
        learner = Setup.register(topology.url, "after-redis")
        result = await a_session(
            topology.node_url("api-1"), learner, setup.exercise, asyncio.Event()
        )
        event = await tutor.wait(
            lambda m: (
                m["type"] == "event"
                and m["event"]["session_id"] == result["final"]["session_id"]
                and m["event"]["message"]["type"] == "final"
            )
        )
        assert event["event"]["message"]["transcript"] == result["final"]["transcript"]
        await tutor.aclose()


def test_the_generated_nginx_config_is_compose_s(tmp_path: Path) -> None:
    from deploy.topology import nginx_conf

    conf = nginx_conf(tmp_path, 9000, {"api-1": 9001, "api-2": 9002})
    assert "server 127.0.0.1:9001 max_fails=2 fail_timeout=5s;" in conf
    assert "server 127.0.0.1:9002 max_fails=2 fail_timeout=5s;" in conf
    assert "api-1" not in conf and "listen 127.0.0.1:9000;" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
