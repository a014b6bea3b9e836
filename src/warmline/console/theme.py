"""Colours, labels and the style sheet: one place so the queue, card and transcript agree.

The QSS in resources/styles is written for the light theme at a 10 pt base size;
``style_sheet(theme, font_pt)`` derives the dark theme from it (each colour mapped per
property: text colours to light tints, surfaces to dark ones) and scales every point size.
"""

from __future__ import annotations

import re
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


BASE_FONT_PT = 10.0

# dark theme: colours used as text (color, selection-color) ...
DARK_TEXT = {
    "#111827": "#E5E7EB",
    "#6B7280": "#9CA3AF",
    "#4B5563": "#CBD5E1",
    "#9CA3AF": "#6B7280",
    "#3730A3": "#C7D2FE",
    "#B91C1C": "#F87171",
    "#15803D": "#4ADE80",
    "#B45309": "#FBBF24",
    "#4F46E5": "#A5B4FC",
    "#92400E": "#FCD34D",
    "#075985": "#7DD3FC",
    "#166534": "#86EFAC",
    "#6B21A8": "#D8B4FE",
}
# ... and as surfaces (background, borders, selection and grid)
DARK_SURFACE = {
    "#FFFFFF": "#1F2937",
    "#F8FAFC": "#111827",
    "#F9FAFB": "#18212F",
    "#F3F4F6": "#273244",
    "#E5E7EB": "#374151",
    "#D1D5DB": "#4B5563",
    "#EEF2FF": "#312E81",
    "#E0E7FF": "#3730A3",
    "#C7D2FE": "#4338CA",
    "#BBF7D0": "#14532D",
    "#FEF3C7": "#451A03",
    "#E0F2FE": "#0C4A6E",
    "#DCFCE7": "#14532D",
    "#FEF2F2": "#450A0A",
    "#FEE2E2": "#450A0A",
    "#FECACA": "#7F1D1D",
    "#FCD34D": "#B45309",
    "#FCA5A5": "#B91C1C",
    "#86EFAC": "#166534",
    "#7DD3FC": "#0369A1",
    "#F3E8FF": "#3B0764",
    "#A5B4FC": "#6366F1",
    "#9CA3AF": "#6B7280",
}
_TEXT_PROPERTIES = ("color", "selection-color")
_DECLARATION = re.compile(r"([a-z-]+)(\s*:\s*)([^;{}]+)")
_HEX = re.compile(r"#[0-9A-Fa-f]{6}\b")
_POINTS = re.compile(r"(\d+(?:\.\d+)?)pt\b")


def _qss_files() -> str:
    folder = resource_path("styles")
    if not folder.is_dir():
        return ""
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.qss")))


def darken(qss: str) -> str:
    """The light QSS with every colour swapped for its dark-theme counterpart."""

    def declaration(m: re.Match[str]) -> str:
        table = DARK_TEXT if m.group(1) in _TEXT_PROPERTIES else DARK_SURFACE
        value = _HEX.sub(lambda c: table.get(c.group(0).upper(), c.group(0)), m.group(3))
        return f"{m.group(1)}{m.group(2)}{value}"

    return _DECLARATION.sub(declaration, qss)


def scale_points(qss: str, font_pt: float) -> str:
    """Every ``N pt`` size scaled by font_pt / 10 (the QSS is written for 10 pt)."""
    factor = font_pt / BASE_FONT_PT
    if abs(factor - 1.0) < 1e-6:
        return qss
    return _POINTS.sub(lambda m: f"{round(float(m.group(1)) * factor, 1):g}pt", qss)


_LIGHT_AUTHOR_COLORS = dict(AUTHOR_COLORS)
# dark theme: bubbles keep their light fill (their text is dark), names above them turn light
_DARK_AUTHOR_NAMES = {AuthorKind.BUYER: "#E5E7EB", AuthorKind.AI: "#94A3B8", AuthorKind.SYSTEM: "#9CA3AF"}


def use_theme_colors(theme: str) -> None:
    """Switch the painted colours widgets read at paint time (transcript author names)."""
    for kind, (bg, border, name) in _LIGHT_AUTHOR_COLORS.items():
        AUTHOR_COLORS[kind] = (bg, border, _DARK_AUTHOR_NAMES.get(kind, name) if theme == "dark" else name)


@cache
def style_sheet(theme: str = "light", font_pt: float = BASE_FONT_PT) -> str:
    """The console's QSS (resources/styles/*.qss in name order) for a theme and base size."""
    qss = _qss_files()
    if theme == "dark":
        qss = darken(qss)
    return scale_points(qss, font_pt)
