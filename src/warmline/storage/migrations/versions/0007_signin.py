"""Desktop sign-in codes: one-time codes a specialist trades for a token (warmline.hub.signin).

Revision ID: 0007_signin
Revises: 0005_catalog_perf
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warmline.storage.schema import UTCDateTime

revision = "0007_signin"
down_revision = "0005_catalog_perf"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signin_codes",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(40), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name="fk_signin_codes_agent_id_agents", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_signin_codes"),
        sa.UniqueConstraint("code_hash", name="uq_signin_codes_code_hash"),
    )
    op.create_index("ix_signin_codes_agent_id", "signin_codes", ["agent_id"])


def downgrade() -> None:
    op.drop_index("ix_signin_codes_agent_id", table_name="signin_codes")
    op.drop_table("signin_codes")
