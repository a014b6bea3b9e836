"""The right-hand assistant: a command box with SKU completion, and a card per lookup.

The panel never speaks HTTP. ``attach(session)`` wires it to the session: commands become
``session.start_assist``; cancel buttons ``session.cancel_assist``; completion asks
``session.search_skus`` (debounced) and listens for ``session.sku_hits``; cards follow the
session's AssistModel. Cards of the shown handoff only; newest on top; nothing here blocks
(no modal dialogs: failures are shown in their card, documents open in a non-modal window).
Documents: ``widgets/documents`` (what may be opened, and the window for the rest).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QDesktopServices, QKeyEvent
from PySide6.QtWidgets import (
    QCompleter,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from warmline.console.assist_commands import COMMAND_HELP, CommandError, command_at_end, parse_command
from warmline.console.models.assist_model import AssistEntry, AssistModel
from warmline.console.widgets.assist_cards import AssistCard
from warmline.console.widgets.documents import DocumentView, document_details, document_folders, openable_url
from warmline.domain.assist import AssistKind, AssistRequest, Citation
from warmline.domain.models import HandoffDetail

if TYPE_CHECKING:
    from warmline.console.session import Session

__all__ = ["AssistantPanel", "CommandEdit", "DocumentView", "document_details", "openable_url"]

COMPLETION_DEBOUNCE_MS = 200
CARD_LIMIT = 12  # cards shown at once; older results wait behind "Show earlier results"
RENDER_BUDGET_S = 0.006  # card work per pass of the event loop; the rest waits for the next pass
HISTORY_LIMIT = 50


def _sku_key(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


class CommandEdit(QLineEdit):
    """One line: Enter runs, Up/Down walk the history, Esc hands focus back, Tab takes a completion."""

    submitted = Signal(str)
    escaped = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history: list[str] = []
        self._pos = 0  # index into history; len(history) = the line being typed
        self._draft = ""
        self.completer_: QCompleter | None = None

    def set_word_completer(self, completer: QCompleter) -> None:
        completer.setWidget(self)
        completer.activated.connect(self.take_completion)
        self.completer_ = completer

    def take_completion(self, value: str) -> None:
        """Replace the word being typed with the chosen completion (a SKU or a command)."""
        text = self.text()
        word = command_at_end(text).word
        head = text[: len(text) - len(word)] if word and text.endswith(word) else text
        self.setText(head + value + " ")

    def remember(self, line: str) -> None:
        if line and (not self.history or self.history[-1] != line):
            self.history.append(line)
            del self.history[:-HISTORY_LIMIT]
        self._pos = len(self.history)
        self._draft = ""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        popup = self.completer_.popup() if self.completer_ else None
        if popup is not None and popup.isVisible():
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab):
                idx = popup.currentIndex()
                if idx.isValid():
                    self.take_completion(idx.data())
                    popup.hide()
                    event.accept()
                    return
                popup.hide()
            elif event.key() == Qt.Key.Key_Escape:
                popup.hide()
                event.accept()
                return
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.submitted.emit(self.text())
            event.accept()
            return
        if key == Qt.Key.Key_Escape:
            self.escaped.emit()
            event.accept()
            return
        if key == Qt.Key.Key_Up and self.history:
            if self._pos == len(self.history):
                self._draft = self.text()
            self._pos = max(0, self._pos - 1)
            self.setText(self.history[self._pos])
            event.accept()
            return
        if key == Qt.Key.Key_Down and self.history:
            self._pos = min(len(self.history), self._pos + 1)
            self.setText(self.history[self._pos] if self._pos < len(self.history) else self._draft)
            event.accept()
            return
        super().keyPressEvent(event)

    def focusNextPrevChild(self, next: bool) -> bool:
        popup = self.completer_.popup() if self.completer_ else None
        if popup is not None and popup.isVisible():
            return False  # Tab takes the completion (keyPressEvent), not the focus
        return super().focusNextPrevChild(next)


class AssistantPanel(QFrame):
    """Command box, running count, and the cards of the handoff on screen."""

    insert_requested = Signal(str)  # text for the composer, at its cursor
    notice = Signal(str, str)  # level, sentence (copied, nothing to insert...)
    return_focus = Signal()  # Esc in the command box

    def __init__(self, model: AssistModel | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("assistantPanel")
        self.setMinimumWidth(300)
        self.model = model or AssistModel(self)
        self.session: Session | None = None
        self.handoff_id: str | None = None
        self.cards: dict[str, AssistCard] = {}
        self.packet_skus: list[str] = []
        self._catalog_skus: list[str] = []
        self._documents: list[DocumentView] = []
        self.document_folders: list[Path] = document_folders()  # files under these may be opened
        self.open_url = QDesktopServices.openUrl  # the desktop's opener (a seam for tests)

        title = QLabel("Assistant")
        title.setObjectName("paneTitle")
        self.running_label = QLabel("")
        self.running_label.setObjectName("assistRunning")
        head = QHBoxLayout()
        head.addWidget(title, 1)
        head.addWidget(self.running_label)

        self.command = CommandEdit()
        self.command.setObjectName("assistCommand")
        self.command.setPlaceholderText("/spec, /subs, /acc, /compare, /sum, /draft — or search  (Ctrl+K)")
        self.command.setClearButtonEnabled(True)
        self.command.submitted.connect(self.run_command)
        self.command.escaped.connect(self._escape)
        self.command.textEdited.connect(self._on_edited)
        self.completions = QStringListModel(self)
        self.completer = QCompleter(self.completions, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setMaxVisibleItems(8)
        self.command.set_word_completer(self.completer)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(COMPLETION_DEBOUNCE_MS)
        self._debounce.timeout.connect(self._ask_catalog)

        self.error = QLabel("")
        self.error.setObjectName("assistError")
        self.error.setWordWrap(True)
        self.error.hide()

        self.hint = QLabel(
            "Open a handoff: its spec sheets (and substitutes, for a replaced part) load here."
        )
        self.hint.setObjectName("emptyHint")
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        self.cards_box = QWidget()
        self.cards_box.setObjectName("assistCards")
        self.cards_layout = QVBoxLayout(self.cards_box)
        self.cards_layout.setContentsMargins(0, 0, 4, 0)
        self.cards_layout.setSpacing(8)
        self.cards_layout.addWidget(self.hint)
        self.card_limit = CARD_LIMIT
        self.earlier_button = QPushButton("")
        self.earlier_button.setObjectName("assistEarlier")
        self.earlier_button.clicked.connect(self.show_earlier)
        self.earlier_button.hide()
        self.cards_layout.addWidget(self.earlier_button)
        self.cards_layout.addStretch(1)
        self.cards_scroll = QScrollArea()
        self.cards_scroll.setObjectName("assistScroll")
        self.cards_scroll.setWidgetResizable(True)
        self.cards_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.cards_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.cards_scroll.setWidget(self.cards_box)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 8, 12)
        layout.setSpacing(8)
        layout.addLayout(head)
        layout.addWidget(self.command)
        layout.addWidget(self.error)
        layout.addWidget(self.cards_scroll, 1)

        # Cards are built and updated by a pump that does at most RENDER_BUDGET_S of work per
        # pass, so a burst of results (20 jobs finishing, a reopened handoff with many earlier
        # results) never holds the GUI thread: keystrokes and paints run between passes.
        self._pending: dict[str, AssistEntry] = {}
        self._pump = QTimer(self)
        self._pump.setSingleShot(True)
        self._pump.setInterval(0)
        self._pump.timeout.connect(self._render_some)
        self._connect_model()
        self.set_handoff(None)

    def _connect_model(self) -> None:
        self.model.added.connect(self._queue)
        self.model.changed.connect(self._queue)
        self.model.removed.connect(self._on_removed)

    # --- wiring --------------------------------------------------------------------------

    def attach(self, session: Session) -> None:
        """Follow this session: its model, the handoff on screen, catalog hits for completion."""
        self.session = session
        if self.model is not session.assist:
            self.model.added.disconnect(self._queue)
            self.model.changed.disconnect(self._queue)
            self.model.removed.disconnect(self._on_removed)
            self.model = session.assist
            self._connect_model()
        session.current_changed.connect(self._on_current_changed)
        session.sku_hits.connect(self._on_sku_hits)

    def _on_current_changed(self, detail: HandoffDetail | None) -> None:
        session = self.session
        handoff_id = detail.id if detail is not None else (session.current_id if session else None)
        if handoff_id != self.handoff_id:
            self.set_handoff(handoff_id)
        if detail is not None:
            self.packet_skus = list(dict.fromkeys(p.sku for p in detail.packet.products))

    # --- showing a handoff ---------------------------------------------------------------

    def set_handoff(self, handoff_id: str | None) -> None:
        """Show this handoff's cards (rebuilt from the model; other handoffs' cards are dropped)."""
        self.handoff_id = handoff_id
        self.packet_skus = []
        for card in self.cards.values():
            self.cards_layout.removeWidget(card)
            card.deleteLater()
        self.cards = {}
        self._pending = {}
        self.card_limit = CARD_LIMIT
        for entry in self.model.entries(handoff_id)[-self.card_limit :]:
            self._queue(entry)
        self._update_earlier()
        self.command.setEnabled(handoff_id is not None)
        self.error.hide()
        self._update_hint()
        self._update_running()

    def _update_hint(self) -> None:
        if self.handoff_id is None:
            self.hint.setText(
                "Open a handoff: its spec sheets (and substitutes, for a replaced part) load here."
            )
        else:
            self.hint.setText(
                "No lookups yet. Try /spec SKU, /subs SKU torque>=180Nm, /compare A B, /draft — "
                "or the Spec · Subs · Acc links on the packet's products."
            )
        self.hint.setVisible(not self.cards and not self._pending)

    def _update_running(self) -> None:
        n = len(self.model.active(self.handoff_id)) if self.handoff_id else 0
        self.running_label.setText(f"{n} running" if n else "")

    def _queue(self, entry: AssistEntry) -> None:
        """A new or changed entry of the handoff on screen: render it on the pump's next pass."""
        if entry.handoff_id != self.handoff_id:
            return
        self._pending[entry.key] = entry
        if not self._pump.isActive():
            self._pump.start()

    def _order(self) -> dict[str, int]:
        """Entry key -> position in the handoff's history (higher = newer)."""
        return {e.key: i for i, e in enumerate(self.model.entries(self.handoff_id))}

    def _render_some(self) -> None:
        t0 = time.perf_counter()
        order: dict[str, int] | None = None
        while self._pending:
            key = next(iter(self._pending))
            entry = self._pending.pop(key)
            if entry.handoff_id != self.handoff_id:
                continue
            card = self.cards.get(key)
            if card is None:
                order = order or self._order()
                if order.get(key, -1) < len(order) - self.card_limit:
                    continue  # an older result kept behind "Show earlier results"
            heavy = card is None or card.needs_body(entry)
            if card is None:
                self._add_card(entry, order or self._order())
                self._trim(order or self._order())
            else:
                card.update_entry(entry)
            # a new card or a finished body costs its text layout in Qt's next layout pass
            # (outside this timing): one per pass, so that pass stays short too
            if heavy or time.perf_counter() - t0 > RENDER_BUDGET_S:
                break
        self.hint.setVisible(not self.cards and not self._pending)
        self._update_running()
        self._update_earlier()
        if self._pending:
            self._pump.start()

    def _trim(self, order: dict[str, int]) -> None:
        """Keep the newest card_limit cards; the oldest go behind "Show earlier results"."""
        while len(self.cards) > self.card_limit:
            oldest = min(self.cards, key=lambda k: order.get(k, -1))
            card = self.cards.pop(oldest)
            self.cards_layout.removeWidget(card)
            card.deleteLater()

    def _update_earlier(self) -> None:
        hidden = max(0, len(self.model.entries(self.handoff_id)) - self.card_limit)
        self.earlier_button.setText(f"Show {hidden} earlier result{'s' if hidden != 1 else ''}")
        self.earlier_button.setVisible(hidden > 0)

    def show_earlier(self) -> None:
        """Bring the next CARD_LIMIT older results back (built by the pump, below the others)."""
        self.card_limit += CARD_LIMIT
        entries = self.model.entries(self.handoff_id)
        for entry in reversed(entries[-self.card_limit :]):
            if entry.key not in self.cards:
                self._queue(entry)

    def _on_removed(self, entry: AssistEntry) -> None:
        self._pending.pop(entry.key, None)
        card = self.cards.pop(entry.key, None)
        if card is not None:
            self.cards_layout.removeWidget(card)
            card.deleteLater()
            self._update_running()

    @property
    def settled(self) -> bool:
        """True when every known change is on screen (tests and benchmarks wait for this)."""
        return not self._pending

    def _add_card(self, entry: AssistEntry, order: dict[str, int]) -> AssistCard:
        card = AssistCard(entry)
        card.insert_requested.connect(self.insert_requested)
        card.cancel_requested.connect(self.cancel)
        card.run_requested.connect(self.run_request)
        card.document_requested.connect(self.open_document)
        card.copied.connect(lambda _t: self.notice.emit("success", "Copied to the clipboard."))
        mine = order.get(entry.key, len(order))
        above = sum(1 for k in self.cards if order.get(k, -1) > mine)
        self.cards[entry.key] = card
        self.cards_layout.insertWidget(1 + above, card)  # newest on top (index 0 is the hint)
        return card

    # --- commands ------------------------------------------------------------------------

    def _hide_popup(self) -> None:
        popup = self.completer.popup()
        if popup is not None:
            popup.hide()

    def focus_command(self) -> None:
        self.command.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.command.selectAll()

    def _escape(self) -> None:
        self._hide_popup()
        self.return_focus.emit()

    def run_command(self, text: str) -> AssistRequest | None:
        """Parse and start; a parse error stays under the box with the text kept to fix."""
        try:
            request = parse_command(text, default_skus=self.packet_skus)
        except CommandError as exc:
            self.show_error(exc.message)
            return None
        if self.run_request(request) is None:
            return None
        self.command.remember(text.strip())
        self.command.clear()
        return request

    def run_request(self, request: AssistRequest) -> str | None:
        """Start a lookup on the shown handoff; returns the entry key (None when nothing is open)."""
        if self.session is None or self.handoff_id is None:
            self.show_error("Open a handoff first.")
            return None
        self.error.hide()
        key = self.session.start_assist(request, handoff_id=self.handoff_id)
        if key is None:
            self.show_error("Open a handoff first.")
        else:
            self.cards_scroll.verticalScrollBar().setValue(0)
        return key

    def run_sku_lookup(self, kind: str, sku: str) -> str | None:
        """A packet card product link (Spec / Subs / Acc): the same lookup as the command."""
        return self.run_request(AssistRequest(kind=AssistKind(kind), skus=[sku]))

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    def cancel(self, key: str) -> None:
        if self.session is not None:
            self.session.cancel_assist(key)

    # --- completion ----------------------------------------------------------------------

    def _on_edited(self, text: str) -> None:
        self.error.hide()
        info = command_at_end(text)
        if text.startswith("/") and info.command is None:
            prefix = text.strip().lower()
            self._offer([c for c, _ in COMMAND_HELP if c.startswith(prefix)], info.word)
            return
        if not info.wants_sku:
            self._hide_popup()
            return
        self._offer(self._sku_candidates(info.word), info.word)
        if len(info.word) >= 2 and self.session is not None:
            self._debounce.start()  # ask the catalog once typing pauses

    def _sku_candidates(self, word: str) -> list[str]:
        """SKUs starting like the word (case and punctuation ignored): the packet's first."""
        w = _sku_key(word)
        packet = [s for s in self.packet_skus if _sku_key(s).startswith(w)]
        catalog = [
            s for s in dict.fromkeys(self._catalog_skus) if _sku_key(s).startswith(w) and s not in packet
        ]
        return packet + catalog

    def _offer(self, items: list[str], word: str) -> None:
        if not items or (len(items) == 1 and items[0].casefold() == word.casefold()):
            self._hide_popup()
            return
        self.completions.setStringList(items[:20])
        self.completer.setCompletionPrefix("")
        rect = self.command.rect()
        self.completer.complete(rect)

    def _ask_catalog(self) -> None:
        info = command_at_end(self.command.text())
        if info.wants_sku and len(info.word) >= 2 and self.session is not None:
            self.session.search_skus(info.word)

    def _on_sku_hits(self, prefix: str, hits: list[dict[str, Any]]) -> None:
        info = command_at_end(self.command.text())
        self._catalog_skus = [str(h.get("sku")) for h in hits if h.get("sku")]
        if info.wants_sku and _sku_key(info.word).startswith(_sku_key(prefix)) and self.command.isVisible():
            self._offer(self._sku_candidates(info.word), info.word)

    # --- documents -----------------------------------------------------------------------

    def open_document(self, entry: AssistEntry, citation: Citation) -> QDialog | None:
        """Open the ref when it is a URL or a file; else a non-modal view of what we know of it."""
        url = openable_url(citation.ref, self.document_folders)
        if url is not None:
            self.open_url(url)
            return None
        view = DocumentView(citation, document_details(entry, citation), self.window())
        view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        view.destroyed.connect(
            lambda _=None, v=view: self._documents.remove(v) if v in self._documents else None
        )
        self._documents.append(view)
        view.show()  # non-modal: the console keeps working
        return view

    @property
    def documents(self) -> list[DocumentView]:
        return list(self._documents)

    def sizeHint(self):
        hint = super().sizeHint()
        hint.setWidth(max(hint.width(), 340))
        return hint
