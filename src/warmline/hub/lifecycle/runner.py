"""What each hub instance runs for the data lifecycle: the sweeps, periodically (with a
random start offset, so instances do not sweep in step), and the revocation watch.

The watch reads one ``hub_state`` row every ``revocation_poll_s``: the counter every
revocation, rotation, token expiry and erasure bumps, whichever instance (or CLI) made it.
When it moved, this instance forgets its cached principals, ends the open event streams
whose token no longer authenticates (the client's reconnect then gets 401), and redacts
erased conversations' events from its in-memory feed. Streams whose token reaches its
expiry (a rotation's grace) are ended from memory, with no query.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from warmline.hub.auth import PrincipalCache
from warmline.hub.events import EventFeed
from warmline.hub.lifecycle import audit, sealing, state, sweeps
from warmline.hub.lifecycle.backup import restore_void
from warmline.hub.lifecycle.tables import AuditRow
from warmline.hub.principal import Principal
from warmline.hub.settings import HubSettings
from warmline.hub.store.db import Database, utcnow
from warmline.hub.store.tables import TokenRow

log = logging.getLogger(__name__)

SETTINGS_AUDITED = (
    "idempotency_ttl_s",
    "event_retention_days",
    "token_rotation_grace_s",
    "buyer_token_ttl_after_resolve_s",
    "bot_token_ttl_days",
)


class Lifecycle:
    def __init__(
        self, db: Database, feed: EventFeed, principals: PrincipalCache, settings: HubSettings
    ) -> None:
        self.db = db
        self.feed = feed
        self.principals = principals
        self.settings = settings
        self._tasks: list[asyncio.Task[None]] = []
        self._seen_revocations = 0
        self._seen_audit = 0
        self.sweeps_run = 0
        self.streams_ended = 0
        # open streams' tokens that will expire (a rotation's grace): token id -> when
        self._expiring: dict[str, datetime] = {}

    async def start(self) -> None:
        sealing.configure(
            self.db,
            sealing.LifecycleConfig(
                idempotency_ttl_s=self.settings.idempotency_ttl_s, secret_key=self.settings.secret_key
            ),
        )
        await sealing.hub_key(self.db)  # created once per database, before any request needs it
        async with self.db.read() as session:
            self._seen_revocations = await state.get_int(session, state.REVOCATIONS)
            self._seen_audit = int(await session.scalar(select(func.coalesce(func.max(AuditRow.id), 0))) or 0)
        await self._audit_settings()
        self.feed.void = await restore_void(self.db)
        self._tasks = [
            asyncio.create_task(self._sweeping(), name="warmline-lifecycle-sweeps"),
            asyncio.create_task(self._watching(), name="warmline-lifecycle-watch"),
        ]

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        with contextlib.suppress(Exception):
            await sweeps.close_sqlite(self.db)

    async def _audit_settings(self) -> None:
        """A hub started with other lifecycle settings than the last one: audited."""
        now = {k: getattr(self.settings, k) for k in SETTINGS_AUDITED}
        text = json.dumps(now, sort_keys=True)
        async with self.db.write() as tx:
            before = await state.get(tx.session, state.SETTINGS)
            if before == text:
                return
            await state.put(tx.session, state.SETTINGS, text)
            await audit.record(
                tx.session,
                actor="hub",
                action="settings",
                target="lifecycle",
                detail={"before": json.loads(before) if before else None, "after": now},
            )

    # --- sweeps ----------------------------------------------------------------------------

    async def sweep_once(self, *, max_batches: int | None = None) -> dict[str, int]:
        s = self.settings
        done = {
            "idempotency_keys": await sweeps.sweep_idempotency(
                self.db, s.idempotency_ttl_s, s.sweep_batch, max_batches=max_batches
            ),
            "events": await sweeps.sweep_events(
                self.db, s.event_retention_days, s.sweep_batch, max_batches=max_batches
            ),
            "buyer_tokens": await sweeps.expire_buyer_tokens(
                self.db, s.buyer_token_ttl_after_resolve_s, s.sweep_batch
            ),
            "bot_tokens": await sweeps.expire_bot_tokens(self.db, s.bot_token_ttl_days, s.sweep_batch),
        }
        self.sweeps_run += 1
        return done

    async def _sweeping(self) -> None:
        interval = self.settings.sweep_interval_s
        await asyncio.sleep(random.uniform(0, interval))
        while not self.db.bus.closed:
            try:
                done = await self.sweep_once()
                if any(done.values()):
                    log.info("lifecycle sweep removed %s", done)
            except Exception as exc:  # a database hiccup: the next round tries again
                log.warning("lifecycle sweep failed: %s", exc)
            await asyncio.sleep(interval)

    # --- revocation watch ------------------------------------------------------------------

    async def _watching(self) -> None:
        while not self.db.bus.closed:
            await asyncio.sleep(self.settings.revocation_poll_s)
            try:
                await self.watch_once()
            except Exception as exc:
                log.warning("revocation watch failed: %s", exc)

    async def watch_once(self) -> None:
        now = utcnow()
        expiring = self._expiring

        def expired(p: Principal) -> bool:
            until = p.expires_at or expiring.get(p.token_id)
            return until is not None and until <= now

        self.streams_ended += self.feed.end_streams(expired)
        async with self.db.read_statement() as session:
            counter = await state.get_int(session, state.REVOCATIONS)
        if counter == self._seen_revocations:
            return
        self._seen_revocations = counter
        self.principals.clear()
        await self._end_revoked_streams()
        await self._redact_erased()

    async def _end_revoked_streams(self) -> None:
        token_ids = {sink.principal.token_id for sink in self.feed.streams}
        if not token_ids:
            return
        now = utcnow()
        async with self.db.read() as session:
            rows = await session.execute(
                select(TokenRow.id, TokenRow.expires_at).where(TokenRow.id.in_(token_ids))
            )
            known = dict(rows.all())
            self._expiring = {t: at for t, at in known.items() if at is not None}
            valid = set(
                await session.scalars(
                    select(TokenRow.id).where(
                        TokenRow.id.in_(token_ids),
                        or_(TokenRow.expires_at.is_(None), TokenRow.expires_at > now),
                    )
                )
            )
        self.streams_ended += self.feed.end_streams(lambda p: p.token_id not in valid)

    async def _redact_erased(self) -> None:
        from warmline.hub.lifecycle import erasure

        async with self.db.read() as session:
            rows = await audit.entries(session, after=self._seen_audit)
        if rows:
            self._seen_audit = rows[-1].id
        erased = {r.target for r in rows if r.action == "erase"}
        if erased:
            await erasure.redact_feed(self.feed, erased)


def lifecycle_of(app: Any) -> Lifecycle:
    return app.state.lifecycle
