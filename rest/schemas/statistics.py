"""Query and response models of a course's usage statistics and of what is due in it.

The definitions behind every figure are in `storage.statistics` and `storage.schedule`;
the descriptions below repeat them for readers of `/openapi.json`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from rest.schemas.courses import Limit, Offset
from rest.schemas.sessions import Attrs, ExerciseRefOut, Instant, PersonOut, UtcDatetime
from rest.schemas.users import Strict
from storage.statistics import Window

MAX_BUCKETS = 400
DEFAULT_SPAN = {"day": timedelta(days=30), "week": timedelta(weeks=12)}
# Far enough from date.min and date.max that bucket arithmetic never overflows.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


class StatisticsQuery(Strict):
    period: Literal["day", "week"] = Field(
        "day", description="Bucket size: UTC days, or ISO weeks from Monday 00:00 UTC."
    )
    since: Instant | None = Field(
        None,
        description="Sessions started at or after (ISO 8601 with offset). Default: `until` "
        "less 30 days (period=day) or 12 weeks (period=week).",
    )
    until: Instant | None = Field(
        None, description="Sessions started before (ISO 8601 with offset). Default: now."
    )

    @model_validator(mode="after")
    def _window(self) -> StatisticsQuery:
        window = self.window(datetime.now(UTC))
        if not EARLIEST <= window.since < window.until <= LATEST:
            raise ValueError("since must be earlier than until, both within 1970..9000")
        if len(window.starts()) > MAX_BUCKETS:
            raise ValueError(f"the range spans more than {MAX_BUCKETS} {self.period}s")
        return self

    def window(self, now: datetime) -> Window:
        until = self.until or now
        since = self.since or until - DEFAULT_SPAN[self.period]
        return Window(self.period, since, until)


def _mean(score: str) -> Any:
    return Field(description=f"Mean {score} score (0..100) of the scored sessions; null if none.")


def _slope(score: str) -> Any:
    return Field(
        description=f"Least-squares slope of the {score} score against the sessions' start "
        "times, in score points per day (positive: improving); null below two scored "
        "sessions at distinct times."
    )


class AverageOut(Attrs):
    accuracy: float | None = _mean("accuracy")
    fluency: float | None = _mean("fluency")
    completeness: float | None = _mean("completeness")
    overall: float | None = _mean("overall")


class TrendOut(Attrs):
    accuracy: float | None = _slope("accuracy")
    fluency: float | None = _slope("fluency")
    completeness: float | None = _slope("completeness")
    overall: float | None = _slope("overall")


class DueCompletionOut(BaseModel):
    due: int = Field(
        description="Assignments (an enrolled learner and an unarchived exercise) whose "
        "due_at fell in [since, until) and has passed."
    )
    completed: int = Field(description="Of those, completed at or before due_at.")
    rate: float | None = Field(description="completed / due, 0..1; null when nothing is due.")


class FiguresOut(BaseModel):
    sessions: int = Field(description="Sessions started in the range, any status.")
    completed: int = Field(description="Of those, completed.")
    minutes: float = Field(description="Recorded audio of those sessions, in minutes.")
    scored: int = Field(description="Completed sessions with a current evaluation.")
    average: AverageOut = Field(description="Of the current evaluations of scored sessions.")


class SummaryOut(FiguresOut):
    trend: TrendOut = Field(description="Of the scored sessions, over the whole range.")
    due: DueCompletionOut = Field(description="Completion of what was due in the range.")


class BucketOut(FiguresOut):
    start: date = Field(description="First day of the bucket (UTC); for weeks a Monday.")
    learners: int = Field(description="Learners with a session in the bucket.")


class LearnerSummaryOut(BaseModel):
    learner: PersonOut = Field(description="A learner enrolled in the course.")
    summary: SummaryOut = Field(description="That learner's figures over the whole range.")


class StatisticsOut(BaseModel):
    course_id: uuid.UUID = Field(description="The course.")
    period: Literal["day", "week"] = Field(description="The buckets' size.")
    since: UtcDatetime = Field(description="Start of the range (inclusive).")
    until: UtcDatetime = Field(description="End of the range (exclusive).")
    summary: SummaryOut = Field(description="The whole range.")
    buckets: list[BucketOut] = Field(
        description="Every bucket the range touches, oldest first, empty ones included; the "
        "first and last count only sessions inside the range."
    )


class CourseStatisticsOut(StatisticsOut):
    """Sessions of the course's learners (enrolled as learners) only."""

    learners: list[LearnerSummaryOut] = Field(
        description="Every learner enrolled in the course, by display name."
    )


class LearnerStatisticsOut(StatisticsOut):
    learner: PersonOut = Field(description="The learner; every figure is of their sessions.")


class DueQuery(Strict):
    since: Instant | None = Field(None, description="Due at or after (ISO 8601 with offset).")
    until: Instant | None = Field(None, description="Due before (ISO 8601 with offset).")
    limit: Limit = 50
    offset: Offset = 0

    @model_validator(mode="after")
    def _ordered(self) -> DueQuery:
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ValueError("since must be earlier than until")
        return self


class LearnerDueOut(Attrs):
    learner: PersonOut = Field(description="A learner enrolled in the course.")
    completed_at: UtcDatetime | None = Field(
        description="End of the learner's first completed session on the exercise, at any "
        "time; null if none."
    )
    on_time: bool = Field(description="completed_at is at or before due_at.")


class DueExerciseOut(Attrs):
    exercise: ExerciseRefOut = Field(description="An unarchived exercise with a due date.")
    available_from: UtcDatetime | None = Field(description="When it opened (null: always).")
    due_at: UtcDatetime = Field(description="Its deadline.")
    on_time: int = Field(description="Learners who completed it at or before due_at.")
    late: int = Field(description="Learners who completed it only after due_at.")
    missing: int = Field(description="Learners with no completed session on it.")
    learners: list[LearnerDueOut] = Field(
        description="Every learner enrolled in the course, by display name."
    )


# The CSV export: one row per learner and bucket with sessions.
CSV_COLUMNS = (
    "learner_id",
    "learner",
    "period_start",
    "sessions",
    "completed",
    "minutes",
    "scored",
    "average_accuracy",
    "average_fluency",
    "average_completeness",
    "average_overall",
)
StatisticsCsv = Annotated[
    str,
    Field(
        description="RFC 4180 CSV with a header row: "
        + ", ".join(CSV_COLUMNS)
        + ". One row per learner and bucket with at least one session, learners by display "
        "name, buckets oldest first; figures as in the JSON form, minutes and averages with "
        "4 decimals, an empty cell for an average with nothing scored; a name starting "
        "with =, +, -, @, tab or carriage return is prefixed with ' so that spreadsheets "
        "read it as text."
    ),
]
