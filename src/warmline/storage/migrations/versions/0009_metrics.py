"""Handoff metrics (issue 13): handoff_facts (one row per handoff, kept by the hub as the
handoff changes) and handoff_repeats (buyer messages that restated the packet).

Handoffs opened before this revision have no facts row and are not measured.

Revision ID: 0009_metrics
Revises: 0005_catalog_perf
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warmline.storage.schema import UTCDateTime

revision = "0009_metrics"
down_revision = "0005_catalog_perf"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handoff_facts",
        sa.Column("handoff_id", sa.String(40), nullable=False),
        sa.Column("conversation_id", sa.String(40), nullable=False),
        sa.Column("escalated_at", UTCDateTime(), nullable=False),
        sa.Column("escalated_day", sa.String(10), nullable=False),
        sa.Column("escalated_seq", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("skill", sa.String(40), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("high_intent", sa.Boolean(), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("agent_id", sa.String(40), nullable=True),
        sa.Column("first_reply_at", UTCDateTime(), nullable=True),
        sa.Column("first_reply_seconds", sa.Integer(), nullable=True),
        sa.Column("ai_assisted", sa.Boolean(), nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolution_seconds", sa.Integer(), nullable=True),
        sa.Column("requeues", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("transfers", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("unnecessary", sa.Boolean(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=True),
        sa.Column("late_turn", sa.Integer(), nullable=True),
        sa.Column("buyer_repeated", sa.Boolean(), nullable=True),
        sa.Column("repeat_detected", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("reviewed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=True),
        sa.Column("rated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("handoff_id", name="pk_handoff_facts"),
    )
    op.create_index("ix_handoff_facts_escalated_at", "handoff_facts", ["escalated_at"])
    op.create_index("ix_handoff_facts_conversation_id", "handoff_facts", ["conversation_id"])
    op.create_table(
        "handoff_repeats",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("handoff_id", sa.String(40), nullable=False),
        sa.Column("message_seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("packet_item", sa.String(300), nullable=False),
        sa.Column("found", sa.String(300), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_repeats"),
    )
    op.create_index("ix_handoff_repeats_handoff", "handoff_repeats", ["handoff_id", "message_seq"])


def downgrade() -> None:
    op.drop_index("ix_handoff_repeats_handoff", table_name="handoff_repeats")
    op.drop_table("handoff_repeats")
    op.drop_index("ix_handoff_facts_conversation_id", table_name="handoff_facts")
    op.drop_index("ix_handoff_facts_escalated_at", table_name="handoff_facts")
    op.drop_table("handoff_facts")
