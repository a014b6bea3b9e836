"""The storage layer shared by the hub and the catalog: database URLs, engine creation, the
one schema (``schema.metadata``, every table of the application) and its Alembic migrations.

Below the hub and the catalog: this package imports neither (nor the console or the
escalation engine); they import it.
"""
