"""Colours, labels and the style sheet: one place so the queue, card and transcript agree."""

from __future__ import annotations

from functools import cache

from warmline.domain.models import AuthorKind
from warmline.domain.packet import Priority, ReasonCategory
from warmline.resources import resource_path

# (background, foreground) per reason badge
REASON_COLORS: dict[ReasonCategory, tuple[str, str]] = {
    ReasonCategory.LOW_CONFIDENCE: ("#FEF3C7", "#92400E"),
    ReasonCategory.LIVE_DATA: ("#DBEAFE", "#1E40AF"),
    ReasonCategory.PURCHASE_INTENT: ("#DCFCE7", "#166534"),
    ReasonCategory.COMPLEXITY: ("#EDE9FE", "#5B21B6"),
    ReasonCategory.EXPLICIT_REQUEST: ("#FCE7F3", "#9D174D"),
    ReasonCategory.POLICY_RULE: ("#E5E7EB", "#374151"),
}

PRIORITY_COLORS: dict[Priority, tuple[str, str]] = {
    Priority.URGENT: ("#DC2626", "#FFFFFF"),
    Priority.HIGH: ("#F97316", "#FFFFFF"),
    Priority.NORMAL: ("#E0E7FF", "#3730A3"),
    Priority.LOW: ("#F3F4F6", "#6B7280"),
}

PRIORITY_LABELS: dict[Priority, str] = {
    Priority.URGENT: "Urgent",
    Priority.HIGH: "High",
    Priority.NORMAL: "Normal",
    Priority.LOW: "Low",
}

# transcript bubbles: (background, border, name colour)
AUTHOR_COLORS: dict[AuthorKind, tuple[str, str, str]] = {
    AuthorKind.BUYER: ("#FFFFFF", "#E5E7EB", "#111827"),
    AuthorKind.AI: ("#F1F5F9", "#E2E8F0", "#475569"),
    AuthorKind.AGENT: ("#4F46E5", "#4F46E5", "#4F46E5"),
    AuthorKind.SYSTEM: ("#00000000", "#00000000", "#6B7280"),
}
INTERNAL_COLORS = ("#FFFBEB", "#F59E0B", "#B45309")
HIGHLIGHT_COLOR = "#FDE68A"
MINE_ROW_COLOR = "#EEF2FF"
ACCENT = "#4F46E5"

AUTHOR_LABELS: dict[AuthorKind, str] = {
    AuthorKind.BUYER: "Buyer",
    AuthorKind.AI: "Product AI",
    AuthorKind.AGENT: "Specialist",
    AuthorKind.SYSTEM: "System",
}


@cache
def style_sheet() -> str:
    """The console's QSS, from resources/styles/*.qss in name order (numbered files)."""
    folder = resource_path("styles")
    if not folder.is_dir():
        return ""
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.qss")))
