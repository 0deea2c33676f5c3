"""Table models of the certificate manager: my identities, contacts, trust anchors, profiles.

Each model is a :class:`QAbstractTableModel` over plain rows that
:mod:`inbox_app.services.install` produces on the services worker; the models never read
the keystore themselves. Everything shown comes from certificates and profiles, which
their issuers and authors control: it is display text only (item views draw it as plain
text), every cell and every field of a tool tip is made one line (a line break or a bidi
control in a name must not forge a line of its own), and tool tips, which Qt would read
as rich text when they look like markup, are escaped first (:func:`plain_tooltip`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from inbox_app.errors import one_line
from inbox_app.services.install import AnchorRow, ContactRow, IdentityRow, ProfileRow
from inbox_app.ui.text import plain_tooltip

R = TypeVar("R")
_Index = QModelIndex | QPersistentModelIndex

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the row object itself
WARNING_ROLE = Qt.ItemDataRole.UserRole + 2  # the row's one-line warning (str) or None

# Light tints that keep dark text readable; the warning is also spelt out in a column,
# so colour is never the only signal.
_SOON = QColor(255, 236, 179)
_EXPIRED = QColor(255, 205, 210)
_PENDING = QColor(255, 236, 179)


def tooltip_lines(*fields: str) -> str:
    """A plain tool tip of one line per field, each field made one line first."""
    return plain_tooltip("\n".join(one_line(field) for field in fields))


def short_fingerprint(sha256: str) -> str:
    """The first 16 hex digits in groups of four, as people compare them."""
    head = sha256[:16].upper()
    return " ".join(head[i : i + 4] for i in range(0, len(head), 4))


def _date(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d}"


@dataclass(frozen=True)
class Column(Generic[R]):
    """One column: its header and how a row reads in it."""

    header: str
    text: Callable[[R], str]


class RowTableModel(QAbstractTableModel, Generic[R]):
    """A read-only table over a list of rows; subclasses name the columns."""

    columns: Sequence[Column[R]] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[R] = []

    # ------------------------------------------------------------------ contents

    def set_rows(self, rows: Sequence[R]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[R]:
        return list(self._rows)

    def row_at(self, row: int) -> R | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    # ------------------------------------------------------------------ Qt

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        row = self.row_at(index.row())
        if row is None or not 0 <= index.column() < len(self.columns):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return one_line(self.columns[index.column()].text(row))
        if role == ROW_ROLE:
            return row
        if role == WARNING_ROLE:
            return self.warning(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(row)
        if role == Qt.ItemDataRole.BackgroundRole:
            color = self.tint(row)
            return QBrush(color) if color is not None else None
        if role == Qt.ItemDataRole.ForegroundRole:
            # Dark text on the light tints, whatever the palette.
            return QBrush(QColor(Qt.GlobalColor.black)) if self.tint(row) is not None else None
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.columns)
        ):
            return self.columns[section].header
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # ------------------------------------------------------------------ per model

    def warning(self, row: R) -> str | None:
        del row
        return None

    def tooltip(self, row: R) -> str | None:
        warning = self.warning(row)
        return tooltip_lines(warning) if warning else None

    def tint(self, row: R) -> QColor | None:
        del row
        return None


class IdentityTableModel(RowTableModel[IdentityRow]):
    """My identities: address, use, current or historic, validity, expiry warnings."""

    columns = (
        Column[IdentityRow]("Address", lambda row: ", ".join(row.addresses) or row.subject),
        Column[IdentityRow]("Use", lambda row: row.use),
        Column[IdentityRow]("State", lambda row: row.state),
        Column[IdentityRow]("Valid from", lambda row: _date(row.not_before)),
        Column[IdentityRow]("Valid to", lambda row: _date(row.not_after)),
        Column[IdentityRow]("Warning", lambda row: row.warning or ""),
        Column[IdentityRow]("Source", lambda row: row.source),
    )

    def warning(self, row: IdentityRow) -> str | None:
        return row.warning

    def tooltip(self, row: IdentityRow) -> str | None:
        lines = [row.subject, f"issued by {one_line(row.issuer)}", f"SHA-256 {row.sha256}"]
        if row.warning:
            lines.insert(0, row.warning)
        return tooltip_lines(*lines)

    def tint(self, row: IdentityRow) -> QColor | None:
        if row.state != "current":
            return None
        if row.expired:
            return _EXPIRED
        return _SOON if row.expires_soon else None


class ContactTableModel(RowTableModel[ContactRow]):
    """Correspondents' certificates, with any changed key awaiting confirmation."""

    columns = (
        Column[ContactRow]("Address", lambda row: row.address),
        Column[ContactRow]("Fingerprint", lambda row: short_fingerprint(row.sha256)),
        Column[ContactRow]("Source", lambda row: row.source),
        Column[ContactRow]("Valid to", lambda row: _date(row.not_after)),
        Column[ContactRow](
            "Changed key",
            lambda row: (
                f"pending: {short_fingerprint(row.pending_sha256)}" if row.pending_sha256 else ""
            ),
        ),
    )

    def warning(self, row: ContactRow) -> str | None:
        if row.pending_sha256:
            return (
                f"a different key ({short_fingerprint(row.pending_sha256)}) was seen for "
                f"{row.address}: confirm it only if they told you their key changed"
            )
        if row.expired:
            return f"expired on {_date(row.not_after)}"
        return None

    def tooltip(self, row: ContactRow) -> str | None:
        lines = [row.subject, f"SHA-256 {row.sha256}"]
        if row.pending_sha256:
            lines += [
                f"changed key: {one_line(row.pending_subject or '')}",
                f"SHA-256 {row.pending_sha256}",
            ]
        warning = self.warning(row)
        if warning:
            lines.insert(0, warning)
        return tooltip_lines(*lines)

    def tint(self, row: ContactRow) -> QColor | None:
        if row.pending_sha256:
            return _PENDING
        return _EXPIRED if row.expired else None


class AnchorTableModel(RowTableModel[AnchorRow]):
    """Trust anchors and where each comes from."""

    columns = (
        Column[AnchorRow]("Subject", lambda row: row.subject),
        Column[AnchorRow]("From", lambda row: row.origin),
        Column[AnchorRow]("Valid to", lambda row: _date(row.not_after)),
        Column[AnchorRow]("Fingerprint", lambda row: short_fingerprint(row.sha256)),
    )

    def warning(self, row: AnchorRow) -> str | None:
        return f"expired on {_date(row.not_after)}" if row.expired else None

    def tooltip(self, row: AnchorRow) -> str | None:
        return tooltip_lines(row.subject, f"SHA-256 {row.sha256}")

    def tint(self, row: AnchorRow) -> QColor | None:
        return _EXPIRED if row.expired else None


class ProfileTableModel(RowTableModel[ProfileRow]):
    """Installed managed profiles."""

    columns = (
        Column[ProfileRow]("Name", lambda row: row.display_name),
        Column[ProfileRow]("Identifier", lambda row: row.identifier),
        Column[ProfileRow]("Signed by", lambda row: row.signed_by or "unsigned"),
        Column[ProfileRow]("Identities", lambda row: str(row.identities)),
        Column[ProfileRow]("Accounts", lambda row: ", ".join(row.accounts)),
        Column[ProfileRow]("Installed", lambda row: row.installed_at[:10]),
    )

    def tooltip(self, row: ProfileRow) -> str | None:
        signer = f"signed by {one_line(row.signed_by)}" if row.signed_by else "unsigned"
        return tooltip_lines(row.display_name, row.identifier, signer)


__all__ = [
    "ROW_ROLE",
    "WARNING_ROLE",
    "AnchorTableModel",
    "Column",
    "ContactTableModel",
    "IdentityTableModel",
    "ProfileTableModel",
    "RowTableModel",
    "plain_tooltip",
    "short_fingerprint",
    "tooltip_lines",
]
