"""The message list: a lazy Qt model over one folder of the SQLite store.

Rows arrive a page at a time (keyset paging in the store, so page N costs what page 1
costs) when the view asks for more (``canFetchMore``/``fetchMore``), and each page is read
on the services worker, never on the GUI thread. Opening a 100,000-message folder therefore
costs one page, and so does every step of scrolling.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont

from inbox_app.errors import one_line
from inbox_app.ui.bridge import Bridge
from inbox_app.ui.text import plain_tooltip

if TYPE_CHECKING:
    from inbox_app.services.app import InboxServices
    from inbox_app.services.summaries import MessageSummary


PAGE_SIZE = 200
SUMMARY_ROLE = Qt.ItemDataRole.UserRole + 1

_Index = QModelIndex | QPersistentModelIndex

# Column -> header. Security first: it is what this client is about.
COLUMNS = ("Security", "From", "Subject", "Date")
SECURITY_COLUMN, FROM_COLUMN, SUBJECT_COLUMN, DATE_COLUMN = range(4)
_COLUMN_ORDERS = {DATE_COLUMN: "date", FROM_COLUMN: "from", SUBJECT_COLUMN: "subject"}
_ROW_KEYS: dict[str, Any] = {
    "date": lambda s: s.sort_key,
    "from": lambda s: (s.from_addr.lower(), s.uid),
    "subject": lambda s: (s.subject.lower(), s.uid),
}

# Plain words and symbols for the list: the reader's banner gives the verdict; the list
# only says which layers the message claims (verified when it is opened).
SECURITY_LABELS = {
    "signed": "Signed",
    "encrypted": "Encrypted",
    "signed+encrypted": "Signed, encrypted",
    "none": "",
}
VERDICT_WORDS = {
    "valid": "valid signature",
    "warning": "signature with a warning (see the banner)",
    "danger": "signature NOT valid",
}

# RFC 9788 §4.3: an encrypted message's outer Subject is "[...]"; the real one is inside.
HIDDEN_SUBJECT = "[...]"


class MessageListModel(QAbstractTableModel):
    """The summaries of one folder, newest first, loaded page by page.

    Signals:
        loaded(int): a page arrived; the number of rows now loaded.
    """

    loaded = Signal(int)

    def __init__(self, bridge: Bridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._rows: list[MessageSummary] = []
        self._account: str | None = None
        self._folder: str | None = None
        self._exhausted = True
        self._loading = False
        self._generation = 0  # pages for a folder no longer shown are dropped
        # Protected subjects seen this session (RFC 9788), by (account, folder, uid): kept
        # in memory only, because decrypted text is never written to disk.
        self._protected: dict[tuple[str, str, int, int], str] = {}
        # What opening a message found (security layers, verdict), also for the session only.
        self._checked: dict[tuple[str, str, int, int], tuple[str, str | None]] = {}
        self._order = "date"  # a key of the store's SORT_ORDERS
        self._descending = True

    # ---------------------------------------------------------------- folder

    @property
    def location(self) -> tuple[str, str] | None:
        if self._account is None or self._folder is None:
            return None
        return self._account, self._folder

    def set_folder(self, account: str | None, folder: str | None) -> None:
        """Show another folder (or nothing): the first page is requested at once."""
        self.beginResetModel()
        self._generation += 1
        self._rows = []
        self._account, self._folder = account, folder
        self._exhausted = account is None or folder is None
        self._loading = False
        self.endResetModel()
        if not self._exhausted:
            self._request_page()

    @property
    def sort_order(self) -> tuple[str, bool]:
        """(order, descending): how the folder is paged now."""
        return self._order, self._descending

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by date, sender or subject: the store pages in that order (an index each),
        so sorting a 100,000-message folder costs one page too."""
        key = _COLUMN_ORDERS.get(column)
        if key is None:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if (key, descending) == (self._order, self._descending):
            return
        self._order, self._descending = key, descending
        if self._exhausted and self._account is not None and not self._loading:
            # Search results or a folder loaded in full: sort what is here.
            self.layoutAboutToBeChanged.emit()
            self._rows.sort(key=_ROW_KEYS[key], reverse=descending)
            self.layoutChanged.emit()
            return
        self.reload()

    def reload(self) -> None:
        """Read the folder again from the first page (after a sync or a change)."""
        self.set_folder(self._account, self._folder)

    def show_results(self, rows: list[MessageSummary]) -> None:
        """Show search results (already complete: nothing more to fetch)."""
        self.beginResetModel()
        self._generation += 1
        self._rows = list(rows)
        self._exhausted = True
        self._loading = False
        self.endResetModel()
        self.loaded.emit(len(self._rows))

    def summary(self, row: int) -> MessageSummary | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, message: MessageSummary | int) -> int | None:
        """The row showing ``message``; an ``int`` is a UID of the folder shown (search
        results span folders: pass the summary, whose folder counts)."""
        if isinstance(message, int):
            return next((i for i, s in enumerate(self._rows) if s.uid == message), None)
        wanted = (message.folder, message.uid, message.uidvalidity)
        return next(
            (i for i, s in enumerate(self._rows) if (s.folder, s.uid, s.uidvalidity) == wanted),
            None,
        )

    def is_loading(self) -> bool:
        return self._loading

    def set_protected_subject(self, summary: MessageSummary, subject: str) -> None:
        """Show the subject found inside an encrypted message (for this session only)."""
        key = _key(summary)
        if not subject or self._protected.get(key) == subject:
            return
        self._protected[key] = subject
        row = self.row_of(summary)
        if row is not None:
            self.dataChanged.emit(self.index(row, SUBJECT_COLUMN), self.index(row, SUBJECT_COLUMN))

    def set_checked(self, summary: MessageSummary, security: str, verdict: str | None) -> None:
        """Show what the engine found when the message was opened: its real layers (an
        encrypted message may turn out signed inside) and the signature's verdict."""
        key = _key(summary)
        if self._checked.get(key) == (security, verdict):
            return
        self._checked[key] = (security, verdict)
        row = self.row_of(summary)
        if row is not None:
            index = self.index(row, SECURITY_COLUMN)
            self.dataChanged.emit(index, index)

    def update_flags(self, summary: MessageSummary, flags: tuple[str, ...]) -> None:
        """Reflect a flag change made through the services (no reload needed)."""
        row = self.row_of(summary)
        if row is None:
            return
        self._rows[row] = _with_flags(self._rows[row], flags)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def remove(self, summaries: list[MessageSummary]) -> None:
        """Drop these messages' rows (deleted or moved through the services)."""
        gone = {(s.folder, s.uid, s.uidvalidity) for s in summaries}
        for row in reversed(range(len(self._rows))):
            current = self._rows[row]
            if (current.folder, current.uid, current.uidvalidity) in gone:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()

    # ---------------------------------------------------------------- lazy loading

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._request_page()

    def _request_page(self) -> None:
        account, folder = self._account, self._folder
        if account is None or folder is None:
            return
        order, descending = self._order, self._descending
        last = self._rows[-1] if self._rows else None
        generation = self._generation
        self._loading = True

        def job(services: InboxServices) -> list[MessageSummary]:
            return services.mailbox.page(
                account, folder, limit=PAGE_SIZE, after=last, order=order, descending=descending
            )

        self._bridge.run(
            job,
            lambda page: self._page_arrived(generation, page),
            lambda error: self._page_failed(generation, error),
        )

    def _page_arrived(self, generation: int, page: list[MessageSummary]) -> None:
        if generation != self._generation:
            return
        self._loading = False
        if len(page) < PAGE_SIZE:
            self._exhausted = True
        if page:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
            self._rows.extend(page)
            self.endInsertRows()
        self.loaded.emit(len(self._rows))

    def _page_failed(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._exhausted = True
        self._bridge.failed.emit(str(error))

    # ---------------------------------------------------------------- Qt model API

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        summary = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == SUBJECT_COLUMN:
                return self._subject(summary)
            return _display(summary, column)
        if role == Qt.ItemDataRole.DecorationRole and column == SECURITY_COLUMN:
            security, verdict = self._checked.get(_key(summary), (summary.security, None))
            if security == "none":
                return None
            from inbox_app.ui.icons import security_icon  # noqa: PLC0415 - drawn on first use

            return security_icon(security, verdict)
        if role == Qt.ItemDataRole.ToolTipRole:
            # Escaped: Qt renders a tool tip that looks like HTML as HTML, and the subject
            # and sender are the message's own words.
            if column == SECURITY_COLUMN:
                return plain_tooltip(self._security_words(summary) or "Not signed or encrypted")
            if column == SUBJECT_COLUMN:
                return plain_tooltip(self._subject(summary))
            return plain_tooltip(_display(summary, column))
        if role == Qt.ItemDataRole.AccessibleTextRole:
            if column == SECURITY_COLUMN:
                return self._security_words(summary) or "Not protected"
            return _display(summary, column)
        if role == Qt.ItemDataRole.FontRole and "\\Seen" not in summary.flags:
            font = QFont()
            font.setBold(True)
            return font
        if role == SUMMARY_ROLE:
            return summary
        return None

    def _security_words(self, summary: MessageSummary) -> str:
        security, verdict = self._checked.get(_key(summary), (summary.security, None))
        words = SECURITY_LABELS[security]
        if verdict is not None:
            return f"{words}: {VERDICT_WORDS[verdict]}"
        if "signed" in security:
            return f"{words} (not checked yet: open it)"
        return words

    def _subject(self, summary: MessageSummary) -> str:
        protected = self._protected.get(_key(summary))
        if protected is not None:
            return one_line(protected)
        if summary.subject == HIDDEN_SUBJECT and "encrypted" in summary.security:
            return "(encrypted subject)"
        return _display(summary, SUBJECT_COLUMN)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


def _display(summary: MessageSummary, column: int) -> str:
    if column == SECURITY_COLUMN:
        return ""  # an icon (DecorationRole); the words are in the tooltip
    if column == FROM_COLUMN:
        return one_line(summary.from_addr)
    if column == SUBJECT_COLUMN:
        return one_line(summary.subject) or "(no subject)"
    when = summary.date or summary.internaldate
    return _format_date(when) if when is not None else ""


def _format_date(when: datetime) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


def _key(summary: MessageSummary) -> tuple[str, str, int, int]:
    # UIDVALIDITY too: after a server reset the same UID names another message.
    return summary.account, summary.folder, summary.uidvalidity, summary.uid


def _with_flags(summary: MessageSummary, flags: tuple[str, ...]) -> MessageSummary:
    return replace(summary, flags=tuple(sorted(set(flags))))
