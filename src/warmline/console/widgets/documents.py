"""Cited documents: what "Open document" may hand to the desktop, and a window for the rest.

Only http(s) URLs and files under the configured document folders are opened by the desktop;
any other ref (a path elsewhere, ``file:`` URLs outside those folders, plain names) is shown
as text in ``DocumentView`` with what the lookup used from the document.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from warmline.console.models.assist_model import AssistEntry
from warmline.domain.assist import Citation


class DocumentView(QDialog):
    """A non-modal window with what the console knows about a cited document.

    Catalog documents are stored in the hub's catalog; most carry no link or file. When the
    citation's ref is an http(s) URL or a file under a configured document folder, the panel
    opens that instead of this view; any other ref is shown here as text, never opened.
    """

    def __init__(self, citation: Citation, details: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("documentView")
        self.setModal(False)
        self.setWindowTitle(citation.title)
        self.resize(460, 380)
        meta = " · ".join(x for x in (citation.kind, citation.sku or "", citation.ref) if x)
        parts = [f"<h3 style='margin:0;'>{escape(citation.title)}</h3>"]
        if meta:
            parts.append(f"<p style='color:#6B7280; margin-top:2px;'>{escape(meta)}</p>")
        excerpt = details.get("excerpt") or ""
        if excerpt:
            parts.append(
                "<p style='color:#6B7280; margin-bottom:2px;'>EXCERPT</p>"
                f"<p style='white-space:pre-wrap;'>{escape(excerpt)}</p>"
            )
        facts = details.get("facts") or []
        if facts:
            rows = "".join(f"<li>{escape(f)}</li>" for f in facts)
            parts.append(
                f"<p style='color:#6B7280; margin-bottom:2px;'>FACTS TAKEN FROM IT</p><ul>{rows}</ul>"
            )
        parts.append(
            "<p style='color:#6B7280;'>This document is stored in the hub's catalog; it has no link or "
            "file to open, so this is what the lookup used from it.</p>"
        )
        self.text = QLabel("".join(parts))
        self.text.setObjectName("documentText")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)


def document_details(entry: AssistEntry, citation: Citation) -> dict[str, Any]:
    """Excerpt and facts for a cited document, from the job's own result data (no request)."""
    job = entry.job
    data = job.result.data if job and job.result else {}
    excerpt = ""
    facts: list[str] = []
    doc = data.get("document")
    if isinstance(doc, dict) and doc.get("title") == citation.title:
        excerpt = str(doc.get("excerpt") or "")
        facts += [str(p) for p in data.get("points") or []]
    for sheet in data.get("sheets") or []:
        for d in sheet.get("documents") or []:
            if d.get("title") == citation.title and not excerpt:
                excerpt = str(d.get("excerpt") or "")
        for a in sheet.get("attributes") or []:
            sources = [a.get("source") or {}, *(a.get("sources") or [])]
            for s in sources:
                if s.get("document_title") == citation.title:
                    facts.append(f"{a.get('label') or a.get('name')}: {s.get('value') or a.get('value')}")
                    break
    return {"excerpt": excerpt, "facts": list(dict.fromkeys(facts))}


DOCUMENT_DIRS_ENV = "WARMLINE_DOCUMENT_DIRS"


def document_folders() -> list[Path]:
    """The folders whose files "Open document" may hand to the desktop: WARMLINE_DOCUMENT_DIRS
    (separated like PATH). None by default: a catalog ref is shown, not opened."""
    raw = os.environ.get(DOCUMENT_DIRS_ENV, "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def openable_url(ref: str, folders: list[Path] | None = None) -> QUrl | None:
    """A URL the desktop may open for this ref, or None (then the ref is shown as text).

    Only http(s) URLs, and files (a ``file:`` URL or a path) that exist under one of the
    configured document folders once symlinks and ``..`` are resolved: a catalog ref such as
    ``/bin/sh`` or ``file:///etc/passwd`` is never handed to the desktop."""
    ref = (ref or "").strip()
    if ref.lower().startswith(("http://", "https://")):
        url = QUrl(ref)
        return url if url.isValid() and url.scheme().lower() in ("http", "https") and url.host() else None
    if ref.lower().startswith("file:"):
        path = Path(QUrl(ref).toLocalFile())
    elif ref and ("/" in ref or "\\" in ref):
        path = Path(ref)
    else:
        return None
    allowed = document_folders() if folders is None else folders
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not real.is_file():
        return None
    for folder in allowed:
        try:
            root = folder.resolve(strict=True)
        except (OSError, RuntimeError):
            continue
        if real.is_relative_to(root):
            return QUrl.fromLocalFile(str(real))
    return None
