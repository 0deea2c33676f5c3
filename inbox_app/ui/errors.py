"""The one place the GUI shows errors.

User-facing errors (:class:`~inbox_app.errors.InboxError`) are one line: the status bar
and, when the user started the action, a message box. Anything else is a bug: it is shown
with its traceback in a crash dialog the user can copy from, never swallowed.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import QStatusBar, QWidget

from inbox_app.errors import one_line


class ErrorPresenter(QObject):
    """Shows errors for one window."""

    def __init__(self, window: QWidget, status: QStatusBar) -> None:
        super().__init__(window)
        self._window = window
        self._status = status
        self.shown: list[str] = []  # what was shown, newest last (tests and the log read it)

    @Slot(str)
    def show_error(self, message: str) -> None:
        """A user-facing error: one line in the status bar."""
        text = one_line(message)
        self.shown.append(text)
        self._status.showMessage(text, 15000)

    def ask_attention(self, title: str, message: str) -> None:
        """A user-facing error the user must see now (their own action failed)."""
        self.show_error(message)
        from PySide6.QtWidgets import QMessageBox  # noqa: PLC0415 - loaded when first needed

        box = QMessageBox(QMessageBox.Icon.Warning, title, one_line(message), parent=self._window)
        box.setTextFormat(Qt.TextFormat.PlainText)  # the message may quote a certificate name
        box.open()

    @Slot(object)
    def show_crash(self, error: object) -> None:
        """A bug: the traceback in a dialog (and on stderr through the excepthook's route)."""
        import traceback  # noqa: PLC0415

        from PySide6.QtWidgets import QMessageBox  # noqa: PLC0415

        if isinstance(error, BaseException):
            details = "".join(traceback.format_exception(error))
            summary = f"{type(error).__name__}: {error}"
        else:
            details = summary = repr(error)
        self.shown.append(f"internal error: {one_line(summary)}")
        self._status.showMessage(f"Internal error: {one_line(summary)}", 30000)
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            "Inbox: internal error",
            "Something went wrong inside Inbox. Nothing was changed by the failed action.\n"
            "Please report this with the details below.",
            parent=self._window,
        )
        box.setDetailedText(details)
        box.open()
