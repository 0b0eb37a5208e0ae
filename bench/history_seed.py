"""A school's history in PostgreSQL: 2,000 learners, 50 courses (each with a tutor and 4
exercises), 100,000 completed sessions with a transcript and a current evaluation each, over
the last 180 days. Bulk-copied (asyncpg COPY), so it takes a minute or two, not an hour.

    .venv/bin/python bench/history_seed.py postgresql+asyncpg://postgres@127.0.0.1:5432/DB
        [--sessions 100000] [--learners 2000] [--courses 50]

The database must be migrated (`parley db upgrade`) and empty. Prints the ids the load bench
needs as JSON (learners, tutors, courses, sessions: samples of each).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from sqlalchemy import make_url

JFK_TEXT = (
    "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country."
)
WORDS = JFK_TEXT.split()


def _words() -> list[dict[str, object]]:
    at, out = 0.3, []
    for word in WORDS:
        out.append(
            {"word": word, "start": round(at, 2), "end": round(at + 0.35, 2), "probability": 0.9}
        )
        at += 0.45
    return out


def _details(rng: random.Random) -> dict[str, object]:
    """An evaluation's details shaped like Parley's (a few KB): words with their errors."""
    kinds = ["none"] * 8 + ["mispronunciation", "omission"]
    words = [
        {
            "expected": w,
            "heard": w,
            "error_type": rng.choice(kinds),
            "accuracy": rng.randint(40, 100),
            "start": i * 0.45,
            "end": i * 0.45 + 0.35,
        }
        for i, w in enumerate(WORDS)
    ]
    return {"evaluator": {"name": "parley", "version": "2.0.0"}, "words": words}


async def seed(url: str, sessions: int, learners: int, courses: int) -> dict[str, list[str]]:
    rng = random.Random(7)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    now = datetime.now(UTC)
    try:
        learner_ids = [uuid.uuid4() for _ in range(learners)]
        tutor_ids = [uuid.uuid4() for _ in range(courses)]
        users = [
            (u, f"{role}{i}@bench.example", f"{role.title()} {i}", role, "x", True, 0, now)
            for role, ids in (("learner", learner_ids), ("tutor", tutor_ids))
            for i, u in enumerate(ids)
        ]
        await conn.copy_records_to_table(
            "users",
            records=users,
            columns=[
                "id",
                "email",
                "display_name",
                "role",
                "password_hash",
                "active",
                "token_version",
                "created_at",
            ],
        )
        course_ids = [uuid.uuid4() for _ in range(courses)]
        await conn.copy_records_to_table(
            "courses",
            records=[
                (c, f"Course {i}", "", "en", None, "published", tutor_ids[i], now, now)
                for i, c in enumerate(course_ids)
            ],
            columns=[
                "id",
                "title",
                "description",
                "language",
                "level",
                "status",
                "created_by",
                "created_at",
                "updated_at",
            ],
        )
        exercises = {c: [uuid.uuid4() for _ in range(4)] for c in course_ids}
        await conn.copy_records_to_table(
            "exercises",
            records=[
                (e, c, "read_aloud", f"Exercise {n}", JFK_TEXT, None, n, None, False, now, now)
                for c, ids in exercises.items()
                for n, e in enumerate(ids)
            ],
            columns=[
                "id",
                "course_id",
                "kind",
                "title",
                "reference_text",
                "prompt",
                "position",
                "time_limit_s",
                "archived",
                "created_at",
                "updated_at",
            ],
        )
        course_of = {learner: course_ids[i % courses] for i, learner in enumerate(learner_ids)}
        enrolments = [(c, t, "tutor", now) for c, t in zip(course_ids, tutor_ids, strict=True)]
        enrolments += [(course_of[u], u, "learner", now) for u in learner_ids]
        await conn.copy_records_to_table(
            "enrolments", records=enrolments, columns=["course_id", "user_id", "role", "created_at"]
        )
        rows, transcripts, evaluations, session_ids = [], [], [], []
        words = json.dumps(_words())
        for _ in range(sessions):
            learner = rng.choice(learner_ids)
            course = course_of[learner]
            started = now - timedelta(seconds=rng.uniform(0, 180 * 86400))
            sid = uuid.uuid4()
            session_ids.append(sid)
            rows.append(
                (
                    sid,
                    learner,
                    rng.choice(exercises[course]),
                    course,
                    "completed",
                    started,
                    started + timedelta(seconds=14),
                    f"sessions/{sid}.wav",
                    "pcm_s16le",
                    16000,
                    11000,
                    "bench",
                    None,
                )
            )
            tid = uuid.uuid4()
            transcripts.append((tid, sid, JFK_TEXT, words, "whisper-tiny.en", started))
            scores = [round(rng.uniform(40, 100), 1) for _ in range(4)]
            evaluations.append(
                (
                    uuid.uuid4(),
                    sid,
                    tid,
                    1,
                    True,
                    "parley",
                    "2.0.0",
                    "whisper-tiny.en",
                    *scores,
                    json.dumps(_details(rng)),
                    None,
                    started,
                )
            )
        await conn.copy_records_to_table(
            "practice_sessions",
            records=rows,
            columns=[
                "id",
                "learner_id",
                "exercise_id",
                "course_id",
                "status",
                "started_at",
                "ended_at",
                "audio_blob_key",
                "audio_format",
                "audio_sample_rate",
                "audio_duration_ms",
                "node_id",
                "failure_reason",
            ],
        )
        await conn.copy_records_to_table(
            "transcripts",
            records=transcripts,
            columns=["id", "session_id", "text", "words", "model", "created_at"],
        )
        await conn.copy_records_to_table(
            "evaluations",
            records=evaluations,
            columns=[
                "id",
                "session_id",
                "transcript_id",
                "version",
                "is_current",
                "evaluator_name",
                "evaluator_version",
                "model",
                "accuracy",
                "fluency",
                "completeness",
                "overall",
                "details",
                "rescore_job_id",
                "created_at",
            ],
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return {
        "learners": [str(u) for u in learner_ids],
        "tutors": [str(t) for t in tutor_ids],
        "courses": [str(c) for c in course_ids],
        "sessions": [str(s) for s in rng.sample(session_ids, min(5000, len(session_ids)))],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--learners", type=int, default=2_000)
    parser.add_argument("--courses", type=int, default=50)
    args = parser.parse_args()
    ids = asyncio.run(seed(args.url, args.sessions, args.learners, args.courses))
    print(json.dumps(ids))
    return 0


if __name__ == "__main__":
    sys.exit(main())
