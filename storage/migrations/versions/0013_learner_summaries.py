"""Learner summaries: each learner's running totals per course, kept by triggers, and
users by name.

A tutor's page of learners showed each learner's session count, last activity and average
scores by aggregating every session of the page's learners in the tutor's courses, with
an evaluation look-up per session: about 2,000 rows per page on a school's history, the
slowest history read. The totals are one row per learner and course, so a page reads a
few dozen rows.

Triggers, not application code, keep them: every change to a session or a current
evaluation (the live path, rescoring, an account's deletion, a bulk import) updates them in
the same transaction, and nothing can write around them. Each change recounts its
learner's sessions in that course (tens of rows, by index) rather than adding a difference,
so the totals cannot drift. On PostgreSQL the row is locked before the recount, and the
recount is a new statement, so it sees whatever a concurrent writer of the same row
committed; SQLite has one writer at a time.

The page itself is learners by (display_name, id): an index in that order lets an admin's
page be read in order instead of sorting every user.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTS = ("accuracy", "fluency", "completeness", "overall")
COLUMNS = ", ".join(
    ["learner_id", "course_id", "sessions", "last_started_at"]
    + [f"{p}_{what}" for p in PARTS for what in ("sum", "n")]
)
ZEROS = "0, NULL, " + ", ".join("0, 0" for _ in PARTS)
# Everything after the key, from a learner's sessions `s` in a course and their current
# evaluations `e`.
FIGURES = "count(s.id), max(s.started_at), " + ", ".join(
    f"coalesce(sum(e.{p}), 0), count(e.{p})" for p in PARTS
)
SOURCE = "FROM practice_sessions s LEFT JOIN evaluations e ON e.session_id = s.id AND e.is_current"
RECOUNT = (
    f"UPDATE learner_course_totals SET ({COLUMNS.split(', ', 2)[2]}) = "
    f"(SELECT {FIGURES} {SOURCE} "
    "WHERE s.learner_id = learner_course_totals.learner_id "
    "AND s.course_id = learner_course_totals.course_id)"
)
SESSION_COLUMNS = "learner_id, course_id, started_at"
EVALUATION_COLUMNS = "session_id, is_current, " + ", ".join(PARTS)


def upgrade() -> None:
    op.create_table(
        "learner_course_totals",
        sa.Column("learner_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("last_started_at", sa.DateTime(timezone=True), nullable=True),
        *[
            column
            for p in PARTS
            for column in (
                sa.Column(f"{p}_sum", sa.Float(), nullable=False),
                sa.Column(f"{p}_n", sa.Integer(), nullable=False),
            )
        ],
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_learner_course_totals_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["users.id"],
            name=op.f("fk_learner_course_totals_learner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("learner_id", "course_id", name=op.f("pk_learner_course_totals")),
    )
    op.create_index("ix_users_display_name", "users", ["display_name", "id"])
    op.execute(
        f"INSERT INTO learner_course_totals ({COLUMNS}) "
        f"SELECT s.learner_id, s.course_id, {FIGURES} {SOURCE} "
        "GROUP BY s.learner_id, s.course_id"
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def _postgresql_triggers() -> None:
    op.execute(f"""
        CREATE FUNCTION learner_course_totals_recount(l uuid, c uuid, may_add boolean)
        RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            IF may_add THEN
                INSERT INTO learner_course_totals ({COLUMNS}) VALUES (l, c, {ZEROS})
                ON CONFLICT DO NOTHING;
            END IF;
            -- Wait for a concurrent writer of this row; the recount below is a new
            -- statement, so it counts what that writer committed.
            PERFORM 1 FROM learner_course_totals
            WHERE learner_id = l AND course_id = c FOR UPDATE;
            IF NOT FOUND THEN
                RETURN;  -- the learner or course is being deleted
            END IF;
            {RECOUNT} WHERE learner_id = l AND course_id = c;
        END $$""")
    op.execute("""
        CREATE FUNCTION practice_sessions_totals() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                PERFORM learner_course_totals_recount(OLD.learner_id, OLD.course_id, false);
            END IF;
            IF TG_OP <> 'DELETE' THEN
                PERFORM learner_course_totals_recount(NEW.learner_id, NEW.course_id, true);
            END IF;
            RETURN NULL;
        END $$""")
    op.execute(f"""
        CREATE TRIGGER practice_sessions_totals
        AFTER INSERT OR DELETE OR UPDATE OF {SESSION_COLUMNS} ON practice_sessions
        FOR EACH ROW EXECUTE FUNCTION practice_sessions_totals()""")
    op.execute("""
        CREATE FUNCTION learner_course_totals_recount_session(s uuid, may_add boolean)
        RETURNS void LANGUAGE plpgsql AS $$
        DECLARE
            l uuid;
            c uuid;
        BEGIN
            SELECT learner_id, course_id INTO l, c FROM practice_sessions WHERE id = s;
            -- A session's evaluations deleted with it find no session: its own trigger
            -- recounts.
            IF FOUND THEN
                PERFORM learner_course_totals_recount(l, c, may_add);
            END IF;
        END $$""")
    op.execute("""
        CREATE FUNCTION evaluations_totals() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                PERFORM learner_course_totals_recount_session(OLD.session_id, false);
            END IF;
            IF TG_OP = 'INSERT' OR NEW.session_id <> OLD.session_id THEN
                PERFORM learner_course_totals_recount_session(NEW.session_id, true);
            END IF;
            RETURN NULL;
        END $$""")
    # An evaluation added as not current (a rescoring job that only compares) changes
    # nothing the totals count.
    op.execute("""
        CREATE TRIGGER evaluations_totals_insert AFTER INSERT ON evaluations
        FOR EACH ROW WHEN (NEW.is_current) EXECUTE FUNCTION evaluations_totals()""")
    op.execute(f"""
        CREATE TRIGGER evaluations_totals_change
        AFTER DELETE OR UPDATE OF {EVALUATION_COLUMNS} ON evaluations
        FOR EACH ROW EXECUTE FUNCTION evaluations_totals()""")


def _sqlite_recount(learner: str, course: str, *, may_add: bool) -> str:
    key = f"learner_id = {learner} AND course_id = {course}"
    add = (
        f"INSERT OR IGNORE INTO learner_course_totals ({COLUMNS}) "
        f"SELECT {learner}, {course}, {ZEROS} WHERE {learner} IS NOT NULL;"
        if may_add
        else ""
    )
    return f"{add} {RECOUNT} WHERE {key};"


def _sqlite_triggers() -> None:
    def session_of(row: str, column: str) -> str:
        return f"(SELECT {column} FROM practice_sessions WHERE id = {row}.session_id)"

    def evaluation(row: str, *, may_add: bool) -> str:
        learner, course = session_of(row, "learner_id"), session_of(row, "course_id")
        return _sqlite_recount(learner, course, may_add=may_add)

    triggers = {
        "practice_sessions_totals_insert": (
            "AFTER INSERT ON practice_sessions FOR EACH ROW",
            _sqlite_recount("NEW.learner_id", "NEW.course_id", may_add=True),
        ),
        "practice_sessions_totals_delete": (
            "AFTER DELETE ON practice_sessions FOR EACH ROW",
            _sqlite_recount("OLD.learner_id", "OLD.course_id", may_add=False),
        ),
        "practice_sessions_totals_update": (
            f"AFTER UPDATE OF {SESSION_COLUMNS} ON practice_sessions FOR EACH ROW",
            _sqlite_recount("OLD.learner_id", "OLD.course_id", may_add=False)
            + _sqlite_recount("NEW.learner_id", "NEW.course_id", may_add=True),
        ),
        "evaluations_totals_insert": (
            "AFTER INSERT ON evaluations FOR EACH ROW WHEN NEW.is_current",
            evaluation("NEW", may_add=True),
        ),
        "evaluations_totals_delete": (
            "AFTER DELETE ON evaluations FOR EACH ROW",
            evaluation("OLD", may_add=False),
        ),
        "evaluations_totals_update": (
            f"AFTER UPDATE OF {EVALUATION_COLUMNS} ON evaluations FOR EACH ROW",
            evaluation("OLD", may_add=False) + evaluation("NEW", may_add=True),
        ),
    }
    for name, (when, body) in triggers.items():
        op.execute(f"CREATE TRIGGER {name} {when} BEGIN {body} END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER evaluations_totals_change ON evaluations")
        op.execute("DROP TRIGGER evaluations_totals_insert ON evaluations")
        op.execute("DROP TRIGGER practice_sessions_totals ON practice_sessions")
        op.execute("DROP FUNCTION evaluations_totals()")
        op.execute("DROP FUNCTION practice_sessions_totals()")
        op.execute("DROP FUNCTION learner_course_totals_recount_session(uuid, boolean)")
        op.execute("DROP FUNCTION learner_course_totals_recount(uuid, uuid, boolean)")
    else:
        for table, events in (
            ("practice_sessions", ("insert", "delete", "update")),
            ("evaluations", ("insert", "delete", "update")),
        ):
            for event in events:
                op.execute(f"DROP TRIGGER {table}_totals_{event}")
    op.drop_table("learner_course_totals")
    op.drop_index("ix_users_display_name", table_name="users")
