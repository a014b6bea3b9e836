"""PostgreSQL's one-round-trip commit: the SQL text of the script a write sends as one
simple-query message (deferred INSERTs as literals, the event-order lock, the events,
NOTIFY, COMMIT) and the asyncpg driver details that let the script end the transaction.

The seam: ``Database._run_script`` (warmline.hub.store.db) is the only caller; it sends
this script only while fast paths are on (``Database(fast_paths=True)``, the default;
``HubSettings.fast_paths``: ``WARMLINE_FAST_PATHS=0`` or ``warmline hub --no-fast-paths``
turn it off). Off, a write runs its statements one by one through SQLAlchemy, takes the
lock and NOTIFYs with statements of their own, and ends with the session's COMMIT
(``Database._append_events_plain``); tests/hub/test_fast_path.py compares the two.
Why: the event-order lock is held for the server's work only, and a message POST costs
one round trip instead of five to seven (docs/benchmarks.md, "Scale-out" and the
PostgreSQL message figures of benchmarks/load.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from warmline.hub.store.bus import NOTIFY_CHANNEL

# Any constant will do; it only has to be the same in every hub process sharing the database.
EVENT_LOCK_KEY = 0x57A7_11E5


class ScriptEvent(Protocol):
    """What the script needs of an event (``PendingEvent``)."""

    type: Any
    created_at: datetime
    conversation_id: str | None
    handoff_id: str | None
    data: dict[str, Any]


def literal(value: str | datetime | None) -> str:
    """A SQL literal, dollar-quoted (immune to quotes and backslashes in the value)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict | list):
        value = json.dumps(value, separators=(",", ":"))
    text_ = value.isoformat() if isinstance(value, datetime) else value
    tag = "wl"
    while f"${tag}" in text_:
        tag += "x"
    return f"${tag}${text_}${tag}$"


def literal_safe(value: Any) -> bool:
    """Whether ``_literal`` can carry ``value`` in a simple-query script (a NUL cannot)."""
    if value is None or isinstance(value, bool | int):
        return True
    if isinstance(value, datetime):
        return value.tzinfo is not None  # a naive one would be read in the server's time zone
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, dict | list):
        return "\x00" not in json.dumps(value)  # (json escapes it; kept simple and safe)
    return False


def insert_script(table: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    """``INSERT INTO table (columns) VALUES ...;`` with the rows as literals."""
    values = ",".join("(" + ",".join(literal(row[c]) for c in columns) + ")" for row in rows)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values};"


# Sent after a single event's INSERT (and after the COMMIT that ends the lock): its id, as an
# INFO message (delivered to the client whatever client_min_messages says, and not written
# to the server log by default). With several events the feed reads them from the log.
EVENT_ID_REPORT = (
    "DO $wl$BEGIN RAISE INFO 'warmline_last_event_id=%', "
    "currval(pg_get_serial_sequence('events', 'id')); END$wl$;"
)
EVENT_ID_PREFIX = "warmline_last_event_id="


def append_events_script(events: Sequence[ScriptEvent], *, commit: bool, end: bool = False) -> str:
    """PostgreSQL: lock, insert the events in order, notify (and commit), as one script.

    Sent as one message (simple query protocol), so the server takes the event-order
    lock, inserts, notifies and commits without waiting for the hub in between: the lock
    is held for the server's own work only (docs/benchmarks.md, "Scale-out"). With
    ``commit`` and a single event, its id is reported after the COMMIT (``EVENT_ID_REPORT``);
    with ``end`` too, no transaction is opened after the COMMIT (the caller tells its
    driver the transaction is over, sparing the session's own COMMIT a round trip)."""
    values = ",".join(
        "({},{},{},{},{})".format(
            literal(str(ev.type)),
            literal(ev.created_at),
            literal(ev.conversation_id),
            literal(ev.handoff_id),
            literal(json.dumps(ev.data, separators=(",", ":"))),
        )
        for ev in events
    )
    # COMMIT releases the lock; unless ``end``, the empty transaction opened right after is
    # what the session's own COMMIT then ends (a bare second COMMIT would log a server
    # WARNING "there is no transaction in progress" for every write)
    ending = ""
    if commit:
        ending = ("COMMIT;" if end else "COMMIT;BEGIN;") + (EVENT_ID_REPORT if len(events) == 1 else "")
    return (
        f"SELECT pg_advisory_xact_lock({EVENT_LOCK_KEY});"
        f"INSERT INTO events (type, created_at, conversation_id, handoff_id, data) VALUES {values};"
        f"SELECT pg_notify('{NOTIFY_CHANNEL}', '');" + ending
    )


# A message position taken from the cache is checked in the commit script itself: the bump
# only happens if nobody moved last_seq meanwhile, and when it did not happen (no row),
# 1/0 aborts the script -- the whole transaction -- with division_by_zero (the caller raises StaleSeq).
SEQ_GUARD = (
    "WITH bumped AS (UPDATE conversations SET last_seq = {new} WHERE id = {id} AND last_seq = {old} "
    "RETURNING 1) SELECT 1 / count(*) FROM bumped;"
)


def endable_transaction(adapter: Any, driver: Any) -> Any:
    """The asyncpg transaction SQLAlchemy's adapter opened, if this script may end it itself.

    With it, the commit script ends in COMMIT and ``mark_ended`` tells asyncpg and the
    adapter the transaction is over, so the session's own COMMIT is a no-op instead of a
    round trip ending an empty transaction. None (the script then ends with COMMIT;BEGIN;
    as before) when these private attributes are not what this code knows."""
    from asyncpg.transaction import TransactionState

    xact = getattr(adapter, "_transaction", None)
    if xact is None or getattr(driver, "_top_xact", None) is not xact:
        return None
    if getattr(xact, "_state", None) is not TransactionState.STARTED or getattr(xact, "_nested", True):
        return None
    return xact


def mark_ended(adapter: Any, driver: Any, xact: Any) -> None:
    """The script committed: as asyncpg's own ``Transaction.commit()`` leaves things."""
    from asyncpg.transaction import TransactionState

    driver._top_xact = None
    xact._state = TransactionState.COMMITTED
    adapter._transaction = None
