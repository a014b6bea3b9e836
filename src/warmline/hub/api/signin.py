"""Sign-in codes for the desktop console: an admin issues one, the console trades it for a token.

- ``POST /v1/signin-codes`` (a specialist with all skills): ``{"agent": NAME, "ttl_minutes": N}``
  -> 201 ``{"code", "agent", "expires_at"}``.
- ``POST /v1/signin`` (no token): ``{"code": "XXXX-XXXX-XXXX"}`` -> 200 ``{"token", "agent"}``;
  401 ``invalid_signin_code`` when unknown, used or expired; 422 (field ``code``) when it
  cannot be a code at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator

from warmline.domain.models import Agent
from warmline.hub import signin
from warmline.hub.auth import DB, AgentOnly
from warmline.hub.errors import Forbidden

router = APIRouter(tags=["sign-in"])


class NewSignInCode(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent: str = Field(min_length=1, max_length=100, description="the specialist's name")
    ttl_minutes: int = Field(default=24 * 60, ge=1, le=7 * 24 * 60, description="valid for (default 24 h)")

    @field_validator("agent")
    @classmethod
    def _printable(cls, value: str) -> str:
        if any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in value):
            raise ValueError("a specialist's name has no control characters")
        return value


class SignInCodeIssued(BaseModel):
    code: str = Field(description="XXXX-XXXX-XXXX, shown once; works once")
    agent: Agent
    expires_at: datetime


class SignInRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=40)

    @field_validator("code")
    @classmethod
    def _well_formed(cls, value: str) -> str:
        signin.normalize_code(value)  # ValueError -> 422 naming the field and why
        return value


class SignedIn(BaseModel):
    token: str = Field(description="a new token of this specialist (keep it secret)")
    agent: Agent


@router.post("/signin-codes", status_code=201, response_model=SignInCodeIssued)
async def issue_signin_code(db: DB, admin: AgentOnly, body: NewSignInCode) -> SignInCodeIssued:
    """A one-time sign-in code for a specialist's desktop console."""
    if not admin.all_skills:
        raise Forbidden("forbidden", "only a specialist with all skills may issue sign-in codes")
    async with db.write() as tx:
        code, agent, expires_at = await signin.issue_code(
            tx, agent_name=body.agent, ttl=timedelta(minutes=body.ttl_minutes)
        )
    return SignInCodeIssued(code=code, agent=agent, expires_at=expires_at)


@router.post("/signin", response_model=SignedIn)
async def sign_in(db: DB, body: SignInRequest) -> SignedIn:
    """Trade a sign-in code for a token (no Authorization header needed)."""
    async with db.write() as tx:
        agent, token = await signin.redeem_code(tx, body.code)
    return SignedIn(token=token, agent=agent)
