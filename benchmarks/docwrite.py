"""``--write`` for benchmark scripts: put a run's figures into the script's marked block of
docs/benchmarks.md (between ``<!-- NAME --write: start -->`` and ``<!-- NAME --write: end -->``),
leaving the rest of the reference as it is; appended at the end when the markers are missing."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def write_block(script: str, text: str, path: Path = DOC) -> None:
    start, end = f"<!-- {script} --write: start -->", f"<!-- {script} --write: end -->"
    doc = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    block = f"{start}\n\n{text.strip()}\n\n{end}"
    if start in doc and end in doc.split(start, 1)[1]:
        head, rest = doc.split(start, 1)
        doc = head + block + rest.split(end, 1)[1]
    else:
        doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(doc, encoding="utf-8")
