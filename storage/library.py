"""The resource library: vocabulary, phrases and grammar points, who may see and change
them, a search, ratings, and a ranking.

Visibility: an admin sees everything; anyone else sees the school-wide resources (shared,
no course), the shared resources of courses they are enrolled in, and their own. A
resource outside that rule is "not found". Staff of a course (its tutors, admins) change
and rate its shared resources; a learner's saved resources are theirs alone.

The rank (`rank`) weighs tutors' ratings, recent use and views:
    0.5 * rating + 0.3 * recency + 0.2 * popularity
where rating is the mean of the stars with two imaginary 3-star ratings added (so one
5-star rating does not outrank twenty 4-star ones) over 5; recency halves every 14 days
since the resource was last opened or saved; popularity is views / (views + 20), views
counting each person once a day. Everything is computed from columns at a fixed instant
(`as_of`, carried in the cursor), so the pages of one search agree with each other.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, cast, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import courses
from storage.access import Principal
from storage.errors import NotFound, PermissionDenied
from storage.inserts import insert_if_new
from storage.library_models import Resource, ResourceRating, ResourceView
from storage.models import Enrolment, Role

PRIOR_STARS, PRIOR_COUNT = 3.0, 2.0
HALF_LIFE_DAYS = 14.0
VIEWS_HALF = 20.0
WEIGHTS = (0.5, 0.3, 0.2)  # rating, recency, popularity


def rank(as_of: float) -> ColumnElement[float]:
    """The ranking score of each row at `as_of` (epoch seconds), between 0 and 1."""

    def num(value: float) -> ColumnElement[float]:
        return literal(value, Float)

    stars = (cast(Resource.rating_sum, Float) + num(PRIOR_STARS * PRIOR_COUNT)) / (
        cast(Resource.rating_count, Float) + num(PRIOR_COUNT)
    )
    days = (num(as_of) - Resource.last_used_s) / num(86400.0)
    recency = num(HALF_LIFE_DAYS) / (num(HALF_LIFE_DAYS) + days)
    views = cast(Resource.views, Float)
    popularity = views / (views + num(VIEWS_HALF))
    w_rating, w_recency, w_views = WEIGHTS
    return (
        num(w_rating / 5.0) * stars + num(w_recency) * recency + num(w_views) * popularity
    ).label("rank")


def visible(who: Principal) -> ColumnElement[bool]:
    if who.is_admin:
        return literal(True)
    enrolled = select(Enrolment.course_id).where(Enrolment.user_id == who.user_id)
    return or_(
        Resource.owner_id == who.user_id,
        and_(Resource.shared, Resource.course_id.is_(None)),
        and_(Resource.shared, Resource.course_id.in_(enrolled)),
    )


@dataclass(frozen=True, slots=True)
class Search:
    kind: str | None = None
    level: str | None = None
    course_id: uuid.UUID | None = None
    text: str | None = None  # in the resource's text or explanation, any case
    mine: bool = False  # only the caller's own

    def clauses(self, who: Principal) -> list[ColumnElement[bool]]:
        found = [visible(who)]
        if self.kind is not None:
            found.append(Resource.kind == self.kind)
        if self.level is not None:
            found.append(Resource.level == self.level)
        if self.course_id is not None:
            found.append(Resource.course_id == self.course_id)
        if self.text:
            found.append(
                or_(
                    Resource.text.icontains(self.text, autoescape=True),
                    Resource.explanation.icontains(self.text, autoescape=True),
                )
            )
        if self.mine:
            found.append(Resource.owner_id == who.user_id)
        return found


@dataclass(frozen=True, slots=True)
class RankPosition:
    as_of: float
    rank: float
    id: uuid.UUID


@dataclass(frozen=True, slots=True)
class NewestPosition:
    created_at: datetime
    id: uuid.UUID


async def search(
    db: AsyncSession,
    who: Principal,
    where: Search,
    *,
    by_rank: bool,
    after: RankPosition | NewestPosition | None,
    limit: int,
    as_of: float,
) -> tuple[list[tuple[Resource, float]], bool]:
    """Up to `limit` resources with their rank at `as_of`, best (or newest) first, and
    whether more follow."""
    score = rank(as_of)
    query = select(Resource, score).where(*where.clauses(who))
    if by_rank:
        if isinstance(after, RankPosition):
            query = query.where(
                or_(score < after.rank, and_(score == after.rank, Resource.id < after.id))
            )
        query = query.order_by(score.desc(), Resource.id.desc())
    else:
        if isinstance(after, NewestPosition):
            query = query.where(
                or_(
                    Resource.created_at < after.created_at,
                    and_(Resource.created_at == after.created_at, Resource.id < after.id),
                )
            )
        query = query.order_by(Resource.created_at.desc(), Resource.id.desc())
    rows = [(r, float(s)) for r, s in (await db.execute(query.limit(limit + 1))).all()]
    return rows[:limit], len(rows) > limit


async def check_course(db: AsyncSession, who: Principal, course_id: uuid.UUID | None) -> bool:
    """Whether a new resource of `who` in `course_id` is shared: staff's are (and need a
    course they manage, or for an admin none); a learner's are private (and need a course
    they can see)."""
    if who.role is Role.LEARNER:
        if course_id is not None and (await courses.seen(db, who, course_id)).my_role is None:
            raise PermissionDenied("you are not enrolled in this course", code="not_enrolled")
        return False
    if course_id is None:
        if not who.is_admin:
            raise PermissionDenied(
                "a tutor's resources belong to a course they teach: give course_id",
                code="course_required",
            )
        return True
    await courses.managed(db, who, course_id)
    return True


async def add(db: AsyncSession, who: Principal, fields: dict[str, Any]) -> Resource:
    shared = await check_course(db, who, fields.get("course_id"))
    row = Resource(
        **fields, owner_id=who.user_id, shared=shared, last_used_s=_now(), views=0,
        rating_sum=0, rating_count=0,
    )  # fmt: skip
    db.add(row)
    await db.flush()
    return row


async def get(db: AsyncSession, who: Principal, resource_id: uuid.UUID) -> Resource:
    row: Resource | None = await db.scalar(
        select(Resource).where(Resource.id == resource_id, visible(who))
    )
    if row is None:
        raise NotFound("resource not found")
    return row


async def opened(db: AsyncSession, who: Principal, row: Resource) -> None:
    """Record that `who` opened `row`: its last use is now, and its views count one more
    if this is their first look today."""
    values = {"resource_id": row.id, "user_id": who.user_id, "day": datetime.now(UTC).date()}
    first = await insert_if_new(db, ResourceView, values)
    change: dict[str, Any] = {"last_used_s": _now()}
    if first:
        change["views"] = Resource.views + 1
    await db.execute(update(Resource).where(Resource.id == row.id).values(change))
    await db.refresh(row)


async def editable(db: AsyncSession, who: Principal, resource_id: uuid.UUID) -> Resource:
    """`resource_id` if `who` may change or delete it: its owner, an admin, or for a
    shared course resource that course's staff."""
    row = await get(db, who, resource_id)
    if row.owner_id == who.user_id or who.is_admin:
        return row
    if row.shared and row.course_id is not None:
        seen = await courses.seen(db, who, row.course_id)
        if seen.can_manage(who):
            return row
    raise PermissionDenied("only its author or the course's staff may change this resource")


async def rate(db: AsyncSession, who: Principal, row: Resource, stars: int, comment: str) -> bool:
    """Set `who`'s stars for `row` (a shared resource); True when this is their first
    rating of it. The sum and count on the row change in the same transaction."""
    if not row.shared:
        raise PermissionDenied(
            "a learner's own saved resource is not rated", code="resource_not_shared"
        )
    if row.course_id is not None and not who.is_admin:
        (await courses.seen(db, who, row.course_id)).require_manager(who)
    # Inserted if new (a double click's second request waits for the first and finds it);
    # otherwise the stars change in place and the sum by the difference.
    values = {"resource_id": row.id, "rater_id": who.user_id, "stars": stars, "comment": comment}
    first = await insert_if_new(db, ResourceRating, values)
    if first:
        change = {
            "rating_sum": Resource.rating_sum + stars,
            "rating_count": Resource.rating_count + 1,
        }
    else:
        before = await db.get(
            ResourceRating, (row.id, who.user_id), with_for_update=True, populate_existing=True
        )
        assert before is not None  # the insert found it
        change = {"rating_sum": Resource.rating_sum + (stars - before.stars)}
        before.stars, before.comment = stars, comment
        await db.flush()
    await db.execute(update(Resource).where(Resource.id == row.id).values(change))
    await db.refresh(row)
    return first


async def my_rating(db: AsyncSession, who: Principal, resource_id: uuid.UUID) -> int | None:
    found = await db.get(ResourceRating, (resource_id, who.user_id))
    return None if found is None else found.stars


def _now() -> float:
    return datetime.now(UTC).timestamp()
