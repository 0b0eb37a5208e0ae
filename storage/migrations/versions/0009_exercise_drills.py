"""Drills made for one learner: exercises.for_learner_id.

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-05 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch: SQLite cannot add a foreign key to an existing table in place.
    with op.batch_alter_table("exercises") as batch:
        batch.add_column(sa.Column("for_learner_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            "fk_exercises_for_learner_id_users",
            "users",
            ["for_learner_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index("ix_exercises_for_learner_id", ["for_learner_id"])


def downgrade() -> None:
    with op.batch_alter_table("exercises") as batch:
        batch.drop_index("ix_exercises_for_learner_id")
        batch.drop_constraint("fk_exercises_for_learner_id_users", type_="foreignkey")
        batch.drop_column("for_learner_id")
