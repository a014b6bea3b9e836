"""One-time sign-in codes for the desktop console (issue 15), and their table.

An admin (``warmline agents signin-code NAME`` or ``POST /v1/signin-codes``) issues a short
code for a specialist; the specialist types it into the console's sign-in dialog, which
trades it once for a new token of theirs at ``POST /v1/signin``. Codes are stored hashed
(SHA-256, like tokens), expire (24 h by default) and work once: the exchange marks the row
used in the same UPDATE that checks it is unused, so two exchanges cannot both win.

Codes are 12 characters from a 30-letter alphabet without look-alikes (no 0/O, 1/I/L, U),
written ``XXXX-XXXX-XXXX``: about 59 bits, so guessing one before it expires is hopeless.
Migration 0007_signin creates ``signin_codes``.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, update
from sqlalchemy.orm import Mapped, mapped_column

from warmline.domain.models import Agent, PrincipalKind
from warmline.hub import service
from warmline.hub.errors import NotFound, Unauthorized
from warmline.hub.service.views import agent_model
from warmline.hub.store import repository as repo
from warmline.hub.store.db import Tx, utcnow
from warmline.storage.schema import Base

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
DEFAULT_TTL = timedelta(hours=24)
MAX_TTL = timedelta(days=7)
_SEPARATORS = re.compile(r"[\s-]+")


class SignInCodeRow(Base):
    __tablename__ = "signin_codes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalize_code(code: str) -> str:
    """``k7qm 4xpd-9rtw`` -> ``K7QM4XPD9RTW``; ValueError (a sentence) when it cannot be a code."""
    raw = _SEPARATORS.sub("", code).upper()
    if len(raw) != CODE_LENGTH:
        raise ValueError(f"a sign-in code has {CODE_LENGTH} letters and digits (XXXX-XXXX-XXXX)")
    wrong = sorted({c for c in raw if c not in ALPHABET})
    if wrong:
        raise ValueError(f"a sign-in code never contains {', '.join(map(repr, wrong))}")
    return raw


def _hash(code: str) -> str:
    return service.hash_token("signin:" + normalize_code(code))


async def issue_code(tx: Tx, *, agent_name: str, ttl: timedelta = DEFAULT_TTL) -> tuple[str, Agent, datetime]:
    """A new one-time code for an existing specialist: (code, agent, expires_at)."""
    row = await repo.agent_by_name(tx.session, agent_name)
    if row is None:
        raise NotFound("agent", agent_name)
    ttl = min(max(ttl, timedelta(minutes=1)), MAX_TTL)
    code = new_code()
    now = utcnow()
    tx.session.add(
        SignInCodeRow(
            id=service.new_id("sic"),
            code_hash=_hash(code),
            agent_id=row.id,
            created_at=now,
            expires_at=now + ttl,
            used_at=None,
        )
    )
    await tx.session.flush()
    return code, agent_model(row), now + ttl


async def redeem_code(tx: Tx, code: str) -> tuple[Agent, str]:
    """Trade a valid, unused, unexpired code for a new token of its specialist (once)."""
    now = utcnow()
    result = await tx.session.execute(
        update(SignInCodeRow)
        .where(
            SignInCodeRow.code_hash == _hash(code),
            SignInCodeRow.used_at.is_(None),
            SignInCodeRow.expires_at > now,
        )
        .values(used_at=now)
        .returning(SignInCodeRow.agent_id)
    )
    agent_id = result.scalar_one_or_none()
    if agent_id is None:
        raise Unauthorized("invalid_signin_code", "this sign-in code is unknown, used already or expired")
    row = await repo.agent(tx.session, agent_id)
    if row is None:
        raise Unauthorized("invalid_signin_code", "the specialist of this sign-in code no longer exists")
    token = await service.issue_token(tx, kind=PrincipalKind.AGENT, name=row.name, agent_id=row.id)
    return agent_model(row), token
