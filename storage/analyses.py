"""The text-analysis cache: one stored answer per (normalised text, level, model).

Two nodes that analyse the same new text at once both ask the LLM; the second insert is
dropped (ON CONFLICT DO NOTHING) and both return the row that won, so a learner never sees
an error for a race that is not theirs."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.inserts import insert_if_new
from storage.library_models import TextAnalysisRow


def cache_key(text: str, level: str | None, model: str) -> str:
    """The key of an answer. Case is kept ("Turkey" is not "turkey"), runs of spaces
    are not."""
    normalised = " ".join(text.split())
    return hashlib.sha256(f"{normalised}\x00{level or ''}\x00{model}".encode()).hexdigest()


async def cached(db: AsyncSession, key: str) -> TextAnalysisRow | None:
    found: TextAnalysisRow | None = await db.scalar(
        select(TextAnalysisRow).where(TextAnalysisRow.key == key)
    )
    return found


async def keep(
    db: AsyncSession, key: str, text: str, level: str | None, model: str, answer: dict[str, Any]
) -> TextAnalysisRow:
    values = {
        "id": uuid.uuid4(),
        "key": key,
        "text": text,
        "level": level,
        "model": model,
        "answer": answer,
    }
    await insert_if_new(db, TextAnalysisRow, values)
    row = await cached(db, key)
    assert row is not None  # inserted, or inserted first by a concurrent request
    return row


async def get(db: AsyncSession, analysis_id: uuid.UUID) -> TextAnalysisRow | None:
    return await db.get(TextAnalysisRow, analysis_id)
