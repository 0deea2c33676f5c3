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
_SEAL = QColor("#2e7d32")


def _lock(painter: QPainter, x: float) -> None:
    painter.setPen(QPen(_LOCK, 1.6))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawArc(QRectF(x + 4, 1.5, 8, 9), 0, 180 * 16)  # the shackle
    painter.drawLine(QPointF(x + 4, 6), QPointF(x + 4, 8))
    painter.drawLine(QPointF(x + 12, 6), QPointF(x + 12, 8))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(_LOCK)
    painter.drawRoundedRect(QRectF(x + 2.5, 7.5, 11, 7.5), 1.5, 1.5)


def _seal(painter: QPainter, x: float) -> None:
    # A rosette with a check mark: "signed" (the banner says whether it verified).
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(_SEAL)
    painter.drawEllipse(QRectF(x + 2, 1, 12, 12))
    ribbon = QPainterPath()
    ribbon.moveTo(x + 5, 11)
    ribbon.lineTo(x + 4, 15.5)
    ribbon.lineTo(x + 8, 13.5)
    ribbon.lineTo(x + 12, 15.5)
    ribbon.lineTo(x + 11, 11)
    painter.drawPath(ribbon)
    painter.setPen(QPen(QColor("white"), 1.6))
    painter.drawLine(QPointF(x + 5, 7), QPointF(x + 7.3, 9.3))
    painter.drawLine(QPointF(x + 7.3, 9.3), QPointF(x + 11, 4.8))


@functools.cache
def security_icon(security: str) -> QIcon:
    """The message list's icon for "signed", "encrypted" or "signed+encrypted"."""
    parts = {"signed": [_seal], "encrypted": [_lock], "signed+encrypted": [_lock, _seal]}.get(
        security, []
    )
    pixmap = QPixmap(SIZE * 2, SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    for position, draw in enumerate(parts):
        draw(painter, position * SIZE)
    painter.end()
    return QIcon(pixmap)
