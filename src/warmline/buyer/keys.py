"""Widget keys: create, list, remove, look up; and the origins they allow.

A widget key is public (it sits in the page's HTML), so it grants nothing on its own: a page
may open a conversation with it only from one of the key's origins, within the rate limits.
Origins are normalised to ``scheme://host[:port]`` (the form browsers send in ``Origin``).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from warmline.buyer.tables import WidgetConversationRow, WidgetKeyRow

KEY_PREFIX = "wk_"
DEMO_LABEL = "warmline-demo-shop"  # the key `warmline demo` makes for its /demo/shop page


class OriginError(ValueError):
    """Not an origin a browser could send (the message says why)."""


def normalise_origin(value: str) -> str:
    """``https://Shop.Example:443/`` -> ``https://shop.example``; OriginError when it is no origin."""
    text = value.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise OriginError(f"{value!r}: an origin starts with https:// (or http://)")
    if not parts.hostname:
        raise OriginError(f"{value!r}: no host name")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise OriginError(f"{value!r}: an origin is only scheme://host[:port], without a path")
    try:
        port = parts.port
    except ValueError:
        raise OriginError(f"{value!r}: bad port") from None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(18)


async def add_key(session: AsyncSession, *, origins: list[str], label: str = "") -> WidgetKeyRow:
    """A new key for these origins (normalised; at least one)."""
    cleaned = sorted({normalise_origin(o) for o in origins})
    if not cleaned:
        raise OriginError("give at least one --origin")
    row = WidgetKeyRow(key=new_key(), label=label[:100], origins=cleaned, created_at=datetime.now(UTC))
    session.add(row)
    await session.flush()
    return row


async def list_keys(session: AsyncSession) -> list[WidgetKeyRow]:
    return list(await session.scalars(select(WidgetKeyRow).order_by(WidgetKeyRow.created_at)))


async def get_key(session: AsyncSession, key: str) -> WidgetKeyRow | None:
    return await session.get(WidgetKeyRow, key)


async def key_by_label(session: AsyncSession, label: str) -> WidgetKeyRow | None:
    return await session.scalar(
        select(WidgetKeyRow).where(WidgetKeyRow.label == label).order_by(WidgetKeyRow.created_at).limit(1)
    )


async def remove_key(session: AsyncSession, key: str) -> bool:
    """Remove a key (pages using it can no longer open conversations); False if unknown."""
    result = await session.execute(delete(WidgetKeyRow).where(WidgetKeyRow.key == key))
    return bool(result.rowcount)


async def all_origins(session: AsyncSession) -> set[str]:
    """Every origin some key allows (CORS for the buyer's own routes)."""
    found: set[str] = set()
    for origins in await session.scalars(select(WidgetKeyRow.origins)):
        found.update(origins or [])
    return found


async def record_conversation(session: AsyncSession, *, conversation_id: str, key: str, origin: str) -> None:
    session.add(
        WidgetConversationRow(
            conversation_id=conversation_id, widget_key=key, origin=origin, created_at=datetime.now(UTC)
        )
    )
    await session.flush()


async def ensure_demo_key(session: AsyncSession, hub_url: str) -> str:
    """The key of the demo shop page the hub serves at /demo/shop (made once, for the hub's origin)."""
    origin = normalise_origin(hub_url)
    wanted = {origin}
    if "://127.0.0.1:" in origin:  # the same page opened as localhost
        wanted.add(origin.replace("://127.0.0.1:", "://localhost:"))
    row = await key_by_label(session, DEMO_LABEL)
    if row is None:
        return (await add_key(session, origins=sorted(wanted), label=DEMO_LABEL)).key
    if not wanted <= set(row.origins):
        row.origins = sorted(wanted | set(row.origins))
        await session.flush()
    return row.key
