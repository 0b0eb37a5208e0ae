"""What the history load sends: the people in a seeded database, and a weighted mix of the
reads learners, tutors and admins make, covering every filter and cursor of
`GET /v1/sessions`, one session's detail, and the tutor dashboard.

Tokens are minted with the server's key (no Argon2 logins). A cursor page continues a list
an earlier request of the same kind returned (its `next_cursor`), as a reader scrolling on.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from rest.auth.tokens import TokenService
from storage.models import Role


@dataclass
class People:
    learner_courses: dict[str, list[str]]  # learners with sessions
    tutor_courses: dict[str, list[str]]
    course_learners: dict[str, list[str]]
    course_exercises: dict[str, list[str]]
    sessions: list[tuple[str, str, str]]  # a sample: (id, learner, course)
    course_tutors: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for tutor, courses in self.tutor_courses.items():
            for course in courses:
                self.course_tutors.setdefault(course, []).append(tutor)


async def people(url: str) -> People:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:

            async def pairs(sql: str) -> dict[str, list[str]]:
                found = defaultdict(list)
                for a, b in (await conn.execute(text(sql))).all():
                    found[str(a)].append(str(b))
                return dict(found)

            sample = await conn.execute(
                text(
                    "SELECT id, learner_id, course_id FROM practice_sessions "
                    "TABLESAMPLE SYSTEM (10) REPEATABLE (1) LIMIT 5000"
                )
            )
            return People(
                learner_courses=await pairs(
                    "SELECT DISTINCT learner_id, course_id FROM practice_sessions"
                ),
                tutor_courses=await pairs(
                    "SELECT user_id, course_id FROM enrolments WHERE role = 'tutor'"
                ),
                course_learners=await pairs(
                    "SELECT course_id, user_id FROM enrolments WHERE role = 'learner'"
                ),
                course_exercises=await pairs("SELECT course_id, id FROM exercises"),
                sessions=[(str(s), str(u), str(c)) for s, u, c in sample.all()],
            )
    finally:
        await engine.dispose()


Request = tuple[str, str, str]  # (kind, path, token)
LEARNERS = "/v1/tutor/learners"
PROGRESS = LEARNERS + "/{l}/progress"


class Mix:
    def __init__(self, who: People, tokens: TokenService, admin_token: str, seed: int = 11) -> None:
        self.who, self.rng, self.admin = who, random.Random(seed), admin_token
        self._tokens = tokens
        self._minted: dict[str, str] = {}
        self.cursors: dict[str, deque[tuple[str, str, str]]] = defaultdict(
            lambda: deque(maxlen=500)
        )
        self.learners = sorted(who.learner_courses)
        self.tutors = sorted(who.tutor_courses)
        kinds: list[tuple[str, int, Callable[[], Request]]] = [
            ("learner list", 12, lambda: self._learner("")),
            ("learner list ?status", 3, lambda: self._learner(f"&status={self._status()}")),
            ("learner list ?exercise_id", 4, lambda: self._learner("&exercise_id={e}")),
            ("learner list ?course_id", 2, lambda: self._learner("&course_id={c}")),
            ("learner list ?since&until", 3, lambda: self._learner(self._window())),
            ("learner list ?cursor", 10, lambda: self._page("learner list")),
            ("learner detail", 12, lambda: self._detail(as_tutor=False)),
            ("tutor list", 5, lambda: self._tutor("")),
            ("tutor list ?course_id", 5, lambda: self._tutor("&course_id={c}")),
            ("tutor list ?learner_id", 4, lambda: self._tutor("&learner_id={l}")),
            ("tutor list ?exercise_id", 2, lambda: self._tutor("&exercise_id={e}")),
            ("tutor list ?status", 2, lambda: self._tutor("&status=failed")),
            ("tutor list ?cursor", 3, lambda: self._page("tutor list")),
            ("tutor detail", 8, lambda: self._detail(as_tutor=True)),
            ("tutor learners", 5, lambda: self._dashboard(f"{LEARNERS}?limit=50")),
            ("tutor learners ?course_id", 3, lambda: self._dashboard(LEARNERS + "?course_id={c}")),
            ("tutor learners ?cursor", 2, lambda: self._page("tutor learners")),
            ("tutor progress", 6, lambda: self._dashboard(PROGRESS)),
            ("tutor progress ?course_id&since", 2, lambda: self._dashboard(
                PROGRESS + "?course_id={c}" + self._window(until=False))),
            ("tutor live", 2, lambda: self._dashboard("/v1/tutor/live")),
            ("admin list ?status", 2, lambda: self._admin(f"?status={self._status(admin=True)}")),
            ("admin list ?exercise_id", 1, lambda: self._admin("?exercise_id={e}")),
            ("admin detail", 2, lambda: self._admin_detail()),
        ]  # fmt: skip
        self._kinds = kinds
        self._weights = [w for _, w, _ in kinds]

    def token(self, user: str, role: Role) -> str:
        if user not in self._minted:
            self._minted[user] = self._tokens.issue(uuid.UUID(user), role, "access")
        return self._minted[user]

    def next(self) -> Request:
        name, _, make = self.rng.choices(self._kinds, self._weights)[0]
        kind, path, token = make()
        return (name if kind == "" else kind), path, token

    def answered(self, kind: str, path: str, token: str, body: bytes) -> None:
        """Keep a list's next_cursor, for a later cursor page of the same list."""
        family = kind.split(" ?")[0]
        if family in ("learner list", "tutor list", "tutor learners"):
            cursor = json.loads(body).get("next_cursor")
            if cursor:
                base = path.split("&cursor=")[0]
                self.cursors[family].append((base, token, cursor))

    def _page(self, family: str) -> Request:
        if not self.cursors[family]:  # nothing to continue yet: a first page
            return (family, *self._first(family)[1:])
        base, token, cursor = self.rng.choice(self.cursors[family])
        sep = "&" if "?" in base else "?"
        return "", f"{base}{sep}cursor={cursor}", token

    def _first(self, family: str) -> Request:
        if family == "learner list":
            return self._learner("")
        if family == "tutor list":
            return self._tutor("")
        return self._dashboard(f"{LEARNERS}?limit=50")

    def _status(self, *, admin: bool = False) -> str:
        # An admin looks for what is stuck or broken; a learner at their own outcomes.
        rare = ["active", "resumable", "failed"]
        return self.rng.choice(rare if admin else ["completed", "failed", "cancelled"])

    def _window(self, *, until: bool = True) -> str:
        end = datetime.now(UTC) - timedelta(days=self.rng.uniform(0, 150))
        since = (end - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"&since={since}" + (f"&until={end.strftime('%Y-%m-%dT%H:%M:%SZ')}" if until else "")

    def _fill(self, template: str, course: str) -> str:
        who = self.who
        return template.format(
            c=course,
            e=self.rng.choice(who.course_exercises[course]),
            l=self.rng.choice(who.course_learners.get(course) or self.learners),
        )

    def _learner(self, query: str) -> Request:
        learner = self.rng.choice(self.learners)
        course = self.rng.choice(self.who.learner_courses[learner])
        path = "/v1/sessions?limit=20" + self._fill(query, course)
        return "", path, self.token(learner, Role.LEARNER)

    def _tutor(self, query: str) -> Request:
        tutor = self.rng.choice(self.tutors)
        course = self.rng.choice(self.who.tutor_courses[tutor])
        path = "/v1/sessions?limit=20" + self._fill(query, course)
        return "", path, self.token(tutor, Role.TUTOR)

    def _dashboard(self, template: str) -> Request:
        tutor = self.rng.choice(self.tutors)
        course = self.rng.choice(self.who.tutor_courses[tutor])
        return "", self._fill(template, course), self.token(tutor, Role.TUTOR)

    def _detail(self, *, as_tutor: bool) -> Request:
        session, learner, course = self.rng.choice(self.who.sessions)
        if as_tutor:
            token = self.token(self.rng.choice(self.who.course_tutors[course]), Role.TUTOR)
        else:
            token = self.token(learner, Role.LEARNER)
        return "", f"/v1/sessions/{session}", token

    def _admin(self, template: str) -> Request:
        course = self.rng.choice(list(self.who.course_exercises))
        return "", "/v1/sessions" + self._fill(template, course), self.admin

    def _admin_detail(self) -> Request:
        return "", f"/v1/sessions/{self.rng.choice(self.who.sessions)[0]}", self.admin

    def shares(self) -> dict[str, float]:
        """Each kind's share of the requests, in percent."""
        total = sum(self._weights)
        return {name: round(100 * w / total, 1) for name, w, _ in self._kinds}
