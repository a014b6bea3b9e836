"""Team work (issue 12): per-agent capacity, the reply timeout's first-reply and requeue
columns with the indexes the claim's capacity check and the timeout sweep use, and
workspace-wide saved replies.

Revision ID: 0010_team
Revises: 0005_catalog_perf
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warmline.storage.schema import UTCDateTime

revision = "0010_team"
down_revision = "0005_catalog_perf"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("agents", sa.Column("max_active", sa.Integer(), nullable=True))
    op.add_column("handoffs", sa.Column("first_reply_at", UTCDateTime(), nullable=True))
    op.add_column("handoffs", sa.Column("requeued_at", UTCDateTime(), nullable=True))
    op.add_column("handoffs", sa.Column("requeued_from", sa.String(40), nullable=True))
    op.add_column("handoffs", sa.Column("reply_warned_at", UTCDateTime(), nullable=True))
    op.create_index("ix_handoffs_holder", "handoffs", ["claimed_by", "status"])
    op.create_index("ix_handoffs_reply_due", "handoffs", ["status", "first_reply_at", "claimed_at"])
    op.create_table(
        "saved_replies",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("shortcut", sa.String(60), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_saved_replies"),
        sa.UniqueConstraint("shortcut", name="uq_saved_replies_shortcut"),
    )


def downgrade() -> None:
    op.drop_table("saved_replies")
    op.drop_index("ix_handoffs_reply_due", table_name="handoffs")
    op.drop_index("ix_handoffs_holder", table_name="handoffs")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("reply_warned_at")
        batch.drop_column("requeued_from")
        batch.drop_column("requeued_at")
        batch.drop_column("first_reply_at")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("max_active")
