"""The hub key, and sealing the secrets an idempotency replay must give back.

A replayed ``ConversationCreated`` returns the same buyer token as the first answer, but
the idempotency table never holds it in clear: the stored answer carries it sealed
(``sealed:v1:...``, authenticated encryption: an HMAC-SHA256 keystream, encrypt-then-MAC,
stdlib only) and the replay unseals it.

The key: derived from ``HubSettings.secret_key`` (``WARMLINE_SECRET_KEY``) when it is set --
then a stolen database or backup alone does not reveal replayable tokens; otherwise a
random key created once in ``hub_state`` (shared by every instance; protects against the
table being read or exported on its own, not against theft of the whole database).
docs/operations.md says which to choose.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from warmline.hub.lifecycle.tables import HubStateRow
from warmline.hub.store.db import Database

SEALED_PREFIX = "sealed:v1:"
KEY_STATE = "sealing_key"
SEALED_FIELDS = ("buyer_token",)  # top-level fields of a stored answer kept sealed
_NONCE = 16
_TAG = 16


@dataclass(frozen=True)
class LifecycleConfig:
    """What code below the app (idempotency, authentication) needs of the lifecycle settings."""

    idempotency_ttl_s: float = 24 * 3600.0
    secret_key: str | None = None


_CONFIGS: weakref.WeakKeyDictionary[Database, LifecycleConfig] = weakref.WeakKeyDictionary()
_KEYS: weakref.WeakKeyDictionary[Database, bytes] = weakref.WeakKeyDictionary()


def configure(db: Database, config: LifecycleConfig) -> None:
    _CONFIGS[db] = config
    _KEYS.pop(db, None)


def config_of(db: Database) -> LifecycleConfig:
    return _CONFIGS.get(db) or LifecycleConfig()


async def hub_key(db: Database) -> bytes:
    """The 32-byte sealing key (cached per database after the first call)."""
    key = _KEYS.get(db)
    if key is not None:
        return key
    secret = config_of(db).secret_key
    if secret:
        key = hmac.new(b"warmline-sealing-v1", secret.encode(), hashlib.sha256).digest()
    else:
        key = await _stored_key(db)
    _KEYS[db] = key
    return key


async def _stored_key(db: Database) -> bytes:
    async with db.read() as session:
        value = await session.scalar(select(HubStateRow.value).where(HubStateRow.name == KEY_STATE))
    if value is None:
        from warmline.hub.lifecycle.state import put_if_absent

        fresh = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        async with db.write() as tx:
            await put_if_absent(tx.session, KEY_STATE, fresh)
        async with db.read() as session:  # another instance may have created it first
            value = await session.scalar(select(HubStateRow.value).where(HubStateRow.name == KEY_STATE))
    assert value is not None
    return base64.urlsafe_b64decode(value)


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    enc = hmac.new(key, b"enc", hashlib.sha256).digest()
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += hmac.new(enc, nonce + counter.to_bytes(4, "big"), hashlib.sha256).digest()
        counter += 1
    return bytes(out[:length])


def _tag(key: bytes, data: bytes) -> bytes:
    mac = hmac.new(key, b"mac", hashlib.sha256).digest()
    return hmac.new(mac, data, hashlib.sha256).digest()[:_TAG]


def seal(key: bytes, plain: str) -> str:
    nonce = secrets.token_bytes(_NONCE)
    data = plain.encode()
    cipher = bytes(a ^ b for a, b in zip(data, _keystream(key, nonce, len(data)), strict=True))
    blob = nonce + cipher
    return SEALED_PREFIX + base64.urlsafe_b64encode(blob + _tag(key, blob)).decode()


def unseal(key: bytes, sealed: str) -> str:
    raw = base64.urlsafe_b64decode(sealed[len(SEALED_PREFIX) :])
    blob, tag = raw[:-_TAG], raw[-_TAG:]
    if not hmac.compare_digest(tag, _tag(key, blob)):
        raise ValueError("sealed value does not match the hub key")
    nonce, cipher = blob[:_NONCE], blob[_NONCE:]
    return bytes(a ^ b for a, b in zip(cipher, _keystream(key, nonce, len(cipher)), strict=True)).decode()


def needs_sealing(body: Any) -> bool:
    return isinstance(body, dict) and any(isinstance(body.get(f), str) for f in SEALED_FIELDS)


def seal_body(key: bytes, body: dict[str, Any]) -> dict[str, Any]:
    """The answer as stored: its secret fields sealed."""
    out = dict(body)
    for field in SEALED_FIELDS:
        if isinstance(out.get(field), str):
            out[field] = seal(key, out[field])
    return out


def unseal_body(key: bytes, body: Any) -> Any:
    """The answer as first given (sealed fields opened)."""
    if not isinstance(body, dict):
        return body
    out = dict(body)
    for field in SEALED_FIELDS:
        value = out.get(field)
        if isinstance(value, str) and value.startswith(SEALED_PREFIX):
            out[field] = unseal(key, value)
    return out
