"""Profiles (one per hub and specialist) and their tokens in the OS keyring.

A profile is a hub URL plus the specialist signed in there; its token lives in the OS
keyring (Secret Service / KWallet on Linux, Credential Manager on Windows, Keychain on
macOS) under the service ``warmline`` and the profile's id. Only the list of profiles (no
secrets) is kept in the settings file. Where no keyring exists, ``KeyringUnavailable``
says so in words the sign-in dialog shows, and the token lives for this run only.

For scripts the token can also come from ``--token``, ``WARMLINE_TOKEN`` or ``--token-file``
(``token_from_sources``), never from the keyring by surprise when one of those is given.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from PySide6.QtCore import QSettings

KEYRING_SERVICE = "warmline"

NO_KEYRING_MESSAGE = (
    "No system keyring is available ({why}), so Warmline cannot remember your sign-in: you "
    "will be asked again at the next start. Install and unlock a keyring (GNOME Keyring / "
    "KWallet on Linux) to stay signed in, or start with --token-file PATH pointing to a file "
    "only you can read."
)


class KeyringUnavailable(RuntimeError):
    """No usable OS keyring; ``str(exc)`` is a sentence for the user."""


def normalize_hub_url(url: str) -> str:
    """``hub.example.com:8470`` -> ``http://hub.example.com:8470`` (no trailing slash)."""
    url = url.strip()
    if not url:
        raise ValueError("enter the hub's address, e.g. https://hub.example.com")
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) address")
    return url.rstrip("/")


def profile_id(hub_url: str, agent_name: str) -> str:
    parts = urlsplit(hub_url)
    host = parts.hostname or "hub"
    port = f":{parts.port}" if parts.port else ""
    return re.sub(r"[^A-Za-z0-9_.:@-]", "_", f"{agent_name}@{host}{port}{parts.path}")


@dataclass(frozen=True)
class Profile:
    id: str
    hub_url: str
    agent: str  # the specialist's name on that hub

    @property
    def label(self) -> str:
        return f"{self.agent} — {self.hub_url}"


def token_from_sources(token: str | None, token_file: Path | None) -> str | None:
    """``--token`` / ``WARMLINE_TOKEN`` (click reads the variable into ``token``), else the file."""
    if token and token.strip():
        return token.strip()
    if token_file is not None:
        text = token_file.read_text(encoding="utf-8").strip()
        if not text:
            raise ValueError(f"{token_file} is empty")
        return text.splitlines()[0].strip()
    return None


# --- the keyring ------------------------------------------------------------------------


def keyring_problem() -> str | None:
    """None when a real keyring backend is there; otherwise why not (for the message)."""
    try:
        import keyring
        from keyring.backends import fail
    except Exception as exc:  # keyring not installed in this build
        return f"the keyring library is missing: {exc}"
    try:
        backend = keyring.get_keyring()
    except Exception as exc:
        return str(exc)
    if isinstance(backend, fail.Keyring):
        return "no keyring backend found"
    chained = getattr(backend, "backends", None)
    if chained is not None and not chained:
        return "no keyring backend found"
    return None


def _keyring():
    problem = keyring_problem()
    if problem is not None:
        raise KeyringUnavailable(NO_KEYRING_MESSAGE.format(why=problem))
    import keyring

    return keyring


def store_token(profile: Profile, token: str) -> None:
    try:
        _keyring().set_password(KEYRING_SERVICE, profile.id, token)
    except KeyringUnavailable:
        raise
    except Exception as exc:  # locked, refused, D-Bus down...
        raise KeyringUnavailable(NO_KEYRING_MESSAGE.format(why=f"{type(exc).__name__}: {exc}")) from exc


def load_token(profile: Profile) -> str | None:
    try:
        return _keyring().get_password(KEYRING_SERVICE, profile.id)
    except Exception:
        return None


def forget_token(profile: Profile) -> None:
    with contextlib.suppress(Exception):  # nothing stored, or no keyring: nothing to forget
        _keyring().delete_password(KEYRING_SERVICE, profile.id)


# --- the list of profiles (in the settings file) ------------------------------------------


class Profiles:
    """Profiles in the settings file, and which one was used last."""

    def __init__(self, qsettings: QSettings) -> None:
        self.s = qsettings

    def all(self) -> list[Profile]:
        out = []
        size = self.s.beginReadArray("profiles")
        for i in range(size):
            self.s.setArrayIndex(i)
            pid, hub, agent = (str(self.s.value(k, "")) for k in ("id", "hub_url", "agent"))
            if pid and hub:
                out.append(Profile(pid, hub, agent))
        self.s.endArray()
        return out

    def _write(self, profiles: list[Profile]) -> None:
        self.s.remove("profiles")
        self.s.beginWriteArray("profiles", len(profiles))
        for i, p in enumerate(profiles):
            self.s.setArrayIndex(i)
            self.s.setValue("id", p.id)
            self.s.setValue("hub_url", p.hub_url)
            self.s.setValue("agent", p.agent)
        self.s.endArray()
        self.s.sync()

    def get(self, pid: str) -> Profile | None:
        return next((p for p in self.all() if p.id == pid), None)

    def for_hub(self, hub_url: str) -> list[Profile]:
        hub = hub_url.rstrip("/")
        return [p for p in self.all() if p.hub_url == hub]

    def add(self, profile: Profile) -> None:
        profiles = [p for p in self.all() if p.id != profile.id] + [profile]
        self._write(profiles)
        self.set_last(profile.id)

    def remove(self, pid: str) -> None:
        self._write([p for p in self.all() if p.id != pid])
        if self.last_id() == pid:
            self.s.remove("last_profile")
            self.s.sync()

    def last_id(self) -> str | None:
        value = self.s.value("last_profile")
        return str(value) if value else None

    def last(self) -> Profile | None:
        pid = self.last_id()
        return self.get(pid) if pid else None

    def set_last(self, pid: str) -> None:
        self.s.setValue("last_profile", pid)
        self.s.sync()
