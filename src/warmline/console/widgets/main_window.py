"""The console's main window: queue | handoff (card, transcript, composer) | assistant.

It only wires widgets to the session; the session does the talking to the hub.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from warmline.console.client import ConnectionState
from warmline.console.session import Session
from warmline.console.theme import style_sheet
from warmline.console.widgets.assistant_panel import AssistantPanel
from warmline.console.widgets.composer import Composer
from warmline.console.widgets.elided_label import ElidedLabel
from warmline.console.widgets.history_view import HistoryView
from warmline.console.widgets.packet_card import PacketCard
from warmline.console.widgets.queue_view import QueuePanel
from warmline.console.widgets.shortcuts_dialog import ShortcutsDialog
from warmline.console.widgets.transcript_view import TranscriptView
from warmline.domain.models import Agent, HandoffDetail, HandoffStatus
from warmline.domain.skills import default_taxonomy

CONNECTION_TEXT = {
    ConnectionState.CONNECTING.value: ("Connecting…", "warn"),
    ConnectionState.CONNECTED.value: ("Connected", "ok"),
    ConnectionState.RECONNECTING.value: ("Reconnecting…", "warn"),
    ConnectionState.UNAUTHORIZED.value: ("Not authorised", "bad"),
    ConnectionState.STOPPED.value: ("Disconnected", "bad"),
}

OFFLINE_HINT = "Offline: replies are kept on this computer and sent when the hub is back."
QUEUE_OFFLINE = "Offline: the queue is not live; it catches up when the hub is back."
WINDOW_TITLE = "Warmline Console"


def _repolish(widget: QWidget) -> None:
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class Banner(QFrame):
    """A non-modal notice line above the handoff: who holds a claim, what failed, what worked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.label = QLabel("")
        self.label.setObjectName("bannerText")
        self.label.setWordWrap(True)
        close = QToolButton()
        close.setObjectName("bannerClose")
        close.setText("✕")
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.level = ""
        self.hide()

    def show_notice(self, level: str, text: str) -> None:
        self.level = level
        self.label.setText(text)
        self.setProperty("level", level)
        _repolish(self)
        self.show()
        if level in ("success", "info"):
            self._timer.start(5000)
        else:
            self._timer.stop()  # warnings and errors stay until dismissed or replaced


class MainWindow(QMainWindow):
    """Everything a specialist needs on one screen; closing it starts the one shutdown path."""

    closed = Signal()

    def __init__(self, session: Session, *, hub_url: str = "") -> None:
        super().__init__()
        self.session = session
        # The window owns the session, so both die on the GUI thread (a QObject left to Python's
        # cyclic GC can be destroyed on the hub's or the HTTP pool's thread and crash Qt).
        session.setParent(self)
        self.setObjectName("mainWindow")
        self.setWindowTitle("Warmline Console")
        self.resize(1440, 880)
        self.setStyleSheet(style_sheet())
        self._closed_once = False

        # --- panes ---
        self.queue_panel = QueuePanel(session.queue)
        self.card = PacketCard()
        self.transcript = TranscriptView(session.transcript)
        self.composer = Composer()
        self.assistant = AssistantPanel(session.assist)
        self.banner = Banner()

        self.claim_button = QPushButton("Claim")
        self.claim_button.setObjectName("primary")
        self.release_button = QPushButton("Release")
        self.resolve_button = QPushButton("Resolve")
        self.resolve_button.setObjectName("success")
        self.handoff_title = ElidedLabel("No handoff selected")  # a long name never widens the pane
        self.handoff_title.setObjectName("paneTitle")

        actions_row = QHBoxLayout()
        actions_row.setContentsMargins(16, 12, 16, 4)
        actions_row.addWidget(self.handoff_title, 1)
        for b in (self.release_button, self.resolve_button, self.claim_button):
            b.setCursor(Qt.CursorShape.PointingHandCursor)
            actions_row.addWidget(b)

        transcript_title = QLabel("Conversation")
        transcript_title.setObjectName("sectionHeader")
        convo = QWidget()
        convo.setObjectName("conversationPane")
        convo_layout = QVBoxLayout(convo)
        convo_layout.setContentsMargins(0, 0, 0, 0)
        convo_layout.setSpacing(0)
        convo_layout.addWidget(transcript_title)
        convo_layout.addWidget(self.transcript, 1)
        convo_layout.addWidget(self.composer)

        self.center_split = QSplitter(Qt.Orientation.Vertical)
        self.center_split.setObjectName("centerSplit")
        self.center_split.addWidget(self.card)
        self.center_split.addWidget(convo)
        self.center_split.setStretchFactor(0, 5)
        self.center_split.setStretchFactor(1, 6)
        self.center_split.setSizes([430, 470])
        self.center_split.setChildrenCollapsible(False)

        center = QWidget()
        center.setObjectName("centerPane")
        center_layout = QVBoxLayout(center)
        center_layout.setContentsMargins(0, 0, 0, 0)
        center_layout.setSpacing(0)
        center_layout.addLayout(actions_row)
        center_layout.addWidget(self.banner)
        center_layout.addWidget(self.center_split, 1)

        self.main_split = QSplitter(Qt.Orientation.Horizontal)
        self.main_split.setObjectName("mainSplit")
        self.main_split.addWidget(self.queue_panel)
        self.main_split.addWidget(center)
        self.main_split.addWidget(self.assistant)
        self.main_split.setSizes([620, 470, 350])  # the queue keeps its columns whole at 1280
        self.main_split.setStretchFactor(0, 4)
        self.main_split.setStretchFactor(1, 5)
        self.main_split.setStretchFactor(2, 2)
        self.setCentralWidget(self.main_split)

        # --- status bar ---
        self.connection_label = QLabel("")
        self.connection_label.setObjectName("connection")
        self.agent_label = QLabel(f"Hub {hub_url}" if hub_url else "")
        self.agent_label.setObjectName("muted")
        self.outbox_label = QLabel("")
        self.outbox_label.setObjectName("connection")
        self.outbox_label.setVisible(False)
        self.statusBar().addPermanentWidget(self.agent_label)
        self.statusBar().addPermanentWidget(self.outbox_label)
        self.statusBar().addPermanentWidget(self.connection_label)
        self._offline = True  # until the event stream is connected
        self.set_connection(ConnectionState.CONNECTING.value, "")

        self._build_actions()
        self._wire()
        self.update_actions()
        self.shortcuts_dialog: ShortcutsDialog | None = None
        self.history_view: HistoryView | None = None

    # --- actions and shortcuts ----------------------------------------------------------

    def _action(self, text: str, shortcut: str, slot, tip: str) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(f"{tip} ({shortcut})")
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.claim_action = self._action("&Claim", "Ctrl+Shift+C", self.session.claim, "Claim this handoff")
        self.release_action = self._action(
            "&Release", "Ctrl+Shift+R", self.session.release, "Release it back to the queue"
        )
        self.resolve_action = self._action("Resolve (&done)", "Ctrl+Shift+D", self.session.resolve, "Resolve")
        self.resolve_review_action = self._action(
            "Resolve with re&view…", "Ctrl+Alt+D", self.show_resolve_panel, "Resolve with outcome and review"
        )
        self.filter_action = self._action(
            "&Filter queue", "Ctrl+F", self.queue_panel.focus_filter, "Focus the queue filter"
        )
        self.expertise_action = self._action(
            "Toggle &expertise", "Ctrl+E", self.queue_panel.toggle_expertise, "My expertise / All"
        )
        self.focus_queue_action = self._action(
            "Focus &queue", "Ctrl+L", lambda: self.queue_panel.table.setFocus(), "Focus the queue"
        )
        self.assist_action = self._action(
            "&Assistant command", "Ctrl+K", self.assistant.focus_command, "Focus the assistant's command box"
        )
        self.retry_replies_action = self._action(
            "Retry &unsent replies",
            "Ctrl+Shift+U",
            self.session.retry_failed_replies,
            "Send this conversation's refused replies again",
        )
        self.history_action = self._action(
            "&History…", "Ctrl+H", self.show_history, "Find resolved and older conversations"
        )
        self.dashboard_action = self._action(
            "&Dashboard…", "Ctrl+Shift+M", self.show_dashboard, "Handoff quality: the seven measures"
        )
        self.help_action = self._action(
            "&Keyboard shortcuts", "F1", self.show_shortcuts, "Keyboard shortcuts"
        )

        menu = self.menuBar()
        handoff_menu = menu.addMenu("&Handoff")
        for a in (
            self.claim_action,
            self.release_action,
            self.resolve_action,
            self.resolve_review_action,
            self.retry_replies_action,
        ):
            handoff_menu.addAction(a)
        view_menu = menu.addMenu("&View")
        for a in (
            self.filter_action,
            self.expertise_action,
            self.focus_queue_action,
            self.assist_action,
            self.history_action,
            self.dashboard_action,
        ):
            view_menu.addAction(a)
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self.help_action)
        about = QAction("&About Warmline", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)

        for button, action in (
            (self.claim_button, self.claim_action),
            (self.release_button, self.release_action),
            (self.resolve_button, self.resolve_action),
        ):
            button.setToolTip(action.toolTip())
            button.clicked.connect(action.trigger)

    def show_shortcuts(self) -> None:
        """Non-blocking (open(), never exec(): qasync #59)."""
        if self.shortcuts_dialog is None:
            self.shortcuts_dialog = ShortcutsDialog(self)
        self.shortcuts_dialog.open()

    def show_history(self) -> HistoryView:
        """The History window (non-modal; one per main window)."""
        if self.history_view is None:
            self.history_view = HistoryView(self.session, self)
            self.history_view.open_requested.connect(self.open_past)
        self.history_view.show()
        self.history_view.raise_()
        return self.history_view

    def show_resolve_panel(self) -> QWidget | None:
        """Outcome and review, then resolve (warmline.console.widgets.resolve_panel); only on a
        handoff I hold."""
        from warmline.console.widgets.resolve_panel import ResolvePanel

        if self.session.current is None or not self.session.is_mine():
            return None
        if getattr(self, "resolve_panel", None) is None:
            self.resolve_panel = ResolvePanel(self.session, self)
        self.resolve_panel.prepare()
        self.resolve_panel.open()
        return self.resolve_panel

    def show_dashboard(self) -> QWidget:
        """The Dashboard window (non-modal; one per main window; warmline.console.widgets.dashboard)."""
        from warmline.console.widgets.dashboard import DashboardView

        if getattr(self, "dashboard_view", None) is None:
            self.dashboard_view = DashboardView(self.session, self)
        self.dashboard_view.show()
        self.dashboard_view.raise_()
        return self.dashboard_view

    def open_past(self, handoff_id: str) -> None:
        """Show a handoff found in the History window (in the queue or not)."""
        if not self.queue_panel.select_id(handoff_id):
            self.queue_panel.forget_selection()
            self.session.select(handoff_id)

    def show_about(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("About Warmline")
        box.setText("Warmline console — warm AI-to-human handoffs for B2B product conversations.")
        box.open()

    # --- wiring ---------------------------------------------------------------------------

    def _wire(self) -> None:
        s = self.session
        self.queue_panel.handoff_selected.connect(s.select)
        s.connection_changed.connect(self.set_connection)
        s.signed_in.connect(self.on_signed_in)
        s.queue_loaded.connect(self.on_queue_loaded)
        s.current_changed.connect(self.on_current_changed)
        s.current_state_changed.connect(self.on_current_state_changed)
        s.notice.connect(self.notify)
        s.reply_sent.connect(self.composer.on_sent)
        s.reply_failed.connect(self.composer.on_failed)
        s.reply_queued.connect(self.composer.on_sent)  # safe in the outbox: clear the box
        s.outbox_changed.connect(self.set_outbox)
        self.transcript.retry_requested.connect(s.retry_reply)
        self.transcript.discard_requested.connect(s.discard_reply)
        self.transcript.copied.connect(lambda _text: self.notify("info", "Reply text copied."))
        self.composer.send_requested.connect(s.send)
        self.composer.edit.textChanged.connect(self._typing)  # the buyer's web widget shows it
        s.buyer_typing.connect(self.show_buyer_typing)
        self.card.turn_clicked.connect(self.transcript.jump_to_seq)
        s.attention.total_changed.connect(self.show_unread)
        s.acted.connect(self.after_action)
        s.reopened.connect(self.open_past)
        self.assistant.attach(s)
        self.assistant.insert_requested.connect(self.insert_into_reply)
        self.assistant.notice.connect(self.notify)
        self.assistant.return_focus.connect(self.composer.edit.setFocus)
        self.card.assist_requested.connect(self.assistant.run_sku_lookup)

    def set_connection(self, state: str, detail: str) -> None:
        text, level = CONNECTION_TEXT.get(state, (state, "warn"))
        stream = self.session.stream
        if state == ConnectionState.RECONNECTING.value and stream is not None and stream.next_retry_at:
            text += " next try " + time.strftime("%H:%M:%S", time.localtime(stream.next_retry_at))
        self.connection_label.setText(f"●  {text}")
        self.connection_label.setProperty("level", level)
        self.connection_label.setToolTip(detail or text)
        _repolish(self.connection_label)
        offline = state != ConnectionState.CONNECTED.value
        self.queue_panel.set_offline(offline and self.session.loaded, QUEUE_OFFLINE)
        self.composer.set_offline(offline and self.session.loaded, OFFLINE_HINT)
        if offline != self._offline:
            self._offline = offline
            self.update_actions()  # the composer says replies will wait

    @property
    def connection_text(self) -> str:
        return self.connection_label.text()

    def set_outbox(self, waiting: int, failed: int) -> None:
        """Status bar: replies still in the outbox (waiting for the hub, or refused)."""
        parts = []
        if waiting:
            parts.append(f"{waiting} {'reply' if waiting == 1 else 'replies'} waiting to send")
        if failed:
            parts.append(f"{failed} not sent")
        self.outbox_label.setText(" · ".join(parts))
        self.outbox_label.setProperty("level", "bad" if failed else "warn")
        self.outbox_label.setVisible(bool(parts))
        _repolish(self.outbox_label)

    def on_signed_in(self, agent: Agent) -> None:
        taxonomy = default_taxonomy()
        skills = "all skills" if agent.all_skills else ", ".join(taxonomy.label(k) for k in agent.skills)
        self.agent_label.setText(f"Signed in as {agent.display_name or agent.name} · {skills}")

    def on_queue_loaded(self) -> None:
        if self.session.current_id is None:
            self.queue_panel.select_first()

    def show_unread(self, total: int) -> None:
        """The window title counts unread buyer turns in the conversations I hold."""
        self.setWindowTitle(f"({total}) {WINDOW_TITLE}" if total else WINDOW_TITLE)

    def after_action(self, action: str, handoff_id: str) -> None:
        """After Resolve the next handoff is shown (the one now where the resolved one was)."""
        if action == "resolve" and self.session.current_id == handoff_id:
            self.queue_panel.select_near(self.queue_panel.last_removed_row)

    def on_current_changed(self, detail: HandoffDetail | None) -> None:
        if detail is None and self.banner.level != "error":
            self.banner.hide()  # a notice about the previous handoff ("Claimed: …") is stale now
        if detail is None:
            if self.session.current_id:
                self.card.show_placeholder("Loading…")
                summary = self.session.queue.summary(self.session.current_id)
                self.handoff_title.setText(summary.buyer_company if summary else "")
            else:
                self.card.show_placeholder("Select a handoff in the queue.")
                self.handoff_title.setText("No handoff selected")
        else:
            self.card.show_handoff(detail, self.session.me)
            self.handoff_title.setText(detail.buyer_company or detail.conversation.buyer.company or "Handoff")
        self.update_actions()

    def on_current_state_changed(self, detail: HandoffDetail) -> None:
        self.card.update_state(detail, self.session.me)
        self.update_actions()

    def update_actions(self) -> None:
        """Buttons and composer follow who holds the current handoff."""
        current = self.session.current
        mine = self.session.is_mine()
        queued = current is not None and current.status == HandoffStatus.QUEUED
        self.claim_action.setEnabled(queued)
        self.release_action.setEnabled(mine)
        self.resolve_action.setEnabled(mine)
        self.claim_button.setEnabled(queued)
        self.release_button.setEnabled(mine)
        self.resolve_button.setEnabled(mine)
        self.claim_button.setVisible(not mine)
        if current is None:
            self.composer.set_allowed(False, "Select a handoff to read its conversation.")
        elif mine:
            self.composer.set_allowed(True, "")  # offline: the strip over the composer says so
        elif current.status == HandoffStatus.RESOLVED:
            self.composer.set_allowed(False, "This handoff is resolved.")
        elif current.claimed_by is not None:
            self.composer.set_allowed(
                False, f"{current.claimed_by.name} is handling this conversation; you can read along."
            )
        else:
            self.composer.set_allowed(
                False, "Claim this handoff (Ctrl+Shift+C) to reply. Others can read the thread."
            )

    def insert_into_reply(self, text: str) -> None:
        """The assistant's "Insert into reply": at the composer's cursor (clipboard if I cannot reply)."""
        if not self.composer.insert_text(text):
            QApplication.clipboard().setText(text)
            self.notify("info", "Claim the handoff to reply; the text is on the clipboard for now.")

    def _typing(self) -> None:
        if self.composer.edit.toPlainText().strip():
            self.session.typing()

    def show_buyer_typing(self, conversation_id: str) -> None:
        """The buyer is typing in the open conversation (web widget): say so for a few seconds."""
        current = self.session.current
        if current is not None and current.conversation_id == conversation_id:
            self.statusBar().showMessage("The buyer is typing…", 6000)

    def notify(self, level: str, text: str) -> None:
        self.banner.show_notice(level, text)
        self.statusBar().showMessage(text, 8000)

    # --- the way out ----------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing starts the one shutdown path (the app awaits `closed`)."""
        event.accept()
        if not self._closed_once:
            self._closed_once = True
            self.closed.emit()
