"""A real app with stored practice to rescore: two courses, their tutors, a learner."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from rest.app import create_app
from rest.settings import Settings
from storage.migrate import upgrade
from storage.models import Role
from tests.rest.conftest import Account, Api, cheap_passwords, make_settings
from tests.workers.stored import Recording, course, exercise, record_clips, store

FINISHED = {"completed", "failed", "cancelled"}


@pytest.fixture(scope="session")
def clips() -> list[Recording]:
    return record_clips()


@dataclass
class Bed:
    api: Api
    admin: Account
    tutor: Account  # teaches course A
    other_tutor: Account  # teaches course B
    learner: Account  # in both courses
    outsider: Account  # a learner in neither
    course_a: uuid.UUID
    course_b: uuid.UUID
    exercise_b: uuid.UUID
    a_sessions: list[uuid.UUID] = field(default_factory=list)
    b_sessions: list[uuid.UUID] = field(default_factory=list)


def build_bed(api: Api, clips: list[Recording], *, in_a: int = 3) -> Bed:
    """Course A holds `in_a` stored sessions (the clips in turn), course B one."""
    tutor, other = api.account(Role.TUTOR, "Tess"), api.account(Role.TUTOR, "Olga")
    learner, outsider = api.account(Role.LEARNER, "Ann"), api.account(Role.LEARNER, "Out")
    state = api.state

    async def build() -> Bed:
        async with state.sessions.begin() as db:
            a = await course(db, tutors=[tutor.id], learners=[learner.id])
            b = await course(db, tutors=[other.id], learners=[learner.id])
            a_exercises = [await exercise(db, a, c.text) for c in clips]
            b_exercise = await exercise(db, b, clips[0].text)
        bed = Bed(api, api_admin, tutor, other, learner, outsider, a, b, b_exercise.id)
        for i in range(in_a):
            clip = i % len(clips)
            bed.a_sessions.append(
                await store(
                    state.sessions,
                    state.blobs,
                    learner_id=learner.id,
                    exercise=a_exercises[clip],
                    recording=clips[clip],
                )
            )
        bed.b_sessions.append(
            await store(
                state.sessions,
                state.blobs,
                learner_id=learner.id,
                exercise=b_exercise,
                recording=clips[0],
            )
        )
        return bed

    api_admin = api.account(Role.ADMIN)
    bed: Bed = api.run(build)
    return bed


def wait_job(
    api: Api, who: Account, job_id: str, *, timeout: float = 120.0, until: set[str] = FINISHED
) -> dict[str, Any]:
    """Poll the job endpoint (as `parley rescore` does) until the job reaches `until`."""
    deadline = time.monotonic() + timeout
    while True:
        response = api.client.get(f"/v1/rescore-jobs/{job_id}", headers=who.headers)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if job["status"] in until:
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job still {job['status']}: {job}")
        time.sleep(0.1)  # the job has no push channel without Redis; the CLI polls too


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    upgrade(db_url)
    return make_settings(db_url, tmp_path)


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings, passwords=cheap_passwords())) as client:
        yield Api(client)
