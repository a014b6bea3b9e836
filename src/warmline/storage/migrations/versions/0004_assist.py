"""Background assistant jobs on handoffs, and the internal notes that record their results.

Revision ID: 0004_assist
Revises: 0003_ai_assistant
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warmline.storage.schema import UTCDateTime

revision = "0004_assist"
down_revision = "0003_ai_assistant"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assist_jobs",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("handoff_id", sa.String(40), nullable=False),
        sa.Column("conversation_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("requested_by", sa.String(40), nullable=False),
        sa.Column("requested_by_name", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(200), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("note_message_id", sa.String(40), nullable=True),
        sa.ForeignKeyConstraint(
            ["handoff_id"], ["handoffs.id"], name="fk_assist_jobs_handoff_id_handoffs", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_assist_jobs_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_assist_jobs"),
    )
    op.create_index("ix_assist_jobs_handoff", "assist_jobs", ["handoff_id", "created_at"])
    op.create_index("ix_assist_jobs_status", "assist_jobs", ["status"])
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("assist_job_id", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("assist_job_id")
    op.drop_index("ix_assist_jobs_status", table_name="assist_jobs")
    op.drop_index("ix_assist_jobs_handoff", table_name="assist_jobs")
    op.drop_table("assist_jobs")
