"""Files the desktop hands to a running Inbox: Qt's ``QFileOpenEvent``.

On macOS, a ``.p12``, ``.pfx``, ``.mobileconfig`` or ``.eml`` opened from Finder while Inbox
runs is not a new process with the path in ``argv`` (that happens only at launch), but a
``FileOpen`` event on the application object. :class:`InboxApplication` turns it into a
signal that the main window routes like ``inbox-app FILE``.

Why a subclass rather than an event filter on the application: a filter installed on the
``QApplication`` sees every event of every widget, each one a call into Python; the
application's own ``event()`` sees only the few events sent to the application itself.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication


class InboxApplication(QApplication):
    """The application object of the GUI.

    Signals:
        file_open_requested(str): the desktop asked Inbox to open this local file. An event
            naming no local file (a URL) is ignored: Inbox opens files, never remote content.
    """

    file_open_requested = Signal(str)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            name = event.file()
            if name:
                self.file_open_requested.emit(name)
                return True
        return super().event(event)
