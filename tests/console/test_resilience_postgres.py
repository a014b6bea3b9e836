"""The fault tests of test_resilience.py against a hub on PostgreSQL (LISTEN/NOTIFY wake-ups,
the idempotency unique index on PostgreSQL): cut and catch up, offline replies sent once,
a lost answer retried with its key."""

from __future__ import annotations

import pytest

from .test_resilience import (  # noqa: F401 - fixtures and tests collected here with a PG hub
    console,
    proxy,
    test_cut_connection_catches_up_on_buyer_messages_once,
    test_replies_typed_while_cut_are_pending_then_sent_once_in_order,
    test_reply_whose_answer_is_lost_is_retried_with_its_key_and_exists_once,
)

pytestmark = [pytest.mark.gui, pytest.mark.postgres]


@pytest.fixture
def hub_database_url(postgres_url) -> str:
    return postgres_url
