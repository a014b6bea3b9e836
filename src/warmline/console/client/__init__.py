"""HTTP client for the hub: REST calls and the live event stream (no Qt here)."""

from warmline.console.client.events import ConnectionState, EventStream
from warmline.console.client.hub_client import HubClient, HubError, new_idempotency_key

__all__ = ["ConnectionState", "EventStream", "HubClient", "HubError", "new_idempotency_key"]
