"""Exercise scheduling: exercises.available_from and exercises.due_at.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SCHEDULE = "due_at IS NULL OR available_from IS NULL OR due_at > available_from"


def upgrade() -> None:
    # On SQLite the CHECK constraint makes batch mode copy the table; the migration's
    # connection does not enable foreign keys, so dropping the old copy cascades nowhere.
    with op.batch_alter_table("exercises") as batch:
        batch.add_column(sa.Column("available_from", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_check_constraint("schedule", _SCHEDULE)


def downgrade() -> None:
    with op.batch_alter_table("exercises") as batch:
        batch.drop_constraint(op.f("ck_exercises_schedule"), type_="check")
        batch.drop_column("due_at")
        batch.drop_column("available_from")
