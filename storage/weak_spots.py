"""The words and sounds a learner gets wrong most, from the per-word results of their
current evaluations, with the evidence a tutor needs to trust the list.

A word counts as missed in one attempt when its result has an error type other than
`none` (mispronounced, omitted, ...) or an accuracy below `MISSED_BELOW`; a prosodic error
type alone (`PHRASING`: a pause before the word, none after it, a flat phrase) is not a
miss, since the word itself was said right and practising it would not help; a sound (an
expected phone of a reference word) when its accuracy is below `MISSED_BELOW`. Only
recent practice is read (the latest `SESSIONS` scored sessions in `WINDOW`), so the list
follows the learner as they improve and its cost does not grow with their history.

Trend compares the miss rate of the last `RECENT` with the rate before it: a difference of
at least `TREND_STEP` is "improving" or "worsening", less is "steady", and a word not
attempted in both parts has no trend.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.access import Principal, visible_sessions
from storage.history import as_utc, current_evaluation
from storage.models import Evaluation, PracticeSession, SessionStatus

# The evaluator's error types of how a word was phrased, not said (speech.prosody).
PHRASING = ("unexpected_break", "missing_break", "monotone")
MISSED_BELOW = 60
SESSIONS = 200
WINDOW = timedelta(days=90)
RECENT = timedelta(days=14)
TREND_STEP = 0.15
MIN_MISSES = 2  # one slip is not a pattern

Trend = Literal["improving", "steady", "worsening"]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One reference word (or phone) as said in one session."""

    session_id: uuid.UUID
    course_id: uuid.UUID
    exercise_id: uuid.UUID
    at: datetime
    missed: bool
    error_type: str | None  # words only
    context: str  # the words around it in the reference, as written


@dataclass(frozen=True, slots=True)
class WeakSpot:
    """A word (`text` normalised) or a sound (`text` ARPAbet, `ipa` set) missed repeatedly."""

    text: str
    ipa: str | None
    attempts: int
    missed: int
    last_missed_at: datetime
    trend: Trend | None
    error_types: dict[str, int]  # words: how it was missed, most frequent first
    examples: list[str]  # words: the reference phrases it was missed in; sounds: the words
    course_ids: list[uuid.UUID]  # where it was missed, most misses first
    exercise_ids: list[uuid.UUID]

    @property
    def rate(self) -> float:
        return self.missed / self.attempts


@dataclass(frozen=True, slots=True)
class WeakSpots:
    sessions_read: int
    since: datetime
    words: list[WeakSpot]
    sounds: list[WeakSpot]


def normal(word: str) -> str:
    """A written reference word as compared across sessions: lower case, no surrounding
    punctuation ("Americans," and "americans" are one word)."""
    return word.lower().replace("\u2019", "'").strip(".,;:!?\"'()[]{}-\u2014\u201c\u201d")


def _context(words: list[dict[str, Any]], index: int) -> str:
    expected = [w["expected"] for w in words if w.get("expected")]
    at = sum(1 for w in words[:index] if w.get("expected"))
    return " ".join(expected[max(0, at - 2) : at + 3])


def _attempts(
    row: Any, words: list[dict[str, Any]]
) -> Iterable[tuple[str, str | None, Attempt, str]]:
    """(key, ipa, attempt, example) per reference word and per expected phone of a session."""
    at = as_utc(row.ended_at or row.started_at)
    for index, w in enumerate(words):
        expected = w.get("expected")
        if not expected or not normal(expected):
            continue
        accuracy = w.get("accuracy")
        error = w.get("error_type") or "none"
        missed = error not in ("none", *PHRASING) or (
            accuracy is not None and accuracy < MISSED_BELOW
        )
        context = _context(words, index)
        common = (row.id, row.course_id, row.exercise_id, at)
        yield normal(expected), None, Attempt(*common, missed, error, context), context
        for phone in w.get("phones") or []:
            key = phone.get("phone")
            if not key or phone.get("accuracy") is None:
                continue
            low = phone["accuracy"] < MISSED_BELOW
            yield f"/{key}", phone.get("ipa"), Attempt(*common, low, None, context), expected


def _trend(attempts: list[Attempt], now: datetime) -> Trend | None:
    recent = [a for a in attempts if a.at >= now - RECENT]
    before = [a for a in attempts if a.at < now - RECENT]
    if not recent or not before:
        return None
    change = sum(a.missed for a in recent) / len(recent) - sum(a.missed for a in before) / len(
        before
    )
    if change <= -TREND_STEP:
        return "improving"
    return "worsening" if change >= TREND_STEP else "steady"


def _ranked(counts: Counter[Any]) -> list[Any]:
    return [key for key, _ in counts.most_common()]


def _spot(
    text: str, ipa: str | None, attempts: list[Attempt], examples: list[str], now: datetime
) -> WeakSpot:
    missed = [a for a in attempts if a.missed]
    return WeakSpot(
        text=text,
        ipa=ipa,
        attempts=len(attempts),
        missed=len(missed),
        last_missed_at=max(a.at for a in missed),
        trend=_trend(attempts, now),
        error_types=dict(Counter(a.error_type for a in missed if a.error_type).most_common()),
        examples=_ranked(Counter(examples))[:3],
        course_ids=_ranked(Counter(a.course_id for a in missed)),
        exercise_ids=_ranked(Counter(a.exercise_id for a in missed)),
    )


def rank(
    rows: Iterable[Any], now: datetime, *, limit: int
) -> tuple[list[WeakSpot], list[WeakSpot]]:
    """Words and sounds missed at least `MIN_MISSES` times: most misses first, then the
    higher miss rate, then the latest miss. `rows` carry id, course_id, exercise_id,
    started_at, ended_at and the evaluation's `details`."""
    tallies: dict[str, list[Attempt]] = {}
    ipa: dict[str, str | None] = {}
    examples: dict[str, list[str]] = {}
    for row in rows:
        words = (row.details or {}).get("words") or []
        for key, key_ipa, attempt, example in _attempts(row, words):
            tallies.setdefault(key, []).append(attempt)
            ipa.setdefault(key, key_ipa)
            if attempt.missed:
                examples.setdefault(key, []).append(example)
    spots = [
        (key, _spot(key.lstrip("/"), ipa[key], tally, examples.get(key, []), now))
        for key, tally in tallies.items()
        if sum(a.missed for a in tally) >= MIN_MISSES
    ]
    spots.sort(
        key=lambda ks: (-ks[1].missed, -ks[1].rate, -ks[1].last_missed_at.timestamp(), ks[0])
    )
    # Sound keys carry a leading "/" so a word can never be taken for a phone.
    words = [s for key, s in spots if not key.startswith("/")][:limit]
    sounds = [s for key, s in spots if key.startswith("/")][:limit]
    return words, sounds


async def weak_spots(
    db: AsyncSession,
    who: Principal,
    learner_id: uuid.UUID,
    now: datetime,
    *,
    course_id: uuid.UUID | None = None,
    limit: int = 10,
) -> WeakSpots:
    """The learner's weak words and sounds in the sessions `who` may read."""
    since = now - WINDOW
    stmt = (
        select(
            PracticeSession.id,
            PracticeSession.course_id,
            PracticeSession.exercise_id,
            PracticeSession.started_at,
            PracticeSession.ended_at,
            Evaluation.details,
        )
        .join(Evaluation, current_evaluation())
        .where(
            visible_sessions(who),
            PracticeSession.learner_id == learner_id,
            PracticeSession.status == SessionStatus.COMPLETED.value,
            PracticeSession.started_at >= as_utc(since),
        )
        .order_by(PracticeSession.started_at.desc(), PracticeSession.id)
        .limit(SESSIONS)
    )
    if course_id is not None:
        stmt = stmt.where(PracticeSession.course_id == course_id)
    rows = (await db.execute(stmt)).all()
    words, sounds = rank(rows, now, limit=limit)
    return WeakSpots(len(rows), since, words, sounds)
