"""Rescoring throughput: audio-seconds rescored per wall-second with 1, 2... worker processes.

    .venv/bin/python bench/rescore_throughput.py [--workers 1 2] [--sessions 36] [--json]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test]
        [--redis redis://127.0.0.1:6379/0]

Stores `--sessions` completed sessions (the native clips in turn, real read speech, 3-11 s)
in a fresh PostgreSQL database and a local blob folder, then for each worker count starts
that many `parley worker` processes (concurrency 1, tiny.en int8, one inference thread
each), waits until each has loaded its model, queues one job over every session on Redis
and times it from queueing to the job's completion. Reported per level: wall time,
audio-seconds per wall-second, audio-seconds per CPU-second of the workers, and the
workers' and the rest of the machine's CPU use (as shares of all cores, from /proc), which
says whether the level was CPU-bound or disturbed by other load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from bench.programme import NATIVE, PROGRAMME, manifest
from bench.server import cpu_seconds, machine_busy_seconds
from speech.audio import read_wav
from storage.access import Principal
from storage.blobs import LocalBlobStore, audio_key
from storage.engine import create_engine, create_sessionmaker
from storage.migrate import upgrade_async
from storage.models import (
    Course,
    Exercise,
    ExerciseKind,
    PracticeSession,
    RescoreJob,
    Role,
    SessionStatus,
    User,
)
from storage.redis_keys import Keys
from storage.rescore import Scope, create_job
from storage.settings import DatabaseSettings
from workers.queue import Task
from workers.queue_redis import RedisTaskQueue
from workers.settings import WorkerSettings

BIN = Path(sys.executable).parent


async def seed(db_url: str, blobs: LocalBlobStore, count: int) -> tuple[uuid.UUID, float]:
    """`count` completed sessions with stored audio; the course id and total audio seconds."""
    texts = manifest()
    engine = create_engine(DatabaseSettings(url=db_url))
    audio_s = 0.0
    try:
        async with create_sessionmaker(engine).begin() as db:
            learner = User(email="bench@example.org", display_name="B", password_hash="x")
            course = Course(title="Bench", status="published")
            db.add_all([learner, course])
            await db.flush()
            exercises = {}
            for name in PROGRAMME:
                ex = Exercise(
                    course_id=course.id,
                    kind=ExerciseKind.READ_ALOUD.value,
                    title=name,
                    reference_text=texts[name],
                )
                db.add(ex)
                exercises[name] = ex
            await db.flush()
            for i in range(count):
                name = PROGRAMME[i % len(PROGRAMME)]
                data = (NATIVE / name).read_bytes()
                duration = read_wav(data).duration_s
                audio_s += duration
                session = PracticeSession(
                    learner_id=learner.id,
                    exercise_id=exercises[name].id,
                    course_id=course.id,
                    status=SessionStatus.COMPLETED.value,
                    audio_format="pcm_s16le",
                    audio_sample_rate=16_000,
                    audio_duration_ms=int(duration * 1000),
                )
                db.add(session)
                await db.flush()
                session.audio_blob_key = audio_key(session.id)
                await blobs.put(session.audio_blob_key, data, "audio/wav")
            return course.id, audio_s
    finally:
        await engine.dispose()


def start_workers(n: int, env: dict[str, str], logs: Path) -> list[subprocess.Popen[bytes]]:
    procs = []
    for i in range(n):
        with (logs / f"worker-{n}-{i}.log").open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [str(BIN / "parley"), "worker", "--name", f"bench-{n}-{i}"],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    for i in range(n):
        log = logs / f"worker-{n}-{i}.log"
        deadline = time.monotonic() + 120
        while "ready" not in log.read_text(errors="replace"):
            if procs[i].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.05)
    return procs


async def run_level(
    n: int, *, db_url: str, redis_url: str, keys: Keys, env: dict[str, str], logs: Path
) -> dict[str, Any]:
    procs = start_workers(n, env, logs)
    engine = create_engine(DatabaseSettings(url=db_url))
    sessions = create_sessionmaker(engine)
    redis = Redis.from_url(redis_url)
    try:
        async with sessions.begin() as db:
            admin = await db.scalar(select(User.id).where(User.email == "bench@example.org"))
            assert admin is not None
            course_id = await db.scalar(select(Course.id))
            assert course_id is not None
            job, ids = await create_job(
                db,
                Principal(admin, Role.ADMIN),
                Scope(course_id=course_id),
                {"model": None, "llm": False, "make_current": True},
                max_sessions=100_000,
            )
        cpu0 = sum(cpu_seconds(p.pid) for p in procs)
        machine0 = machine_busy_seconds()
        started = time.perf_counter()
        await RedisTaskQueue(redis, keys, WorkerSettings()).enqueue([Task(job.id, s) for s in ids])
        while True:
            async with sessions() as db:
                row = await db.get(RescoreJob, job.id, populate_existing=True)
                assert row is not None
                if row.status in ("completed", "failed", "cancelled"):
                    break
            await asyncio.sleep(0.05)  # polling the job's row, as `parley rescore` does
        wall = time.perf_counter() - started
        cpu = sum(cpu_seconds(p.pid) for p in procs) - cpu0
        machine = machine_busy_seconds() - machine0
        return {"workers": n, "wall_s": wall, "cpu_s": cpu, "machine_s": machine, "job": row}
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)
        await redis.aclose()
        await engine.dispose()


async def main(args: argparse.Namespace) -> int:
    name = f"parley_bench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(args.postgres, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    db_url = args.postgres.rsplit("/", 1)[0] + f"/{name}"
    keys = Keys(f"parley-bench-{uuid.uuid4().hex[:8]}")
    cores = os.cpu_count() or 1
    results = []
    try:
        await upgrade_async(db_url)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            _, audio_s = await seed(db_url, LocalBlobStore(folder / "blobs"), args.sessions)
            env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")} | {
                "PARLEY_DB__URL": db_url,
                "PARLEY_REDIS__URL": args.redis,
                "PARLEY_REDIS__KEY_PREFIX": keys.prefix,
                "PARLEY_BLOBS__LOCAL_PATH": str(folder / "blobs"),
                "PARLEY_SERVER__LOG_LEVEL": "info",
                "PARLEY_WORKERS__CONCURRENCY": "1",
            }
            for n in args.workers:
                level = await run_level(
                    n, db_url=db_url, redis_url=args.redis, keys=keys, env=env, logs=folder
                )
                job = level.pop("job")
                wall, cpu = level["wall_s"], level["cpu_s"]
                results.append(
                    {
                        "workers": n,
                        "sessions": job.total,
                        "done": job.done,
                        "failed": job.failed,
                        "audio_s": round(audio_s, 1),
                        "wall_s": round(wall, 2),
                        "audio_s_per_wall_s": round(audio_s / wall, 2),
                        "audio_s_per_cpu_s": round(audio_s / cpu, 2) if cpu else None,
                        "workers_util": round(cpu / (wall * cores), 3),
                        "other_util": round((level["machine_s"] - cpu) / (wall * cores), 3),
                    }
                )
    finally:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.dispose()
        redis = Redis.from_url(args.redis)
        async for key in redis.scan_iter(f"{keys.prefix}:*"):
            await redis.delete(key)
        await redis.aclose()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"{cores} cores; {args.sessions} sessions of real read speech per level")
        for r in results:
            print(
                f"  {r['workers']} worker(s): {r['audio_s']} s audio in {r['wall_s']} s -> "
                f"{r['audio_s_per_wall_s']} audio-s/wall-s, {r['audio_s_per_cpu_s']} audio-s/CPU-s"
                f" (workers {r['workers_util']:.0%} of the machine, others {r['other_util']:.0%};"
                f" {r['done']} done, {r['failed']} failed)"
            )
    return 0


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--sessions", type=int, default=36)
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--postgres",
        default=os.environ.get(
            "PARLEY_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
    )
    p.add_argument(
        "--redis", default=os.environ.get("PARLEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    return p.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
