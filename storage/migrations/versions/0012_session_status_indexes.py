"""Indexes for history filtered by status: a course's sessions by status (tutors), and all
sessions by status (admins), each newest first.

Without them a tutor's `?status=failed` read every session of their courses to find the few
failed ones, and an admin's `?status=active` scanned the whole table.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 18:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_practice_sessions_course_status_started",
        "practice_sessions",
        ["course_id", "status", "started_at", "id"],
    )
    op.create_index(
        "ix_practice_sessions_status_started", "practice_sessions", ["status", "started_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_practice_sessions_status_started", table_name="practice_sessions")
    op.drop_index("ix_practice_sessions_course_status_started", table_name="practice_sessions")
