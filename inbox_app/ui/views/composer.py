"""The composer: write, protect and send one message.

The window edits a :class:`~inbox_app.services.compose.Composition`; everything that reads
the disk, the keystore or the network (the account's policy, recipients' certificates,
drafts, attachments, sending) runs as a job through the :class:`Bridge`. Recipients'
certificate states are refreshed shortly after the recipient fields change, and the draft
is saved shortly after any change, locally; closing the window also puts it in a server
account's Drafts folder (encrypted to the sender when the message is to be encrypted).

Closing never loses what was written without asking: changes not saved yet (typed since the
last save, or a save still running) are saved first, and the window closes once they are
stored. When they cannot be (a draft kept in memory only, a failed save) the window asks
"Discard this message?" (Discard or Cancel; a window-modal box, so nothing blocks).

Nothing typed here or read from a certificate is ever shown as markup: labels are plain
text and tool tips go through :func:`~inbox_app.ui.models.certificates.plain_tooltip`.

A draft of a message to be encrypted is saved encrypted to the sender; without an
encryption certificate for the sender it is kept in this window's memory only, and the
status line says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TypeVar

from PySide6.QtCore import QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from inbox_app.errors import InboxError, one_line
from inbox_app.services.app import InboxServices
from inbox_app.services.compose import (
    AttachedFile,
    Composition,
    DraftSaved,
    RecipientState,
    RecipientStatus,
    SecurityPolicy,
    blocking_reason,
    policy,
    read_attachments,
    recipient_statuses,
    save_draft,
    send,
    split_addresses,
)
from inbox_app.services.sending import SendOutcome
from inbox_app.ui.bridge import Bridge
from inbox_app.ui.clock import Clock, utc_now
from inbox_app.ui.text import plain_tooltip

T = TypeVar("T")
DRAFT_DELAY_MS = 1500  # after the last change
CHECK_DELAY_MS = 400  # after the last change to a recipient field
_STATE_ICONS = {
    RecipientState.READY: QStyle.StandardPixmap.SP_DialogApplyButton,
    RecipientState.INVALID_ADDRESS: QStyle.StandardPixmap.SP_MessageBoxCritical,
}


class _Unexpected(InboxError):
    """A composer job failed with a bug (not an :class:`InboxError`).

    It reaches the window's failure callback, which resets the window's state (a save or
    a send no longer in progress) and hands ``error`` on to the crash report.
    """

    def __init__(self, error: Exception) -> None:
        super().__init__("an internal error stopped it")
        self.error = error


def _guarded(job: Callable[[InboxServices], T]) -> Callable[[InboxServices], T]:
    """``job``, with any exception that is not an :class:`InboxError` as :class:`_Unexpected`.

    The bridge gives a bug to its ``crashed`` signal only, so the window would never learn
    that its save or send ended, and would wait for it forever.
    """

    def run(services: InboxServices) -> T:
        try:
            return job(services)
        except InboxError:
            raise
        except Exception as exc:
            raise _Unexpected(exc) from exc

    return run


class _Shared:
    """What the composer's jobs hand on to each other on the worker thread.

    Jobs run one after another on the single worker, so a send queued while a draft save
    is pending still sees the draft's id (and deletes it), and a save queued after the
    message went to the outbox does nothing.
    """

    def __init__(self, draft_id: int | None) -> None:
        self.draft_id = draft_id
        self.queued = False


class ComposerWindow(QWidget):
    """A window to write one message.

    Args:
        bridge: runs the jobs.
        account: the name of the account it is sent from.
        composition: what to start from (a reply, a draft); a new message when None.
        parent: the Qt parent.
        now: the clock (tests pin it).

    Signals:
        sent(str): the server (or the local account) took the message; the text says how.
        queued(str): the message went to the outbox but could not be sent yet (the reason).
        draft_saved(int): the draft was saved (its local id).
    """

    sent = Signal(str)
    queued = Signal(str)
    draft_saved = Signal(int)

    def __init__(
        self,
        bridge: Bridge,
        account: str,
        composition: Composition | None = None,
        parent: QWidget | None = None,
        *,
        now: Clock = utc_now,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self._bridge = bridge
        self._account = account
        self._now = now
        start = composition if composition is not None else Composition(account)
        self._start = start
        self._policy: SecurityPolicy | None = None
        self._statuses: dict[str, RecipientStatus] = {}
        self._attachments: list[AttachedFile] = list(start.attachments)
        self._shared = _Shared(start.draft_id)
        self._draft_id = start.draft_id
        self._saving = False
        self._dirty = False
        # The last save finished stored what it was given (a reopened draft starts stored).
        self._saved = start.draft_id is not None
        self._closing = False  # closing waits for its save
        self._leaving = False  # the close may go ahead: saved, or discarded
        self._question: QMessageBox | None = None
        self._sending = False
        self._done = False  # in the outbox: nothing more to save or send
        self._closed = False
        self.setAccessibleName("Compose message")
        self.resize(760, 640)

        self._build(start)
        self._draft_timer = QTimer(self)
        self._draft_timer.setSingleShot(True)
        self._draft_timer.setInterval(DRAFT_DELAY_MS)
        self._draft_timer.timeout.connect(self._save_draft)
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(CHECK_DELAY_MS)
        self._check_timer.timeout.connect(self._check_recipients)
        self._connect_changes()
        self._update_title()
        self._update_block()
        self._bridge.run(
            lambda services: policy(services, account), self._policy_loaded, self._show_error
        )

    # ------------------------------------------------------------------ layout

    def _build(self, start: Composition) -> None:
        self.from_label = QLabel(self._account)
        self.from_label.setTextFormat(Qt.TextFormat.PlainText)
        self.from_label.setAccessibleName("From")
        self.to_edit = self._address_field("To", start.to)
        self.cc_edit = self._address_field("Cc", start.cc)
        self.bcc_edit = self._address_field("Bcc", start.bcc)
        self.subject_edit = QLineEdit(one_line(start.subject))
        self.subject_edit.setAccessibleName("Subject")

        self.recipient_list = QListWidget()
        self.recipient_list.setAccessibleName("Recipients' certificates")
        self.recipient_list.setIconSize(QSize(16, 16))
        self.recipient_list.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.recipient_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        self.sign_box = QCheckBox("&Sign")
        self.sign_box.setAccessibleName("Sign")
        self.sign_box.setChecked(start.sign)
        self.sign_box.setEnabled(False)  # until the account's policy is known
        self.encrypt_box = QCheckBox("&Encrypt")
        self.encrypt_box.setAccessibleName("Encrypt")
        self.encrypt_box.setChecked(start.encrypt)
        self.encrypt_box.setEnabled(False)
        self.block_label = QLabel()
        self.block_label.setTextFormat(Qt.TextFormat.PlainText)
        self.block_label.setAccessibleName("Why the message cannot be sent")
        self.block_label.setWordWrap(True)
        self.block_label.setStyleSheet("color: #b00020;")

        self.body_edit = QPlainTextEdit()
        self.body_edit.setPlainText(start.body)
        self.body_edit.setAccessibleName("Message body")
        self.body_edit.setTabChangesFocus(True)

        self.attachment_list = QListWidget()
        self.attachment_list.setAccessibleName("Attachments")
        self.attach_button = QPushButton("&Attach…")
        self.attach_button.setAccessibleName("Attach files")
        self.attach_button.clicked.connect(self._choose_attachments)
        self.remove_button = QPushButton("&Remove")
        self.remove_button.setAccessibleName("Remove the selected attachment")
        self.remove_button.clicked.connect(self.remove_selected_attachment)

        self.status_label = QLabel()
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setAccessibleName("Status")
        self.send_button = QPushButton("Se&nd")
        self.send_button.setAccessibleName("Send")
        self.send_button.setToolTip("Send (Ctrl+Return)")
        self.send_button.clicked.connect(self.send)

        form = QFormLayout()
        form.addRow("From:", self.from_label)
        form.addRow("&To:", self.to_edit)
        form.addRow("&Cc:", self.cc_edit)
        form.addRow("&Bcc:", self.bcc_edit)
        form.addRow("", self.recipient_list)
        form.addRow("Sub&ject:", self.subject_edit)
        security = QHBoxLayout()
        security.addWidget(self.sign_box)
        security.addWidget(self.encrypt_box)
        security.addWidget(self.block_label, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.attach_button)
        bottom.addWidget(self.remove_button)
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(security)
        layout.addWidget(self.body_edit, 1)
        layout.addWidget(self.attachment_list)
        layout.addLayout(bottom)

        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(self.send)
        self._show_attachments()
        self._show_recipients()
        (self.body_edit if start.to else self.to_edit).setFocus()

    def _address_field(self, name: str, entries: Sequence[str]) -> QLineEdit:
        edit = QLineEdit(", ".join(one_line(entry) for entry in entries))
        edit.setAccessibleName(name)
        edit.setPlaceholderText("name@example.com, …")
        return edit

    def _connect_changes(self) -> None:
        for edit in (self.to_edit, self.cc_edit, self.bcc_edit):
            edit.textChanged.connect(self._recipients_changed)
        self.subject_edit.textChanged.connect(self._changed)
        self.subject_edit.textChanged.connect(self._update_title)
        self.body_edit.textChanged.connect(self._changed)
        self.sign_box.toggled.connect(self._changed)
        self.encrypt_box.toggled.connect(self._changed)
        self.sign_box.toggled.connect(self._update_block)
        self.encrypt_box.toggled.connect(self._update_block)

    # ------------------------------------------------------------------ reading the form

    def composition(self) -> Composition:
        """What the form holds now."""
        return dataclasses.replace(
            self._start,
            account=self._account,
            to=split_addresses(self.to_edit.text()),
            cc=split_addresses(self.cc_edit.text()),
            bcc=split_addresses(self.bcc_edit.text()),
            subject=self.subject_edit.text(),
            body=self.body_edit.toPlainText(),
            attachments=tuple(self._attachments),
            sign=self.sign_box.isChecked(),
            encrypt=self.encrypt_box.isChecked(),
            draft_id=self._draft_id,
        )

    def blocking_reason(self) -> str | None:
        """Why Send is disabled now, or None."""
        if self._done:
            return None
        if self._policy is None:
            return "loading the account…"
        states = {address: status.state for address, status in self._statuses.items()}
        return blocking_reason(self.composition(), states, self._policy)

    def recipient_statuses(self) -> dict[str, RecipientStatus]:
        """The recipients' certificate states last checked."""
        return dict(self._statuses)

    @property
    def draft_id(self) -> int | None:
        return self._draft_id

    @property
    def discard_question(self) -> QMessageBox | None:
        """The open "Discard this message?" box, if closing is asking it now."""
        return self._question

    # ------------------------------------------------------------------ policy

    def _policy_loaded(self, rules: SecurityPolicy) -> None:
        if self._closed:
            return
        self._policy = rules
        self.from_label.setText(rules.address)
        if self._start.draft_id is not None:
            # A reopened draft: its toggles are the user's choice, kept as they were saved.
            start = rules.apply(self._start)
        else:
            # The toggles start from the policy; a reply may already ask for more (encrypted
            # when the original was), never for less than the policy requires.
            start = rules.apply(
                dataclasses.replace(
                    self._start,
                    sign=self._start.sign or rules.sign_default,
                    encrypt=self._start.encrypt or rules.encrypt_default,
                )
            )
        for box, value in ((self.sign_box, start.sign), (self.encrypt_box, start.encrypt)):
            box.blockSignals(True)
            box.setChecked(value)
            box.blockSignals(False)
        self.sign_box.setEnabled(True)
        self.encrypt_box.setEnabled(rules.encryption_switch_allowed)
        if not rules.encryption_switch_allowed:
            self.encrypt_box.setToolTip(
                plain_tooltip("This account's policy sets encryption for every message")
            )
        if not rules.can_sign:
            self.sign_box.setToolTip(plain_tooltip(f"No signing certificate for {rules.address}"))
        self._check_recipients()

    # ------------------------------------------------------------------ recipients

    @Slot()
    def _recipients_changed(self) -> None:
        self._changed()
        self._check_timer.start()
        self._show_recipients()
        self._update_block()

    @Slot()
    def _check_recipients(self) -> None:
        rules = self._policy
        if rules is None or self._closed:
            return
        entries = [
            *split_addresses(self.to_edit.text()),
            *split_addresses(self.cc_edit.text()),
            *split_addresses(self.bcc_edit.text()),
        ]
        moment = self._now()

        def job(services: InboxServices) -> dict[str, RecipientStatus]:
            return recipient_statuses(services, entries, now=moment, sender=rules.address)

        self._bridge.run(job, self._recipients_checked, self._show_error)

    def _recipients_checked(self, statuses: dict[str, RecipientStatus]) -> None:
        if self._closed:
            return
        self._statuses = statuses
        self._show_recipients()
        self._update_block()

    def _show_recipients(self) -> None:
        self.recipient_list.clear()
        wanted = self.composition().recipients()
        for address in wanted:
            status = self._statuses.get(address)
            if status is None:
                text, tip = f"{address} — checking…", ""
                icon = self.style().standardIcon(QStyle.StandardPixmap.SP_BrowserReload)
            else:
                text, tip = f"{address} — {status.state.label}", status.detail
                pixmap = _STATE_ICONS.get(status.state, QStyle.StandardPixmap.SP_MessageBoxWarning)
                icon = self.style().standardIcon(pixmap)
            item = QListWidgetItem(icon, one_line(text))  # item text is never markup
            # A tool tip is markup when it looks like it, and the detail can quote a
            # certificate's subject from incoming mail.
            item.setToolTip(plain_tooltip(one_line(tip)) if tip else "")
            item.setData(Qt.ItemDataRole.UserRole, address)
            self.recipient_list.addItem(item)
        self.recipient_list.setVisible(bool(wanted))
        _fit_rows(self.recipient_list, len(wanted), most=4)

    # ------------------------------------------------------------------ blocking

    @Slot()
    def _update_block(self) -> None:
        reason = self.blocking_reason()
        self.block_label.setText(reason or "")
        self.send_button.setEnabled(reason is None and not self._sending and not self._done)

    @Slot()
    def _update_title(self) -> None:
        subject = one_line(self.subject_edit.text()).strip()
        self.setWindowTitle(f"{subject} — Compose" if subject else "New message — Compose")

    # ------------------------------------------------------------------ drafts

    @Slot()
    def _changed(self) -> None:
        if self._done:
            return
        self._dirty = True
        self._draft_timer.start()

    @Slot()
    def _save_draft(self) -> None:
        if self._done or self._closed or self._closing or not self._dirty:
            return
        if self._saving:
            self._draft_timer.start()  # one save at a time; this change waits for it
            return
        self._saving = True
        self._dirty = False
        self._start_save(
            self.composition(), upload=False, on_done=self._draft_done, on_error=self._draft_failed
        )

    def _start_save(
        self,
        composition: Composition,
        *,
        upload: bool,
        on_done: Callable[[DraftSaved | None], None],
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        shared = self._shared
        moment = self._now()

        def job(services: InboxServices) -> DraftSaved | None:
            if shared.queued:
                return None  # sent meanwhile: the draft is gone and stays gone
            c = dataclasses.replace(composition, draft_id=shared.draft_id)
            saved = save_draft(services, c, now=moment, upload=upload)
            shared.draft_id = saved.draft_id
            return saved

        if on_error is None:
            # The last save, as the window closes: nobody is left to reset; a failure is
            # the bridge's to show, and a bug goes to the crash report as it is.
            self._bridge.run(job, on_done)
        else:
            self._bridge.run(_guarded(job), on_done, on_error)

    def _draft_done(self, saved: DraftSaved | None) -> None:
        self._saving = False
        if self._closed or saved is None:
            return
        # None when the draft could not be kept encrypted: this window holds the only copy.
        self._draft_id = saved.draft_id
        self._saved = saved.stored
        self.status_label.setText(saved.detail)
        if saved.draft_id is not None:
            self.draft_saved.emit(saved.draft_id)
        if self._dirty:
            self._draft_timer.start()

    def _draft_failed(self, error: BaseException) -> None:
        self._saving = False
        self._saved = False
        self._report_bug(error)
        if not self._closed:
            self.status_label.setText(f"Draft not saved: {one_line(str(error))}")

    # ------------------------------------------------------------------ attachments

    @Slot()
    def _choose_attachments(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Attach files")
        if paths:
            self.add_attachment_files(paths)

    def add_attachment_files(self, paths: Sequence[str]) -> None:
        """Read the files (a job) and attach them."""
        chosen = list(paths)
        self._bridge.run(
            lambda services: read_attachments(chosen), self._attached, self._show_error
        )

    def _attached(self, files: list[AttachedFile]) -> None:
        if self._closed:
            return
        self._attachments.extend(files)
        self._show_attachments()
        self._changed()

    @Slot()
    def remove_selected_attachment(self) -> None:
        row = self.attachment_list.currentRow()
        if 0 <= row < len(self._attachments):
            del self._attachments[row]
            self._show_attachments()
            self._changed()

    def _show_attachments(self) -> None:
        self.attachment_list.clear()
        for attached in self._attachments:
            self.attachment_list.addItem(
                f"{one_line(attached.filename)} ({_size_text(attached.size)})"
            )
        self.attachment_list.setVisible(bool(self._attachments))
        _fit_rows(self.attachment_list, len(self._attachments), most=3)
        self.remove_button.setEnabled(bool(self._attachments))

    # ------------------------------------------------------------------ sending

    @Slot()
    def send(self) -> None:
        """Send the message (a job); Send stays disabled while anything blocks it."""
        if self._sending or self._done or self.blocking_reason() is not None:
            return
        self._sending = True
        self._draft_timer.stop()
        self._update_block()
        self.status_label.setText("Sending…")
        composition = self.composition()
        shared = self._shared
        moment = self._now()

        def job(services: InboxServices) -> SendOutcome:
            outcome = send(
                services, dataclasses.replace(composition, draft_id=shared.draft_id), now=moment
            )
            shared.queued = True
            return outcome

        self._bridge.run(_guarded(job), self._send_done, self._send_failed)

    def _send_done(self, outcome: SendOutcome) -> None:
        self._sending = False
        self._done = True
        if self._closed:
            return
        if outcome.sent:
            self.status_label.setText("Sent")
            self.sent.emit(outcome.detail)
            self.close()
            return
        text = f"Not sent yet: {one_line(outcome.detail)}. It waits in the outbox."
        self.status_label.setText(text)
        self.block_label.setText(text)
        self._update_block()
        self.queued.emit(outcome.detail)

    def _send_failed(self, error: BaseException) -> None:
        # Nothing was queued (a missing certificate, a refused policy): the user can fix
        # it and send again.
        self._sending = False
        self._report_bug(error)
        if self._closed:
            return
        text = one_line(str(error))
        self.status_label.setText(text)
        self.block_label.setText(text)
        self.send_button.setEnabled(True)
        self._dirty = True
        self._draft_timer.start()

    def _show_error(self, error: BaseException) -> None:
        if not self._closed:
            self.status_label.setText(one_line(str(error)))

    def _report_bug(self, error: BaseException) -> None:
        if isinstance(error, _Unexpected):
            self._bridge.crashed.emit(error.error)

    # ------------------------------------------------------------------ closing

    def closeEvent(self, event: QCloseEvent) -> None:
        """Keep what was written: saved (and uploaded) one last time, or asked about.

        With nothing unsaved the window closes at once (the draft is saved and uploaded one
        last time on the way). Otherwise the close waits: the draft is saved, and the window
        closes when it is stored, or asks "Discard this message?" when it cannot be.
        ``close()`` returns False meanwhile.
        """
        if not self._closed and not self._leaving:
            if self._closing or self._question is not None:
                event.ignore()  # already saving, or asking
                return
            if not self._nothing_to_lose():
                event.ignore()
                self._save_before_closing()
                return
            self._last_save()
        self._draft_timer.stop()
        self._check_timer.stop()
        self._closed = True
        super().closeEvent(event)

    def _nothing_to_lose(self) -> bool:
        """Whether closing now loses nothing: sent, empty, or its latest text is stored."""
        if self._done or self._sending:
            return True  # the outbox has it (or will have it, or says why not)
        if self.composition().is_empty() and self._draft_id is None:
            return True
        return self._saved and not self._dirty and not self._saving

    def _last_save(self) -> None:
        """Save (and upload) the stored draft once more as the window goes; nobody waits."""
        if self._done or self._sending:
            return
        composition = self.composition()
        if not composition.is_empty() or self._draft_id is not None:
            self._start_save(composition, upload=True, on_done=_ignore)

    def _save_before_closing(self) -> None:
        # Queued behind a save still running, if any: jobs run one at a time, in order.
        self._closing = True
        self._dirty = False
        self._draft_timer.stop()
        self.status_label.setText("Saving the draft…")
        self._start_save(
            self.composition(),
            upload=True,
            on_done=self._saved_before_closing,
            on_error=self._not_saved_before_closing,
        )

    def _saved_before_closing(self, saved: DraftSaved | None) -> None:
        self._closing = False
        if self._closed:
            return
        if saved is None:  # sent meanwhile: the outbox has it
            self._leave()
            return
        self._draft_id = saved.draft_id
        self._saved = saved.stored
        self.status_label.setText(saved.detail)
        if saved.draft_id is not None:
            self.draft_saved.emit(saved.draft_id)
        if self._dirty:  # changed while it was being saved: save that too
            self._save_before_closing()
        elif saved.stored or self.composition().is_empty():
            self._leave()
        else:
            self._ask_discard(saved.detail)

    def _not_saved_before_closing(self, error: BaseException) -> None:
        self._closing = False
        self._saved = False
        self._report_bug(error)
        if self._closed:
            return
        detail = f"Draft not saved: {one_line(str(error))}"
        self.status_label.setText(detail)
        if self.composition().is_empty():
            self._leave()
        else:
            self._ask_discard(detail)

    def _ask_discard(self, detail: str) -> None:
        """Ask whether to close and lose the message; the answer comes to :meth:`_answered`."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Compose")
        box.setText("Discard this message?")
        reason = one_line(detail).rstrip(".")
        box.setInformativeText(f"{reason}.\nClosing the window loses what you wrote.")
        # After the texts: the format applies to both labels (the detail can quote a header).
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setStandardButtons(
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(self._answered)
        self._question = box
        box.open()  # window-modal, and returns at once: no nested event loop

    @Slot()
    def _answered(self) -> None:
        box, self._question = self._question, None
        if box is None or self._closed:
            return
        clicked = box.clickedButton()
        if (
            clicked is not None
            and box.standardButton(clicked) == QMessageBox.StandardButton.Discard
        ):
            self._leave()
        elif self._dirty:
            self._draft_timer.start()  # kept open: autosave goes on

    def _leave(self) -> None:
        """Close for good: what could be kept is kept, or the user chose to discard it."""
        self._leaving = True
        self.close()


def _ignore(_: object) -> None:
    """The window is gone: the last draft save has nobody to tell."""


def _fit_rows(view: QListWidget, rows: int, *, most: int) -> None:
    """Make ``view`` as tall as its rows (at most ``most``; it scrolls beyond)."""
    row = max(view.sizeHintForRow(0), view.fontMetrics().height() + 4)
    view.setFixedHeight(row * max(1, min(rows, most)) + 2 * view.frameWidth() + 2)


# The reader pane has the same in its _size (inbox_app/ui/views/reader.py); kept apart
# until both move to one place the two views share.
def _size_text(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
