"""The account and folder tree: accounts at the top, their folders below, unread counts.

A two-level tree over plain rows read on the services worker (:func:`read_tree`); the model
itself never touches the store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

if TYPE_CHECKING:
    from inbox_app.services.app import InboxServices


_Index = QModelIndex | QPersistentModelIndex
LOCATION_ROLE = Qt.ItemDataRole.UserRole + 1

# Folders with a role first, in the order people expect; then the rest by name.
# createIndex's internal id: 0 marks an account row; a folder row holds its account's
# row + 1 (Qt keeps it as an unsigned integer, so no negative markers).
_ACCOUNT_ID = 0

_ROLE_ORDER = {"inbox": 0, "drafts": 1, "sent": 2, "archive": 3, "trash": 4}
_ROLE_NAMES = {
    "inbox": "Inbox",
    "drafts": "Drafts",
    "sent": "Sent",
    "archive": "Archive",
    "trash": "Trash",
}


class FolderRow(NamedTuple):
    account: str
    name: str
    role: str | None
    total: int
    unread: int

    @property
    def label(self) -> str:
        return _ROLE_NAMES.get(self.role or "", self.name) if self.role else self.name


class AccountRow(NamedTuple):
    name: str
    email: str
    folders: tuple[FolderRow, ...]
    local: bool = False  # a Maildir account: no server, nothing to push


def read_tree(services: InboxServices) -> list[AccountRow]:
    """Every account with its folders and counts (runs on the services worker)."""
    rows = []
    for account in services.accounts.accounts():
        folders = [
            FolderRow(f.account, f.name, f.role, f.total, f.unread)
            for f in services.mailbox.folders(account.name)
        ]
        folders.sort(key=lambda f: (_ROLE_ORDER.get(f.role or "", 9), f.name.lower()))
        rows.append(AccountRow(account.name, account.email, tuple(folders), account.local))
    return rows


class FolderTreeModel(QAbstractItemModel):
    """Accounts (top level) and their folders; the folder items carry (account, folder)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._accounts: list[AccountRow] = []

    def set_tree(self, accounts: list[AccountRow]) -> None:
        """Replace the tree; the counts change in place when the shape is the same."""
        same_shape = [(a.name, [f.name for f in a.folders]) for a in accounts] == [
            (a.name, [f.name for f in a.folders]) for a in self._accounts
        ]
        if same_shape:
            self._accounts = accounts
            for row, account in enumerate(accounts):
                parent = self.index(row, 0)
                self.dataChanged.emit(parent, parent)
                if account.folders:
                    self.dataChanged.emit(
                        self.index(0, 0, parent), self.index(len(account.folders) - 1, 0, parent)
                    )
            return
        self.beginResetModel()
        self._accounts = accounts
        self.endResetModel()

    def accounts(self) -> list[AccountRow]:
        return list(self._accounts)

    def folder_index(self, account: str, folder: str) -> QModelIndex:
        for row, item in enumerate(self._accounts):
            if item.name == account:
                for child, f in enumerate(item.folders):
                    if f.name == folder:
                        return self.index(child, 0, self.index(row, 0))
        return QModelIndex()

    def first_inbox(self) -> QModelIndex:
        for row, item in enumerate(self._accounts):
            for child, f in enumerate(item.folders):
                if f.role == "inbox":
                    return self.index(child, 0, self.index(row, 0))
        return QModelIndex()

    # ---------------------------------------------------------------- Qt model API

    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column != 0 or row < 0:
            return QModelIndex()
        if not parent.isValid():
            if row < len(self._accounts):
                return self.createIndex(row, 0, _ACCOUNT_ID)
            return QModelIndex()
        if parent.internalId() != _ACCOUNT_ID:
            return QModelIndex()
        account = parent.row()
        if account < len(self._accounts) and row < len(self._accounts[account].folders):
            return self.createIndex(row, 0, account + 1)
        return QModelIndex()

    def parent(self, index: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid() or index.internalId() == _ACCOUNT_ID:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, _ACCOUNT_ID)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._accounts)
        if parent.column() != 0 or parent.internalId() != _ACCOUNT_ID:
            return 0
        return len(self._accounts[parent.row()].folders)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 1

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if index.internalId() == _ACCOUNT_ID:
            account = self._accounts[index.row()]
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
                return account.name
            if role == Qt.ItemDataRole.ToolTipRole:
                return account.email
            return None
        folder = self._accounts[index.internalId() - 1].folders[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{folder.label} ({folder.unread})" if folder.unread else folder.label
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{folder.label}, {folder.unread} unread"
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{folder.total} messages, {folder.unread} unread"
        if role == Qt.ItemDataRole.FontRole and folder.unread:
            font = QFont()
            font.setBold(True)
            return font
        if role == LOCATION_ROLE:
            return (folder.account, folder.name)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
