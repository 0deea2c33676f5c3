"""The main window: accounts and folders, the message list, the reader, search, status.

Every action starts a job on the services worker through the :class:`Bridge`; the window
only reacts to results. Security is drawn by the reader's banner from the engine's report,
never from message content.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QEvent,
    QMimeData,
    QModelIndex,
    QObject,
    QSize,
    Qt,
    QTimer,
    QUrl,
    Slot,
)
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressBar,
    QSplitter,
    QToolBar,
    QTreeView,
    QWidget,
)

from inbox_app.errors import one_line
from inbox_app.ui.bridge import Bridge
from inbox_app.ui.clock import Clock, utc_now
from inbox_app.ui.errors import ErrorPresenter
from inbox_app.ui.models.folders import LOCATION_ROLE, AccountRow, FolderTreeModel, read_tree
from inbox_app.ui.models.messages import (
    DATE_COLUMN,
    FROM_COLUMN,
    SECURITY_COLUMN,
    SUBJECT_COLUMN,
    MessageListModel,
)

if TYPE_CHECKING:
    # Types only: the services (and the crypto stack below them) load on the worker when
    # the first job runs, after the window has painted.
    from PySide6.QtWidgets import QInputDialog, QSystemTrayIcon

    from inbox_app.services.app import InboxServices
    from inbox_app.services.compose import Composition
    from inbox_app.services.push import PushWatcher
    from inbox_app.services.reading import OpenedMessage
    from inbox_app.services.summaries import MessageSummary
    from inbox_app.services.syncing import SyncAllResult
    from inbox_app.ui.views.reader import ReaderView


SYNC_INTERVAL_MS = 5 * 60 * 1000


class MainWindow(QMainWindow):
    """Inbox's main window: it starts jobs through the bridge and shows their results.

    Attributes:
        folders, messages: the folder tree and message list models.
        opened: the message the reader shows (see the property).
    """

    def __init__(
        self,
        bridge: Bridge,
        *,
        clock: Clock = utc_now,
        push: PushWatcher | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._clock = clock
        self._push = push  # IDLE watchers for server accounts (None: the timer only)
        self._opened: OpenedMessage | None = None
        self._composers: list[QWidget] = []
        self._search_results = False
        self.opened_file_kind: str | None = None  # what the last open_path() routed to
        self._open_request = 0  # the latest message asked for; older opens skip themselves
        self._syncing = False
        self._sync_again = False
        self._reselect: MessageSummary | None = None
        self._asked_password: set[str] = set()  # asked once per session, not at every sync
        self.password_dialog: QInputDialog | None = None
        self.setWindowTitle("Inbox")
        self.setAcceptDrops(True)  # a dropped .p12, .pfx, .mobileconfig or .eml opens
        self.resize(1200, 760)

        self.folders = FolderTreeModel(self)
        self.messages = MessageListModel(bridge, self)
        self.folder_view = QTreeView()
        self.folder_view.setModel(self.folders)
        self.folder_view.setHeaderHidden(True)
        self.folder_view.setAccessibleName("Accounts and folders")
        self.folder_view.selectionModel().currentChanged.connect(self._folder_changed)

        self.message_view = QTreeView()
        self.message_view.setModel(self.messages)
        self.message_view.setRootIsDecorated(False)
        self.message_view.setUniformRowHeights(True)  # what keeps 100,000 rows smooth
        self.message_view.setAlternatingRowColors(True)
        self.message_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.message_view.setAccessibleName("Messages")
        self.message_view.setIconSize(QSize(32, 16))  # room for the lock and the seal
        header = self.message_view.header()
        header.resizeSection(SECURITY_COLUMN, 70)
        header.resizeSection(FROM_COLUMN, 220)
        header.resizeSection(SUBJECT_COLUMN, 380)
        header.resizeSection(DATE_COLUMN, 130)
        # Sorting is the model's (paged by the store), not the view's: the view only shows
        # the indicator and asks.
        self.message_view.setSortingEnabled(True)
        header.setSortIndicator(DATE_COLUMN, Qt.SortOrder.DescendingOrder)
        self.message_view.selectionModel().currentRowChanged.connect(self._message_changed)
        self.messages.loaded.connect(self._restore_selection)

        # The reader pane is built after the first paint (see :attr:`reader`): until a
        # message is opened a label stands in, and start-up does not wait for the pane.
        self._reader: ReaderView | None = None
        self._reader_placeholder = QLabel("No message selected")
        self._reader_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._right = QSplitter(Qt.Orientation.Vertical)
        right = self._right
        right.addWidget(self.message_view)
        right.addWidget(self._reader_placeholder)
        right.setSizes([300, 460])
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(self.folder_view)
        main.addWidget(right)
        main.setSizes([230, 970])
        self.setCentralWidget(main)

        self._build_actions()
        self._build_status()
        self.errors = ErrorPresenter(self, self.statusBar())
        bridge.failed.connect(self.errors.show_error)
        bridge.crashed.connect(self.errors.show_crash)
        bridge.progress.connect(self._progress)
        bridge.busy_changed.connect(self._busy)
        bridge.account_changed.connect(self._pushed)

        self._tray: QSystemTrayIcon | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(SYNC_INTERVAL_MS)
        self._timer.timeout.connect(self.sync_all)

    @property
    def bridge(self) -> Bridge:
        return self._bridge

    @property
    def reader(self) -> ReaderView:
        """The reader pane, built on first use."""
        if self._reader is None:
            from inbox_app.ui.views.reader import ReaderView  # noqa: PLC0415

            reader = ReaderView(self._bridge)
            reader.install_p12_requested.connect(self.install_p12)
            reader.install_profile_requested.connect(self.install_profile)
            reader.link_clicked.connect(self._link_clicked)
            reader.reply_requested.connect(self.reply)
            reader.forward_requested.connect(self.forward)
            sizes = self._right.sizes()
            self._right.replaceWidget(1, reader)
            self._right.setSizes(sizes)
            self._reader_placeholder.deleteLater()
            self._reader = reader
        return self._reader

    @property
    def opened(self) -> OpenedMessage | None:
        """The message the reader shows."""
        return self._opened

    # ---------------------------------------------------------------- building

    def _action(
        self,
        text: str,
        slot: Callable[[], object],
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.new_action = self._action("New message", self.compose, QKeySequence.StandardKey.New)
        self.reply_action = self._action("Reply", self.reply, "Ctrl+R")
        self.reply_all_action = self._action(
            "Reply all", lambda: self.reply(reply_all=True), "Ctrl+Shift+R"
        )
        self.delete_action = self._action(
            "Delete", self.delete_selected, QKeySequence.StandardKey.Delete
        )
        self.unread_action = self._action("Mark unread", self.mark_unread, "Ctrl+U")
        self.sync_action = self._action("Get mail", self.sync_all, QKeySequence.StandardKey.Refresh)
        self.open_action = self._action(
            "Open file…", self.open_file_dialog, QKeySequence.StandardKey.Open
        )
        self.certificates_action = self._action(
            "Certificates…", self.show_certificates, "Ctrl+Shift+C"
        )
        self.account_action = self._action("Add account…", self.add_account)
        self.drafts_action = self._action("Drafts…", self.show_drafts, "Ctrl+Shift+D")
        self.search_action = self._action(
            "Search", self._focus_search, QKeySequence.StandardKey.Find
        )
        self.quit_action = self._action("Quit", self.close, QKeySequence.StandardKey.Quit)
        for action in (
            self.reply_action,
            self.reply_all_action,
            self.delete_action,
            self.unread_action,
        ):
            action.setEnabled(False)

        toolbar = QToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        toolbar.setAccessibleName("Main toolbar")
        for action in (
            self.sync_action,
            self.new_action,
            self.reply_action,
            self.reply_all_action,
            self.delete_action,
            self.certificates_action,
        ):
            toolbar.addAction(action)
        self.search_field = QLineEdit()
        self.search_field.setPlaceholderText("Search mail (Ctrl+F)")
        self.search_field.setAccessibleName("Search mail")
        self.search_field.setClearButtonEnabled(True)
        self.search_field.setMaximumWidth(320)
        self.search_field.returnPressed.connect(self._search)
        self.search_field.textChanged.connect(self._search_cleared)
        toolbar.addSeparator()
        toolbar.addWidget(self.search_field)
        self.addToolBar(toolbar)

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        for action in (
            self.new_action,
            self.drafts_action,
            self.open_action,
            self.account_action,
            self.quit_action,
        ):
            file_menu.addAction(action)
        message_menu = menu.addMenu("&Message")
        for action in (
            self.reply_action,
            self.reply_all_action,
            self.unread_action,
            self.delete_action,
        ):
            message_menu.addAction(action)
        tools = menu.addMenu("&Tools")
        tools.addAction(self.sync_action)
        tools.addAction(self.certificates_action)

    def _build_status(self) -> None:
        self.status_label = QLabel("Ready")
        # Folder names come from the server, send outcomes quote it: never markup.
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setAccessibleName("Status")
        self.progress_bar = QProgressBar()
        self.progress_bar.setAccessibleName("Progress")
        self.progress_bar.setMaximumWidth(160)
        self.progress_bar.setRange(0, 0)  # busy: the length of sync work is not known ahead
        self.progress_bar.hide()
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.progress_bar)

    # ---------------------------------------------------------------- start

    def start(self, *, sync: bool = True) -> None:
        """Load the folder tree, select the first inbox, and (optionally) sync."""
        self.refresh_tree(select_inbox=True)
        self._bridge.run(_clean_old_attachment_copies, lambda _count: None)
        if sync:
            self.sync_all()
            self._timer.start()

    def start_after_first_paint(
        self, *, sync: bool = True, then: Callable[[], None] | None = None
    ) -> None:
        """:meth:`start` once the window has painted: the user sees a window at once, and
        the worker's first job (which loads the crypto stack) does not delay it."""

        def begin() -> None:
            _ = self.reader  # build the pane now that the window is on screen
            self.start(sync=sync)
            if then is not None:
                then()

        self._first_paint = _OnFirstPaint(self, begin)
        self.installEventFilter(self._first_paint)

    def refresh_tree(self, *, select_inbox: bool = False) -> None:
        self._bridge.run(read_tree, lambda tree: self._tree_arrived(tree, select_inbox))

    def _tree_arrived(self, tree: list[AccountRow], select_inbox: bool) -> None:
        current = self.messages.location
        self.folders.set_tree(tree)
        if self._push is not None:
            for account in tree:
                if not account.local:
                    self._push.watch(account.name)
        self.folder_view.expandAll()
        index = QModelIndex()
        if current is not None:
            index = self.folders.folder_index(*current)
        if not index.isValid() and (select_inbox or current is None):
            index = self.folders.first_inbox()
        if index.isValid() and self.folder_view.currentIndex() != index:
            self.folder_view.setCurrentIndex(index)

    # ---------------------------------------------------------------- folders and messages

    @Slot(QModelIndex, QModelIndex)
    def _folder_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        location = current.data(LOCATION_ROLE) if current.isValid() else None
        if location is None:
            return
        if self._search_results or self.messages.location != tuple(location):
            self._search_results = False
            self.messages.set_folder(*location)
            self._show(None)

    @Slot(QModelIndex, QModelIndex)
    def _message_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        summary = self.messages.summary(current.row()) if current.isValid() else None
        if summary is None:
            self._show(None)
            return
        clock = self._clock
        account, folder, uid = summary.account, summary.folder, summary.uid
        # Arrowing through the list queues an open per row; only the latest is worth the
        # work (decrypting, verifying, maybe fetching): the others skip themselves.
        self._open_request += 1
        request = self._open_request

        def job(services: InboxServices) -> OpenedMessage | None:
            if request != self._open_request:
                return None
            from inbox_app.services.reading import read_stored  # noqa: PLC0415

            return read_stored(services, account, folder, uid, now=clock())

        def done(opened: OpenedMessage | None) -> None:
            if opened is None:
                return
            report = opened.report
            trusted = report.signature.value not in ("invalid", "error") and (
                report.sender_match is not False
            )
            if report.protected_headers and opened.headers.subject and trusted:
                self.messages.set_protected_subject(summary, opened.headers.subject)
            self.messages.set_checked(summary, *list_verdict(opened))
            if self.messages.summary(self.message_view.currentIndex().row()) == summary:
                self._show(opened)
            if opened.seen and "\\Seen" not in summary.flags:
                self.messages.update_flags(summary, (*summary.flags, "\\Seen"))
                self.refresh_tree()

        self._bridge.run(job, done, lambda error: self._open_failed(request, error))

    def _open_failed(self, request: int, error: BaseException) -> None:
        if request != self._open_request:
            return
        self._show(None)
        self.errors.show_error(str(error))

    def _show(self, opened: OpenedMessage | None) -> None:
        self._opened = opened
        self.reader.show_message(opened)
        has = opened is not None and opened.uid is not None
        for action in (self.reply_action, self.reply_all_action):
            action.setEnabled(opened is not None)
        self.delete_action.setEnabled(has)
        self.unread_action.setEnabled(has)

    def select_row(self, row: int) -> None:
        self.message_view.setCurrentIndex(self.messages.index(row, 0))

    def selected_messages(self) -> list[MessageSummary]:
        """The selected rows' messages; the current row only when nothing is selected."""
        rows = {index.row() for index in self.message_view.selectionModel().selectedRows()}
        if not rows and self.message_view.currentIndex().isValid():
            rows = {self.message_view.currentIndex().row()}
        return [s for r in sorted(rows) if (s := self.messages.summary(r)) is not None]

    # ---------------------------------------------------------------- actions

    def delete_selected(self) -> None:
        """Delete the selection (to Trash where there is one), folder by folder: search
        results may hold messages of several folders."""
        chosen = self.selected_messages()
        if not chosen:
            return

        def job(services: InboxServices) -> None:
            for (account, folder), uids in _by_folder(chosen).items():
                services.mailbox.delete(account, folder, uids)

        def done(_: None) -> None:
            self.messages.remove(chosen)
            self.refresh_tree()

        self._bridge.run(job, done)

    def mark_unread(self) -> None:
        chosen = self.selected_messages()
        if not chosen:
            return

        def job(services: InboxServices) -> None:
            for (account, folder), uids in _by_folder(chosen).items():
                services.mailbox.change_flags(account, folder, uids, remove=("\\Seen",))

        def done(_: None) -> None:
            for summary in chosen:
                self.messages.update_flags(
                    summary, tuple(f for f in summary.flags if f != "\\Seen")
                )
            self.refresh_tree()

        self._bridge.run(job, done)

    def sync_all(self) -> None:
        """Sync every account; new mail is announced. One account failing does not stop
        the others; an account without a password gets a prompt."""
        progress = self._bridge.report_progress

        def job(services: InboxServices) -> SyncAllResult:
            from inbox_app.services.syncing import sync_all  # noqa: PLC0415

            return sync_all(services, progress=progress)

        if self._syncing:  # the timer or a second click while a sync runs: once is enough
            self._sync_again = True
            return
        self._syncing = True
        self.status_label.setText("Getting mail…")
        self._bridge.run(job, self._synced)

    def _synced(self, outcome: SyncAllResult) -> None:
        self._syncing = False
        results, failures = outcome.results, outcome.failures
        new = outcome.new
        if failures:
            self.status_label.setText(f"Sync failed for {', '.join(f.account for f in failures)}")
            for failure in failures:
                self.errors.show_error(f"{failure.account}: {failure.message}")
        else:
            self.status_label.setText(
                f"Up to date: {new} new message{'s' if new != 1 else ''}"
                if results
                else "No accounts"
            )
        if new:
            self.notify_new_mail(new)
        self.refresh_tree()
        if not self._search_results and (new or outcome.removed):
            # Keep the message the user is on selected across the reload.
            self._reselect = self.messages.summary(self.message_view.currentIndex().row())
            self.messages.reload()
        for failure in failures:
            if failure.needs_password and failure.account not in self._asked_password:
                self._asked_password.add(failure.account)
                self.ask_password(failure.account)
        if self._sync_again:
            self._sync_again = False
            self.sync_all()

    @Slot(int)
    def _restore_selection(self, _rows: int) -> None:
        summary, self._reselect = self._reselect, None
        if summary is None:
            return
        row = self.messages.row_of(summary)
        if row is not None:
            self.message_view.setCurrentIndex(self.messages.index(row, 0))

    def ask_password(self, account: str) -> None:
        """Ask for an account's password (kept in the OS keyring), then sync again."""
        from PySide6.QtWidgets import QInputDialog  # noqa: PLC0415 - dialogs load on use

        dialog = QInputDialog(self)
        dialog.setWindowTitle("Account password")
        dialog.setLabelText(f"Password for the account {one_line(account)}:")
        dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
        dialog.setAccessibleName("Account password")
        self.password_dialog = dialog

        def accepted(password: str) -> None:
            dialog.setTextValue("")  # the password lives in the keyring, not in a widget

            def job(services: InboxServices) -> None:
                services.accounts.set_password(account, password)

            self._bridge.run(job, lambda _: self.sync_all())

        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda _=None: setattr(self, "password_dialog", None))
        dialog.textValueSelected.connect(accepted)
        dialog.open()

    @Slot(str)
    def _pushed(self, account: str) -> None:
        """The server said an account's mail changed: sync (once, if one is running)."""
        self.sync_all()

    def notify_new_mail(self, count: int) -> None:
        """A desktop notification (through the system tray, where there is one)."""
        text = f"{count} new message{'s' if count != 1 else ''}"
        from PySide6.QtWidgets import QSystemTrayIcon  # noqa: PLC0415

        if QSystemTrayIcon.isSystemTrayAvailable():
            if self._tray is None:
                self._tray = QSystemTrayIcon(self.windowIcon(), self)
                self._tray.show()
            self._tray.showMessage("Inbox", text, QSystemTrayIcon.MessageIcon.Information, 5000)
        QApplication.alert(self)

    def _search(self) -> None:
        query = self.search_field.text().strip()
        location = self.messages.location
        if not query or location is None:
            return
        account = location[0]

        def job(services: InboxServices) -> list[MessageSummary]:
            return list(services.mailbox.search(account, query))

        def done(rows: list[MessageSummary]) -> None:
            self._search_results = True
            self.messages.show_results(rows)
            self.status_label.setText(f"{len(rows)} found for “{query}”")

        self._bridge.run(job, done)

    def _search_cleared(self, text: str) -> None:
        if not text and self._search_results:
            self._search_results = False
            self.messages.reload()

    def _focus_search(self) -> None:
        self.search_field.setFocus()
        self.search_field.selectAll()

    @Slot(str)
    def _progress(self, message: str) -> None:
        self.status_label.setText(message)

    @Slot(bool)
    def _busy(self, busy: bool) -> None:
        self.progress_bar.setVisible(busy)
        if not busy:  # nothing runs, so no sync does (even one that ended in a bug)
            self._syncing = False

    @Slot(QUrl)
    def _link_clicked(self, url: QUrl) -> None:
        # Links in mail are never followed silently: the user sees the real address first.
        from PySide6.QtWidgets import QMessageBox  # noqa: PLC0415

        answer = QMessageBox.question(
            self,
            "Open link?",
            # Fully encoded: no right-to-left override or look-alike can reorder what is shown.
            "Open this address in your browser?\n\n"
            + url.toString(QUrl.ComponentFormattingOption.FullyEncoded),
        )
        if answer == QMessageBox.StandardButton.Yes and url.scheme() in ("http", "https", "mailto"):
            from PySide6.QtGui import QDesktopServices  # noqa: PLC0415

            QDesktopServices.openUrl(url)

    # ---------------------------------------------------------------- other windows

    def current_account(self) -> str | None:
        location = self.messages.location
        if location is not None:
            return location[0]
        accounts = self.folders.accounts()
        return accounts[0].name if accounts else None

    def _compose_reply(self, composition: Composition) -> None:
        self.compose(composition)  # a callback returns nothing: the bridge's contract

    def compose(self, composition: Composition | None = None) -> QWidget | None:
        from inbox_app.ui.views.composer import ComposerWindow  # noqa: PLC0415

        account = self.current_account()
        if account is None:
            self.errors.ask_attention("No account", "Add an account before writing mail.")
            return None
        composer = ComposerWindow(self._bridge, account, composition, None, now=self._clock)
        composer.sent.connect(self._sent)
        composer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        composer.destroyed.connect(lambda _=None, c=composer: self._forget(c))
        self._composers.append(composer)
        composer.show()
        return composer

    def composers(self) -> list[QWidget]:
        """The composer windows open now."""
        return list(self._composers)

    def _forget(self, composer: QWidget) -> None:
        if composer in self._composers:
            self._composers.remove(composer)

    def reply(self, *, reply_all: bool = False) -> None:
        """Open a composer replying to the shown message (encrypted if it was)."""
        from inbox_app.services.compose import policy, reply_to  # noqa: PLC0415

        opened, account = self._opened, self.current_account()
        if opened is None or account is None:
            return

        def job(services: InboxServices) -> Composition:
            return reply_to(
                opened, account=account, reply_all=reply_all, policy=policy(services, account)
            )

        self._bridge.run(job, self._compose_reply)

    def forward(self) -> None:
        """A new message with the shown one's root content as plain text (encrypted when
        the original was)."""
        opened, account = self._opened, self.current_account()
        if opened is None or account is None:
            return

        def job(services: InboxServices) -> Composition:
            from inbox_app.services.compose import forward_of, policy  # noqa: PLC0415

            return forward_of(opened, account=account, policy=policy(services, account))

        self._bridge.run(job, self._compose_reply)

    @Slot(str)
    def _sent(self, outcome: str) -> None:
        self.status_label.setText(f"Sent: {outcome}")
        self.sync_all()

    def show_drafts(self) -> QWidget | None:
        """The saved drafts of the current account; one opens in a composer."""
        from inbox_app.ui.dialogs.drafts import DraftsDialog  # noqa: PLC0415

        account = self.current_account()
        if account is None:
            return None
        dialog = DraftsDialog(self._bridge, account, self, now=self._clock)
        dialog.open_requested.connect(lambda draft_id: self._open_draft(account, draft_id))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def _open_draft(self, account: str, draft_id: int) -> None:
        clock = self._clock

        def job(services: InboxServices) -> Composition:
            from inbox_app.services.compose import composition_from_draft  # noqa: PLC0415

            return composition_from_draft(services, account, draft_id, now=clock())

        self._bridge.run(job, self._compose_reply)

    def show_certificates(self) -> QWidget:
        from inbox_app.ui.dialogs.certificates import CertificateManager  # noqa: PLC0415

        dialog = CertificateManager(self._bridge, self, now=self._clock)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def add_account(self) -> QWidget:
        from inbox_app.ui.dialogs.account_setup import AccountSetupDialog  # noqa: PLC0415

        dialog = AccountSetupDialog(self._bridge, self)
        dialog.account_added.connect(lambda _name: self.start(sync=True))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    @Slot(bytes, str)
    def install_p12(self, data: bytes, filename: str, *, from_mail: bool = True) -> QWidget:
        from inbox_app.ui.dialogs.install_p12 import InstallP12Dialog  # noqa: PLC0415

        dialog = InstallP12Dialog(
            self._bridge, data, filename, self, from_mail=from_mail, now=self._clock
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    @Slot(bytes, str)
    def install_profile(self, data: bytes, filename: str, *, from_mail: bool = True) -> QWidget:
        from inbox_app.ui.dialogs.install_profile import InstallProfileDialog  # noqa: PLC0415

        dialog = InstallProfileDialog(
            self._bridge, data, filename, self, from_mail=from_mail, now=self._clock
        )
        dialog.installed.connect(lambda _result: self.start(sync=True))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def open_file_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog  # noqa: PLC0415

        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open a certificate, profile or message",
            "",
            "Certificates, profiles and mail (*.p12 *.pfx *.mobileconfig *.eml);;All files (*)",
        )
        if path:
            self.open_path(Path(path))

    @Slot(str)
    def open_path_named(self, name: str) -> None:
        """:meth:`open_path` for a file name (the desktop's file-open requests)."""
        self.open_path(Path(name))

    def open_path(self, path: Path) -> None:
        """Route a file to its flow: .p12/.pfx install, profile install, or the reader."""
        from inbox_app.services.open_file import classify  # noqa: PLC0415

        clock = self._clock

        def job(services: InboxServices) -> tuple[str, bytes, OpenedMessage | None]:
            opened_file = classify(path)
            kind = str(opened_file.kind)
            if kind == "message":
                from inbox_app.services.reading import read_raw  # noqa: PLC0415

                return kind, opened_file.data, read_raw(services, opened_file.data, now=clock())
            return kind, opened_file.data, None

        def done(result: tuple[str, bytes, OpenedMessage | None]) -> None:
            kind, data, opened = result
            self.opened_file_kind = kind
            if kind == "p12":
                self.install_p12(data, path.name, from_mail=False)
            elif kind == "profile":
                self.install_profile(data, path.name, from_mail=False)
            else:
                self._show(opened)

        self._bridge.run(job, done, lambda e: self.errors.ask_attention("Cannot open file", str(e)))

    # ---------------------------------------------------------------- drag and drop

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _dropped_files(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for path in _dropped_files(event.mimeData()):
            self.open_path(path)
        event.acceptProposedAction()

    # ---------------------------------------------------------------- closing

    def closeEvent(self, event: QCloseEvent) -> None:
        for composer in list(self._composers):
            composer.close()
        if any(composer.isVisible() for composer in self._composers):
            # A composer is saving its draft or asking whether to discard it: the window
            # stays until that is settled (closing it again then quits).
            event.ignore()
            return
        self._timer.stop()
        if self._push is not None:
            self._push.stop()
        super().closeEvent(event)


class _OnFirstPaint(QObject):
    """Calls ``action`` once, right after the watched widget's first paint."""

    def __init__(self, watched: QWidget, action: Callable[[], None]) -> None:
        super().__init__(watched)
        self._action: Callable[[], None] | None = action

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self._action is not None:
            action, self._action = self._action, None
            QTimer.singleShot(0, action)  # after this paint has finished
        return False


def list_verdict(opened: OpenedMessage) -> tuple[str, str | None]:
    """What the list shows for an opened message: its layers, and the banner's own verdict
    on the signature (so the list can never look better than the banner)."""
    from inbox_app.ui.views.security_banner import BannerLevel, banner_content  # noqa: PLC0415

    report = opened.report
    signed = report.signature.value != "unsigned"
    encrypted = report.encryption.value != "none"
    security = (
        "signed+encrypted" if signed and encrypted
        else "signed" if signed
        else "encrypted" if encrypted
        else "none"
    )  # fmt: skip
    if not signed:
        return security, None
    level = banner_content(report).level
    verdict = {BannerLevel.GOOD: "valid", BannerLevel.DANGER: "danger"}.get(level, "warning")
    return security, verdict


def _clean_old_attachment_copies(_services: InboxServices) -> int:
    # Copies handed to other programs ("Open") that a crash left behind, a day on.
    from inbox_app.services.attachments import remove_stale_open_copies  # noqa: PLC0415

    return remove_stale_open_copies()


def _by_folder(summaries: list[MessageSummary]) -> dict[tuple[str, str], list[int]]:
    groups: dict[tuple[str, str], list[int]] = {}
    for summary in summaries:
        groups.setdefault((summary.account, summary.folder), []).append(summary.uid)
    return groups


def _dropped_files(mime: QMimeData) -> list[Path]:
    """The local files of a drop; open_path() tells by content what each one is (a
    .p12 saved as .bin still installs) and says in one line when it is none of them."""
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
