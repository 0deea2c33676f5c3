"""Widgets that show text as plain text, whatever it looks like.

Names in certificates and profiles, file names of attachments and error messages quoting
them are chosen by whoever wrote them; a ``QLabel`` left on ``Qt.AutoText`` would draw
``<img src=...>`` or ``<a href>`` in them as markup. Every label the install dialogs and the
certificate manager show such text in comes from here.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QBoxLayout, QLabel, QWidget


def plain_label(
    text: str = "", parent: QWidget | None = None, *, accessible_name: str = ""
) -> QLabel:
    """A word-wrapped, selectable label that never interprets ``text`` as markup."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setText(text)
    if accessible_name:
        label.setAccessibleName(accessible_name)
    return label


def error_label(parent: QWidget | None = None) -> QLabel:
    """A plain-text label for a one-line error, hidden until it has something to say."""
    label = plain_label("", parent, accessible_name="Error")
    label.setStyleSheet("color: #b00020;")
    label.hide()
    return label


def add_outcome_labels(layout: QBoxLayout) -> tuple[QLabel, QLabel]:
    """The error line and the (hidden until there is one) result line every install or
    setup dialog ends with, added to ``layout``; returns ``(error, result)``."""
    error = error_label()
    layout.addWidget(error)
    result = plain_label(accessible_name="Result")
    result.hide()
    layout.addWidget(result)
    return error, result
