"""The hub's data lifecycle (issue 17): idempotency expiry, event retention, token
revocation/rotation/expiry, erasure of a buyer's personal data, the audit log, backups.

Modules: ``tables`` (hub_state, audit_log), ``sealing`` (the hub key; sealed buyer tokens),
``sweeps`` (batched deletes), ``runner`` (the periodic sweeps and revocation watch each
hub instance runs), ``tokens``, ``erasure``, ``audit``, ``backup``, ``api``, ``commands``.
docs/operations.md describes what is kept and for how long.
"""
