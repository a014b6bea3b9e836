"""The web widget: widget keys with their allowed origins, the conversations pages opened,
and what the hub's product AI based each turn on (SKU chips and source links in the page).

Revision ID: 0006_widget
Revises: 0005_catalog_perf
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warmline.storage.schema import UTCDateTime

revision = "0006_widget"
down_revision = "0005_catalog_perf"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "widget_keys",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("origins", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_widget_keys"),
    )
    op.create_table(
        "widget_conversations",
        sa.Column("conversation_id", sa.String(40), nullable=False),
        sa.Column("widget_key", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_widget_conversations_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_widget_conversations"),
    )
    op.create_index("ix_widget_conversations_widget_key", "widget_conversations", ["widget_key"])
    op.create_table(
        "message_refs",
        sa.Column("message_id", sa.String(40), nullable=False),
        sa.Column("conversation_id", sa.String(40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_message_refs_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", name="pk_message_refs"),
    )
    op.create_index("ix_message_refs_conversation_id", "message_refs", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_message_refs_conversation_id", table_name="message_refs")
    op.drop_table("message_refs")
    op.drop_index("ix_widget_conversations_widget_key", table_name="widget_conversations")
    op.drop_table("widget_conversations")
    op.drop_table("widget_keys")
