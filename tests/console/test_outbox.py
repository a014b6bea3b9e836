"""The outbox file and the backoff schedule on their own (no Qt, no hub): what is written
survives a reload, sent and discarded entries are compacted away, a torn last line from a
crash is ignored safely, and the sender classifies failures as transient or permanent."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime

import pytest

from warmline.console.client.backoff import Backoff, full_jitter
from warmline.console.client.hub_client import HubError
from warmline.console.client.outbox import (
    COMPACT_AFTER_DEAD,
    EntryState,
    Outbox,
    OutboxLocked,
    OutboxSender,
    is_transient,
    outbox_path,
)
from warmline.domain.models import AuthorKind, Message

# --- backoff ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_decorrelated_backoff_stays_within_base_and_cap_and_grows(seed):
    b = Backoff(0.2, 3.0, rng=random.Random(seed))
    delays = [b.next() for _ in range(500)]
    assert all(0.2 <= d <= 3.0 for d in delays)
    assert len(set(delays)) > 400  # jittered, not a fixed ladder
    assert max(delays[:1]) <= 0.6  # the first delay is at most 3 x base
    assert max(delays) > 2.5  # and it does climb towards the cap
    b.reset()
    assert b.attempts == 0 and b.next() <= 0.6


def test_backoff_is_reproducible_with_a_seed_and_rejects_bad_bounds():
    a = [Backoff(0.1, 1.0, rng=random.Random(7)).next() for _ in range(3)]
    b = [Backoff(0.1, 1.0, rng=random.Random(7)).next() for _ in range(3)]
    assert a == b
    with pytest.raises(ValueError):
        Backoff(0, 1.0)
    with pytest.raises(ValueError):
        Backoff(2.0, 1.0)


def test_full_jitter_is_within_zero_and_the_capped_exponential():
    rng = random.Random(3)
    for attempt in range(12):
        ceiling = min(2.0, 0.25 * 2**attempt)
        draws = [full_jitter(attempt, 0.25, 2.0, rng) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in draws)
        assert max(draws) > ceiling * 0.8  # it uses the whole range
    assert full_jitter(10_000, 0.25, 2.0, rng) <= 2.0  # no overflow for huge attempt numbers


def test_transient_versus_permanent_statuses():
    assert all(is_transient(s) for s in (0, 408, 429, 500, 502, 503, 504))
    assert not any(is_transient(s) for s in (400, 401, 403, 404, 409, 413, 422))


# --- the file --------------------------------------------------------------------------------


def add(box: Outbox, key: str, conv: str = "c1", body: str | None = None):
    return box.add(key=key, conversation_id=conv, body=body or f"reply {key}", handoff_id="h1", agent_id="a1")


def records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_entries_are_on_disk_before_add_returns_and_reload_in_order(tmp_path):
    path = tmp_path / "o.jsonl"
    box = Outbox(path)
    add(box, "k1", body="Første svar — ü")
    add(box, "k2", conv="c2")
    add(box, "k3")
    assert [r["key"] for r in records(path)] == ["k1", "k2", "k3"]  # flushed, not buffered
    assert add(box, "k1").body == "Første svar — ü"  # same key twice is one entry
    assert len(records(path)) == 3
    box.close()

    again = Outbox(path)
    assert [e.key for e in again.entries()] == ["k1", "k2", "k3"]
    assert [e.key for e in again.entries("c1")] == ["k1", "k3"]
    assert again.get("k1").body == "Første svar — ü"
    assert all(e.state == EntryState.PENDING for e in again.entries())
    assert again.next_to_send().key == "k1"
    again.close()


def test_sent_failed_retry_and_discard_survive_a_reload(tmp_path):
    path = tmp_path / "o.jsonl"
    box = Outbox(path)
    for k in ("k1", "k2", "k3", "k4"):
        add(box, k)
    box.mark_sent("k1", "m-1")
    box.mark_failed("k2", "Bob Ng holds this handoff", 409, "claimed_by_other")
    box.mark_failed("k3", "too long", 422, "validation_error")
    box.retry("k3")
    assert box.next_to_send() is None  # failed k2 holds back k3 and k4 (same conversation)
    assert box.get("k3").held and box.get("k4").held
    box.close()

    again = Outbox(path)
    assert [e.key for e in again.entries()] == ["k2", "k3", "k4"]
    k2 = again.get("k2")
    assert (k2.state, k2.error, k2.status, k2.code) == (
        EntryState.FAILED,
        "Bob Ng holds this handoff",
        409,
        "claimed_by_other",
    )
    assert again.get("k3").state == EntryState.PENDING
    assert again.discard("k2")
    assert again.next_to_send().key == "k3"  # discarded: the rest go, in order
    again.close()
    assert [e.key for e in Outbox(path, lock=False).entries()] == ["k3", "k4"]


def test_compaction_rewrites_only_live_entries_and_removes_an_empty_file(tmp_path):
    path = tmp_path / "o.jsonl"
    box = Outbox(path)
    add(box, "keep")
    box.mark_failed("keep", "refused", 403, "forbidden")
    for i in range(COMPACT_AFTER_DEAD):
        add(box, f"s{i}")
        box.mark_sent(f"s{i}", f"m{i}")
    # compaction ran on its own: the file holds only the live entry and its failure
    assert [(r["op"], r["key"]) for r in records(path)] == [("add", "keep"), ("failed", "keep")]
    add(box, "after")  # appends still work after the rewrite
    assert [r["key"] for r in records(path)][-1] == "after"
    box.mark_sent("after", "m-after")
    box.discard("keep")
    assert not path.exists()  # nothing live: no file
    add(box, "new")  # and it comes back when needed
    box.close()
    assert [e.key for e in Outbox(path).entries()] == ["new"]


def test_a_torn_last_line_is_ignored_and_cut_off(tmp_path):
    path = tmp_path / "o.jsonl"
    box = Outbox(path)
    add(box, "k1")
    add(box, "k2")
    box.close()
    with open(path, "ab") as fh:  # a crash in the middle of appending k3
        fh.write(b'{"v":1,"op":"add","key":"k3","conversation_id":"c1","bo')

    again = Outbox(path)
    assert [e.key for e in again.entries()] == ["k1", "k2"]
    assert again.skipped_lines == 1
    add(again, "k4")  # the next append starts on a clean line
    again.close()
    assert [r["key"] for r in records(path)] == ["k1", "k2", "k4"]
    assert [e.key for e in Outbox(path).entries()] == ["k1", "k2", "k4"]


def test_a_garbled_line_in_the_middle_is_skipped_not_fatal(tmp_path):
    path = tmp_path / "o.jsonl"
    now = datetime.now(UTC).isoformat()
    good = {"v": 1, "op": "add", "conversation_id": "c", "body": "b", "created_at": now}
    path.write_text(
        json.dumps({**good, "key": "a"})
        + "\n"
        + "not json at all\n"
        + '{"op":"add"}\n'
        + json.dumps({**good, "key": "b"})
        + "\n"
    )
    box = Outbox(path)
    assert [e.key for e in box.entries()] == ["a", "b"]
    assert box.skipped_lines == 2
    box.close()


def test_second_console_on_the_same_file_is_refused(tmp_path):
    path = outbox_path(tmp_path, "http://127.0.0.1:8000/", "agt_1")
    assert path == outbox_path(tmp_path, "http://127.0.0.1:8000", "agt_1")
    assert path != outbox_path(tmp_path, "http://127.0.0.1:8001", "agt_1")
    assert path != outbox_path(tmp_path, "http://127.0.0.1:8000", "agt_2")
    box = Outbox(path)
    with pytest.raises(OutboxLocked):
        Outbox(path)
    box.close()
    Outbox(path).close()  # free again once closed


# --- the sender (its network call scripted; the acceptance tests use the real hub) -----------


def message(key: str, body: str) -> Message:
    return Message(
        id=f"m-{key}",
        conversation_id="c1",
        seq=1,
        author_kind=AuthorKind.AGENT,
        body=body,
        created_at=datetime.now(UTC),
    )


async def test_sender_retries_transient_failures_with_the_same_key_and_fails_permanent_ones(tmp_path):
    box = Outbox(tmp_path / "o.jsonl")
    add(box, "k1")
    add(box, "k2")
    add(box, "k3", conv="c2")
    add(box, "k4")  # after k2 in the same conversation
    script = {
        "k1": [HubError(0, "unreachable", "cannot reach the hub"), HubError(503, "busy", "unavailable")],
        "k2": [HubError(409, "claimed_by_other", "someone else holds it")],
        "k3": [HubError(429, "slow_down", "too many")],
        "k4": [],
    }
    calls: list[str] = []
    changes: list[tuple[str, EntryState]] = []
    sent: list[str] = []

    async def post(entry):
        calls.append(entry.key)
        if script[entry.key]:
            raise script[entry.key].pop(0)
        return message(entry.key, entry.body)

    sender = OutboxSender(
        box,
        post,
        on_change=lambda e: changes.append((e.key, e.state)),
        on_sent=lambda e, m: sent.append(e.key),
        backoff=Backoff(0.01, 0.05, rng=random.Random(1)),
    )
    task = asyncio.create_task(sender.run())
    try:
        deadline = asyncio.get_running_loop().time() + 10
        while len(sent) < 2 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        assert sent == ["k1", "k3"]
        assert calls == ["k1", "k1", "k1", "k2", "k3", "k3"]  # in order; k2 tried once
        assert ("k1", EntryState.WAITING) in changes
        assert ("k2", EntryState.FAILED) in changes
        assert box.get("k2").error == "someone else holds it" and box.get("k2").status == 409
        # the refused k2 holds back k4 (same conversation): the buyer never reads them out of order
        await asyncio.sleep(0.1)
        assert "k4" not in calls and [e.key for e in box.entries()] == ["k2", "k4"]
        assert box.get("k4").held and not box.get("k2").held
        assert box.next_to_send() is None
        # a retry puts it back in line; this time it goes through, then k4
        box.retry("k2")
        sender.wake()
        while len(sent) < 4 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        assert sent == ["k1", "k3", "k2", "k4"]
        assert len(box) == 0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        box.close()


def test_discarding_a_refused_reply_releases_the_ones_it_held_back(tmp_path):
    box = Outbox(tmp_path / "o.jsonl")
    for k in ("a", "b", "c"):
        add(box, k)
    add(box, "other", conv="c2")
    box.mark_failed("a", "not yours", 409, "claimed_by_other")
    assert box.next_to_send().key == "other"  # other conversations are not held back
    box.mark_sent("other", "m1")
    assert box.next_to_send() is None and [e.held for e in box.entries()] == [False, True, True]
    box.mark_failed("b", "too long", 422, "validation_error")  # b fails too (e.g. retried earlier)
    assert box.discard("a")
    assert box.next_to_send() is None  # b (failed) still holds c
    box.retry("b")
    assert box.next_to_send().key == "b" and not box.get("c").held
    box.close()
