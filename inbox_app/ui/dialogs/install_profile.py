""" "Install profile…": a managed configuration profile or an S/MIME bundle.

The dialog answers the services' flow (:func:`~inbox_app.services.install.inspect_profile`,
then :func:`~inbox_app.services.install.install_profile`): first what the profile holds
and who signed it, then, on request, the install with its mail accounts. A profile that
came by mail is installed only if a trusted signer signed it. One from a file the user
opened that is not signed is installed only after the user ticks that they trust where
it came from; the tick names the certificate authorities it would make trusted. One with
a bad signature or an untrusted signer cannot be installed. Every name in a profile is
its author's choice and is shown as plain text, one line per field.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from inbox_app.errors import one_line
from inbox_app.services.app import InboxServices
from inbox_app.services.install import (
    PROFILE_BY_MAIL_WARNING,
    SIGNER_UNSIGNED,
    SIGNER_VERIFIED,
    InstallResult,
    ProfilePreview,
    inspect_profile,
    install_profile,
)
from inbox_app.ui.bridge import Bridge
from inbox_app.ui.clock import Clock, as_clock, utc_now
from inbox_app.ui.dialogs.plain_text import add_outcome_labels, plain_label

_SIGNER_STYLE = {
    SIGNER_VERIFIED: "color: #1b5e20; font-weight: bold;",
    SIGNER_UNSIGNED: "color: #8a5a00; font-weight: bold;",
}
_REFUSED_STYLE = "color: #b00020; font-weight: bold;"


def describe_profile(preview: ProfilePreview) -> str:
    """What a profile holds, as plain text lines.

    Each field is made one line on its own, so that a name cannot forge a line (an
    identity, an anchor, an account) of its own.
    """

    def text(value: str | None, default: str = "") -> str:
        return one_line(value) if value else default

    lines = [
        f"Name: {text(preview.display_name)}",
        f"Identifier: {text(preview.identifier)}",
    ]
    if preview.installed == "same":
        lines.append("This version is already installed: installing it again changes nothing.")
    elif preview.installed == "update":
        lines.append("It replaces the installed version of this profile.")
    lines.append("")
    lines.append(f"Identities ({len(preview.identities)}):")
    for identity in preview.identities:
        export = "" if identity.exportable else ", key never exportable"
        addresses = text(", ".join(identity.addresses))
        lines.append(
            f"  • {text(identity.subject)} <{addresses}>: {text(identity.use)}"
            f"{export}, valid to {identity.not_after:%Y-%m-%d}"
        )
    lines.append(f"Trust anchors ({len(preview.anchors)}):")
    lines += [f"  • {text(anchor)}" for anchor in preview.anchors]
    lines.append(f"Mail accounts ({len(preview.accounts)}):")
    for account in preview.accounts:
        protocol = text(account.protocol).upper()
        servers = ", ".join(
            part
            for part in (
                f"incoming {text(account.incoming)}" if account.incoming else "",
                f"outgoing {text(account.outgoing)}" if account.outgoing else "",
            )
            if part
        )
        policy = [
            "signs by default" if account.sign_by_default else "",
            "encrypts by default" if account.encrypt_by_default else "",
            "" if account.supported else f"{protocol} is not supported by Inbox",
        ]
        details = "; ".join(part for part in (servers, *policy) if part)
        lines.append(f"  • {text(account.email, '?')} ({protocol}): {details}")
    if preview.notes:
        lines.append("Notes:")
        lines += [f"  • {text(note)}" for note in preview.notes]
    return "\n".join(lines)


def _mnemonic_safe(text: str) -> str:
    # A button's text reads "&x" as a keyboard shortcut: a profile's names must not set one.
    return text.replace("&", "&&")


class InstallProfileDialog(QDialog):
    """Show what a profile holds and who signed it, then install it.

    Args:
        bridge: runs the flow on the services worker.
        data: the profile's bytes.
        filename: its name (shown as plain text).
        from_mail: it came as a mail attachment (the safe default): say so, and install
            it only if a trusted signer signed it. False for a file the user opened
            (an unsigned one then installs after the user's consent).
        now: the clock (or a fixed time) for certificate validity.

    Signals:
        installed(object): the :class:`~inbox_app.services.install.InstallResult`.
        previewed(object): the :class:`~inbox_app.services.install.ProfilePreview`, once read.
    """

    installed = Signal(object)
    previewed = Signal(object)

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
        self._from_mail = from_mail
        self._clock = as_clock(now)
        self._busy = False
        self.preview: ProfilePreview | None = None
        self.install_result: InstallResult | None = None
        self.setWindowTitle("Install profile")
        self.setAccessibleName("Install profile")
        self.resize(620, 480)

        layout = QVBoxLayout(self)
        self.warning_label = plain_label(PROFILE_BY_MAIL_WARNING, accessible_name="Warning")
        self.warning_label.setStyleSheet("font-weight: bold;")
        self.warning_label.setVisible(from_mail)
        layout.addWidget(self.warning_label)
        self.file_label = plain_label(f"File: {one_line(filename)}", accessible_name="File")
        layout.addWidget(self.file_label)
        self.signer_label = plain_label("Checking the profile…", accessible_name="Signer status")
        layout.addWidget(self.signer_label)

        self.contents = QPlainTextEdit()
        self.contents.setReadOnly(True)  # plain text only: profile names are not markup
        self.contents.setAccessibleName("Profile contents")
        self.contents.hide()
        layout.addWidget(self.contents, 1)

        self.consent_box = QCheckBox(
            "I trust where this unsigned profile came from: install it anyway"
        )
        self.consent_box.setAccessibleName("Install the unsigned profile")
        self.consent_box.hide()
        layout.addWidget(self.consent_box)

        self.error_label, self.result_label = add_outcome_labels(layout)

        self.buttons = QDialogButtonBox()
        self.install_button = self.buttons.addButton(
            "&Install", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.install_button.setAccessibleName("Install the profile")
        self.install_button.setEnabled(False)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.setAutoDefault(False)
        layout.addWidget(self.buttons)

        self.install_button.clicked.connect(self.install)
        self.close_button.clicked.connect(self.reject)
        self.consent_box.toggled.connect(lambda _checked: self._update_buttons())
        self._inspect()

    # ------------------------------------------------------------------ state

    def is_busy(self) -> bool:
        return self._busy

    def _update_buttons(self) -> None:
        preview = self.preview
        ready = (
            preview is not None
            and preview.installable
            and (not preview.needs_consent or self.consent_box.isChecked())
        )
        self.install_button.setEnabled(ready and not self._busy and self.install_result is None)
        self.consent_box.setEnabled(not self._busy and self.install_result is None)

    def _show_error(self, error: BaseException) -> None:
        if not isValid(self):
            return
        self._busy = False
        if self.preview is None:
            self.signer_label.setText("The profile cannot be installed.")
            self.signer_label.setStyleSheet(_REFUSED_STYLE)
        self.error_label.setText(one_line(str(error)))
        self.error_label.show()
        self._update_buttons()

    # ------------------------------------------------------------------ steps

    def _inspect(self) -> None:
        data, now, from_mail = self._data, self._clock(), self._from_mail
        self._busy = True

        def job(services: InboxServices) -> ProfilePreview:
            return inspect_profile(services, data, now=now, from_mail=from_mail)

        self._bridge.run(job, self._show_preview, self._show_error)

    def _show_preview(self, preview: ProfilePreview) -> None:
        if not isValid(self):
            return
        self._busy = False
        self.preview = preview
        self.signer_label.setText(preview.signer_text())
        self.signer_label.setStyleSheet(_SIGNER_STYLE.get(preview.signer_status, _REFUSED_STYLE))
        if preview.identifier is not None:
            self.contents.setPlainText(describe_profile(preview))
            self.contents.show()
        if preview.needs_consent and preview.installable:
            self.consent_box.setText(_mnemonic_safe(preview.consent_text()))
            self.consent_box.show()
        else:
            self.consent_box.hide()
        if preview.problem:
            self.error_label.setText(preview.problem)
            self.error_label.show()
        elif not preview.installable:
            self.error_label.setText("This profile cannot be installed.")
            self.error_label.show()
        self._update_buttons()
        self.previewed.emit(preview)

    @Slot()
    def install(self) -> None:
        """Install the profile (and its accounts)."""
        preview = self.preview
        if self._busy or preview is None or not self.install_button.isEnabled():
            return
        data, now, from_mail = self._data, self._clock(), self._from_mail
        allow_unsigned = (
            not from_mail
            and preview.signer_status == SIGNER_UNSIGNED
            and self.consent_box.isChecked()
        )
        self._busy = True
        self.error_label.hide()
        self._update_buttons()

        def job(services: InboxServices) -> InstallResult:
            return install_profile(
                services, data, now=now, allow_unsigned=allow_unsigned, from_mail=from_mail
            )

        self._bridge.run(job, self._installed, self._show_error)

    def _installed(self, result: InstallResult) -> None:
        if not isValid(self):
            return
        self._busy = False
        self.install_result = result
        lines = [one_line(result.summary()), *(f"Note: {one_line(note)}" for note in result.notes)]
        self.result_label.setText("\n".join(lines))
        self.result_label.show()
        self._update_buttons()
        self.close_button.setDefault(True)
        self.close_button.setFocus()
        self.installed.emit(result)


__all__ = ["InstallProfileDialog", "describe_profile"]
