"""Result cards for the assistant panel: one light card per lookup, built from an AssistEntry.

Cheap by design: a card is a handful of QLabels with rich text (a small QTableWidget for
comparisons, sized from its content once). Progress updates touch only the progress bar and
the status line; the body is built once, when the job finishes (and again only if the user
asks to "show more"). Nothing here speaks HTTP: buttons emit signals the panel routes.

Result ``data`` is read as plain dicts (the catalog's types stay on the hub's side of the
wire), tolerant of missing keys.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from warmline.console.assist_commands import describe
from warmline.console.models.assist_model import REFUSED, SUBMITTING, AssistEntry
from warmline.domain.assist import AssistKind, AssistRequest, AssistStatus, Citation

KIND_LABELS: dict[AssistKind, str] = {
    AssistKind.SPEC: "Spec sheet",
    AssistKind.SUBSTITUTES: "Substitutes",
    AssistKind.ACCESSORIES: "Accessories",
    AssistKind.COMPARE: "Compare",
    AssistKind.SUMMARY: "Summary",
    AssistKind.DRAFT: "Draft reply",
    AssistKind.SEARCH: "Search",
}

MUTED = "#6B7280"
GOOD = "#15803D"
BAD = "#B91C1C"
UNKNOWN = "#6B7280"
DIFF_BG = "#FEF3C7"
LINK = "#4F46E5"

# rows shown before "Show more", per kind
COLLAPSED = {"attributes": 6, "candidates": 3, "items": 5, "hits": 5, "points": 5, "rows": 8, "text": 600}

VERDICT_MARKS = {
    "meets": ("✓", GOOD, "meets"),
    "fails": ("✗", BAD, "fails"),
    "unknown": ("?", UNKNOWN, "unknown"),
}


def _m(text: str) -> str:
    return f'<span style="color:{MUTED};">{escape(text)}</span>'


def _sku(sku: str, *, link: str | None = None) -> str:
    inner = f'<span style="font-family:monospace; font-weight:600;">{escape(sku)}</span>'
    if link:
        return f'<a href="{escape(link)}" style="color:{LINK}; text-decoration:none;">{inner}</a>'
    return inner


def _lifecycle(status: str | None, superseded_by: str | None = None) -> str:
    if not status or status == "active":
        return ""
    text = status if not superseded_by else f"{status} → {superseded_by}"
    return f' <span style="color:{BAD}; font-size:small;">{escape(text)}</span>'


def _more(shown: int, total: int, what: str) -> str:
    return f"<br>{_m(f'… {total - shown} more {what}')}" if total > shown else ""


# --- bodies per kind: (html, truncated?) -------------------------------------------------------


def spec_html(data: dict[str, Any], full: bool) -> tuple[str, bool]:
    parts: list[str] = []
    truncated = False
    sheets = data.get("sheets") or []
    for sheet in sheets:
        product = sheet.get("product") or {}
        sku = product.get("sku", "?")
        head = f"{_sku(sku)} {escape(product.get('name', ''))}"
        head += _lifecycle(product.get("status"), sheet.get("superseded_by") or product.get("superseded_by"))
        lines = [head]
        attrs = sheet.get("attributes") or []
        limit = len(attrs) if full else COLLAPSED["attributes"]
        for a in attrs[:limit]:
            value = escape(str(a.get("value", "")))
            unit = a.get("unit") or ""
            if unit and not value.endswith(unit):
                value += f" {escape(unit)}"
            flag = ""
            if a.get("conflict"):
                flag = f' <span style="color:{BAD};" title="sources disagree">⚠ sources disagree</span>'
            elif a.get("marketing_only"):
                flag = " " + _m("(marketing only)")
            lines.append(f"{_m(a.get('label') or a.get('name', ''))}&nbsp; <b>{value}</b>{flag}")
        if len(attrs) > limit:
            truncated = True
            lines.append(_m(f"… {len(attrs) - limit} more attributes"))
        for c in sheet.get("conflicts") or []:
            if full or len(sheets) == 1:
                lines.append(f'<span style="color:{BAD};">⚠ {escape(c.get("note", ""))}</span>')
        if sheet.get("evidence") == "marketing_only":
            lines.append(f'<span style="color:{BAD};">Only marketing copy: no technical source.</span>')
        elif sheet.get("evidence") == "none":
            lines.append(f'<span style="color:{BAD};">No documents on file.</span>')
        parts.append("<br>".join(lines))
    if not sheets:
        return _m("No spec sheet came back."), False
    return "<br><br>".join(parts), truncated


def verdict_line(v: dict[str, Any]) -> str:
    mark, color, word = VERDICT_MARKS.get(str(v.get("verdict")), ("?", UNKNOWN, "unknown"))
    text = escape(v.get("constraint") or v.get("attribute") or "")
    actual = v.get("actual")
    detail = f" — {escape(str(actual))}" if actual else (" — not stated" if word == "unknown" else "")
    implicit = " " + _m("(from the original)") if v.get("implicit") else ""
    return (
        f'<span style="color:{color}; font-weight:700;" title="{word}">{mark}</span> '
        f'<span style="color:{color};">{text}</span>{_m(detail) if detail else ""}{implicit}'
    )


def subs_html(data: dict[str, Any], full: bool) -> tuple[str, bool]:
    cands = data.get("candidates") or []
    constraints = data.get("constraints") or []
    lines = [
        f"For {_sku(str(data.get('sku', '')))}" + (_m(" · " + ", ".join(constraints)) if constraints else "")
    ]
    if not cands:
        lines.append(_m("No substitutes found in the catalog."))
        return "<br>".join(lines), False
    limit = len(cands) if full else COLLAPSED["candidates"]
    for c in cands[:limit]:
        p = c.get("product") or {}
        verdicts = c.get("verdicts") or []
        counts = {k: sum(1 for v in verdicts if v.get("verdict") == k) for k in ("meets", "fails", "unknown")}
        tally = " ".join(
            f'<span style="color:{VERDICT_MARKS[k][1]};">{VERDICT_MARKS[k][0]}{n}</span>'
            for k, n in counts.items()
            if n
        )
        head = (
            f"<b>{c.get('rank', '')}.</b> {_sku(p.get('sku', '?'), link='assist:spec:' + p.get('sku', ''))}"
        )
        head += f" {escape(p.get('name', ''))}{_lifecycle(p.get('status'), p.get('superseded_by'))}"
        if c.get("via_supersession"):
            head += " " + _m("(named successor)")
        if tally:
            head += f"&nbsp;&nbsp;{tally}"
        block = [head]
        block += [f"&nbsp;&nbsp;&nbsp;{verdict_line(v)}" for v in verdicts]
        note = c.get("confidence_note") or c.get("why")
        if note:
            block.append("&nbsp;&nbsp;&nbsp;" + _m(note))
        lines.append("<br>".join(block))
    more = _more(limit, len(cands), "candidates")
    return "<br>".join(lines[:1]) + "<br>" + "<br>".join(lines[1:]) + more, len(cands) > limit


def acc_html(data: dict[str, Any], full: bool) -> tuple[str, bool]:
    items = data.get("items") or []
    if not items:
        return _m("No accessories or complements on file."), False
    limit = len(items) if full else COLLAPSED["items"]
    labels = {"accessory_of": "accessory", "compatible_with": "compatible", "family_rule": "family rule"}
    rows = []
    for it in items[:limit]:
        p = it.get("product") or {}
        line = (
            f"{_sku(p.get('sku', '?'), link='assist:spec:' + p.get('sku', ''))} {escape(p.get('name', ''))}"
        )
        line += _lifecycle(p.get("status"), p.get("superseded_by"))
        meta = [labels.get(str(it.get("relation")), str(it.get("relation") or ""))]
        if it.get("note"):
            meta.append(str(it["note"]))
        rows.append(line + " " + _m("· " + " · ".join(m for m in meta if m)))
    return "<br>".join(rows) + _more(limit, len(items), "items"), len(items) > limit


def search_html(data: dict[str, Any], full: bool) -> tuple[str, bool]:
    hits = data.get("hits") or []
    if not hits:
        return _m("Nothing in the catalog matches."), False
    limit = len(hits) if full else COLLAPSED["hits"]
    rows = []
    for h in hits[:limit]:
        line = (
            f"{_sku(h.get('sku', '?'), link='assist:spec:' + h.get('sku', ''))} {escape(h.get('name', ''))}"
        )
        line += _lifecycle(h.get("status")) + " " + _m("· " + str(h.get("family", "")))
        if h.get("snippet"):
            line += "<br>&nbsp;&nbsp;" + _m(str(h["snippet"])[:160])
        rows.append(line)
    return "<br>".join(rows) + _more(limit, len(hits), "hits"), len(hits) > limit


def summary_html(data: dict[str, Any], full: bool) -> tuple[str, bool]:
    doc = data.get("document") or {}
    head = f"<b>{escape(doc.get('title', ''))}</b>"
    if doc.get("kind"):
        head += " " + _m("· " + str(doc["kind"]))
    points = data.get("points") or []
    limit = len(points) if full else COLLAPSED["points"]
    rows = [head] + [f"&#8226; {escape(p)}" for p in points[:limit]]
    return "<br>".join(rows) + _more(limit, len(points), "points"), len(points) > limit


def text_html(text: str, full: bool) -> tuple[str, bool]:
    limit = len(text) if full else COLLAPSED["text"]
    body = escape(text[:limit]).replace("\n", "<br>")
    if len(text) > limit:
        body += "…"
    return body, len(text) > limit


def draft_html(data: dict[str, Any], text: str, full: bool) -> tuple[str, bool]:
    body, truncated = text_html(text, full)
    grounded = data.get("grounded")
    if grounded is False:
        note = f'<span style="color:{BAD};">Not grounded in the catalog: check before sending.</span>'
    else:
        note = _m("Grounded in the packet and the catalog")
    if data.get("phrased_by"):
        note += _m(f" · phrased by {data['phrased_by']}")
    return f"{note}<br>{body}", truncated


def compare_rows(data: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    return list(data.get("skus") or []), list(data.get("rows") or [])


BODY: dict[AssistKind, Callable[[dict[str, Any], bool], tuple[str, bool]]] = {
    AssistKind.SPEC: spec_html,
    AssistKind.SUBSTITUTES: subs_html,
    AssistKind.ACCESSORIES: acc_html,
    AssistKind.SEARCH: search_html,
    AssistKind.SUMMARY: summary_html,
}


def status_text(entry: AssistEntry) -> str:
    """'Queued', 'Running 40% · reading datasheets', 'Done in 0.4 s', 'Failed', 'Cancelled'."""
    s = entry.status
    if s == SUBMITTING:
        return "Cancelling…" if entry.cancel_requested else "Sending…"
    if s == REFUSED:
        return "Refused"
    job = entry.job
    assert job is not None
    if job.status is AssistStatus.QUEUED:
        return "Cancelling…" if entry.cancel_requested else "Queued"
    if job.status is AssistStatus.RUNNING:
        pct = f" {round(job.progress * 100)}%" if job.progress else ""
        stage = f" · {job.stage}" if job.stage else ""
        return ("Cancelling…" if entry.cancel_requested else f"Running{pct}") + stage
    if job.status is AssistStatus.DONE:
        took = ""
        if job.finished_at is not None:
            secs = max(0.0, (job.finished_at - job.created_at).total_seconds())
            took = f" in {secs:.1f} s" if secs < 60 else f" in {secs / 60:.0f} min"
            if secs < 0.05:
                took = " in under 0.1 s"
        return f"Done{took}"
    if job.status is AssistStatus.FAILED:
        return "Failed"
    return "Cancelled"


class WrapLabel(QLabel):
    """A word-wrapped label whose height is worked out once per width, not in every layout pass.

    A wrapped QLabel reports height-for-width, so each layout pass of the card list (one per
    new card) lays its rich text out again, for every card; with twenty results that is the
    GUI thread's biggest cost. This one tells the layout a fixed height instead, recomputed
    only when its text or its width changes.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._fitted_width = -1
        if text:
            self.setText(text)

    def hasHeightForWidth(self) -> bool:
        return False

    def setText(self, text: str) -> None:
        super().setText(text)
        self._fitted_width = -1
        if self.width() > 0 and self.isVisible():
            self._fit(self.width())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.size().width() != self._fitted_width:
            self._fit(event.size().width())

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._fitted_width != self.width():
            self._fit(self.width())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fitted_width = -1  # polished (style sheet font) after the first fit: fit again
            if self.isVisible() and self.width() > 0:
                self._fit(self.width())

    def _fit(self, width: int) -> None:
        if width <= 0:
            return
        self._fitted_width = width
        height = max(1, super().heightForWidth(width))
        if height != self.minimumHeight() or height != self.maximumHeight():
            self.setFixedHeight(height)


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
        self.insert_button.setToolTip("Put this result's text into the reply at the cursor")
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
        actions = QHBoxLayout(self.actions_row)
        actions.setContentsMargins(0, 2, 0, 0)
        actions.setSpacing(6)
        actions.addWidget(self.insert_button)
        actions.addWidget(self.copy_button)
        actions.addWidget(self.open_button)
        actions.addWidget(self.retry_button)
        actions.addStretch(1)
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
        if kind is AssistKind.COMPARE:
            self._render_compare(result.data)
            truncated = False
        else:
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
        self.insert_button.setVisible(has_text)
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
            self.open_button.setMenu(None)
            self.open_button.setText("Open document")
        self.retry_button.setVisible(retry)
        self.actions_row.setVisible(has_text or bool(cites) or retry)

    def _render_compare(self, data: dict[str, Any]) -> None:
        skus, rows = compare_rows(data)
        if not rows:
            self._set_body(_m("Nothing to compare came back."))
            return
        self.body.setText(_m(f"{sum(1 for r in rows if r.get('differs'))} of {len(rows)} attributes differ"))
        self.body.show()
        if self.table is None:
            table = QTableWidget(len(rows), len(skus) + 1)
            table.setObjectName("assistCompare")
            table.setHorizontalHeaderLabels(["", *skus])
            table.verticalHeader().hide()
            table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
            table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            table.setWordWrap(False)
            # never wider than the card: a wide comparison scrolls sideways inside it
            table.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
            table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            diff = QColor(DIFF_BG)
            for r, row in enumerate(rows):
                label = QTableWidgetItem(str(row.get("label") or row.get("attribute") or ""))
                label.setForeground(QColor(MUTED))
                table.setItem(r, 0, label)
                values = row.get("values") or []
                for c in range(len(skus)):
                    v = values[c] if c < len(values) else None
                    item = QTableWidgetItem("—" if v is None else str(v))
                    if v is None:
                        item.setForeground(QColor(UNKNOWN))
                        item.setToolTip("unknown: no source states it")
                    if row.get("differs"):
                        item.setBackground(diff)
                        font = item.font()
                        font.setBold(True)
                        item.setFont(font)
                    table.setItem(r, c + 1, item)
            # sized from content once: a handful of rows and at most 5 columns
            header = table.horizontalHeader()
            header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
            table.resizeColumnsToContents()
            table.resizeRowsToContents()
            height = header.height() + sum(table.rowHeight(r) for r in range(len(rows))) + 4
            table.setFixedHeight(
                height + (table.horizontalScrollBar().sizeHint().height() if len(skus) > 2 else 0)
            )
            self.table = table
            self._layout.insertWidget(self._layout.indexOf(self.body) + 1, table)

    # --- actions -------------------------------------------------------------------------

    def toggle_more(self) -> None:
        self.expanded = not self.expanded
        self._render_body()

    def result_text(self) -> str:
        job = self.entry.job
        return job.result.text if job and job.result else ""

    def _insert(self) -> None:
        if text := self.result_text():
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
