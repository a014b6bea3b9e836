"""Appearance and the Settings dialog on a live console: light and dark themes switch
without a restart (both repainted, screenshots kept), the font size scales the style
sheet, follow-system resolves, Settings (Ctrl+,) stores every choice, and the window's
size, splitters and the queue columns sized by hand come back at the next start (the other
columns fit their content)."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest

from warmline.console.desktop.appearance import resolve_theme
from warmline.console.desktop.settings import DesktopSettings, Kind, Preferences
from warmline.console.desktop.signin import Credential
from warmline.console.models.queue_model import COL_AGE

from .conftest import wait_until
from .desktop_helpers import desktop_env_fixture, desktops_fixture, start_desktop, visible_dialog  # noqa: F401

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("desktop_env")]


def mean_lightness(image: QImage) -> float:
    total, n = 0, 0
    for y in range(0, image.height(), 12):
        for x in range(0, image.width(), 12):
            total += image.pixelColor(x, y).lightness()
            n += 1
    return total / n


async def open_console(data):
    running = start_desktop(Credential(data.base_url, data.token("anna")))
    await wait_until(lambda: running.shells and running.window is not None, "the console window")
    window = running.window
    await wait_until(
        lambda: window.queue_panel.proxy.rowCount() > 0 and window.card.handoff is not None,
        "the queue painted and a handoff shown",
    )
    return running


def test_theme_switches_live_in_both_palettes(data, run, tmp_path, qapp):
    data.create_handoff("Theme Test GmbH", skills=["drives"], priority="urgent")
    data.create_handoff("Second Theme AG", skills=["quotes"])

    async def scenario():
        running = await open_console(data)
        window, shell = running.window, running.shell
        assert shell.appearance.theme == "light"  # offscreen: the system says nothing -> light
        light = window.grab()
        assert light.save(str(tmp_path / "light.png"))
        shell.settings_action.trigger()  # Warmline > Settings… (Ctrl+,)
        dialog = await wait_until(lambda: visible_dialog("SettingsDialog"), "the settings dialog")
        dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
        dialog.font_size.setValue(12.0)
        dialog.apply_button.click()
        assert shell.appearance.theme == "dark"
        assert "12pt" in window.styleSheet() and "#111827" in window.styleSheet()
        assert qapp.palette().color(qapp.palette().ColorRole.Window).lightness() < 60
        await asyncio.sleep(0.05)
        dark = window.grab()
        assert dark.save(str(tmp_path / "dark.png"))
        dialog.theme.setCurrentIndex(dialog.theme.findData("light"))
        dialog.font_size.setValue(10.0)
        dialog.accept()
        assert not dialog.isVisible()
        relight = window.grab()
        running.shell.quit()
        assert await asyncio.wait_for(running.task, 30) == 0
        return light.toImage(), dark.toImage(), relight.toImage()

    light, dark, relight = run(scenario())
    assert mean_lightness(light) > 180, mean_lightness(light)
    assert mean_lightness(dark) < 90, mean_lightness(dark)
    assert abs(mean_lightness(relight) - mean_lightness(light)) < 15
    assert DesktopSettings().preferences().theme == "light"


def test_settings_dialog_stores_every_choice(data, run):
    async def scenario():
        running = await open_console(data) if data.create_handoff("Prefs AG", skills=["drives"]) else None
        shell = running.shell
        assert shell.settings_action.shortcut().toString() == "Ctrl+,"
        shell.show_settings()
        dialog = await wait_until(lambda: visible_dialog("SettingsDialog"), "the settings dialog")
        dialog.theme.setCurrentIndex(dialog.theme.findData("system"))
        dialog.font_size.setValue(13.0)
        dialog.kinds[Kind.BUYER_MESSAGE].setChecked(False)
        dialog.kinds[Kind.MENTION].setChecked(False)
        dialog.quiet.setChecked(True)
        dialog.quiet_start.setTime(dialog.quiet_start.time().fromString("20:30", "HH:mm"))
        dialog.quiet_end.setTime(dialog.quiet_end.time().fromString("06:15", "HH:mm"))
        dialog.sound.setChecked(True)
        dialog.close_to_tray.setChecked(False)
        dialog.accept()
        assert shell.notifier.prefs.sound and not shell.notifier.prefs.notify[Kind.MENTION]
        shell.show_settings()  # opens again with what was stored
        assert shell.settings_dialog.font_size.value() == 13.0 and shell.settings_dialog.quiet.isChecked()
        shell.settings_dialog.reject()
        running.window.close()  # close-to-tray off: closing quits
        assert await asyncio.wait_for(running.task, 30) == 0

    run(scenario())
    prefs = DesktopSettings().preferences()
    expected = Preferences(
        theme="system",
        font_pt=13.0,
        notify={k: k not in (Kind.BUYER_MESSAGE, Kind.MENTION) for k in Kind.ALL},
        quiet_enabled=True,
        quiet_start="20:30",
        quiet_end="06:15",
        sound=True,
        close_to_tray=False,
    )
    assert prefs == expected
    assert resolve_theme("system") == "light" and resolve_theme("dark") == "dark"


def test_window_size_and_splitters_come_back(data, run, qapp):
    data.create_handoff("Layout AG", skills=["drives"])

    async def first():
        running = await open_console(data)
        window = running.window
        window.resize(1200, 760)
        await asyncio.sleep(0.05)
        window.center_split.setSizes([220, 480])
        await asyncio.sleep(0.05)
        split = window.center_split.sizes()
        running.shell.quit()
        assert await asyncio.wait_for(running.task, 30) == 0
        return split

    split = run(first())

    async def second():
        running = await open_console(data)
        window = running.window
        # Qt keeps a restored window on the screen: offscreen's screen is 800 px wide, so the
        # width is clamped there (and then held at the window's minimum); the height fits.
        screen = qapp.primaryScreen().availableGeometry()
        assert window.height() == 760
        assert window.width() == 1200 or screen.width() < 1200
        assert window.center_split.sizes() == split
        running.shell.quit()
        assert await asyncio.wait_for(running.task, 30) == 0

    run(second())


def test_a_queue_column_sized_by_hand_keeps_its_width_and_comes_back(data, run):
    data.create_handoff("Columns AG", skills=["drives"])

    async def first():
        running = await open_console(data)
        table = running.window.queue_panel.table
        fitted = table.columnWidth(COL_AGE)
        header = table.horizontalHeader()
        edge = QPoint(header.sectionViewportPosition(COL_AGE) + fitted - 1, header.height() // 2)
        table.fit_columns()  # a resize by the program is not by hand
        assert not table.pinned
        QTest.mousePress(header.viewport(), Qt.MouseButton.LeftButton, pos=edge)  # the specialist drags
        header.resizeSection(COL_AGE, fitted + 57)
        QTest.mouseRelease(header.viewport(), Qt.MouseButton.LeftButton, pos=edge + QPoint(57, 0))
        data.create_handoff("Another Refit GmbH", skills=["drives"])  # the queue refits
        await wait_until(lambda: table.model().rowCount() >= 2, "the new handoff in the queue")
        table.fit_columns()
        assert table.columnWidth(COL_AGE) == fitted + 57
        running.shell.quit()
        assert await asyncio.wait_for(running.task, 30) == 0
        return fitted + 57

    width = run(first())

    async def second():
        running = await open_console(data)
        table = running.window.queue_panel.table
        await wait_until(lambda: table.columnWidth(COL_AGE) == width, "the hand-sized width back")
        table.unpin(COL_AGE)  # a double click on the divider: fit the content again
        assert table.columnWidth(COL_AGE) != width
        running.shell.quit()
        assert await asyncio.wait_for(running.task, 30) == 0

    run(second())


def test_dark_style_sheet_maps_colours_by_property_and_scales_sizes():
    from warmline.console.theme import darken, scale_points, style_sheet

    qss = "QPushButton#primary { background: #4F46E5; color: #FFFFFF; border: 1px solid #E5E7EB; }"
    dark = darken(qss)
    assert "color: #FFFFFF" in dark  # white text on the accent stays white
    assert "border: 1px solid #374151" in dark and "background: #4F46E5" in dark
    assert darken("QLabel { color: #111827; background: #FFFFFF; }") == (
        "QLabel { color: #E5E7EB; background: #1F2937; }"
    )
    assert scale_points("QWidget { font-size: 10pt; } QLabel { font-size: 8.5pt; }", 12.0) == (
        "QWidget { font-size: 12pt; } QLabel { font-size: 10.2pt; }"
    )
    light, dark_full = style_sheet("light"), style_sheet("dark")
    assert light.count("{") == dark_full.count("{")  # same rules, other colours
    assert "#F8FAFC" in light and "#F8FAFC" not in dark_full
