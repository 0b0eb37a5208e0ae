"""The resource library and the text-analysis cache: text_analyses, resources,
resource_ratings, resource_views.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "text_analyses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("level", sa.String(length=2), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_analyses")),
        sa.UniqueConstraint("key", name=op.f("uq_text_analyses_key")),
    )
    op.create_table(
        "resources",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.Column("level", sa.String(length=2), nullable=True),
        sa.Column("course_id", sa.Uuid(), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("analysis_id", sa.Uuid(), nullable=True),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("rating_sum", sa.Integer(), nullable=False),
        sa.Column("rating_count", sa.Integer(), nullable=False),
        sa.Column("last_used_s", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('vocabulary', 'phrase', 'grammar')", name=op.f("ck_resources_kind")
        ),
        sa.CheckConstraint(
            "level IS NULL OR level IN ('A1', 'A2', 'B1', 'B2', 'C1', 'C2')",
            name=op.f("ck_resources_level"),
        ),
        _fk("resources", "course_id", "courses", "CASCADE"),
        _fk("resources", "owner_id", "users", "CASCADE"),
        sa.ForeignKeyConstraint(
            ["analysis_id"],
            ["text_analyses.id"],
            name=op.f("fk_resources_analysis_id_text_analyses"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources")),
    )
    op.create_index("ix_resources_course_shared", "resources", ["course_id", "shared"])
    op.create_index("ix_resources_owner", "resources", ["owner_id"])
    op.create_table(
        "resource_ratings",
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("rater_id", sa.Uuid(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name=op.f("ck_resource_ratings_stars")),
        _fk("resource_ratings", "resource_id", "resources", "CASCADE"),
        _fk("resource_ratings", "rater_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("resource_id", "rater_id", name=op.f("pk_resource_ratings")),
    )
    op.create_table(
        "resource_views",
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        _fk("resource_views", "resource_id", "resources", "CASCADE"),
        _fk("resource_views", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("resource_id", "user_id", "day", name=op.f("pk_resource_views")),
    )


def downgrade() -> None:
    op.drop_table("resource_views")
    op.drop_table("resource_ratings")
    op.drop_index("ix_resources_owner", table_name="resources")
    op.drop_index("ix_resources_course_shared", table_name="resources")
    op.drop_table("resources")
    op.drop_table("text_analyses")
