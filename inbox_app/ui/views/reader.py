"""The reader pane: the security banner, the header fields, the body and the attachments.

What is displayed comes from an :class:`~inbox_app.services.reading.OpenedMessage`, built off
the GUI thread from the engine's report. The body browser never loads anything by itself:
``cid:`` images are served from the message's own parts, every other URL (http, https,
file, relative, data) gets an empty answer, and links are reported, never followed. Nothing
the message says becomes markup outside the body: header fields are plain-text labels,
attachment names plain list items, and the body shows no tool tips (Qt would render one as
rich text, drawn over the window like the application's own).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QCoreApplication, QEvent, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QImage, QTextDocument
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from inbox_app.services.attachments import (
    Attachment,
    AttachmentKind,
    may_open,
    open_copy,
    save_attachment,
)
from inbox_app.ui.bridge import Bridge
from inbox_app.ui.views.security_banner import SecurityBanner

if TYPE_CHECKING:
    from inbox_app.services.reading import OpenedMessage

_IMAGE = QTextDocument.ResourceType.ImageResource.value
_MAX_IMAGE_BYTES = 20 * 1024 * 1024
# Characters of a body the reader lays out (about 70 ms here for 2 MB of text).
DISPLAY_LIMIT = 2_000_000


class MessageBrowser(QTextBrowser):
    """A QTextBrowser that shows one message and loads nothing from anywhere.

    Signals:
        link_clicked(QUrl): the user clicked a link (it was not opened).
    """

    link_clicked = Signal(QUrl)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._inline: dict[str, tuple[str, bytes]] = {}
        self.setOpenLinks(False)  # never navigate, not even inside the message
        self.setOpenExternalLinks(False)
        self.setReadOnly(True)
        self.setSearchPaths([])
        self.anchorClicked.connect(self.link_clicked)

    def viewportEvent(self, event: QEvent) -> bool:  # Qt's name
        """Swallow tool tips: the sanitiser drops ``title``, and this holds even without it."""
        if event.type() == QEvent.Type.ToolTip:
            return True
        return super().viewportEvent(event)

    def set_inline(self, inline: dict[str, tuple[str, bytes]]) -> None:
        """The message's ``cid:`` resources (Content-ID -> (type, bytes))."""
        self._inline = dict(inline)

    def loadResource(self, type: int, name: QUrl | str) -> object:  # Qt's name and signature
        """Serve ``cid:`` images from the message; refuse everything else.

        The refusal must be a non-null value: when this returns None, QTextDocument falls
        back to loading ``data:`` URLs, local files and paths relative to the working
        directory by itself.
        """
        url = QUrl(name)
        if type == _IMAGE and url.scheme().lower() == "cid":
            content_id = url.path(QUrl.ComponentFormattingOption.FullyDecoded)
            found = self._inline.get(content_id)
            if found is not None and found[0].startswith("image/"):
                data = found[1]
                if len(data) <= _MAX_IMAGE_BYTES:
                    image = QImage.fromData(data)
                    if not image.isNull():
                        return image
        return QImage() if type == _IMAGE else QByteArray()


class ReaderView(QWidget):
    """Shows one opened message.

    Args:
        bridge: runs the disk work (saving and opening attachments) off the GUI thread.
        parent: the parent widget.
        open_url: hands a file to the desktop (replaceable in tests).
        scratch_dir: where private copies of opened attachments go (default: system temp).

    Signals:
        link_clicked(QUrl): a link in the body was clicked; nothing was opened.
        reply_requested(): the user asked to reply to the shown message.
        forward_requested(): the user asked to forward it.
        install_p12_requested(bytes, str): "Install certificate…" on a .p12/.pfx
            attachment (its data and file name).
        install_profile_requested(bytes, str): "Install profile…" on a .mobileconfig.
    """

    link_clicked = Signal(QUrl)
    reply_requested = Signal()
    forward_requested = Signal()
    install_p12_requested = Signal(bytes, str)
    install_profile_requested = Signal(bytes, str)

    def __init__(
        self,
        bridge: Bridge,
        parent: QWidget | None = None,
        *,
        open_url: Callable[[QUrl], object] = QDesktopServices.openUrl,
        scratch_dir: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.setAccessibleName("Message reader")
        self._bridge = bridge
        self._open_url = open_url
        self._scratch_dir = scratch_dir
        self._copies: list[Path] = []
        self._opened: OpenedMessage | None = None

        self.banner = SecurityBanner(self)
        self._placeholder = QLabel("No message selected", self)
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self._header = QWidget(self)
        form = QFormLayout(self._header)
        form.setContentsMargins(0, 0, 0, 0)
        self._fields: dict[str, QLabel] = {}
        for key, title in (
            ("from", "From:"),
            ("to", "To:"),
            ("cc", "Cc:"),
            ("subject", "Subject:"),
            ("date", "Date:"),
        ):
            value = _field_label(self._header)
            value.setAccessibleName(title.rstrip(":"))
            form.addRow(title, value)
            self._fields[key] = value
        self._form = form

        self._reply = QPushButton("&Reply", self)
        self._reply.setAccessibleName("Reply")
        self._reply.clicked.connect(self.reply_requested)
        self._forward = QPushButton("For&ward", self)
        self._forward.setAccessibleName("Forward")
        self._forward.clicked.connect(self.forward_requested)
        actions = QHBoxLayout()
        actions.addStretch(1)
        actions.addWidget(self._reply)
        actions.addWidget(self._forward)

        self.body = MessageBrowser(self)
        self.body.setAccessibleName("Message body")
        self.body.link_clicked.connect(self.link_clicked)

        self._attachments_box = QWidget(self)
        self.attachments = QListWidget(self._attachments_box)
        self.attachments.setAccessibleName("Attachments")
        self.attachments.currentRowChanged.connect(self._update_attachment_buttons)
        self.attachments.itemActivated.connect(lambda _item: self.open_attachment())
        self._save = self._button("&Save…", "Save attachment", self._ask_and_save)
        self._open = self._button("&Open", "Open attachment", self.open_attachment)
        self._install_p12 = self._button(
            "Install &certificate…", "Install certificate", self.request_install
        )
        self._install_profile = self._button(
            "Install &profile…", "Install profile", self.request_install
        )
        buttons = QVBoxLayout()
        for button in (self._save, self._open, self._install_p12, self._install_profile):
            buttons.addWidget(button)
        buttons.addStretch(1)
        attachments_row = QHBoxLayout(self._attachments_box)
        attachments_row.setContentsMargins(0, 0, 0, 0)
        attachments_row.addWidget(self.attachments, 1)
        attachments_row.addLayout(buttons)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.body)
        splitter.addWidget(self._attachments_box)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self._header)
        layout.addLayout(actions)
        layout.addWidget(self._placeholder, 1)
        layout.addWidget(splitter, 1)
        self._content = [self._header, self._reply, self._forward, splitter]

        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.discard_open_copies)
        self.show_message(None)

    # ------------------------------------------------------------------ showing

    def show_message(self, opened: OpenedMessage | None) -> None:
        """Show ``opened``, or nothing (None)."""
        self._opened = opened
        for widget in self._content:
            widget.setVisible(opened is not None)
        self._placeholder.setVisible(opened is None)
        self.body.set_inline(opened.inline if opened else {})
        self.body.clear()
        self.attachments.clear()
        if opened is None:
            self.banner.set_report(None)
            for label in self._fields.values():
                label.clear()
            self._attachments_box.setVisible(False)
            return
        until = opened.decryption_key_valid_until
        self.banner.set_report(
            opened.report,
            historic_key=opened.decryption_key,
            historic_valid_until=f"{until:%Y-%m-%d}" if until else None,
        )
        headers = opened.headers
        values = {
            "from": headers.from_,
            "to": headers.to,
            "cc": headers.cc,
            "subject": headers.subject,
            "date": f"{headers.date.astimezone():%Y-%m-%d %H:%M}" if headers.date else "",
        }
        for key, value in values.items():
            self._fields[key].setText(value)
        self._form.setRowVisible(self._fields["cc"], bool(headers.cc))
        if opened.html is not None and len(opened.html) <= DISPLAY_LIMIT:
            self.body.setHtml(opened.html)
        elif opened.text is not None or opened.html is not None:
            # Qt lays a body out on the GUI thread: a very long one is cut (the whole
            # message can still be saved), so the window never freezes on it.
            text = opened.text if opened.text is not None else opened.html or ""
            self.body.setPlainText(_shown_part(text))
        for attachment in opened.attachments:
            # List items are plain text; no tooltip (Qt would render one that looks like markup).
            entry = f"{attachment.filename}  ({_size(len(attachment.data))})"
            self.attachments.addItem(QListWidgetItem(entry))
        self._attachments_box.setVisible(bool(opened.attachments))
        if opened.attachments:
            self.attachments.setCurrentRow(0)
        self._update_attachment_buttons()

    def opened(self) -> OpenedMessage | None:
        return self._opened

    def header_text(self) -> dict[str, str]:
        """The header fields as shown (for tests and accessibility checks)."""
        return {key: label.text() for key, label in self._fields.items()}

    # ------------------------------------------------------------------ attachments

    def current_attachment(self) -> Attachment | None:
        row = self.attachments.currentRow()
        if self._opened is None or not 0 <= row < len(self._opened.attachments):
            return None
        return self._opened.attachments[row]

    def save_attachment_to(self, path: Path, on_done: Callable[[Path], None] | None = None) -> None:
        """Save the selected attachment to ``path`` (written on the worker)."""
        attachment = self.current_attachment()
        if attachment is None:
            return
        self._bridge.run(
            lambda _services: save_attachment(attachment, path),
            lambda _result: on_done(path) if on_done else None,
        )

    def open_attachment(self) -> None:
        """Write a private copy of the selected attachment, then hand it to the desktop."""
        attachment = self.current_attachment()
        if attachment is None or not may_open(attachment):
            return
        scratch = self._scratch_dir
        self._bridge.run(
            lambda _services: open_copy(attachment, directory=scratch), self._opened_copy
        )

    def request_install(self) -> None:
        """Ask the window to install the selected .p12 or profile (it owns those dialogs)."""
        attachment = self.current_attachment()
        if attachment is None:
            return
        if attachment.kind is AttachmentKind.P12:
            self.install_p12_requested.emit(attachment.data, attachment.filename)
        elif attachment.kind is AttachmentKind.PROFILE:
            self.install_profile_requested.emit(attachment.data, attachment.filename)

    def discard_open_copies(self) -> None:
        """Remove the private copies made for opening (at exit: a few small files)."""
        for path in self._copies:
            shutil.rmtree(path.parent, ignore_errors=True)
        self._copies.clear()

    def _opened_copy(self, path: Path) -> None:
        self._copies.append(path)
        self._open_url(QUrl.fromLocalFile(str(path)))

    def _ask_and_save(self) -> None:
        attachment = self.current_attachment()
        if attachment is None:
            return
        chosen, _filter = QFileDialog.getSaveFileName(
            self, "Save attachment", str(Path.home() / attachment.filename)
        )
        if chosen:
            self.save_attachment_to(Path(chosen))

    def _update_attachment_buttons(self) -> None:
        attachment = self.current_attachment()
        self._save.setEnabled(attachment is not None)
        self._open.setEnabled(attachment is not None and may_open(attachment))
        is_p12 = attachment is not None and attachment.kind is AttachmentKind.P12
        is_profile = attachment is not None and attachment.kind is AttachmentKind.PROFILE
        self._install_p12.setVisible(is_p12)
        self._install_profile.setVisible(is_profile)

    def _button(self, text: str, name: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text, self._attachments_box)
        button.setAccessibleName(name)
        button.clicked.connect(slot)
        return button


def _field_label(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)  # header fields are the sender's text
    label.setWordWrap(True)
    label.setTextInteractionFlags(
        Qt.TextInteractionFlag.TextSelectableByMouse
        | Qt.TextInteractionFlag.TextSelectableByKeyboard
    )
    return label


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KB"
    return f"{count / (1024 * 1024):.1f} MB"


def _shown_part(text: str) -> str:
    if len(text) <= DISPLAY_LIMIT:
        return text
    rest = len(text) - DISPLAY_LIMIT
    return (
        text[:DISPLAY_LIMIT]
        + f"\n\n[Inbox shows the first {DISPLAY_LIMIT:,} characters of this message; "
        f"{rest:,} more are not shown.]"
    )
