"""Fixtures for the desktop-app tests (tests/console/test_desktop_*.py): an isolated
settings folder and outbox, an in-memory keyring backend (the test keyring the sign-in
flow stores into), and a running ``DesktopApp`` whose shell the test drives."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from PySide6.QtWidgets import QApplication


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps passwords in a dict (for this test only)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.passwords.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


@pytest.fixture(name="desktop_env")
def desktop_env_fixture(tmp_path, monkeypatch, qapp, desktops) -> Iterator[Any]:
    """Settings and outbox under tmp_path; restores the app's style, palette and font after."""
    monkeypatch.setenv("WARMLINE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WARMLINE_OUTBOX_DIR", str(tmp_path / "outbox"))
    style, palette, font = qapp.style().name(), qapp.palette(), qapp.font()
    yield tmp_path
    from warmline.console.theme import use_theme_colors

    use_theme_colors("light")
    qapp.setStyle(style)
    qapp.setPalette(palette)
    qapp.setFont(font)


@pytest.fixture(name="memory_keyring")
def memory_keyring_fixture() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


class Running:
    """A DesktopApp.run() task and the shells it made, for a test to drive."""

    def __init__(self, desktop: Any) -> None:
        self.desktop = desktop
        self.shells: list[Any] = []
        self.task: asyncio.Task[int] | None = None

    @property
    def shell(self) -> Any:
        return self.shells[-1]

    @property
    def window(self) -> Any:
        return self.shell.window


_RUNNING: list[Running] = []


@pytest.fixture(name="desktops")
def desktops_fixture(qloop) -> Iterator[list[Running]]:
    """Every desktop app a test started is quit and awaited afterwards, passed or failed."""
    _RUNNING.clear()
    yield _RUNNING
    for running in _RUNNING:
        task = running.task
        if task is None or task.done():
            continue
        for shell in running.shells:
            shell.quit()
        with contextlib.suppress(Exception):
            qloop.run_until_complete(asyncio.wait_for(asyncio.shield(task), 30))
        for widget in QApplication.topLevelWidgets():
            if type(widget).__name__ == "SignInDialog" and widget.isVisible():
                widget.reject()
        with contextlib.suppress(Exception):
            qloop.run_until_complete(asyncio.wait_for(task, 10))
    _RUNNING.clear()


def start_desktop(
    credential: Any, *, hub_url: str = "", assume_tray: bool = True, group: float = 0.2
) -> Running:
    """Run the desktop app as a task on the running qasync loop (settings from desktop_env)."""
    from warmline.console.desktop.launcher import DesktopApp
    from warmline.console.desktop.settings import DesktopSettings

    running: Running

    def on_shell(shell: Any) -> None:
        running.shells.append(shell)

    desktop = DesktopApp(
        QApplication.instance(),  # type: ignore[arg-type]
        DesktopSettings(),
        assume_tray=assume_tray,
        group_seconds=group,
        on_shell=on_shell,
    )
    running = Running(desktop)
    running.task = asyncio.ensure_future(desktop.run(credential, hub_url=hub_url))
    _RUNNING.append(running)
    return running


def visible_dialog(cls_name: str) -> Any:
    for w in QApplication.topLevelWidgets():
        if type(w).__name__ == cls_name and w.isVisible():
            return w
    return None
