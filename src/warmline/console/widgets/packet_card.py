"""The handoff packet as a card: why, goal, products, constraints, documents, notes, unresolved.

Items that came from a transcript turn carry a small "msg N" link; clicking it asks the
transcript to jump to and highlight that message. "Why it was handed off" is written for the
specialist (the product AI's words to the buyer are quoted, not used as the reason), signal
names are shown in words, and the chip rows wrap instead of being cut off.
"""

from __future__ import annotations

import re
from html import escape

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from warmline.console.theme import PRIORITY_COLORS, PRIORITY_LABELS, REASON_COLORS
from warmline.console.widgets.elided_label import FlowLayout
from warmline.domain.models import Agent, HandoffDetail, HandoffStatus
from warmline.domain.packet import HandoffPacket, ReasonCategory
from warmline.domain.skills import default_taxonomy

MUTED = "#6B7280"

# What each reason asks of the specialist (the packet's summary is often the AI's words to the buyer).
REASON_FOR_SPECIALIST: dict[ReasonCategory, str] = {
    ReasonCategory.LOW_CONFIDENCE: "The product AI could not answer with enough confidence; check the facts.",
    ReasonCategory.LIVE_DATA: "The buyer needs live account data (price, stock, lead time).",
    ReasonCategory.PURCHASE_INTENT: "The buyer is ready to buy: quote, order or terms.",
    ReasonCategory.COMPLEXITY: "The question needs engineering judgement.",
    ReasonCategory.EXPLICIT_REQUEST: "The buyer asked to talk to a person.",
    ReasonCategory.POLICY_RULE: "A business rule sends this conversation to a specialist.",
}

SIGNAL_WORDS: dict[str, str] = {
    "weak_retrieval": "no strong catalog match",
    "too_many_products": "many products in play",
    "unsupported_certification": "a certification the catalog cannot confirm",
    "source_disagreement": "documents disagree",
    "safety_critical_replacement": "safety-critical replacement",
    "regulated_category": "regulated product category",
    "quantity_over_threshold": "large quantity",
    "no_authoritative_document": "no technical document",
    "missing_attributes": "data missing in the catalog",
    "marketing_only": "only marketing copy",
    "live_data": "needs live data",
    "explicit_request": "asked for a person",
    "enterprise_account": "enterprise account",
    "discontinued_replacement": "replacing a discontinued part",
    "clarification_loop": "going in circles",
    "assisted_tier": "assisted-service account",
    "pricing_request": "asked for a price",
    "purchase_intent": "wants to buy",
    "budget": "turn budget ran out",
}


def signal_words(name: str) -> str:
    """'source_disagreement' -> 'documents disagree'; unknown names lose their underscores."""
    base, _, detail = name.partition(":")
    words = SIGNAL_WORDS.get(base, base.replace("_", " "))
    return f"{words} ({detail})" if detail else words


def speaks_to_buyer(text: str) -> bool:
    """The AI's first-person words to the buyer ("I'm connecting you with…"), not a note to us."""
    return bool(re.search(r"\b(I|I'm|I'll|I've|we'll|you|your)\b", text))


def specialist_why(packet: HandoffPacket) -> str:
    """The 'Why it was handed off' body, for the specialist."""
    why = f"<b>{escape(packet.reason.label)}</b>"
    if packet.sub_reason:
        why += f" · {_muted(packet.sub_reason.replace('_', ' '))}"
    summary = packet.summary.strip()
    if summary and not speaks_to_buyer(summary):
        why += f"<br>{escape(summary)}"
    else:
        why += f"<br>{escape(REASON_FOR_SPECIALIST.get(packet.reason, ''))}"
        if summary:
            why += "<br>" + _muted(f"The AI told the buyer: “{summary}”")
    if packet.signals:
        why += "<br>" + _muted("Signals: " + ", ".join(signal_words(x) for x in packet.signals))
    return why


def turn_link(turn: int | None) -> str:
    """A 'msg N' link for an item that came from transcript turn N."""
    if turn is None:
        return ""
    return (
        f' <a href="turn:{turn}" style="color:#4F46E5; text-decoration:none;">'
        f'<span style="font-size:small;">&#8618;&nbsp;msg&nbsp;{turn}</span></a>'
    )


def chip_style(name: str, bg: str, fg: str, border: str = "") -> str:
    edge = f"border:1px solid {border};" if border else "border:none;"
    return (
        f"QLabel#{name} {{ background:{bg}; color:{fg}; {edge} border-radius:10px;"
        " padding:2px 9px; font-weight:600; }"
    )


def chip(text: str, bg: str, fg: str, *, name: str = "chip", border: str = "") -> QLabel:
    """A rounded label: priority, reason, family, skill or status."""
    label = QLabel(text)
    label.setObjectName(name)
    label.setStyleSheet(chip_style(name, bg, fg, border))
    label.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
    return label


def assist_links(sku: str) -> str:
    """Small 'Spec · Subs · Acc' links after a product: they start the assistant's lookups."""
    links = " · ".join(
        f'<a href="assist:{kind}:{escape(sku)}" style="color:#4F46E5; text-decoration:none;">{label}</a>'
        for kind, label in (("spec", "Spec"), ("subs", "Subs"), ("acc", "Acc"))
    )
    return f' <span style="font-size:small;">&nbsp;{links}</span>'


def _items(rows: list[str]) -> str:
    return "".join(f'<tr><td style="padding:2px 0 4px 0;">{r}</td></tr>' for r in rows)


def _muted(text: str) -> str:
    return f'<span style="color:{MUTED};">{escape(text)}</span>'


def packet_sections(packet: HandoffPacket) -> list[tuple[str, str, str]]:
    """(object name, title, html body) per card section, in reading order; empty optional ones left out."""
    sections: list[tuple[str, str, str]] = [("why", "Why it was handed off", specialist_why(packet))]

    goal = escape(packet.goal) + turn_link(packet.goal_turn) if packet.goal else _muted("Not stated")
    sections.append(("goal", "Buyer's goal", goal))

    if packet.products:
        rows = []
        for p in packet.products:
            line = f'<span style="font-family:monospace; font-weight:600;">{escape(p.sku)}</span>'
            if p.name:
                line += f" {escape(p.name)}"
            extra = [x for x in (p.family, p.role) if x]
            if extra:
                line += " " + _muted("· " + " · ".join(extra))
            rows.append(line + turn_link(p.source_turn) + assist_links(p.sku))
        body = f"<table>{_items(rows)}</table>"
    else:
        body = _muted("No products identified")
    sections.append(("products", "Products", body))

    if packet.constraints:
        rows = [
            f"{escape(c.name)}: <b>{escape(c.value)}</b>"
            + (f" {escape(c.unit)}" if c.unit else "")
            + turn_link(c.source_turn)
            for c in packet.constraints
        ]
        body = f"<table>{_items(rows)}</table>"
    else:
        body = _muted("None recorded")
    sections.append(("constraints", "Constraints", body))

    if packet.quantities:
        rows = [
            f"<b>{q.amount:g}</b> {escape(q.unit)}"
            + (f" · <span style='font-family:monospace;'>{escape(q.sku)}</span>" if q.sku else "")
            + turn_link(q.source_turn)
            for q in packet.quantities
        ]
        sections.append(("quantities", "Quantities", f"<table>{_items(rows)}</table>"))

    if packet.documents:
        rows = []
        for d in packet.documents:
            title = escape(d.title)
            if d.ref.startswith(("http://", "https://")):
                title = f'<a href="{escape(d.ref)}" style="color:#111827;">{title}</a>'
            meta = [d.kind]
            if d.sku:
                meta.append(d.sku)
            if d.score is not None:
                meta.append(f"score {d.score:.2f}")
            rows.append(f"{title} {_muted('· ' + ' · '.join(meta))}{turn_link(d.source_turn)}")
        body = f"<table>{_items(rows)}</table>"
    else:
        body = _muted("No documents retrieved")
    sections.append(("documents", "Source documents", body))

    for key, title, notes, empty in (
        ("confidence", "Confidence notes", packet.confidence_notes, "None"),
        ("unresolved", "Still unresolved", packet.unresolved, "Nothing open"),
    ):
        if notes:
            rows = [f"&#8226; {escape(n.text)}{turn_link(n.source_turn)}" for n in notes]
            body = f"<table>{_items(rows)}</table>"
        else:
            body = _muted(empty)
        sections.append((key, title, body))

    facts = []
    acc = packet.account
    if acc.company:
        facts.append(f"<b>{escape(acc.company)}</b>")
    if acc.tier and acc.tier != "standard":
        facts.append(f"tier {escape(acc.tier)}")
    if acc.region:
        facts.append(escape(acc.region))
    if acc.enterprise:
        facts.append("enterprise account")
    if facts:
        sections.append(("account", "Account", " · ".join(facts)))
    if packet.urgency:
        urgency = f'<span style="color:#B91C1C;">{escape(packet.urgency)}</span>'
        sections.append(("urgency", "Urgency", urgency + turn_link(packet.urgency_turn)))
    return sections


class PacketCard(QScrollArea):
    """Scrollable card for the selected handoff; emits turn_clicked(seq) for source-turn links."""

    turn_clicked = Signal(int)
    assist_requested = Signal(str, str)  # kind (spec | subs | acc), SKU: a product's lookup link

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("packetCard")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._body: QWidget | None = None
        self._layout = self._new_body()
        self.section_labels: dict[str, QLabel] = {}
        self.handoff: HandoffDetail | None = None
        self.show_placeholder("Select a handoff in the queue.")

    def _new_body(self) -> QVBoxLayout:
        """Swap in a fresh content widget; Qt deletes the old one (and all it holds) later."""
        body = QWidget()
        body.setObjectName("cardBody")
        layout = QVBoxLayout(body)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(10)
        old = self.takeWidget()
        self.setWidget(body)  # the scroll area owns it from here
        if old is not None:
            old.deleteLater()
        self._body = body
        return layout

    def _clear(self) -> None:
        self.section_labels = {}
        self._layout = self._new_body()

    def show_placeholder(self, text: str) -> None:
        self.handoff = None
        self._clear()
        label = QLabel(text)
        label.setObjectName("emptyHint")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._layout.addStretch(1)
        self._layout.addWidget(label)
        self._layout.addStretch(1)

    def show_handoff(self, handoff: HandoffDetail, me: Agent | None) -> None:
        """Render the whole card for one handoff."""
        self.handoff = handoff
        self._clear()
        packet = handoff.packet
        conv = handoff.conversation
        buyer = conv.buyer

        who = ", ".join(x for x in (buyer.name, buyer.email, buyer.region) if x)
        subtitle = QLabel(escape(" · ".join(x for x in (who, conv.subject) if x)))
        subtitle.setObjectName("muted")
        subtitle.setWordWrap(True)  # a long subject must wrap, not widen the card past the pane

        chips = FlowLayout(spacing=6)
        pbg, pfg = PRIORITY_COLORS[handoff.priority]
        chips.addWidget(chip(PRIORITY_LABELS[handoff.priority], pbg, pfg, name="priorityChip"))
        rbg, rfg = REASON_COLORS[handoff.reason]
        chips.addWidget(chip(handoff.reason.label, rbg, rfg, name="reasonChip"))
        if handoff.product_family:
            chips.addWidget(chip(handoff.product_family, "#F3F4F6", "#374151", name="familyChip"))
        self.status_chip = chip(*self._status_text(handoff, me), name="statusChip")
        chips.addWidget(self.status_chip)

        skills_row = FlowLayout(spacing=6)
        needs = QLabel("Needs")
        needs.setObjectName("muted")
        skills_row.addWidget(needs)
        taxonomy = default_taxonomy()
        for skill in handoff.required_skills:
            skills_row.addWidget(
                chip(taxonomy.label(skill), "#FFFFFF", "#4B5563", name="skillChip", border="#D1D5DB")
            )

        self._layout.addLayout(chips)
        self._layout.addLayout(skills_row)
        if subtitle.text():
            self._layout.addWidget(subtitle)

        for key, heading, html in packet_sections(packet):
            frame = QFrame()
            frame.setObjectName("cardSection")
            box = QVBoxLayout(frame)
            box.setContentsMargins(12, 8, 12, 10)
            box.setSpacing(3)
            head = QLabel(heading.upper())
            head.setObjectName("sectionTitle")
            body = QLabel(html)
            body.setObjectName(f"section_{key}")
            body.setTextFormat(Qt.TextFormat.RichText)
            body.setWordWrap(True)
            body.setTextInteractionFlags(
                Qt.TextInteractionFlag.TextBrowserInteraction | Qt.TextInteractionFlag.TextSelectableByMouse
            )
            body.setOpenExternalLinks(False)
            body.linkActivated.connect(self._on_link)
            box.addWidget(head)
            box.addWidget(body)
            self.section_labels[key] = body
            self._layout.addWidget(frame)
        self._layout.addStretch(1)
        self.verticalScrollBar().setValue(0)

    def update_state(self, handoff: HandoffDetail, me: Agent | None) -> None:
        """Status or owner changed: refresh the status chip only."""
        if self.handoff is None or self.handoff.id != handoff.id:
            return
        self.handoff = handoff
        text, bg, fg = self._status_text(handoff, me)
        self.status_chip.setText(text)
        self.status_chip.setStyleSheet(chip_style("statusChip", bg, fg))

    @staticmethod
    def _status_text(handoff: HandoffDetail, me: Agent | None) -> tuple[str, str, str]:
        if handoff.status == HandoffStatus.RESOLVED:
            return "Resolved", "#DCFCE7", "#166534"
        if handoff.status == HandoffStatus.CLAIMED and handoff.claimed_by:
            if me and handoff.claimed_by.id == me.id:
                return "Claimed by you", "#4F46E5", "#FFFFFF"
            return f"Claimed by {handoff.claimed_by.name}", "#FEE2E2", "#991B1B"
        return "Waiting in queue", "#F3F4F6", "#374151"

    def _on_link(self, href: str) -> None:
        if href.startswith("turn:"):
            self.turn_clicked.emit(int(href.split(":", 1)[1]))
        elif href.startswith("assist:"):
            _, kind, sku = href.split(":", 2)
            self.assist_requested.emit(kind, sku)
        elif href.startswith(("http://", "https://")):
            QDesktopServices.openUrl(QUrl(href))
