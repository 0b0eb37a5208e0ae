"""Model audio settings of an exercise: exercises.tts_voice and exercises.tts_rate.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, without constraints: SQLite adds such columns in place, no table copy.
    op.add_column("exercises", sa.Column("tts_voice", sa.String(length=40), nullable=True))
    op.add_column("exercises", sa.Column("tts_rate", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exercises") as batch:
        batch.drop_column("tts_rate")
        batch.drop_column("tts_voice")
