""" "Install certificate…": a ``.p12``/``.pfx`` from a mail attachment or a file.

The dialog answers the services' flow (:func:`~inbox_app.services.install.inspect_p12`,
then :func:`~inbox_app.services.install.install_p12`): the password opens the file and
shows what it holds; the user picks the use (signing, encryption or both) and installs.
A wrong password is a one-line error and the dialog stays open for another try. Both
steps run on the services worker through the bridge.

Two lines stand out above the details, because installing makes the key *current*:
whether a trusted authority vouches for the certificate, and which of the user's current
certificates it replaces for the chosen use. A key that came by mail is refused (one
line, nothing changes) unless it is trusted and for one of the user's accounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from inbox_app.errors import one_line
from inbox_app.services.app import InboxServices
from inbox_app.services.install import (
    P12_BY_MAIL_WARNING,
    USE_CHOICES,
    P12Preview,
    StoredIdentity,
    inspect_p12,
    install_p12,
)
from inbox_app.ui.bridge import Bridge
from inbox_app.ui.clock import Clock, as_clock, utc_now
from inbox_app.ui.dialogs.plain_text import add_outcome_labels, plain_label

_USE_LABELS = {"signing": "&Signing", "encryption": "&Encryption", "both": "&Both"}
_TRUSTED_STYLE = "color: #1b5e20; font-weight: bold;"
_UNTRUSTED_STYLE = "color: #b00020; font-weight: bold;"
_REPLACES_STYLE = "color: #8a5a00; font-weight: bold;"


def describe_preview(preview: P12Preview) -> str:
    """What the file holds, as plain text lines.

    Each field is made one line on its own: a name holding a line break (or a bidi
    control) must not forge a line such as ``Addresses: …`` below it.
    """
    lines = [
        f"Certificate: {one_line(preview.subject)}",
        f"Addresses: {one_line(', '.join(preview.addresses)) or 'none'}",
        f"Issued by: {one_line(preview.issuer)}",
    ]
    if preview.chain:
        lines.append(f"Issuers in the file: {one_line(' / '.join(preview.chain))}")
    lines += [
        f"Valid: {preview.not_before:%Y-%m-%d} to {preview.not_after:%Y-%m-%d}",
        f"Key: {one_line(preview.key_type)}",
        f"SHA-256: {one_line(preview.sha256)}",
    ]
    lines += [f"Warning: {one_line(warning)}" for warning in preview.warnings]
    return "\n".join(lines)


def describe_replacements(preview: P12Preview, use: str | None) -> str:
    """What installing for ``use`` replaces, one line each (empty when nothing)."""
    return "\n".join(item.text() for item in preview.replacements(use))


def describe_installed(entries: Sequence[StoredIdentity]) -> str:
    lines = []
    for entry in entries:
        if entry.state == "historic":
            role = "as a historic key (decrypts old mail only)"
        else:
            role = "for " + " and ".join(
                {"sign": "signing", "encrypt": "encryption"}[use] for use in sorted(entry.uses)
            )
        who = one_line(", ".join(entry.addresses)) or entry.sha256[:16]
        lines.append(f"Installed {who} {role}.")
    return "\n".join(lines)


class InstallP12Dialog(QDialog):
    """Install a ``.p12``/``.pfx``: password, preview, use, result.

    Args:
        bridge: runs the flow on the services worker.
        data: the file's bytes.
        filename: its name (from a mail: chosen by the sender; shown as plain text).
        from_mail: it came as an attachment (the safe default): warn that keys should
            not travel by mail, and refuse one that is untrusted or not for one of the
            user's accounts. False for a file the user opened (warnings only).
        now: the clock (or a fixed time) for the certificate's validity.

    Signals:
        installed(list): the :class:`StoredIdentity` objects that were installed.
    """

    installed = Signal(list)

    def __init__(
        self,
        bridge: Bridge,
        data: bytes,
        filename: str,
        parent: QWidget | None = None,
        *,
        from_mail: bool = True,
        now: Clock | datetime = utc_now,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._data = data
        self._filename = one_line(filename)
        self._from_mail = from_mail
        self._clock = as_clock(now)
        self._preview: P12Preview | None = None
        self._busy = False
        self.result_entries: list[StoredIdentity] = []
        self.setWindowTitle("Install certificate")
        self.setAccessibleName("Install certificate")
        self.setMinimumWidth(520)

        layout = QVBoxLayout(self)
        self.warning_label = plain_label(P12_BY_MAIL_WARNING, accessible_name="Warning")
        self.warning_label.setStyleSheet("font-weight: bold;")
        self.warning_label.setVisible(from_mail)
        layout.addWidget(self.warning_label)

        form = QFormLayout()
        self.file_label = plain_label(self._filename, accessible_name="File")
        form.addRow("File:", self.file_label)
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setAccessibleName("Password")
        self.password_edit.setPlaceholderText("the password you were given with the file")
        self.inspect_button = QPushButton("&Open")
        self.inspect_button.setAccessibleName("Open the file with this password")
        row = QHBoxLayout()
        row.addWidget(self.password_edit, 1)
        row.addWidget(self.inspect_button)
        password_label = QLabel("&Password:")
        password_label.setBuddy(self.password_edit)
        form.addRow(password_label, row)
        layout.addLayout(form)

        self.trust_label = plain_label(accessible_name="Trust")
        self.trust_label.hide()
        layout.addWidget(self.trust_label)
        self.replaces_label = plain_label(accessible_name="Replaces")
        self.replaces_label.setStyleSheet(_REPLACES_STYLE)
        self.replaces_label.hide()
        layout.addWidget(self.replaces_label)
        self.preview_label = plain_label(accessible_name="Certificate details")
        self.preview_label.hide()
        layout.addWidget(self.preview_label)

        self.use_box = QGroupBox("Use this certificate for")
        self.use_group = QButtonGroup(self)
        self.use_buttons: dict[str, QRadioButton] = {}
        use_layout = QHBoxLayout(self.use_box)
        for choice in USE_CHOICES:
            button = QRadioButton(_USE_LABELS[choice])
            button.setAccessibleName(f"Use for {choice}")
            self.use_group.addButton(button)
            self.use_buttons[choice] = button
            use_layout.addWidget(button)
        self.use_box.setEnabled(False)
        layout.addWidget(self.use_box)

        self.error_label, self.result_label = add_outcome_labels(layout)

        self.buttons = QDialogButtonBox()
        self.install_button = self.buttons.addButton(
            "&Install", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.install_button.setAccessibleName("Install the certificate")
        self.install_button.setEnabled(False)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        layout.addWidget(self.buttons)

        self.inspect_button.clicked.connect(self.inspect)
        self.password_edit.textEdited.connect(self._password_changed)
        self.install_button.clicked.connect(self.install)
        self.close_button.clicked.connect(self.reject)
        self.use_group.buttonToggled.connect(lambda *_: self._use_changed())
        # Enter in the password field opens the file; once it is open, Enter installs.
        self.close_button.setAutoDefault(False)
        self.inspect_button.setDefault(True)
        self.password_edit.setFocus()

    # ------------------------------------------------------------------ state

    def selected_use(self) -> str | None:
        for choice, button in self.use_buttons.items():
            if button.isChecked():
                return choice
        return None

    def is_busy(self) -> bool:
        return self._busy

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._update_buttons()

    def _update_buttons(self) -> None:
        done = bool(self.result_entries)
        self.password_edit.setEnabled(not self._busy and not done)
        self.inspect_button.setEnabled(not self._busy and not done)
        preview = self._preview
        self.install_button.setEnabled(
            not self._busy
            and not done
            and preview is not None
            and preview.installable
            and self.selected_use() in preview.allowed_uses
        )

    def _use_changed(self) -> None:
        self._show_replacements()
        self._update_buttons()

    def _show_replacements(self) -> None:
        preview = self._preview
        text = describe_replacements(preview, self.selected_use()) if preview else ""
        self.replaces_label.setText(text)
        self.replaces_label.setVisible(bool(text) and not self.result_entries)

    @Slot(str)
    def _password_changed(self, _text: str) -> None:
        # A preview belongs to the password that opened the file.
        self._preview = None
        for label in (self.trust_label, self.replaces_label, self.preview_label):
            label.hide()
        self.error_label.hide()
        self.use_box.setEnabled(False)
        self.inspect_button.setDefault(True)
        self._update_buttons()

    def _show_error(self, error: BaseException) -> None:
        if not isValid(self):
            return
        self._set_busy(False)
        self.error_label.setText(one_line(str(error)))
        self.error_label.show()
        self.adjustSize()
        self.password_edit.setFocus()
        self.password_edit.selectAll()

    # ------------------------------------------------------------------ steps

    @Slot()
    def inspect(self) -> None:
        """Open the file with the typed password and show what it holds."""
        if self._busy or self.result_entries:
            return
        data, password, now = self._data, self.password_edit.text(), self._clock()
        from_mail = self._from_mail
        self.error_label.hide()
        self._set_busy(True)

        def job(services: InboxServices) -> P12Preview:
            return inspect_p12(services, data, password, now=now, from_mail=from_mail)

        self._bridge.run(job, self._show_preview, self._show_error)

    def _show_preview(self, preview: P12Preview) -> None:
        if not isValid(self):
            return
        self._preview = preview
        self.trust_label.setText(preview.trust_text())
        self.trust_label.setStyleSheet(_TRUSTED_STYLE if preview.trusted else _UNTRUSTED_STYLE)
        self.trust_label.show()
        self.preview_label.setText(describe_preview(preview))
        self.preview_label.show()
        for choice, button in self.use_buttons.items():
            button.setEnabled(choice in preview.allowed_uses)
        self.use_box.setEnabled(preview.installable)
        if preview.suggested_use is not None and self.selected_use() not in preview.allowed_uses:
            self.use_buttons[preview.suggested_use].setChecked(True)
        self._show_replacements()
        if preview.refusal is not None:
            # Nothing to install: say why in one line and leave the password to retry.
            self.error_label.setText(one_line(preview.refusal))
            self.error_label.show()
        self._set_busy(False)
        self.adjustSize()
        if preview.installable:
            self.install_button.setDefault(True)
            self.install_button.setFocus()
        else:
            self.close_button.setDefault(True)

    @Slot()
    def install(self) -> None:
        """Install the identity for the chosen use."""
        use = self.selected_use()
        if self._busy or self._preview is None or use is None or self.result_entries:
            return
        data, password, now = self._data, self.password_edit.text(), self._clock()
        from_mail = self._from_mail
        source = f"{'mail' if from_mail else 'p12'}:{self._filename}"
        self.error_label.hide()
        self._set_busy(True)

        def job(services: InboxServices) -> list[StoredIdentity]:
            return install_p12(
                services, data, password, use, source=source, now=now, from_mail=from_mail
            )

        self._bridge.run(job, self._installed, self._show_error)

    def _installed(self, entries: list[StoredIdentity]) -> None:
        if not isValid(self):
            return
        self.result_entries = list(entries)
        self.password_edit.clear()  # the password is not needed any more
        self.result_label.setText(describe_installed(entries))
        self.result_label.show()
        self.replaces_label.hide()  # done: the result line says what happened
        self.adjustSize()
        self.use_box.setEnabled(False)
        self._set_busy(False)
        self.close_button.setDefault(True)
        self.close_button.setFocus()
        self.installed.emit(self.result_entries)


__all__ = [
    "InstallP12Dialog",
    "describe_installed",
    "describe_preview",
    "describe_replacements",
]
