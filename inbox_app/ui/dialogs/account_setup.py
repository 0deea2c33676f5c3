"""Account setup: local folders, an IMAP/SMTP server typed in by hand, or from a profile.

The settings go to :func:`~inbox_app.services.install.add_local_account` and
:func:`~inbox_app.services.install.add_account_by_hand` on the services worker (the
password to the OS keyring, never to a settings file); "From a profile…" opens the
profile install dialog, whose accounts are added with the profile.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
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
    InstallResult,
    add_account_by_hand,
    add_local_account,
    open_credential_file,
)
from inbox_app.services.open_file import FileKind, OpenedFile, OpenFileError
from inbox_app.ui.bridge import Bridge
from inbox_app.ui.clock import Clock, utc_now
from inbox_app.ui.dialogs.install_profile import InstallProfileDialog
from inbox_app.ui.dialogs.plain_text import add_outcome_labels


def _profile_accounts(services: InboxServices, identifier: str) -> list[str]:
    """The names of the accounts a profile created."""
    source = f"profile:{identifier}"
    return [account.name for account in services.accounts.accounts() if account.source == source]


class AccountSetupDialog(QDialog):
    """Add an account: local folders, a server by hand, or from a profile.

    Signals:
        account_added(str): the name of an account that was added.
        profile_dialog_opened(object): "From a profile…" opened its install dialog.
    """

    account_added = Signal(str)
    profile_dialog_opened = Signal(object)

    def __init__(
        self, bridge: Bridge, parent: QWidget | None = None, *, now: Clock = utc_now
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._clock = now
        self._busy = False
        self.setWindowTitle("Add account")
        self.setAccessibleName("Add account")
        self.setMinimumWidth(480)

        layout = QVBoxLayout(self)
        kind_box = QGroupBox("Kind of account")
        kind_layout = QHBoxLayout(kind_box)
        self.server_radio = QRadioButton("&Mail server (IMAP/SMTP)")
        self.server_radio.setAccessibleName("Mail server account")
        self.local_radio = QRadioButton("&Local folders (no server)")
        self.local_radio.setAccessibleName("Local folders account")
        self.kind_group = QButtonGroup(self)
        for radio in (self.server_radio, self.local_radio):
            self.kind_group.addButton(radio)
            kind_layout.addWidget(radio)
        self.server_radio.setChecked(True)
        layout.addWidget(kind_box)

        form = QFormLayout()
        self.name_edit = self._edit(form, "&Name:", "Account name", "e.g. work")
        self.email_edit = self._edit(form, "&Address:", "Email address", "you@example.com")
        self.imap_edit = self._edit(form, "&IMAP server:", "IMAP server", "imap.example.com:993")
        self.smtp_edit = self._edit(form, "&SMTP server:", "SMTP server", "smtp.example.com:465")
        self.tls_combo = QComboBox()
        self.tls_combo.addItem("SSL/TLS (implicit)", "ssl")
        self.tls_combo.addItem("STARTTLS", "starttls")
        self.tls_combo.setAccessibleName("TLS mode")
        form.addRow("&TLS:", self.tls_combo)
        self.username_edit = self._edit(form, "&Username:", "Username", "")
        self.password_edit = self._edit(form, "&Password:", "Password", "")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.ca_edit = QLineEdit()
        self.ca_edit.setAccessibleName("Extra CA certificate file")
        self.ca_edit.setPlaceholderText("optional: a PEM file for a private CA")
        self.ca_button = QPushButton("&Browse…")
        self.ca_button.setAccessibleName("Choose a CA certificate file")
        self.ca_button.setAutoDefault(False)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_edit, 1)
        ca_row.addWidget(self.ca_button)
        ca_label = QLabel("&CA file:")
        ca_label.setBuddy(self.ca_edit)
        form.addRow(ca_label, ca_row)
        layout.addLayout(form)
        self._server_widgets: list[QWidget] = [
            self.imap_edit,
            self.smtp_edit,
            self.tls_combo,
            self.username_edit,
            self.password_edit,
            self.ca_edit,
            self.ca_button,
        ]

        self.error_label, self.result_label = add_outcome_labels(layout)

        self.buttons = QDialogButtonBox()
        self.profile_button = self.buttons.addButton(
            "From a &profile…", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.profile_button.setAccessibleName("Add an account from a configuration profile")
        self.profile_button.setAutoDefault(False)
        self.add_button = self.buttons.addButton("&Add", QDialogButtonBox.ButtonRole.AcceptRole)
        self.add_button.setAccessibleName("Add the account")
        self.add_button.setDefault(True)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAutoDefault(False)
        layout.addWidget(self.buttons)

        self.kind_group.buttonToggled.connect(lambda *_: self._update_fields())
        self.ca_button.clicked.connect(self._choose_ca)
        self.add_button.clicked.connect(self.add)
        self.profile_button.clicked.connect(lambda _checked=False: self.from_profile())
        self.cancel_button.clicked.connect(self.reject)
        self._update_fields()
        self.name_edit.setFocus()

    def _edit(self, form: QFormLayout, label: str, name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setAccessibleName(name)
        edit.setPlaceholderText(placeholder)
        form.addRow(label, edit)
        return edit

    def is_local(self) -> bool:
        return self.local_radio.isChecked()

    def is_busy(self) -> bool:
        return self._busy

    def _update_fields(self) -> None:
        for widget in self._server_widgets:
            widget.setEnabled(not self.is_local() and not self._busy)
        for widget in (self.add_button, self.profile_button, self.name_edit, self.email_edit):
            widget.setEnabled(not self._busy)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._update_fields()

    @Slot()
    def _choose_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "CA certificate", "", "Certificates (*.pem *.crt *.cer);;All files (*)"
        )
        if path:
            self.ca_edit.setText(path)

    def _show_error(self, error: BaseException) -> None:
        if not isValid(self):
            return
        self._set_busy(False)
        self.error_label.setText(one_line(str(error)))
        self.error_label.show()

    # ------------------------------------------------------------------ adding

    @Slot()
    def add(self) -> None:
        """Add the account described by the form."""
        if self._busy:
            return
        name, email = self.name_edit.text().strip(), self.email_edit.text().strip()
        self.error_label.hide()
        if self.is_local():

            def local_job(services: InboxServices) -> str:
                return add_local_account(services, name, email).name

            self._set_busy(True)
            self._bridge.run(local_job, self._added, self._show_error)
            return
        imap, smtp = self.imap_edit.text().strip(), self.smtp_edit.text().strip()
        username, password = self.username_edit.text().strip(), self.password_edit.text()
        tls = "starttls" if self.tls_combo.currentData() == "starttls" else "ssl"
        ca_file = self.ca_edit.text().strip() or None

        def server_job(services: InboxServices) -> str:
            return add_account_by_hand(
                services,
                name,
                email,
                imap=imap,
                smtp=smtp,
                username=username or email,
                password=password,
                tls=tls,
                ca_file=ca_file,
            ).name

        self._set_busy(True)
        self._bridge.run(server_job, self._added, self._show_error)

    def _added(self, name: str) -> None:
        if not isValid(self):
            return
        self._set_busy(False)
        self.password_edit.clear()
        self.account_added.emit(name)
        self.accept()

    # ------------------------------------------------------------------ from a profile

    def from_profile(self, path: Path | None = None) -> None:
        """Choose a profile file and open its install dialog."""
        if path is None:
            chosen, _ = QFileDialog.getOpenFileName(
                self,
                "Add an account from a profile",
                "",
                "Profiles (*.mobileconfig *.json);;All files (*)",
            )
            if not chosen:
                return
            path = Path(chosen)
        target = path

        def job(services: InboxServices) -> OpenedFile:
            # By content, as everywhere else a file is opened; only a profile sets up accounts.
            opened = open_credential_file(services, target)
            if opened.kind is not FileKind.PROFILE:
                raise OpenFileError(
                    one_line(
                        f"{target.name} is a certificate, not a profile: import it from "
                        "Certificates"
                    )
                )
            return opened

        self._bridge.run(job, self._open_profile, self._show_error)

    def _open_profile(self, opened: OpenedFile) -> None:
        if not isValid(self):
            return
        # The user chose this file: an unsigned profile installs after their consent.
        dialog = InstallProfileDialog(
            self._bridge, opened.data, opened.name, self, from_mail=False, now=self._clock
        )
        dialog.installed.connect(self._profile_installed)
        self.profile_dialog_opened.emit(dialog)
        dialog.open()

    def _profile_installed(self, result: InstallResult) -> None:
        identifier = result.profile.identifier

        def job(services: InboxServices) -> list[str]:
            return _profile_accounts(services, identifier)

        def done(names: list[str]) -> None:
            if not isValid(self):
                return
            for name in names:
                self.account_added.emit(name)
            self.result_label.setText(
                "Added from the profile: " + (", ".join(names) or "no mail account")
            )
            self.result_label.show()

        self._bridge.run(job, done, self._show_error)


__all__ = ["AccountSetupDialog"]
