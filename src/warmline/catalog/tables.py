"""The catalog's tables (SQLAlchemy Core). Migrations 0002_catalog and 0005_catalog_perf create these.

Attributes keep their value twice: the text as the source wrote it, and a normalised
SI range (``value_lo``..``value_hi``) that filters and substitute queries compare with
an index; ``name_rows`` counts the product's rows for the same attribute (kept by ingest).
``catalog_search`` holds one row per searchable text (a product's own line, each document);
SQLite indexes it with an FTS5 external-content table (``catalog_fts``), PostgreSQL with a
stored ``tsvector`` column and a GIN index.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, String, Table, Text, text

from warmline.storage.schema import metadata  # the one schema Alembic compares (all tables)

# Rows a value walk must check in full: a range value, or one of 2+ rows for the same attribute.
IRREGULAR = "value_hi <> value_lo OR name_rows > 1"

products = Table(
    "catalog_products",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sku", String(100), nullable=False, unique=True),
    Column("sku_key", String(100), nullable=False, index=True),
    Column("name", String(300), nullable=False),
    Column("family", String(50), nullable=False),
    Column("manufacturer", String(200), nullable=False, default=""),
    Column("status", String(20), nullable=False, default="active"),
    Column("superseded_by", String(100), nullable=True),
    Column("origin", String(300), nullable=False, default=""),
    Index("ix_catalog_products_family_sku", "family", "sku"),  # a family in SKU order (0005)
)

documents = Table(
    "catalog_documents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "product_id",
        Integer,
        ForeignKey("catalog_products.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("kind", String(20), nullable=False),
    Column("title", String(300), nullable=False),
    Column("ref", String(500), nullable=False, default=""),
    Column("origin", String(300), nullable=False, default=""),
    Column("body", Text, nullable=False, default=""),
)

attributes = Table(
    "catalog_attributes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("product_id", Integer, ForeignKey("catalog_products.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(60), nullable=False),
    Column("value_text", String(500), nullable=False),
    Column("unit", String(20), nullable=False, default=""),
    Column("dimension", String(20), nullable=True),
    Column("value_lo", Float, nullable=True),
    Column("value_hi", Float, nullable=True),
    Column("text_key", String(200), nullable=True),
    Column(
        "document_id",
        Integer,
        ForeignKey("catalog_documents.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    Column("source_kind", String(20), nullable=False),
    Column("source_title", String(300), nullable=False),
    Column("origin", String(300), nullable=False, default=""),
    # How many rows this product has for this attribute (2+ when sources disagree); see 0005.
    Column("name_rows", Integer, nullable=False, default=1, server_default="1"),
    Index("ix_catalog_attributes_product", "product_id", "name"),
    Index("ix_catalog_attributes_name_lo", "name", "value_lo", "product_id", "value_hi"),
    Index("ix_catalog_attributes_name_hi", "name", "value_hi", "value_lo", "product_id"),
    Index("ix_catalog_attributes_name_text", "name", "text_key", "product_id"),
    Index(
        "ix_catalog_attributes_irregular",
        "name",
        "value_lo",
        "product_id",
        sqlite_where=text(IRREGULAR),
        postgresql_where=text(IRREGULAR),
    ),
)

relations = Table(
    "catalog_relations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "product_id",
        Integer,
        ForeignKey("catalog_products.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("kind", String(30), nullable=False),
    Column("target_sku", String(100), nullable=False, index=True),
    Column("note", String(500), nullable=False, default=""),
    Column("origin", String(300), nullable=False, default=""),
)

search = Table(
    "catalog_search",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "product_id",
        Integer,
        ForeignKey("catalog_products.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column(
        "document_id",
        Integer,
        ForeignKey("catalog_documents.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    Column("kind", String(20), nullable=False),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),
)

meta = Table(
    "catalog_meta",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)
