"""Issue 12 in the console, against a real hub offscreen: a claim the reply timeout takes back
and a transfer to a colleague reach the queues live (handoff.requeued / handoff.transferred).
(The countdown, the taken-back notice, capacity message and Transfer dialog are not built.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from warmline.domain.models import HandoffStatus

from .conftest import wait_until

pytestmark = pytest.mark.gui


@pytest.fixture
def hub(hub_database_url) -> Iterator[Any]:
    """The real hub with a short reply timeout (1.5 s) and a fast sweep."""
    from warmline.hub.embedded import EmbeddedHub
    from warmline.hub.settings import HubSettings

    hub = EmbeddedHub(
        HubSettings(
            database_url=hub_database_url,
            host="127.0.0.1",
            port=0,
            reply_timeout_s=1.5,
            assignment_sweep_s=0.05,
        )
    )
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()


def test_the_queue_shows_a_claim_taken_back_and_a_transfer(data, open_console, run):
    a = data.create_handoff("Alpha Drives AB", skills=["drives"], priority="normal")
    b = data.create_handoff("Beta Drives AB", skills=["drives"], priority="normal")
    window = open_console(data.base_url, data.token("anna"))
    queue = window.session.queue
    bobs = open_console(data.base_url, data.token("bob")).session.queue

    def status(hid: str, queue: Any = queue) -> Any:
        s = queue.summary(hid)
        return (s.status, s.claimed_by.name if s.claimed_by else None) if s is not None else None

    async def scenario():
        await wait_until(lambda: status(a.handoff.id) is not None, "the queue loaded")
        assert data.claim("anna", a.handoff.id).status_code == 200
        await wait_until(lambda: status(a.handoff.id) == (HandoffStatus.CLAIMED, "Anna Berg"), "A held")
        # no reply within 1.5 s: the hub takes it back and the row says so, live
        await wait_until(lambda: status(a.handoff.id) == (HandoffStatus.QUEUED, None), "A back in the queue")
        assert queue.summary(a.handoff.id).requeued_at is not None
        # a transfer from anna to bob shows bob as the holder
        assert data.claim("anna", b.handoff.id).status_code == 200
        bob_id = data.agents["bob"][0].id
        r = httpx.post(
            f"{data.base_url}/v1/handoffs/{b.handoff.id}/transfer",
            json={"to_agent": bob_id},
            headers={"Authorization": f"Bearer {data.token('anna')}"},
        )
        assert r.status_code == 200, r.text
        await wait_until(
            lambda: status(b.handoff.id, bobs) == (HandoffStatus.CLAIMED, "Bob Ng"), "B in Bob's"
        )
        await wait_until(lambda: status(b.handoff.id) is None, "B left Anna's queue (held by a colleague)")

    run(scenario())
