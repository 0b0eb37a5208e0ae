"""Response and request models of what a learner should practise next."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from rest.schemas.sessions import Attrs, ExerciseRefOut, PersonOut, UtcDatetime
from rest.schemas.users import Strict


class WeakSpotOut(Attrs):
    text: str = Field(description="The word (lower case) or the sound (ARPAbet, no stress).")
    ipa: str | None = Field(description="The sound in IPA; null for a word.")
    attempts: int = Field(description="Times it was to be said in the sessions read.")
    missed: int = Field(description="Of those, times it was missed.")
    rate: float = Field(description="missed / attempts.")
    last_missed_at: UtcDatetime
    trend: Literal["improving", "steady", "worsening"] | None = Field(
        description="Miss rate of the last 14 days against the time before; null when it "
        "was not practised in both."
    )
    error_types: dict[str, int] = Field(
        description="Words: how it was missed (mispronunciation, omission, ...), with counts."
    )
    examples: list[str] = Field(
        description="Words: the reference phrases it was missed in; sounds: the words."
    )
    course_ids: list[uuid.UUID] = Field(description="Courses it was missed in, most first.")


class ExerciseMatchOut(Attrs):
    exercise: ExerciseRefOut
    course_id: uuid.UUID
    words: list[str] = Field(description="The weak words the exercise holds, weakest first.")


class DrillPlanOut(Attrs):
    course_id: uuid.UUID
    words: list[str]
    text: str = Field(description="What the drill would read: the words, then their phrases.")


class RecommendationsOut(Attrs):
    learner: PersonOut
    since: UtcDatetime = Field(description="Sessions from this instant on were read.")
    sessions_read: int = Field(description="Scored sessions read (the latest 200 at most).")
    words: list[WeakSpotOut] = Field(description="Words missed at least twice, weakest first.")
    sounds: list[WeakSpotOut] = Field(
        description="Sounds missed at least twice, weakest first (from phone-level results)."
    )
    exercises: list[ExerciseMatchOut] = Field(
        description="Open read-aloud exercises holding the most weak words."
    )
    drill: DrillPlanOut | None = Field(
        description="The drill POST /v1/recommendations/drills would make; null: nothing to drill."
    )


class RecommendationsQuery(Strict):
    course_id: uuid.UUID | None = Field(None, description="Only practice in this course.")


class DrillIn(Strict):
    course_id: uuid.UUID = Field(description="A course the learner is enrolled in.")
