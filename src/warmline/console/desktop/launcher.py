"""The desktop app's way in: find a credential (command line, keyring, or the sign-in
dialog), run the console with the desktop shell, and sign in again after Sign out or a
profile switch. ``warmline console`` (console/commands.py) and the packaged app
(packaging/warmline_app.py) come in through ``run_desktop``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QApplication

from warmline.console.desktop.appearance import Appearance
from warmline.console.desktop.credentials import (
    Profile,
    Profiles,
    forget_token,
    load_token,
    normalize_hub_url,
)
from warmline.console.desktop.settings import DesktopSettings
from warmline.console.desktop.shell import DesktopShell
from warmline.console.desktop.signin import Credential, ask_for_credential


def headless() -> bool:
    """No screen to show a dialog on (offscreen rendering, CI)."""
    return os.environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal")


def stored_credential(profiles: Profiles, *, hub_url: str | None, profile: str | None) -> Credential | None:
    """A profile whose token the keyring still has: the one named, else one for this hub,
    else the last one used."""
    candidates: list[Profile] = []
    if profile:
        candidates = [p for p in profiles.all() if profile in (p.id, p.agent)]
        if hub_url:
            candidates = [p for p in candidates if p.hub_url == normalize_hub_url(hub_url)]
    elif hub_url:
        hub = normalize_hub_url(hub_url)
        last = profiles.last()
        candidates = sorted(profiles.for_hub(hub), key=lambda p: p != last)
    elif (last := profiles.last()) is not None:
        candidates = [last]
    for p in candidates:
        token = load_token(p)
        if token:
            return Credential(p.hub_url, token, p, remembered=True)
    return None


class DesktopApp:
    """Runs consoles one after the other (a new one after Sign out or a profile switch)."""

    def __init__(
        self,
        app: QApplication,
        settings: DesktopSettings,
        *,
        assume_tray: bool | None = None,
        group_seconds: float = 2.0,
        on_shell: Callable[[DesktopShell], Any] | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        self.appearance = Appearance(app, settings)
        self.profiles = Profiles(settings.qsettings)
        self.assume_tray = assume_tray
        self.group_seconds = group_seconds
        self.on_shell = on_shell
        self.shell: DesktopShell | None = None

    async def run(self, credential: Credential | None, *, hub_url: str = "", message: str = "") -> int:
        from warmline.console.app import console_main

        while True:
            if credential is None:
                credential = await ask_for_credential(self.profiles, hub_url=hub_url, message=message)
                if credential is None:
                    return 0  # the dialog was cancelled
            shell = DesktopShell(
                self.settings,
                self.appearance,
                profile=credential.profile,
                assume_tray=self.assume_tray,
                group_seconds=self.group_seconds,
            )
            self.shell = shell

            def ready(window: Any, shell: DesktopShell = shell) -> None:
                shell.attach(window)
                if self.on_shell is not None:
                    self.on_shell(shell)

            code = await console_main(credential.hub_url, credential.token, window_ready=ready)
            shell.detach()
            action = shell.next_action
            if action is None:
                return code
            credential, message, profile = None, "", action.profile
            hub_url = profile.hub_url if profile is not None else ""
            if action.kind == "sign_out" and profile is not None:
                forget_token(profile)
                message = f"Signed out of {profile.label}."
            elif action.kind == "reauth" and profile is not None:
                forget_token(profile)
                message = "The hub no longer accepts the saved sign-in; please sign in again."
            elif action.kind == "switch" and profile is not None:
                token = load_token(profile)
                if token:
                    self.profiles.set_last(profile.id)
                    credential = Credential(profile.hub_url, token, profile, remembered=True)
                else:
                    message = f"Sign in again to {profile.label}."
            elif action.kind == "add":
                hub_url = ""


def run_desktop(credential: Credential | None, *, hub_url: str = "") -> int:
    """Start Qt and the qasync loop, run the desktop app until Quit; the process exit code."""
    import qasync

    from warmline.console.app import _application, close_qasync_loop, install_asyncgen_hooks

    app = _application(offscreen=False)
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    install_asyncgen_hooks(loop)
    try:
        desktop = DesktopApp(app, DesktopSettings())
        return loop.run_until_complete(desktop.run(credential, hub_url=hub_url))
    finally:
        close_qasync_loop(loop)
