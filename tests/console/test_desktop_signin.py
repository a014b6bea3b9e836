"""Sign-in without a token on the command line, against real hubs with a test keyring:
the dialog trades a one-time code (or takes a token), the token goes to the keyring and
the profile to the settings, the next start reconnects without asking, Sign out forgets
it, two hubs make two profiles to switch between, and without a keyring the dialog says
so and the console still opens."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from warmline.console.desktop.credentials import KEYRING_SERVICE, Profiles
from warmline.console.desktop.launcher import stored_credential
from warmline.console.desktop.settings import DesktopSettings

from .conftest import _start_hub, wait_until
from .desktop_helpers import (  # noqa: F401  (fixtures)
    desktop_env_fixture,
    desktops_fixture,
    memory_keyring_fixture,
    start_desktop,
    visible_dialog,
)

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("desktop_env")]


def issue_code(base_url: str, admin_token: str, agent: str) -> str:
    r = httpx.post(
        f"{base_url}/v1/signin-codes",
        json={"agent": agent},
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=15,
    )
    assert r.status_code == 201, r.text
    return r.json()["code"]


async def sign_in(dialog, hub_url: str, secret: str, *, code: bool) -> None:
    dialog.hub_edit.setText(hub_url)
    (dialog.code_radio if code else dialog.token_radio).setChecked(True)
    dialog.secret_edit.setText(secret)
    dialog.sign_in_button.click()


async def connected(running) -> None:
    await wait_until(lambda: running.shells and running.window is not None, "the console window")
    session = running.window.session
    await wait_until(lambda: session.loaded and session.me is not None, "signed in and the queue loaded")


def test_code_sign_in_keyring_reconnect_and_sign_out(hub, data, run, memory_keyring):
    _admin, admin_token = hub.create_agent("admin", ["all"])
    code = issue_code(data.base_url, admin_token, "anna")

    async def first_start():
        running = start_desktop(None)
        dialog = await wait_until(lambda: visible_dialog("SignInDialog"), "the sign-in dialog")
        await sign_in(dialog, "ftp://hub.example.com", code, code=True)  # not http(s)
        await wait_until(lambda: "not an http" in dialog.status.text(), "a bad-address message")
        await sign_in(dialog, data.base_url, "WXYZ-WXYZ-WXYZ", code=True)
        await wait_until(lambda: "refused this sign-in code" in dialog.status.text(), "wrong code refused")
        await sign_in(dialog, data.base_url, code, code=True)
        await connected(running)
        assert running.window.session.me.name == "anna"
        assert "anna" in running.window.windowTitle()
        running.shell.quit()
        assert await asyncio.wait_for(running.task, 30) == 0

    run(first_start())
    profiles = Profiles(DesktopSettings().qsettings)
    (profile,) = profiles.all()
    assert profile.agent == "anna" and profile.hub_url == data.base_url
    token = memory_keyring.passwords[(KEYRING_SERVICE, profile.id)]
    assert token and token != data.token("anna")  # a new token, traded for the code
    ini = DesktopSettings().path.read_text()
    assert token not in ini and "anna" in ini  # the settings file holds no secret

    credential = stored_credential(profiles, hub_url=None, profile=None)
    assert credential is not None and credential.token == token

    async def second_start():
        running = start_desktop(credential)
        await connected(running)  # no dialog this time
        assert visible_dialog("SignInDialog") is None
        running.shell.sign_out_action.trigger()  # Warmline > Sign out
        dialog = await wait_until(lambda: visible_dialog("SignInDialog"), "the sign-in dialog again")
        assert "Signed out" in dialog.status.text()
        assert (KEYRING_SERVICE, profile.id) not in memory_keyring.passwords
        dialog.reject()
        assert await asyncio.wait_for(running.task, 30) == 0

    run(second_start())
    assert stored_credential(profiles, hub_url=data.base_url, profile=None) is None


def test_two_hubs_two_profiles_switch(data, run, memory_keyring, tmp_path):
    other = _start_hub(f"sqlite:///{tmp_path / 'second.db'}")
    try:
        _carl, carl_token = other.create_agent("carl", ["pumps"], display_name="Carl")

        async def scenario():
            running = start_desktop(None)
            dialog = await wait_until(lambda: visible_dialog("SignInDialog"), "the sign-in dialog")
            await sign_in(dialog, data.base_url, data.token("anna"), code=False)
            await connected(running)
            running.shell.add_hub_action.trigger()  # Warmline > Add a hub or account…
            dialog = await wait_until(lambda: visible_dialog("SignInDialog"), "the dialog for a second hub")
            assert dialog.known.count() == 2  # "New sign-in" + anna's profile
            dialog.known.setCurrentIndex(1)  # a known profile fills in its saved sign-in
            assert dialog.hub_edit.text() == data.base_url and dialog.secret_edit.text()
            dialog.known.setCurrentIndex(0)
            await sign_in(dialog, other.base_url, carl_token, code=False)
            await wait_until(lambda: len(running.shells) == 2, "a second console")
            await connected(running)
            assert running.window.session.me.name == "carl"
            profiles = Profiles(DesktopSettings().qsettings)
            assert {p.agent for p in profiles.all()} == {"anna", "carl"}
            anna = next(p for p in profiles.all() if p.agent == "anna")
            running.shell._fill_profiles()
            labels = [a.text() for a in running.shell.profiles_menu.actions()]
            assert anna.label in labels
            running.shell.switch_to(anna)  # Warmline > Switch profile > anna
            await wait_until(lambda: len(running.shells) == 3, "the console for anna's hub")
            await connected(running)
            assert running.window.session.me.name == "anna"
            assert running.window.session.client.base_url.rstrip("/") == data.base_url
            assert visible_dialog("SignInDialog") is None  # the keyring had her token
            running.shell.quit()
            assert await asyncio.wait_for(running.task, 30) == 0

        run(scenario())
    finally:
        other.stop()


def test_without_a_keyring_the_dialog_says_so_and_still_signs_in(data, run):
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:

        async def scenario():
            running = start_desktop(None)
            dialog = await wait_until(lambda: visible_dialog("SignInDialog"), "the sign-in dialog")
            assert not dialog.remember.isEnabled()
            assert dialog.keyring_note.isVisibleTo(dialog)
            assert "No system keyring is available" in dialog.keyring_note.text()
            assert "--token-file" in dialog.keyring_note.text()
            await sign_in(dialog, data.base_url, data.token("anna"), code=False)
            await connected(running)
            running.shell.quit()
            assert await asyncio.wait_for(running.task, 30) == 0

        run(scenario())
    finally:
        keyring.set_keyring(previous)
    profiles = Profiles(DesktopSettings().qsettings)
    assert stored_credential(profiles, hub_url=data.base_url, profile=None) is None  # asked again next time
