"""The table of an account's drafts (:class:`DraftTableModel`), for the drafts dialog.

Rows are the :class:`~inbox_app.services.compose.DraftInfo` that
:func:`~inbox_app.services.compose.drafts` reads on the services worker. A draft's subject
and addresses may come from a server's Drafts folder or quote a received message: they are
display text only, one line each, like every cell of :class:`RowTableModel`.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtGui import QColor

from inbox_app.services.compose import DraftInfo
from inbox_app.ui.models.certificates import Column, RowTableModel

CANNOT_BE_READ = "This draft cannot be read: its key is not available here, or it is damaged"
_UNREADABLE_TINT = QColor(255, 205, 210)


def _saved_at(when: datetime) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


class DraftTableModel(RowTableModel[DraftInfo]):
    """Drafts, most recently saved first: subject, recipients, when saved, encrypted."""

    columns = (
        Column[DraftInfo]("Subject", lambda row: row.subject or "(no subject)"),
        Column[DraftInfo]("To", lambda row: ", ".join(row.recipients)),
        Column[DraftInfo]("Saved", lambda row: _saved_at(row.updated_at)),
        Column[DraftInfo]("Security", lambda row: "encrypted" if row.encrypted else ""),
    )

    def warning(self, row: DraftInfo) -> str | None:
        return None if row.readable else CANNOT_BE_READ

    def tint(self, row: DraftInfo) -> QColor | None:
        return None if row.readable else _UNREADABLE_TINT
