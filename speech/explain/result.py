"""What a text analysis answers: from the LLM, or Parley's own dictionary-level help."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from speech.explain.schema import Explanation

Source = Literal["llm", "local"]


@dataclass(frozen=True, slots=True)
class Pronunciation:
    """A word's dictionary pronunciation (CMUdict): ARPAbet with stress digits, and IPA."""

    arpabet: str
    ipa: str


@dataclass(frozen=True, slots=True)
class TextAnalysis:
    """`explanation` is None when Parley could not explain the text (`note` says why, in a
    sentence for the learner); `model` names what answered: the LLM's model, or the local
    dictionary (`LOCAL_MODEL`); `reason` is why the answer is local (`speech.llm.result`)."""

    text: str
    level: str | None
    source: Source
    model: str
    reason: str | None
    explanation: Explanation | None
    pronunciation: Pronunciation | None
    note: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "level": self.level,
            "source": self.source,
            "model": self.model,
            "reason": self.reason,
            "explanation": None if self.explanation is None else self.explanation.model_dump(),
            "pronunciation": None
            if self.pronunciation is None
            else {"arpabet": self.pronunciation.arpabet, "ipa": self.pronunciation.ipa},
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TextAnalysis:
        said = data.get("pronunciation")
        explained = data.get("explanation")
        return cls(
            text=data["text"],
            level=data.get("level"),
            source=data["source"],
            model=data["model"],
            reason=data.get("reason"),
            explanation=None if explained is None else Explanation.model_validate(explained),
            pronunciation=None if said is None else Pronunciation(said["arpabet"], said["ipa"]),
            note=data.get("note"),
        )
