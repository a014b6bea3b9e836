"""First start: the sign-in dialog (hub address, then a token or a one-time sign-in code).

A sign-in code (``warmline agents signin-code NAME`` or an admin's ``POST /v1/signin-codes``)
is exchanged for a token at ``POST /v1/signin``; the token is then checked with
``GET /v1/me`` (it must be a specialist's), kept in the OS keyring when "Remember me" is
ticked and a keyring exists, and the profile (hub + specialist) is added to the settings.
The dialog is opened with ``open()`` and awaited (never ``exec()``: qasync #59).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import httpx
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from warmline.console.client import HubClient, HubError
from warmline.console.desktop.credentials import (
    KeyringUnavailable,
    Profile,
    Profiles,
    keyring_problem,
    load_token,
    normalize_hub_url,
    profile_id,
    store_token,
)
from warmline.domain.models import PrincipalKind


@dataclass(frozen=True)
class Credential:
    """What the console needs to start: where, who, and with which token."""

    hub_url: str
    token: str
    profile: Profile | None = None
    remembered: bool = False


class SignInError(Exception):
    """A sentence for the dialog's status line."""


async def exchange_code(hub_url: str, code: str, *, timeout: float = 15.0) -> str:
    """Trade a one-time sign-in code for a specialist token (``POST /v1/signin``)."""
    try:
        async with httpx.AsyncClient(base_url=hub_url, timeout=timeout) as http:
            response = await http.post("/v1/signin", json={"code": code.strip()})
    except httpx.HTTPError as exc:
        raise SignInError(f"Could not reach the hub at {hub_url}: {exc}") from exc
    if response.status_code == 200:
        return str(response.json()["token"])
    if response.status_code == 404:
        raise SignInError("This hub does not issue sign-in codes; paste a token instead.")
    raise SignInError(_refusal(response, "The hub refused this sign-in code"))


def _refusal(response: httpx.Response, what: str) -> str:
    try:
        detail = response.json().get("detail")
    except (json.JSONDecodeError, AttributeError):
        detail = None
    if isinstance(detail, dict) and detail.get("message"):
        return f"{what}: {detail['message']}."
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        return f"{what}: {detail[0].get('msg', '')}."
    return f"{what} ({response.status_code})."


async def verify_token(hub_url: str, token: str) -> str:
    """The specialist's name behind ``token``; ``SignInError`` says why not."""
    client = HubClient(hub_url, token)
    try:
        me = await client.me()
    except HubError as exc:
        if exc.status in (401, 403):
            raise SignInError("The hub does not know this token.") from exc
        if exc.status == 0:
            raise SignInError(f"Could not reach the hub at {hub_url}: {exc.message}") from exc
        raise SignInError(f"The hub answered {exc.status}: {exc.message}") from exc
    finally:
        await client.aclose()
    if me.kind != PrincipalKind.AGENT or me.agent is None:
        raise SignInError(f"This token belongs to a {me.kind.value}; the console needs a specialist's.")
    return me.agent.name


class SignInDialog(QDialog):
    """Hub address + token or sign-in code; ``credential`` is set once signed in."""

    def __init__(
        self,
        profiles: Profiles,
        *,
        hub_url: str = "",
        message: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("signInDialog")
        self.setWindowTitle("Sign in to Warmline")
        self.setMinimumWidth(480)
        self.profiles = profiles
        self.credential: Credential | None = None
        self._task: asyncio.Task[None] | None = None

        intro = QLabel(
            "Enter your hub's address and the sign-in code or token your administrator gave you "
            "(<code>warmline agents signin-code NAME</code> makes a code)."
        )
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)

        self.known = QComboBox()
        self.known.setObjectName("knownProfiles")
        self.known.addItem("New sign-in", None)
        for p in profiles.all():
            self.known.addItem(p.label, p.id)
        self.known.setVisible(self.known.count() > 1)
        self.known.currentIndexChanged.connect(self._pick_profile)

        self.hub_edit = QLineEdit(hub_url)
        self.hub_edit.setObjectName("hubUrl")
        self.hub_edit.setPlaceholderText("https://hub.example.com")
        self.code_radio = QRadioButton("Sign-in code")
        self.token_radio = QRadioButton("Token")
        self.code_radio.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.code_radio)
        group.addButton(self.token_radio)
        group.buttonToggled.connect(self._kind_changed)
        kinds = QHBoxLayout()
        kinds.addWidget(self.code_radio)
        kinds.addWidget(self.token_radio)
        kinds.addStretch(1)
        self.secret_edit = QLineEdit()
        self.secret_edit.setObjectName("secret")
        self.remember = QCheckBox("Remember me on this computer (in the system keyring)")
        self.remember.setChecked(True)
        self.keyring_note = QLabel("")
        self.keyring_note.setObjectName("keyringNote")
        self.keyring_note.setWordWrap(True)
        problem = keyring_problem()
        if problem is not None:
            self.remember.setChecked(False)
            self.remember.setEnabled(False)
            from warmline.console.desktop.credentials import NO_KEYRING_MESSAGE

            self.keyring_note.setText(NO_KEYRING_MESSAGE.format(why=problem))
        self.keyring_note.setVisible(problem is not None)
        self.status = QLabel(message)
        self.status.setObjectName("signInStatus")
        self.status.setWordWrap(True)

        form = QFormLayout()
        if self.known.isVisible():
            form.addRow("Known hubs", self.known)
        form.addRow("Hub address", self.hub_edit)
        form.addRow("Sign in with", kinds)
        form.addRow("Code / token", self.secret_edit)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.sign_in_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.sign_in_button.setText("Sign in")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.remember)
        layout.addWidget(self.keyring_note)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self._kind_changed()

    def _pick_profile(self, index: int) -> None:
        pid = self.known.itemData(index)
        profile = self.profiles.get(pid) if pid else None
        if profile is not None:
            self.hub_edit.setText(profile.hub_url)
            self.token_radio.setChecked(True)
            saved = load_token(profile)
            self.secret_edit.setText(saved or "")
            self.set_status(f"Saved sign-in of {profile.agent}: press Sign in." if saved else "")
            self.secret_edit.setFocus()

    def _kind_changed(self, *_args: object) -> None:
        code = self.code_radio.isChecked()
        self.secret_edit.setEchoMode(QLineEdit.EchoMode.Normal if code else QLineEdit.EchoMode.Password)
        self.secret_edit.setPlaceholderText("e.g. K7QM-4XPD-9RTW" if code else "paste the token")

    def set_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setProperty("level", "error" if error else "")
        self.status.setStyleSheet("color: #B91C1C; font-weight: 600;" if error else "")

    def submit(self) -> None:
        """Sign in in the background; the dialog stays open until it worked (or is cancelled)."""
        if self._task is not None and not self._task.done():
            return
        self._task = asyncio.get_event_loop().create_task(self._sign_in())

    async def _sign_in(self) -> None:
        self.sign_in_button.setEnabled(False)
        try:
            self.credential = await self._attempt()
        except SignInError as exc:
            self.set_status(str(exc), error=True)
            return
        finally:
            self.sign_in_button.setEnabled(True)
        self.accept()

    async def _attempt(self) -> Credential:
        try:
            hub_url = normalize_hub_url(self.hub_edit.text())
        except ValueError as exc:
            raise SignInError(str(exc)[:1].upper() + str(exc)[1:] + ".") from None
        secret = self.secret_edit.text().strip()
        if not secret:
            raise SignInError("Enter the sign-in code or the token.")
        self.set_status("Signing in…")
        token = await exchange_code(hub_url, secret) if self.code_radio.isChecked() else secret
        agent = await verify_token(hub_url, token)
        profile = Profile(profile_id(hub_url, agent), hub_url, agent)
        remembered = False
        if self.remember.isChecked():
            try:
                store_token(profile, token)
                remembered = True
            except KeyringUnavailable as exc:
                self.keyring_note.setText(str(exc))
                self.keyring_note.setVisible(True)
        self.profiles.add(profile)
        return Credential(hub_url, token, profile, remembered)

    def reject(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        super().reject()


async def ask_for_credential(
    profiles: Profiles, *, hub_url: str = "", message: str = "", parent: QWidget | None = None
) -> Credential | None:
    """Show the sign-in dialog and wait for it (None when cancelled)."""
    dialog = SignInDialog(profiles, hub_url=hub_url, message=message, parent=parent)
    done: asyncio.Future[int] = asyncio.get_event_loop().create_future()
    dialog.finished.connect(lambda result: done.done() or done.set_result(result))
    dialog.open()
    try:
        await done
    finally:
        task, credential = dialog._task, dialog.credential
        dialog.hide()
        dialog.deleteLater()
    if task is not None and not task.done():
        task.cancel()
    return credential
