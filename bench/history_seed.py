"""A school's history in PostgreSQL, bulk-copied (asyncpg COPY) in a minute or two.

2,000 learners and 50 courses of 4 exercises (3 read-aloud, 1 open response); learner j is
enrolled in course j % 50 and about half of them in a second course; tutor i teaches course i,
and tutors 0-9 also teach courses 40-49. 100,000 sessions over the last 180 days, spread
unevenly over the learners (a few practise a lot): 93 % completed with a transcript and a
current evaluation (one in ten rescored, so two versions), 4 % failed, 3 % cancelled, and a
few live (active or resumable) from the last hour. One completed session in twenty has a
tutor's note. Then VACUUM ANALYZE, as autovacuum would leave a table that has settled.

    .venv/bin/python bench/history_seed.py postgresql+asyncpg://postgres@127.0.0.1:5432/DB
        [--sessions 100000] [--learners 2000] [--courses 50]

The database must be migrated (`parley db upgrade`) and empty. Prints ids as JSON: learners,
tutors (tutor i teaches course i), courses, and a sample of sessions.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
from sqlalchemy import make_url

from bench.history_content import PASSAGES, PROMPTS, display_name, recording

DAYS = 180
BATCH = 10_000
VARIANTS = 300  # recordings per exercise kind, reused: each row still weighs a real one's

COLUMNS = {
    "users": "id email display_name role password_hash active token_version created_at",
    "courses": "id title description language level status created_by created_at updated_at",
    "exercises": "id course_id kind title reference_text prompt position time_limit_s archived "
    "created_at updated_at",
    "enrolments": "course_id user_id role created_at",
    "rescore_jobs": "id created_by scope options status total done failed failures created_at "
    "started_at finished_at",
    "practice_sessions": "id learner_id exercise_id course_id status started_at ended_at "
    "audio_blob_key audio_format audio_sample_rate audio_duration_ms node_id failure_reason",
    "transcripts": "id session_id text words model created_at",
    "evaluations": "id session_id transcript_id version is_current evaluator_name "
    "evaluator_version model accuracy fluency completeness overall details rescore_job_id "
    "created_at",
    "tutor_feedback": "id session_id tutor_id rating comment created_at updated_at",
}


class Rows:
    """Rows gathered per table, then copied in one COPY per table."""

    def __init__(self) -> None:
        self.tables: dict[str, list[tuple[Any, ...]]] = {}

    def add(self, table: str, *row: Any) -> None:
        self.tables.setdefault(table, []).append(row)

    async def flush(self, conn: asyncpg.Connection) -> None:
        for table, columns in COLUMNS.items():  # in foreign-key order
            if self.tables.get(table):
                await conn.copy_records_to_table(
                    table, records=self.tables[table], columns=columns.split()
                )
        self.tables.clear()


def _school(rows: Rows, rng: random.Random, learners: int, courses: int, now: datetime) -> Any:
    learner_ids = [uuid.uuid4() for _ in range(learners)]
    tutor_ids = [uuid.uuid4() for _ in range(courses)]
    for role, ids in (("learner", learner_ids), ("tutor", tutor_ids)):
        for i, u in enumerate(ids):
            rows.add(
                "users", u, f"{role}{i}@bench.example", display_name(rng), role, "x", True, 0, now
            )
    course_ids = [uuid.uuid4() for _ in range(courses)]
    exercises: dict[uuid.UUID, list[tuple[uuid.UUID, str, int]]] = {}
    for i, c in enumerate(course_ids):
        rows.add("courses", c, f"Course {i}", "", "en", "B1", "published", tutor_ids[i], now, now)
        rows.add("enrolments", c, tutor_ids[i], "tutor", now)
        if i >= courses - 10 and courses > 10:
            rows.add("enrolments", c, tutor_ids[i - (courses - 10)], "tutor", now)
        exercises[c] = []
        for n in range(4):
            e, kind = uuid.uuid4(), "open_response" if n == 3 else "read_aloud"
            passage = PASSAGES[(i + n) % len(PASSAGES)]
            text, prompt = (passage, None) if n < 3 else (None, PROMPTS[i % len(PROMPTS)])
            rows.add(
                "exercises", e, c, kind, f"Exercise {n + 1}", text, prompt, n, None, False, now, now
            )
            exercises[c].append((e, kind, (i + n) % len(PASSAGES)))
    enrolled: dict[uuid.UUID, list[uuid.UUID]] = {}
    for j, u in enumerate(learner_ids):
        enrolled[u] = [course_ids[j % courses]]
        if rng.random() < 0.5:
            enrolled[u].append(course_ids[(j * 7 + 3) % courses])
        for c in dict.fromkeys(enrolled[u]):
            rows.add("enrolments", c, u, "learner", now)
    return learner_ids, tutor_ids, course_ids, exercises, enrolled


def _variants(rng: random.Random) -> dict[tuple[str, int], list[tuple[str, str, str, Any]]]:
    """Ready-made recordings per (kind, passage): JSON strings and scores."""
    found: dict[tuple[str, int], list[tuple[str, str, str, Any]]] = {}
    for p, passage in enumerate(PASSAGES):
        for kind in ("read_aloud", "open_response"):
            found[(kind, p)] = []
            for _ in range(VARIANTS // len(PASSAGES)):
                llm = rng.random() < 0.6  # the LLM's feedback merged in, or the local tips only
                text, words, details, scores = recording(rng, kind, passage, llm=llm)
                found[(kind, p)].append((text, json.dumps(words), json.dumps(details), scores))
    return found


async def seed(url: str, sessions: int, learners: int, courses: int) -> dict[str, list[str]]:
    rng = random.Random(7)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    now = datetime.now(UTC)
    rows = Rows()
    try:
        learner_ids, tutor_ids, course_ids, exercises, enrolled = _school(
            rows, rng, learners, courses, now
        )
        job = uuid.uuid4()
        rows.add("rescore_jobs", job, None, "{}", "{}", "completed", 0, 0, 0, "[]", now, now, now)
        await rows.flush(conn)
        tutors_of = {c: tutor_ids[i] for i, c in enumerate(course_ids)}
        variants = _variants(rng)
        # A few learners practise a lot, most a little: a Pareto-like weight per learner.
        weights = list(itertools.accumulate(min(rng.paretovariate(1.2), 50) for _ in learner_ids))
        sample: list[str] = []
        for start in range(0, sessions, BATCH):
            for n in range(start, min(sessions, start + BATCH)):
                learner = rng.choices(learner_ids, cum_weights=weights)[0]
                course = rng.choice(enrolled[learner])
                exercise, kind, passage = rng.choice(exercises[course])
                _session(
                    rows,
                    rng,
                    now,
                    learner,
                    course,
                    exercise,
                    variants[(kind, passage)],
                    job,
                    tutors_of[course],
                    live=n < 10,
                )
            sample += [str(r[0]) for r in rng.sample(rows.tables["practice_sessions"], 50)]
            await rows.flush(conn)
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    return {
        "learners": [str(u) for u in learner_ids],
        "tutors": [str(t) for t in tutor_ids],
        "courses": [str(c) for c in course_ids],
        "sessions": sample,
    }


def _session(
    rows: Rows,
    rng: random.Random,
    now: datetime,
    learner: uuid.UUID,
    course: uuid.UUID,
    exercise: uuid.UUID,
    variants: list[tuple[str, str, str, Any]],
    job: uuid.UUID,
    tutor: uuid.UUID,
    *,
    live: bool,
) -> None:
    sid, r = uuid.uuid4(), rng.random()
    if live:
        started = now - timedelta(seconds=rng.uniform(0, 3600))
        status = rng.choice(["active", "resumable"])
    else:
        started = now - timedelta(seconds=rng.uniform(3600, DAYS * 86400))
        status = "completed" if r < 0.93 else "failed" if r < 0.97 else "cancelled"
    duration = rng.randint(8000, 30000)
    ended = None if live else started + timedelta(milliseconds=duration + 1500)
    audio = None if status in ("cancelled", "active") else f"sessions/{sid}.wav"
    reason = "the speech model failed" if status == "failed" else None
    rows.add(
        "practice_sessions", sid, learner, exercise, course, status, started, ended, audio,
        None if audio is None else "wav", None if audio is None else 16000,
        None if audio is None else duration, "bench-node", reason,
    )  # fmt: skip
    if status != "completed":
        return
    assert ended is not None
    tid = uuid.uuid4()
    text, words, details, scores = rng.choice(variants)
    rows.add("transcripts", tid, sid, text, words, "small.en", ended)
    rescored = rng.random() < 0.1
    for version in (1, 2) if rescored else (1,):
        if version == 2:
            text, words, details, scores = rng.choice(variants)
        rows.add(
            "evaluations", uuid.uuid4(), sid, tid, version, version == (2 if rescored else 1),
            "parley-local", "2.0.0", "small.en", scores.accuracy, scores.fluency,
            scores.completeness, scores.overall, details, job if version == 2 else None,
            ended + timedelta(days=version - 1),
        )  # fmt: skip
    if rng.random() < 0.05:
        at = ended + timedelta(hours=rng.uniform(1, 48))
        comment = "Good pace. Work on the final consonants of the longer words."
        rows.add("tutor_feedback", uuid.uuid4(), sid, tutor, rng.randint(2, 5), comment, at, at)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--learners", type=int, default=2_000)
    parser.add_argument("--courses", type=int, default=50)
    args = parser.parse_args()
    started = time.perf_counter()
    ids = asyncio.run(seed(args.url, args.sessions, args.learners, args.courses))
    print(f"seeded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    print(json.dumps(ids))
    return 0


if __name__ == "__main__":
    sys.exit(main())
