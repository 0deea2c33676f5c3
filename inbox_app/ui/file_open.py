"""Files the desktop hands to a running Inbox: Qt's ``QFileOpenEvent``.

On macOS, a ``.p12``, ``.pfx``, ``.mobileconfig`` or ``.eml`` opened from Finder while Inbox
runs is not a new process with the path in ``argv`` (that happens only at launch), but a
``FileOpen`` event on the application. :class:`FileOpenFilter`, installed on the
``QApplication``, hands its path to the same routing as ``inbox-app FILE``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFileOpenEvent


class FileOpenFilter(QObject):
    """Calls ``open_path(path)`` for each local file the application is asked to open.

    Install it on the application (``app.installEventFilter(...)``). An event naming no
    local file (a URL) is left alone: Inbox opens files, never remote content.

    Signals:
        None.
    """

    def __init__(self, open_path: Callable[[Path], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._open_path = open_path

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            name = event.file()
            if name:
                self._open_path(Path(name))
                return True
        return super().eventFilter(watched, event)
