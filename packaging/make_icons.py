"""Draw Warmline's app icon once with QPainter and write it at every size the platforms want.

    python packaging/make_icons.py            # writes resources/icons/ (committed)

Outputs: ``warmline-<N>.png`` for N in SIZES (Linux hicolor theme sizes, the tray, Qt's
window icon), ``warmline.ico`` (Windows: 16-256 in one file) and ``warmline.icns`` (macOS),
both written by Qt's own image plugins. The drawing is one function, so every size is the
same picture rendered at that resolution (no scaled-down bitmaps).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
OUT = Path(__file__).resolve().parents[1] / "resources" / "icons"


def draw(size: int):
    """The icon: an indigo rounded square with a speech bubble handing over to a warm dot."""
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter, QPainterPath, QPen

    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 64.0  # the drawing is laid out on a 64x64 grid
    margin = 2 * s if size >= 32 else 0.5 * s
    body = QRectF(margin, margin, size - 2 * margin, size - 2 * margin)
    gradient = QLinearGradient(body.topLeft(), body.bottomRight())
    gradient.setColorAt(0.0, QColor("#6366F1"))
    gradient.setColorAt(1.0, QColor("#4338CA"))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(gradient)
    p.drawRoundedRect(body, 14 * s, 14 * s)

    # speech bubble (the AI's conversation)
    bubble = QPainterPath()
    bubble.addRoundedRect(QRectF(11 * s, 14 * s, 34 * s, 24 * s), 8 * s, 8 * s)
    tail = QPainterPath()
    tail.moveTo(QPointF(17 * s, 36 * s))
    tail.lineTo(QPointF(14 * s, 46 * s))
    tail.lineTo(QPointF(27 * s, 37 * s))
    tail.closeSubpath()
    p.setBrush(QColor("#FFFFFF"))
    p.drawPath(bubble.united(tail))

    # three lines of text in the bubble (left out where they would be mush)
    if size >= 24:
        pen = QPen(QColor("#A5B4FC"), max(1.0, 3 * s))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        for y, end in ((21, 38), (26, 34), (31, 30)):
            p.drawLine(QPointF(17 * s, y * s), QPointF(end * s, y * s))
        p.setPen(Qt.PenStyle.NoPen)

    # the warm hand-over: an amber dot overlapping the bubble's corner, ringed in indigo
    p.setBrush(QColor("#4338CA"))
    p.drawEllipse(QPointF(45 * s, 42 * s), 12 * s, 12 * s)
    p.setBrush(QColor("#F59E0B"))
    p.drawEllipse(QPointF(45 * s, 42 * s), 9 * s, 9 * s)
    p.end()
    return image


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication, QImageWriter

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    OUT.mkdir(parents=True, exist_ok=True)
    images = {size: draw(size) for size in SIZES}
    for size, image in images.items():
        path = OUT / f"warmline-{size}.png"
        if not image.save(str(path), "PNG"):
            print(f"could not write {path}", file=sys.stderr)
            return 1
    formats = {bytes(f).decode() for f in QImageWriter.supportedImageFormats()}
    for fmt, name, size in (("ico", "warmline.ico", 256), ("icns", "warmline.icns", 512)):
        if fmt not in formats:
            print(f"Qt has no {fmt} writer here; {name} not written", file=sys.stderr)
            continue
        if not images[size].save(str(OUT / name), fmt.upper()):
            print(f"could not write {name}", file=sys.stderr)
            return 1
    print(f"wrote {len(SIZES)} PNGs and the .ico/.icns to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
