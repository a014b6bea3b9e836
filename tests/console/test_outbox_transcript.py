"""Pending replies in the transcript model: after the stored messages, in outbox order, and
replaced by the real message without ever showing it twice (by key from the POST answer,
or by my message with the same text arriving first on the event stream)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from warmline.console.client.outbox import EntryState, OutboxEntry
from warmline.console.models.transcript_model import MessageRole, PendingRole, TranscriptModel
from warmline.domain.models import AuthorKind

from . import factories as f

pytestmark = pytest.mark.usefixtures("qapp")


def entry(key: str, order: int, body: str | None = None, conv: str = "c1", **kw) -> OutboxEntry:
    return OutboxEntry(
        key=key,
        conversation_id=conv,
        handoff_id="h1",
        agent_id="ag-anna",
        body=body or f"reply {key}",
        created_at=datetime.now(UTC),
        order=order,
        **kw,
    )


def mine(seq: int, body: str, **kw):
    return f.message("c1", seq, body, kind=AuthorKind.AGENT, agent_id="ag-anna", **kw)


def rows(model: TranscriptModel) -> list[str]:
    out = []
    for r in range(model.rowCount()):
        idx = model.index(r, 0)
        p = idx.data(PendingRole)
        out.append(f"{p.state.value}:{p.body}" if p else idx.data(MessageRole).body)
    return out


def test_pending_rows_follow_messages_in_order_and_new_messages_go_before_them():
    model = TranscriptModel()
    model.set_conversation("c1", [f.message("c1", 1, "hi")])
    model.set_pending([entry("k2", 2), entry("k1", 1), entry("x", 3, conv="c2")])
    assert rows(model) == ["hi", "pending:reply k1", "pending:reply k2"]
    model.merge([f.message("c1", 2, "buyer again")])
    assert rows(model) == ["hi", "buyer again", "pending:reply k1", "pending:reply k2"]
    assert model.row_for_key("k1") == 2
    assert [m.body for m in model.messages()] == ["hi", "buyer again"]  # real messages only
    m = model.index(2, 0).data(MessageRole)
    assert m.author_kind == AuthorKind.AGENT and m.body == "reply k1"  # drawn as my bubble


def test_post_answer_replaces_the_pending_row_and_a_late_event_adds_nothing():
    model = TranscriptModel()
    model.set_conversation("c1", [f.message("c1", 1, "hi")])
    model.upsert_pending(entry("k1", 1, "Quote attached."))
    removed = []
    model.rowsRemoved.connect(lambda p, a, b: removed.append(a))
    model.confirm_pending("k1", mine(2, "Quote attached.", id="m2"))
    assert rows(model) == ["hi", "Quote attached."]
    assert removed == [2]
    model.merge([mine(2, "Quote attached.", id="m2")])  # the event after the answer
    model.upsert_pending(entry("k1", 1, "Quote attached.", state=EntryState.WAITING))  # a stale update
    assert rows(model) == ["hi", "Quote attached."]


def test_event_first_retires_the_in_flight_row_then_the_answer_is_a_no_op():
    model = TranscriptModel()
    model.set_conversation("c1")
    model.set_pending([entry("k1", 1, "Same text"), entry("k2", 2, "Same text"), entry("k3", 3, "Other")])
    model.upsert_pending(entry("k1", 1, "Same text", state=EntryState.SENDING))
    model.merge([mine(1, "Same text", id="m1")])
    assert rows(model) == ["Same text", "pending:Same text", "pending:Other"]  # the oldest one went
    assert model.row_for_key("k1") == -1 and model.row_for_key("k2") == 1
    model.confirm_pending("k1", mine(1, "Same text", id="m1"))
    assert rows(model) == ["Same text", "pending:Same text", "pending:Other"]
    # someone else's message with the same text, or an internal note, retires nothing
    model.merge([f.message("c1", 2, "Other", kind=AuthorKind.AGENT, agent_id="ag-bob")])
    model.merge([mine(3, "Other", internal=True)])
    assert model.row_for_key("k3") >= 0


def test_failed_rows_stay_until_retried_or_discarded_and_switching_clears():
    model = TranscriptModel()
    model.set_conversation("c1")
    model.upsert_pending(entry("k1", 1, "Refused", state=EntryState.FAILED, error="not yours", status=409))
    model.merge([mine(1, "Refused")])  # a failed reply is never matched by text
    assert rows(model) == ["Refused", "failed:Refused"]
    tip = model.index(1, 0).data(0x0003)  # ToolTipRole
    assert tip == "Not sent: not yours"
    model.upsert_pending(entry("k1", 1, "Refused", state=EntryState.PENDING))  # retried
    assert rows(model) == ["Refused", "pending:Refused"]
    assert model.remove_pending("k1") and not model.remove_pending("k1")
    model.upsert_pending(entry("k9", 9))
    model.set_conversation("c2")
    assert model.rowCount() == 0 and model.pending() == []
