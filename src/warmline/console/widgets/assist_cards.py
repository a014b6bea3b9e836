"""Result cards for the assistant panel: one light card per lookup, built from an AssistEntry.

Cheap by design: a card is a handful of QLabels with rich text (a small QTableWidget for
comparisons, sized from its content once). Progress updates touch only the progress bar and
the status line; the body is built once, when the job finishes (and again only if the user
asks to "show more"). Nothing here speaks HTTP: buttons emit signals the panel routes.
The bodies per kind are in ``assist_bodies``; the text "Insert into reply" gives the buyer
is ``warmline.console.reply_text``.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from warmline.console.assist_commands import describe
from warmline.console.models.assist_model import REFUSED, AssistEntry
from warmline.console.reply_text import buyer_text
from warmline.console.widgets.assist_bodies import (
    BAD,
    BODY,
    KIND_LABELS,
    LINK,
    MUTED,
    _m,
    draft_html,
    status_text,
    text_html,
)
from warmline.console.widgets.elided_label import FlowLayout
from warmline.console.widgets.wrap_label import WrapLabel
from warmline.domain.assist import AssistKind, AssistRequest, AssistStatus, Citation

__all__ = ["KIND_LABELS", "AssistCard", "WrapLabel", "status_text"]


class AssistCard(QFrame):
    """One lookup: kind, title, progress and cancel while it runs; result, sources and actions after."""

    insert_requested = Signal(str)  # text for the composer
    cancel_requested = Signal(str)  # entry key
    run_requested = Signal(object)  # AssistRequest (retry, "did you mean", a SKU link)
    document_requested = Signal(object, object)  # AssistEntry, Citation
    copied = Signal(str)

    def __init__(self, entry: AssistEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("assistCard")
        self.entry = entry
        self.expanded = False
        self._rendered_status: str | None = None
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(0)

        self.kind_label = QLabel(KIND_LABELS[entry.request.kind])
        self.kind_label.setObjectName("assistKind")
        self.kind_label.setProperty("kind", entry.request.kind.value)
        self.title = WrapLabel()
        self.title.setObjectName("assistTitle")
        self.cancel_button = QToolButton()
        self.cancel_button.setObjectName("assistCancel")
        self.cancel_button.setText("✕")
        self.cancel_button.setToolTip("Cancel this lookup")
        self.cancel_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.cancel_button.clicked.connect(lambda: self.cancel_requested.emit(self.entry.key))

        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.setSpacing(6)
        head.addWidget(self.kind_label, 0, Qt.AlignmentFlag.AlignTop)
        head.addWidget(self.title, 1)
        head.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignTop)

        self.status = QLabel()
        self.status.setObjectName("assistStatus")
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.progress = QProgressBar()
        self.progress.setObjectName("assistProgress")
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(4)

        self.body = WrapLabel()
        self.body.setObjectName("assistBody")
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextBrowserInteraction | Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.body.linkActivated.connect(self._on_link)
        self.body.hide()
        self.table: QTableWidget | None = None

        self.more_button = QToolButton()
        self.more_button.setObjectName("assistMore")
        self.more_button.setText("Show more")
        self.more_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.more_button.clicked.connect(self.toggle_more)
        self.more_button.hide()

        self.sources = WrapLabel()
        self.sources.setObjectName("assistSources")
        self.sources.setTextFormat(Qt.TextFormat.RichText)
        self.sources.linkActivated.connect(self._on_link)
        self.sources.hide()

        self.insert_button = QPushButton("Insert into reply")
        self.insert_button.setObjectName("assistInsert")
        self.insert_button.setToolTip("Put a buyer-ready version of this result into the reply at the cursor")
        self.insert_button.clicked.connect(self._insert)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setObjectName("assistAction")
        self.copy_button.clicked.connect(self._copy)
        self.open_button = QPushButton("Open document")
        self.open_button.setObjectName("assistAction")
        self.open_button.clicked.connect(self._open_first)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setObjectName("assistAction")
        self.retry_button.clicked.connect(lambda: self.run_requested.emit(self.entry.request))
        for b in (self.insert_button, self.copy_button, self.open_button, self.retry_button):
            b.setCursor(Qt.CursorShape.PointingHandCursor)
        self.actions_row = QWidget()
        actions = FlowLayout(self.actions_row, spacing=6)  # buttons wrap whole in a narrow panel
        actions.setContentsMargins(0, 2, 0, 0)
        actions.addWidget(self.insert_button)
        actions.addWidget(self.copy_button)
        actions.addWidget(self.open_button)
        actions.addWidget(self.retry_button)
        self.actions_row.hide()

        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(10, 8, 10, 8)
        self._layout.setSpacing(4)
        self._layout.addLayout(head)
        self._layout.addWidget(self.status)
        self._layout.addWidget(self.progress)
        self._layout.addWidget(self.body)
        self._layout.addWidget(self.more_button, 0, Qt.AlignmentFlag.AlignLeft)
        self._layout.addWidget(self.sources)
        self._layout.addWidget(self.actions_row)
        self.update_entry(entry)

    # --- state ---------------------------------------------------------------------------

    @property
    def key(self) -> str:
        return self.entry.key

    @property
    def shown_status(self) -> str | None:
        """The status the card shows now (the entry may already be ahead, until the panel's pump runs)."""
        return self._rendered_status

    @property
    def citations(self) -> list[Citation]:
        job = self.entry.job
        return list(job.result.citations) if job and job.result else []

    def needs_body(self, entry: AssistEntry) -> bool:
        """Would this update rebuild the body (a new status), not just the status line?"""
        return entry.status != self._rendered_status

    def update_entry(self, entry: AssistEntry) -> None:
        """Cheap on progress (status line + bar); builds the body once per new status."""
        self.entry = entry
        status = entry.status
        job = entry.job
        title = job.result.title if job and job.result else describe(entry.request)
        if self.title.text() != title:
            self.title.setText(title)
            self.title.setToolTip(describe(entry.request))
        text = status_text(entry)
        if entry.auto and status not in (AssistStatus.DONE.value,):
            text += " · opened with the handoff"
        self.status.setText(text)
        self.setProperty("status", status)
        active = entry.active
        self.progress.setVisible(active)
        if active:
            if job is None or job.status is AssistStatus.QUEUED:
                self.progress.setRange(0, 0)  # busy indicator until there is a number
            else:
                self.progress.setRange(0, 100)
                self.progress.setValue(round(job.progress * 100))
        self.cancel_button.setVisible(active and not entry.cancel_requested)
        if status != self._rendered_status:
            self._rendered_status = status
            self._render_body()
            self.style().unpolish(self)
            self.style().polish(self)

    def _render_body(self) -> None:
        entry, job = self.entry, self.entry.job
        kind = entry.request.kind
        self.more_button.hide()
        self.sources.hide()
        self.actions_row.hide()
        if entry.status == REFUSED:
            html = (
                f'<span style="color:{BAD};">{escape(entry.error or "The hub refused this lookup.")}</span>'
            )
            if entry.closest:
                links = " ".join(
                    f'<a href="closest:{escape(s)}" style="color:{LINK};">{escape(s)}</a>'
                    for s in entry.closest
                )
                html += f"<br>Did you mean: {links}"
            self._set_body(html)
            self._show_actions(retry=False)
            return
        if job is None or not job.status.finished:
            self.body.hide()
            return
        if job.status is AssistStatus.FAILED:
            self._set_body(f'<span style="color:{BAD};">{escape(job.error or "The lookup failed.")}</span>')
            self._show_actions(retry=True)
            return
        if job.status is AssistStatus.CANCELLED:
            self._set_body(_m("Cancelled before it finished."))
            self._show_actions(retry=True)
            return
        result = job.result
        if result is None:
            self._set_body(_m("Finished without a result."))
            return
        # (a comparison too: stacked blocks that wrap in a narrow panel, never a sideways table)
        if kind is AssistKind.DRAFT:
            html, truncated = draft_html(result.data, result.text, self.expanded)
        elif kind in BODY and result.data:
            html, truncated = BODY[kind](result.data, self.expanded)
        else:
            html, truncated = text_html(result.text, self.expanded)
        self._set_body(html)
        self.more_button.setVisible(truncated or self.expanded)
        self.more_button.setText("Show less" if self.expanded else "Show more")
        cites = result.citations
        if cites:
            shown = cites if self.expanded else cites[:4]
            links = " · ".join(
                f'<a href="doc:{i}" style="color:{MUTED};">{escape(c.title)}</a>' for i, c in enumerate(shown)
            )
            extra = f" · +{len(cites) - len(shown)}" if len(cites) > len(shown) else ""
            self.sources.setText(f'<span style="color:{MUTED};">Sources: </span>{links}{extra}')
            self.sources.show()
        self._show_actions(retry=False, done=True)

    def _set_body(self, html: str) -> None:
        self.body.setText(html)
        self.body.show()

    def _show_actions(self, *, retry: bool, done: bool = False) -> None:
        has_text = done and bool(self.entry.job and self.entry.job.result and self.entry.job.result.text)
        self.insert_button.setVisible(has_text and bool(self.reply_text()))
        self.copy_button.setVisible(has_text)
        cites = self.citations if done else []
        self.open_button.setVisible(bool(cites))
        if len(cites) > 1:
            menu = QMenu(self.open_button)
            for c in cites:
                action = menu.addAction(f"{c.title}  ·  {c.kind}" if c.kind else c.title)
                action.triggered.connect(lambda _=False, c=c: self.document_requested.emit(self.entry, c))
            self.open_button.setMenu(menu)
            self.open_button.setText("Open document")
        elif self.open_button.menu() is not None:
            self.open_button.setMenu(None)  # type: ignore[arg-type]  # None removes it
            self.open_button.setText("Open document")
        self.retry_button.setVisible(retry)
        self.actions_row.setVisible(has_text or bool(cites) or retry)

    # --- actions -------------------------------------------------------------------------

    def toggle_more(self) -> None:
        self.expanded = not self.expanded
        self._render_body()

    def result_text(self) -> str:
        job = self.entry.job
        return job.result.text if job and job.result else ""

    def reply_text(self) -> str:
        """What "Insert into reply" gives the buyer: SKUs, the facts that answer, document links."""
        job = self.entry.job
        return buyer_text(self.entry.request.kind, job.result if job else None)

    def _insert(self) -> None:
        if text := self.reply_text():
            self.insert_requested.emit(text)

    def _copy(self) -> None:
        text = self.result_text()
        if text:
            QGuiApplication.clipboard().setText(text)
            self.copied.emit(text)

    def _open_first(self) -> None:
        cites = self.citations
        if len(cites) == 1:
            self.document_requested.emit(self.entry, cites[0])
        elif cites and self.open_button.menu() is not None:
            self.open_button.showMenu()

    def _on_link(self, href: str) -> None:
        if href.startswith("doc:"):
            i = int(href.split(":", 1)[1])
            cites = self.citations
            if 0 <= i < len(cites):
                self.document_requested.emit(self.entry, cites[i])
        elif href.startswith("closest:"):
            sku = href.split(":", 1)[1]
            self.run_requested.emit(_with_sku(self.entry.request, self.entry.error or "", sku))
        elif href.startswith("assist:"):
            _, kind, sku = href.split(":", 2)
            self.run_requested.emit(AssistRequest(kind=AssistKind(kind), skus=[sku]))


def _with_sku(request: AssistRequest, error: str, sku: str) -> AssistRequest:
    """The same request with the unknown SKU (the one the error names, else the first) replaced."""
    skus = list(request.skus)
    bad = next((s for s in skus if f"'{s}'" in error or f'"{s}"' in error), skus[0] if skus else None)
    skus = [sku if s == bad else s for s in skus] if bad is not None else [sku]
    return request.model_copy(update={"skus": skus})
