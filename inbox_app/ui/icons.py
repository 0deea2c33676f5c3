"""Icons drawn by the application itself (never taken from message content).

Painted with QPainter so they look the same on every platform and in the offscreen
screenshots, where emoji fonts are usually missing.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

SIZE = 16
_LOCK = QColor("#1b5e9e")


def _lock(painter: QPainter, x: float) -> None:
    painter.setPen(QPen(_LOCK, 1.6))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawArc(QRectF(x + 4, 1.5, 8, 9), 0, 180 * 16)  # the shackle
    painter.drawLine(QPointF(x + 4, 6), QPointF(x + 4, 8))
    painter.drawLine(QPointF(x + 12, 6), QPointF(x + 12, 8))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(_LOCK)
    painter.drawRoundedRect(QRectF(x + 2.5, 7.5, 11, 7.5), 1.5, 1.5)


# The seal's colour and mark: before a message is opened the list knows only that it
# claims a signature (grey, no mark); once the engine has checked it, its verdict.
_VERDICTS = {
    None: (QColor("#78909c"), None),
    "valid": (QColor("#2e7d32"), "check"),
    "warning": (QColor("#ef8f00"), "bang"),
    "danger": (QColor("#c62828"), "cross"),
}


def _seal(painter: QPainter, x: float, verdict: str | None) -> None:
    colour, mark = _VERDICTS[verdict]
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawEllipse(QRectF(x + 2, 1, 12, 12))
    ribbon = QPainterPath()
    ribbon.moveTo(x + 5, 11)
    ribbon.lineTo(x + 4, 15.5)
    ribbon.lineTo(x + 8, 13.5)
    ribbon.lineTo(x + 12, 15.5)
    ribbon.lineTo(x + 11, 11)
    painter.drawPath(ribbon)
    painter.setPen(QPen(QColor("white"), 1.6))
    if mark == "check":
        painter.drawLine(QPointF(x + 5, 7), QPointF(x + 7.3, 9.3))
        painter.drawLine(QPointF(x + 7.3, 9.3), QPointF(x + 11, 4.8))
    elif mark == "cross":
        painter.drawLine(QPointF(x + 5.5, 4.5), QPointF(x + 10.5, 9.5))
        painter.drawLine(QPointF(x + 10.5, 4.5), QPointF(x + 5.5, 9.5))
    elif mark == "bang":
        painter.drawLine(QPointF(x + 8, 3.5), QPointF(x + 8, 8))
        painter.drawPoint(QPointF(x + 8, 10.3))


@functools.cache
def security_icon(security: str, verdict: str | None = None) -> QIcon:
    """The message list's icon for "signed", "encrypted" or "signed+encrypted".

    Args:
        security: which layers the message has (or claims, before it is opened).
        verdict: the signature's verdict once checked: "valid", "warning" (untrusted,
            expired, weak) or "danger" (invalid, not from the sender); None before.
    """
    signed = "signed" in security
    encrypted = "encrypted" in security
    pixmap = QPixmap(SIZE * 2, SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    position = 0
    if encrypted:
        _lock(painter, 0)
        position = SIZE
    if signed:
        _seal(painter, position, verdict)
    painter.end()
    return QIcon(pixmap)
