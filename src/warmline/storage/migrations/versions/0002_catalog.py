"""The product catalog: products, documents, attributes, relations, search index, meta.

Revision ID: 0002_catalog
Revises: 0001_initial
Create Date: 2025-01-02

SQLite gets an FTS5 external-content table over catalog_search kept in step by
triggers; PostgreSQL a stored tsvector column with a GIN index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_catalog"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_products",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("sku", sa.String(100), nullable=False),
        sa.Column("sku_key", sa.String(100), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("family", sa.String(50), nullable=False),
        sa.Column("manufacturer", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("superseded_by", sa.String(100), nullable=True),
        sa.Column("origin", sa.String(300), nullable=False),
        sa.UniqueConstraint("sku", name="uq_catalog_products_sku"),
    )
    op.create_index("ix_catalog_products_sku_key", "catalog_products", ["sku_key"])
    op.create_index("ix_catalog_products_family", "catalog_products", ["family"])
    op.create_table(
        "catalog_documents",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "product_id",
            sa.Integer(),
            sa.ForeignKey("catalog_products.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("ref", sa.String(500), nullable=False),
        sa.Column("origin", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
    )
    op.create_index("ix_catalog_documents_product_id", "catalog_documents", ["product_id"])
    op.create_table(
        "catalog_attributes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "product_id",
            sa.Integer(),
            sa.ForeignKey("catalog_products.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("value_text", sa.String(500), nullable=False),
        sa.Column("unit", sa.String(20), nullable=False),
        sa.Column("dimension", sa.String(20), nullable=True),
        sa.Column("value_lo", sa.Float(), nullable=True),
        sa.Column("value_hi", sa.Float(), nullable=True),
        sa.Column("text_key", sa.String(200), nullable=True),
        sa.Column(
            "document_id",
            sa.Integer(),
            sa.ForeignKey("catalog_documents.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("source_kind", sa.String(20), nullable=False),
        sa.Column("source_title", sa.String(300), nullable=False),
        sa.Column("origin", sa.String(300), nullable=False),
    )
    op.create_index("ix_catalog_attributes_product", "catalog_attributes", ["product_id", "name"])
    op.create_index("ix_catalog_attributes_lo", "catalog_attributes", ["name", "value_lo"])
    op.create_index("ix_catalog_attributes_hi", "catalog_attributes", ["name", "value_hi"])
    op.create_index("ix_catalog_attributes_text", "catalog_attributes", ["name", "text_key"])
    op.create_index("ix_catalog_attributes_document_id", "catalog_attributes", ["document_id"])
    op.create_table(
        "catalog_relations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "product_id",
            sa.Integer(),
            sa.ForeignKey("catalog_products.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("target_sku", sa.String(100), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("origin", sa.String(300), nullable=False),
    )
    op.create_index("ix_catalog_relations_product_id", "catalog_relations", ["product_id"])
    op.create_index("ix_catalog_relations_target_sku", "catalog_relations", ["target_sku"])
    op.create_table(
        "catalog_search",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "product_id",
            sa.Integer(),
            sa.ForeignKey("catalog_products.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "document_id",
            sa.Integer(),
            sa.ForeignKey("catalog_documents.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
    )
    op.create_index("ix_catalog_search_product_id", "catalog_search", ["product_id"])
    op.create_index("ix_catalog_search_document_id", "catalog_search", ["document_id"])
    op.create_table(
        "catalog_meta",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )

    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE catalog_fts USING fts5("
            "title, body, content='catalog_search', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute(
            "CREATE TRIGGER catalog_search_ai AFTER INSERT ON catalog_search BEGIN "
            "INSERT INTO catalog_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END"
        )
        op.execute(
            "CREATE TRIGGER catalog_search_ad AFTER DELETE ON catalog_search BEGIN "
            "INSERT INTO catalog_fts(catalog_fts, rowid, title, body) "
            "VALUES ('delete', old.id, old.title, old.body); END"
        )
        op.execute(
            "CREATE TRIGGER catalog_search_au AFTER UPDATE ON catalog_search BEGIN "
            "INSERT INTO catalog_fts(catalog_fts, rowid, title, body) "
            "VALUES ('delete', old.id, old.title, old.body); "
            "INSERT INTO catalog_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END"
        )
    else:
        op.execute(
            "ALTER TABLE catalog_search ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
            "setweight(to_tsvector('english', coalesce(body, '')), 'B')) STORED"
        )
        op.execute("CREATE INDEX ix_catalog_search_tsv ON catalog_search USING gin (tsv)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("catalog_search_ai", "catalog_search_ad", "catalog_search_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS catalog_fts")
    for table in (
        "catalog_meta",
        "catalog_search",
        "catalog_relations",
        "catalog_attributes",
        "catalog_documents",
        "catalog_products",
    ):
        op.drop_table(table)
