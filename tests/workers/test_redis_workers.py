"""`parley worker` processes on real Redis and PostgreSQL, rescoring real stored audio."""

from __future__ import annotations

import json
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from starlette.testclient import TestClient

from rest.app import create_app
from rest.settings import Settings
from storage.blobs import audio_key
from storage.migrate import upgrade
from storage.redis_keys import Keys
from storage.settings import RedisSettings
from tests.rest.conftest import Api, cheap_passwords, make_settings
from tests.services import REDIS_URL, require
from tests.workers.conftest import Bed, build_bed, wait_job
from tests.workers.processes import WorkerProcess, running_workers, worker_env
from tests.workers.stored import Recording, count_for_job, versions
from workers.settings import WorkerSettings


@pytest.fixture
def keys() -> Iterator[Keys]:
    require("Redis", REDIS_URL)
    prefix = f"parley-test-{uuid.uuid4().hex[:8]}"
    yield Keys(prefix)
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


@pytest.fixture
def rds() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def settings(postgres_url: str, tmp_path: Path, keys: Keys) -> Settings:
    upgrade(postgres_url)
    return make_settings(postgres_url, tmp_path).model_copy(
        update={
            "redis": RedisSettings(url=REDIS_URL, key_prefix=keys.prefix),
            "workers": WorkerSettings(reclaim_idle_s=2),
        }
    )


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings, passwords=cheap_passwords())) as client:
        yield Api(client)


@pytest.fixture
def env(settings: Settings, tmp_path: Path, keys: Keys) -> dict[str, str]:
    return worker_env(tmp_path, settings.db.url, REDIS_URL, keys.prefix)


def create(api: Api, bed: Bed, course_id: uuid.UUID) -> str:
    body = {"scope": {"course_id": str(course_id)}}
    response = api.client.post("/v1/rescore-jobs", json=body, headers=bed.tutor.headers)
    assert response.status_code == 201, response.text
    job_id: str = response.json()["id"]
    return job_id


def wait_holding(rds: redis.Redis, keys: Keys, worker: WorkerProcess, timeout: float = 60) -> None:
    """Until `worker` has a task in hand (delivered to it, not yet acknowledged)."""
    deadline = time.monotonic() + timeout
    while not rds.xpending_range(
        keys.rescore_stream(), keys.rescore_group(), "-", "+", 1, consumername=worker.name
    ):
        assert worker.process.poll() is None, worker.output()
        assert time.monotonic() < deadline, "the worker never took a task"
        time.sleep(0.005)  # sampling Redis: the worker gives no signal of its own


def wait_drained(rds: redis.Redis, keys: Keys, worker: WorkerProcess, timeout: float = 60) -> None:
    """Until the task stream is empty: every entry acknowledged (and so deleted)."""
    deadline = time.monotonic() + timeout
    while rds.xlen(keys.rescore_stream()):
        assert time.monotonic() < deadline, worker.output()
        time.sleep(0.05)  # sampling Redis: the worker gives no signal of its own


def check_one_new_version_each(api: Api, job_id: str, session_ids: list[uuid.UUID]) -> None:
    async def read() -> list[list[Any]]:
        async with api.state.sessions() as db:
            assert await count_for_job(db, uuid.UUID(job_id)) == len(session_ids)
            return [await versions(db, s) for s in session_ids]

    for found in api.run(read):
        assert [(e.version, e.is_current) for e in found] == [(1, False), (2, True)]
        assert str(found[1].rescore_job_id) == job_id


def test_two_workers_one_killed_mid_task_every_session_gets_exactly_one_version(
    api: Api,
    clips: list[Recording],
    env: dict[str, str],
    tmp_path: Path,
    keys: Keys,
    rds: redis.Redis,
) -> None:
    bed = build_bed(api, clips, in_a=4)
    with running_workers(env, tmp_path, "worker-a", "worker-b") as (a, b):
        job_id = create(api, bed, bed.course_a)
        wait_holding(rds, keys, a)
        a.process.send_signal(signal.SIGKILL)
        a.process.wait(10)
        job = wait_job(api, bed.tutor, job_id, timeout=120)
        # The killed worker's entry, even had it committed first, is reclaimed and deleted.
        wait_drained(rds, keys, b)
        assert b.process.poll() is None, b.output()
    assert (job["status"], job["total"], job["done"], job["failed"]) == ("completed", 4, 4, 0)
    check_one_new_version_each(api, job_id, bed.a_sessions)
    assert not rds.xpending_range(keys.rescore_stream(), keys.rescore_group(), "-", "+", 10)
    assert rds.xlen(keys.rescore_dead()) == 0
    # Progress went out on the hub's course channel (what a tutor observing the course
    # gets), numbered, one event per finished task, the last one complete.
    entries: list[tuple[str, dict[str, str]]] = rds.xrange(  # type: ignore[assignment]
        keys.hub_stream(f"course:{bed.course_a}")
    )
    seen = [json.loads(fields["d"]) for _, fields in entries]
    assert [int(entry_id.split("-")[0]) for entry_id, _ in entries] == list(
        range(1, len(entries) + 1)
    )
    progress = [e["message"] for e in seen]
    assert progress and {p["type"] for p in progress} == {"rescore_progress"}
    assert {p["job_id"] for p in progress} == {job_id}
    assert max(p["done"] for p in progress) == 4


def test_sigterm_finishes_or_hands_back_the_task_in_hand(
    api: Api,
    clips: list[Recording],
    env: dict[str, str],
    tmp_path: Path,
    keys: Keys,
    rds: redis.Redis,
) -> None:
    bed = build_bed(api, clips, in_a=2)
    with running_workers(env, tmp_path, "worker-a") as (a,):
        job_id = create(api, bed, bed.course_a)
        wait_holding(rds, keys, a)
        a.process.send_signal(signal.SIGTERM)
        assert a.process.wait(30) == 0, a.output()
        assert "stopped" in a.output()
    # A stopped worker leaves the group (its name was per process).
    consumers = rds.xinfo_consumers(keys.rescore_stream(), keys.rescore_group())
    assert [c["name"] for c in consumers] == []
    # Nothing held by the stopped worker: whatever it did not finish is queued again.
    assert not rds.xpending_range(keys.rescore_stream(), keys.rescore_group(), "-", "+", 10)
    with running_workers(env, tmp_path, "worker-b"):
        job = wait_job(api, bed.tutor, job_id, timeout=120)
    assert (job["status"], job["done"]) == ("completed", 2)
    check_one_new_version_each(api, job_id, bed.a_sessions)


def test_a_task_that_always_fails_goes_to_the_dead_letter_stream(
    api: Api,
    clips: list[Recording],
    env: dict[str, str],
    tmp_path: Path,
    keys: Keys,
    rds: redis.Redis,
) -> None:
    bed = build_bed(api, clips, in_a=2)
    broken = bed.a_sessions[0]
    api.run(api.state.blobs.delete, audio_key(broken))
    with running_workers(env, tmp_path, "worker-a"):
        job = wait_job(api, bed.tutor, create(api, bed, bed.course_a), timeout=120)
    assert (job["status"], job["done"], job["failed"]) == ("completed", 1, 1)
    assert job["failures"] == [
        {"session_id": str(broken), "reason": f"the stored audio {audio_key(broken)} is missing"}
    ]
    entries: Any = rds.xrange(keys.rescore_dead())
    (entry,) = entries
    fields = entry[1]
    assert fields["session_id"] == str(broken) and fields["job_id"] == job["id"]
    assert fields["attempts"] == "3" and "missing" in fields["error"]
    assert rds.xlen(keys.rescore_stream()) == 0


def test_cancel_stops_pending_tasks(
    api: Api,
    clips: list[Recording],
    env: dict[str, str],
    tmp_path: Path,
    keys: Keys,
    rds: redis.Redis,
) -> None:
    bed = build_bed(api, clips, in_a=3)
    job_id = create(api, bed, bed.course_a)
    assert rds.xlen(keys.rescore_stream()) == 3  # queued; no worker runs yet
    answer = api.client.post(f"/v1/rescore-jobs/{job_id}/cancel", headers=bed.tutor.headers)
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    audit = api.client.get(f"/v1/audit?target_id={job_id}", headers=bed.admin.headers).json()
    assert [(e["action"], e["actor_id"]) for e in audit["items"]] == [
        ("rescore.cancelled", str(bed.tutor.id)),
        ("rescore.started", str(bed.tutor.id)),
    ]
    with running_workers(env, tmp_path, "worker-a") as (a,):
        wait_drained(rds, keys, a)
    job = wait_job(api, bed.tutor, job_id)
    assert (job["status"], job["done"], job["failed"]) == ("cancelled", 0, 0)

    async def count() -> int:
        async with api.state.sessions() as db:
            return await count_for_job(db, uuid.UUID(job_id))

    assert api.run(count) == 0
