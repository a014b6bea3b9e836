"""Catalog lookups: covering attribute indexes, and the rows a value walk cannot skip.

Revision ID: 0005_catalog_perf
Revises: 0004_assist

``catalog_attributes.name_rows`` counts the rows the same product has for the same
attribute (usually 1; 2+ when documents disagree). A product with one row for an
attribute meets a filter on it exactly when that row does, so substitute walks can
jump over value ranges no such row can meet; the rows that need the full check (a range
value, or 2+ rows) are in the partial index ``ix_catalog_attributes_irregular``.
The (name, value) indexes now also carry the other bound and the product id, so range
scans and counts read the index only, and a walk in (value, product id) order needs no
sort; products get (family, sku) for "this family in SKU order". On SQLite the catalog
tables are ANALYZEd (sampled), so the planner knows the irregular index is small.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_catalog_perf"
down_revision = "0004_assist"
branch_labels = None
depends_on = None

IRREGULAR = "value_hi <> value_lo OR name_rows > 1"


def upgrade() -> None:
    with op.batch_alter_table("catalog_attributes") as batch:
        batch.add_column(sa.Column("name_rows", sa.Integer(), nullable=False, server_default="1"))
    op.execute(
        "UPDATE catalog_attributes SET name_rows = g.n FROM ("
        "SELECT product_id, name, count(*) AS n FROM catalog_attributes "
        "GROUP BY product_id, name HAVING count(*) > 1) AS g "
        "WHERE g.product_id = catalog_attributes.product_id AND g.name = catalog_attributes.name"
    )
    op.drop_index("ix_catalog_products_family", table_name="catalog_products")
    op.create_index("ix_catalog_products_family_sku", "catalog_products", ["family", "sku"])
    op.drop_index("ix_catalog_attributes_lo", table_name="catalog_attributes")
    op.drop_index("ix_catalog_attributes_hi", table_name="catalog_attributes")
    op.drop_index("ix_catalog_attributes_text", table_name="catalog_attributes")
    op.create_index(
        "ix_catalog_attributes_name_lo", "catalog_attributes", ["name", "value_lo", "product_id", "value_hi"]
    )
    op.create_index(
        "ix_catalog_attributes_name_hi", "catalog_attributes", ["name", "value_hi", "value_lo", "product_id"]
    )
    op.create_index(
        "ix_catalog_attributes_name_text", "catalog_attributes", ["name", "text_key", "product_id"]
    )
    op.create_index(
        "ix_catalog_attributes_irregular",
        "catalog_attributes",
        ["name", "value_lo", "product_id"],
        sqlite_where=sa.text(IRREGULAR),
        postgresql_where=sa.text(IRREGULAR),
    )
    for table in ("catalog_products", "catalog_attributes", "catalog_search"):
        op.execute(f"ANALYZE {table}")  # as catalog ingest does after every run


def downgrade() -> None:
    op.drop_index("ix_catalog_attributes_irregular", table_name="catalog_attributes")
    op.drop_index("ix_catalog_attributes_name_text", table_name="catalog_attributes")
    op.drop_index("ix_catalog_attributes_name_hi", table_name="catalog_attributes")
    op.drop_index("ix_catalog_attributes_name_lo", table_name="catalog_attributes")
    op.create_index("ix_catalog_attributes_lo", "catalog_attributes", ["name", "value_lo"])
    op.create_index("ix_catalog_attributes_hi", "catalog_attributes", ["name", "value_hi"])
    op.create_index("ix_catalog_attributes_text", "catalog_attributes", ["name", "text_key"])
    op.drop_index("ix_catalog_products_family_sku", table_name="catalog_products")
    op.create_index("ix_catalog_products_family", "catalog_products", ["family"])
    with op.batch_alter_table("catalog_attributes") as batch:
        batch.drop_column("name_rows")
