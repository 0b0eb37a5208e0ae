"""The query plans of every history read the API offers, on a seeded database.

Each case calls the storage function a route calls (`storage.history`, `storage.dashboard`,
`storage.live`) with one filter, cursor or role of the API, records every statement it sends
(a cursor-execute hook, so the SQL is exactly what a request runs), and has PostgreSQL
`EXPLAIN (ANALYZE, BUFFERS)` each with the same parameters on the same statistics.

    .venv/bin/python bench/history_plans.py postgresql+asyncpg://postgres@127.0.0.1:5432/DB
        [--json] [--verbose]

A plan is flagged when it reads a history table (practice_sessions, evaluations,
transcripts, tutor_feedback) by a sequential scan, or sorts more than `BIG_SORT` rows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage import dashboard, history, live
from storage.access import Principal
from storage.engine import create_engine, create_sessionmaker
from storage.history import SessionFilter
from storage.models import Role, SessionStatus
from storage.settings import DatabaseSettings

HISTORY_TABLES = {"practice_sessions", "evaluations", "transcripts", "tutor_feedback"}
BIG_SORT = 1000  # rows: a page's worth of sorting is fine; a table's worth is not

Call = Callable[[AsyncSession], Awaitable[object]]


@dataclass
class Plan:
    case: str
    statement: str
    ms: float
    shape: str  # the plan's nodes, outermost first
    flags: list[str] = field(default_factory=list)


def _nodes(node: dict[str, Any], depth: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
    yield depth, node
    for child in node.get("Plans", []):
        yield from _nodes(child, depth + 1)


def judge(case: str, statement: str, explained: dict[str, Any]) -> Plan:
    parts, flags = [], []
    for depth, node in _nodes(explained["Plan"]):
        kind, table = node["Node Type"], node.get("Relation Name")
        index = node.get("Index Name")
        label = kind + (f" {index}" if index else f" {table}" if table else "")
        parts.append(f"{'.' * depth}{label} ({node.get('Actual Rows', 0)} rows)")
        if kind == "Seq Scan" and table in HISTORY_TABLES:
            flags.append(f"sequential scan of {table}")
        if kind in ("Sort", "Incremental Sort"):
            # A sort's input is its child's output, times the loops it ran.
            child = node["Plans"][0]
            sorted_rows = child.get("Actual Rows", 0) * child.get("Actual Loops", 1)
            if sorted_rows > BIG_SORT:
                flags.append(f"sort of {sorted_rows} rows")
    ms = float(explained["Execution Time"])
    return Plan(case, " ".join(statement.split())[:160], round(ms, 3), " > ".join(parts), flags)


async def explain(engine: AsyncEngine, cases: dict[str, Call]) -> list[Plan]:
    """Run each case once, recording its statements, then EXPLAIN ANALYZE each of them."""
    sessions = create_sessionmaker(engine)
    found: list[Plan] = []
    for name, call in cases.items():
        seen: list[tuple[str, Any]] = []

        def record(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
            seen.append((statement, params))  # noqa: B023 (read before the next case)

        event.listen(engine.sync_engine, "before_cursor_execute", record)
        try:
            async with sessions() as db:
                await call(db)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", record)
        async with engine.connect() as conn:
            for statement, params in seen:
                query = f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}"
                result = await conn.exec_driver_sql(query, params)
                raw = result.scalar_one()
                explained = (json.loads(raw) if isinstance(raw, str) else raw)[0]
                found.append(judge(name, statement, explained))
    return found


async def _one(engine: AsyncEngine, sql: str) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(text(sql))).one()


async def cases(engine: AsyncEngine) -> dict[str, Call]:
    """Every filter, cursor and role of the history and dashboard reads, on real ids: the
    busiest learner, a tutor of two courses, one of that tutor's learners."""
    busiest = await _one(
        engine,
        "SELECT learner_id, course_id, exercise_id FROM practice_sessions "
        "GROUP BY learner_id, course_id, exercise_id ORDER BY count(*) DESC LIMIT 1",
    )
    tutor_row = await _one(
        engine,
        "SELECT user_id FROM enrolments WHERE role = 'tutor' GROUP BY user_id "
        "ORDER BY count(*) DESC, user_id LIMIT 1",
    )
    taught = await _one(
        engine,
        "SELECT s.course_id, s.learner_id, s.exercise_id, s.id FROM practice_sessions s "
        "JOIN enrolments e ON e.course_id = s.course_id AND e.role = 'tutor' "
        f"WHERE e.user_id = '{tutor_row.user_id}' AND s.status = 'completed' "
        "ORDER BY s.started_at DESC LIMIT 1",
    )
    learner = Principal(busiest.learner_id, Role.LEARNER)
    tutor = Principal(tutor_row.user_id, Role.TUTOR)
    admin = Principal(uuid.uuid4(), Role.ADMIN)
    now = datetime.now(UTC)
    since, until = now - timedelta(days=30), now - timedelta(days=7)
    month = SessionFilter(since=since, until=until)

    def listing(who: Principal, filters: SessionFilter, pages: int = 1) -> Call:
        async def call(db: AsyncSession) -> None:
            after = None
            for _ in range(pages):
                found, _more = await history.list_sessions(db, who, filters, after=after, limit=20)
                if found:
                    after = history.Keyset(found[-1].started_at, found[-1].id)

        return call

    def own_session(who: Principal) -> Call:
        async def call(db: AsyncSession) -> None:
            first, _ = await history.list_sessions(db, who, SessionFilter(), after=None, limit=1)
            await history.get_detail(db, who, first[0].id)

        return call

    async def tutor_live(db: AsyncSession) -> None:
        await live.visible_courses(db, tutor)
        await live.display_names(db, {taught.learner_id, busiest.learner_id})

    return {
        "learner list": listing(learner, SessionFilter()),
        "learner list, next page": listing(learner, SessionFilter(), pages=2),
        "learner list, status=failed": listing(learner, SessionFilter(status=SessionStatus.FAILED)),
        "learner list, exercise_id": listing(
            learner, SessionFilter(exercise_id=busiest.exercise_id)
        ),
        "learner list, course_id": listing(learner, SessionFilter(course_id=busiest.course_id)),
        "learner list, since+until": listing(learner, month),
        "learner detail": own_session(learner),
        "tutor list": listing(tutor, SessionFilter()),
        "tutor list, next page": listing(tutor, SessionFilter(), pages=2),
        "tutor list, course_id": listing(tutor, SessionFilter(course_id=taught.course_id)),
        "tutor list, learner_id": listing(tutor, SessionFilter(learner_id=taught.learner_id)),
        "tutor list, exercise_id": listing(tutor, SessionFilter(exercise_id=taught.exercise_id)),
        "tutor list, status=failed": listing(tutor, SessionFilter(status=SessionStatus.FAILED)),
        "tutor list, since+until": listing(tutor, month),
        "tutor detail": lambda db: history.get_detail(db, tutor, taught.id),
        "tutor learners": lambda db: dashboard.learners(
            db, tutor, course_id=None, after=None, limit=50
        ),
        "tutor learners, course_id + cursor": lambda db: dashboard.learners(
            db, tutor, course_id=taught.course_id, after=("M", uuid.UUID(int=0)), limit=50
        ),
        "tutor course check": lambda db: dashboard.check_course(db, tutor, taught.course_id),
        "tutor progress": lambda db: dashboard.progress(
            db, tutor, taught.learner_id, course_id=None, since=None, limit=200
        ),
        "tutor progress, course_id + since": lambda db: dashboard.progress(
            db,
            tutor,
            taught.learner_id,
            course_id=taught.course_id,
            since=since,
            limit=200,
        ),
        "tutor live (names)": tutor_live,
        "admin list": listing(admin, SessionFilter(), pages=2),
        "admin list, status=active": listing(admin, SessionFilter(status=SessionStatus.ACTIVE)),
        "admin list, status=failed": listing(admin, SessionFilter(status=SessionStatus.FAILED)),
        "admin list, exercise_id": listing(admin, SessionFilter(exercise_id=taught.exercise_id)),
        "admin list, course_id": listing(admin, SessionFilter(course_id=taught.course_id)),
        "admin list, learner_id": listing(admin, SessionFilter(learner_id=busiest.learner_id)),
        "admin list, since+until": listing(admin, month),
        "admin learners": lambda db: dashboard.learners(
            db, admin, course_id=None, after=None, limit=50
        ),
        "admin progress": lambda db: dashboard.progress(
            db, admin, busiest.learner_id, course_id=None, since=None, limit=200
        ),
    }


async def run(url: str) -> list[Plan]:
    engine = create_engine(DatabaseSettings(url=url))
    try:
        return await explain(engine, await cases(engine))
    finally:
        await engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="print each plan's nodes")
    args = parser.parse_args()
    plans = asyncio.run(run(args.url))
    if args.json:
        print(json.dumps([p.__dict__ for p in plans], indent=2))
    else:
        for p in plans:
            print(f"{p.case:40} {p.ms:8.2f} ms  {'; '.join(p.flags) or 'ok'}")
            if args.verbose or p.flags:
                print(f"    {p.statement}\n    {p.shape}")
    return 1 if any(p.flags for p in plans) else 0


if __name__ == "__main__":
    sys.exit(main())
