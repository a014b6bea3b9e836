"""Issue 19.8: "Open document" hands only http(s) URLs and files under the configured document
folders to the desktop; any other ref (``/bin/sh``, ``file:///etc/passwd``…) is shown as text."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QUrl

from warmline.console.models.assist_model import AssistModel
from warmline.console.widgets.assistant_panel import AssistantPanel, openable_url
from warmline.domain.assist import AssistKind, AssistResult, Citation

from .test_assist_panel import done_job


def test_only_web_links_and_files_in_document_folders_are_openable(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    sheet = docs / "GX-220 datasheet.pdf"
    sheet.write_bytes(b"%PDF-1.4")
    outside = tmp_path / "secret.pdf"
    outside.write_bytes(b"%PDF-1.4")
    link = docs / "shell.pdf"
    os.symlink("/bin/sh", link)
    folders = [docs]

    assert openable_url("https://example.com/d.pdf", folders).toString() == "https://example.com/d.pdf"
    assert openable_url("HTTP://example.com/d.pdf", folders) is not None
    assert openable_url(str(sheet), folders) == QUrl.fromLocalFile(str(sheet.resolve()))
    assert openable_url(QUrl.fromLocalFile(str(sheet)).toString(), folders) is not None
    for ref in (
        "/bin/sh",
        "file:///bin/sh",
        "file:///etc/passwd",
        str(outside),  # a real file, but not under a document folder
        str(docs / ".." / "secret.pdf"),  # no way out through ..
        str(link),  # nor through a symlink
        str(docs),  # a folder is not a document
        str(docs / "missing.pdf"),
        "javascript:alert(1)",
        "smb://server/share/doc.pdf",
        "http://",
        "products.jsonl",
        "",
    ):
        assert openable_url(ref, folders) is None, ref
    assert openable_url("/bin/sh", [docs, Path("/")]) is not None  # only when "/" itself is configured
    assert openable_url(str(sheet), []) is None  # no folder configured: no file is opened


def test_open_document_shows_an_unsafe_ref_as_text_and_opens_nothing(qtbot, tmp_path, monkeypatch):
    opened: list[QUrl] = []
    monkeypatch.setenv("WARMLINE_DOCUMENT_DIRS", str(tmp_path))
    model = AssistModel()
    panel = AssistantPanel(model)
    qtbot.addWidget(panel)
    model.setParent(panel)
    panel.open_url = opened.append  # what would go to the desktop
    assert panel.document_folders == [tmp_path]
    result = AssistResult(
        title="Spec",
        text="t",
        citations=[
            Citation(sku="GX-220", title="Shell", kind="datasheet", ref="/bin/sh"),
            Citation(sku="GX-220", title="Web", kind="datasheet", ref="https://example.com/a.pdf"),
        ],
    )
    entry = model.apply_job(done_job(1, result=result, kind=AssistKind.SPEC))
    view = panel.open_document(entry, result.citations[0])
    assert view is not None and "/bin/sh" in view.text.text()  # shown, as text
    assert opened == []
    assert panel.open_document(entry, result.citations[1]) is None
    assert [u.toString() for u in opened] == ["https://example.com/a.pdf"]
    view.hide()
