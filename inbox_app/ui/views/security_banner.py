"""The security banner: what the engine's report says about a message, drawn by the window.

The banner sits outside the message content and is built from the
:class:`~inbox_app.smime.report.Report` alone: nothing in the message can draw it, move it
or style it. Names from certificates are attacker-controlled, so every label is plain text
(``Qt.TextFormat.PlainText``) and no tooltip carries them (Qt renders tooltips as rich text
when they look like markup). Colour is never the only signal: each level also has its own
icon and its words.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from inbox_app.errors import one_line
from inbox_app.smime.report import (
    EncryptionStatus,
    Report,
    SignatureStatus,
    Signer,
)

if TYPE_CHECKING:
    from inbox_app.ui.dialogs.certificate_details import CertificateDetailsDialog


class BannerLevel(enum.StrEnum):
    """How the banner looks: the worst thing the report says decides it."""

    GOOD = "good"  # a valid signature from the sender, nothing weak
    NEUTRAL = "neutral"  # nothing proven, nothing wrong (an ordinary unsigned message)
    WARNING = "warning"  # proven with reservations: untrusted, expired, weak, unauthenticated
    DANGER = "danger"  # do not believe this message: invalid, not from the sender, failed


_ORDER = (BannerLevel.GOOD, BannerLevel.NEUTRAL, BannerLevel.WARNING, BannerLevel.DANGER)

# (background, border, text) per level; readable in light and dark themes alike.
_COLOURS = {
    BannerLevel.GOOD: ("#e6f4ea", "#1e7e34", "#0b3d17"),
    BannerLevel.NEUTRAL: ("#f1f3f4", "#80868b", "#202124"),
    BannerLevel.WARNING: ("#fff4e5", "#b26a00", "#4a2c00"),
    BannerLevel.DANGER: ("#fdecea", "#b00020", "#5f0010"),
}
_ICONS = {
    BannerLevel.GOOD: QStyle.StandardPixmap.SP_DialogApplyButton,
    BannerLevel.NEUTRAL: QStyle.StandardPixmap.SP_MessageBoxInformation,
    BannerLevel.WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
    BannerLevel.DANGER: QStyle.StandardPixmap.SP_MessageBoxCritical,
}
_SIGNATURE_WORDS = {
    SignatureStatus.VALID: "valid",
    SignatureStatus.INVALID: "INVALID",
    SignatureStatus.UNTRUSTED: "not trusted (no path to a trusted authority)",
    SignatureStatus.EXPIRED: "expired certificate",
    SignatureStatus.WEAK: "weak algorithms",
    SignatureStatus.ERROR: "could not be checked",
    SignatureStatus.UNSIGNED: "not signed",
}
_SIGNATURE_LEVEL = {
    SignatureStatus.VALID: BannerLevel.GOOD,
    SignatureStatus.INVALID: BannerLevel.DANGER,
    SignatureStatus.UNTRUSTED: BannerLevel.WARNING,
    SignatureStatus.EXPIRED: BannerLevel.WARNING,
    SignatureStatus.WEAK: BannerLevel.WARNING,
    SignatureStatus.ERROR: BannerLevel.DANGER,
    SignatureStatus.UNSIGNED: BannerLevel.NEUTRAL,
}
_ENCRYPTION = {
    EncryptionStatus.AEAD: ("Encrypted: yes, authenticated encryption (AES-GCM)", BannerLevel.GOOD),
    EncryptionStatus.UNAUTHENTICATED: (
        "Encrypted: yes, but unauthenticated (AES-CBC): the content could have been altered "
        "on the way",
        BannerLevel.WARNING,
    ),
    EncryptionStatus.WEAK: (
        "Encrypted: with a weak, outdated algorithm (such as 3DES or RC2): others may be "
        "able to read it, and the content could have been altered",
        BannerLevel.WARNING,
    ),
    EncryptionStatus.FAILED: ("Encrypted: could not be decrypted", BannerLevel.DANGER),
    EncryptionStatus.NONE: ("Not encrypted", BannerLevel.NEUTRAL),
}


@dataclass(frozen=True)
class BannerContent:
    """What the banner says: one headline and detail lines, all plain text."""

    level: BannerLevel
    headline: str
    details: tuple[str, ...]

    def text(self) -> str:
        return "\n".join((self.headline, *self.details))


def describe_signer(signer: Signer) -> str:
    """``Name <address, address>`` from the certificate (never from the message)."""
    name = signer.common_name or signer.subject
    addresses = ", ".join(signer.addresses)
    return one_line(f"{name} <{addresses}>" if addresses else name)


def banner_content(
    report: Report,
    *,
    historic_key: str | None = None,
    historic_valid_until: str | None = None,
) -> BannerContent:
    """Word the report for people: the headline first, then one line per fact.

    Args:
        report: the engine's report.
        historic_key: the name of the key that decrypted the message, when known (else its
            fingerprint from the report is shown).
        historic_valid_until: when that key's certificate stopped (or stops) being valid.
    """
    levels = [_SIGNATURE_LEVEL[report.signature]]
    details: list[str] = []
    signers = [describe_signer(signer) for signer in report.signers]
    signed_by = "; ".join(signers) or "an unknown signer"

    for signer_text in signers:
        details.append(f"Signed by: {signer_text}")
    if report.signature is not SignatureStatus.UNSIGNED:
        details.append(f"Signature: {_SIGNATURE_WORDS[report.signature]}")
    if report.sender_match is False:
        levels.append(BannerLevel.DANGER)
        sender = report.from_address or "(no single sender address)"
        details.append(f"Sender mismatch: the signer is not the sender {sender}")

    encryption_text, encryption_level = _ENCRYPTION[report.encryption]
    details.append(encryption_text)
    if report.encryption is not EncryptionStatus.NONE:
        levels.append(encryption_level)
    if report.historic_key and report.decrypted_with:
        key = historic_key or f"certificate SHA-256 {report.decrypted_with[:16]}…"
        until = f", valid until {historic_valid_until}" if historic_valid_until else ""
        details.append(f"Decrypted with a historic key: {key}{until}")
    if report.protected_headers:
        names = ", ".join(name.title() for name in sorted(report.protected_headers))
        details.append(f"Protected header fields shown: {names}")
    if report.error and not _headline_has_error(report):
        details.append(f"Reason: {report.error}")
    for warning in report.warnings:
        levels.append(BannerLevel.WARNING)
        details.append(f"Warning: {warning}")

    # GOOD needs a valid signature and nothing else taking it down: the signature's level
    # is always among them, and an unsigned message starts at NEUTRAL.
    level = max(levels, key=_ORDER.index)
    headline = one_line(_headline(report, signed_by))
    return BannerContent(level, headline, tuple(one_line(line) for line in details))


def _headline_has_error(report: Report) -> bool:
    return report.encryption is EncryptionStatus.FAILED or report.signature in (
        SignatureStatus.ERROR,
        SignatureStatus.INVALID,
    )


def _headline(report: Report, signed_by: str) -> str:
    status = report.signature
    if report.encryption is EncryptionStatus.FAILED:
        return f"This message could not be decrypted: {report.error or 'no usable key'}"
    if status is SignatureStatus.ERROR:
        return f"The security of this message could not be checked: {report.error or ''}"
    if status is SignatureStatus.INVALID:
        reason = report.error or "the content was altered or it is not from the sender"
        return f"Invalid signature: do not trust this message ({reason})"
    if report.sender_match is False:
        return f"Signed by {signed_by}, who is not the sender"
    if status is SignatureStatus.VALID:
        return f"Valid signature from {signed_by}"
    if status is SignatureStatus.UNTRUSTED:
        return f"Signed by {signed_by}, but the certificate is not trusted"
    if status is SignatureStatus.EXPIRED:
        return f"Signed by {signed_by}, but the certificate has expired"
    if status is SignatureStatus.WEAK:
        return f"Signed by {signed_by} with weak algorithms"
    if report.encryption is not EncryptionStatus.NONE:
        return "Encrypted, not signed: the sender is not verified"
    return "Not signed: the sender is not verified"


class SecurityBanner(QFrame):
    """The security status of the displayed message, from the engine's report only.

    Hidden while no report is set. "Details…" opens the signers' certificates.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("securityBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Security status")
        self._report: Report | None = None
        self._content: BannerContent | None = None
        self._dialog: CertificateDetailsDialog | None = None

        self._icon = QLabel(self)
        self._icon.setAccessibleName("Security status icon")
        self._headline = _plain_label(self, bold=True)
        self._headline.setAccessibleName("Security summary")
        self._details = _plain_label(self)
        self._details.setAccessibleName("Security details")
        self._details_button = QPushButton("&Details…", self)
        self._details_button.setAccessibleName("Certificate details")
        self._details_button.setAccessibleDescription("Show the signers' certificates")
        self._details_button.clicked.connect(self.show_details)

        text = QVBoxLayout()
        text.addWidget(self._headline)
        text.addWidget(self._details)
        row = QHBoxLayout(self)
        row.addWidget(self._icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(text, 1)
        row.addWidget(self._details_button, 0, Qt.AlignmentFlag.AlignTop)
        self.setVisible(False)

    def set_report(
        self,
        report: Report | None,
        *,
        historic_key: str | None = None,
        historic_valid_until: str | None = None,
    ) -> None:
        """Show ``report`` (None hides the banner)."""
        self._report = report
        if self._dialog is not None:
            self._dialog.close()
            self._dialog = None
        if report is None:
            self._content = None
            self.setVisible(False)
            return
        content = banner_content(
            report, historic_key=historic_key, historic_valid_until=historic_valid_until
        )
        self._content = content
        self._headline.setText(content.headline)
        self._details.setText("\n".join(content.details))
        self._details.setVisible(bool(content.details))
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_MessageBoxIconSize)
        self._icon.setPixmap(self.style().standardIcon(_ICONS[content.level]).pixmap(size))
        background, border, foreground = _COLOURS[content.level]
        # Colours come from the table above, never from the report.
        self.setStyleSheet(
            f"QFrame#securityBanner {{ background: {background}; border: 2px solid {border}; "
            f"border-radius: 4px; }} QFrame#securityBanner QLabel {{ color: {foreground}; }}"
        )
        self.setProperty("level", content.level.value)
        self._details_button.setEnabled(bool(report.signed_layers or report.decrypted_with))
        self.setAccessibleDescription(content.text())
        self.setVisible(True)

    def report(self) -> Report | None:
        return self._report

    def level(self) -> BannerLevel | None:
        """The level shown, None while hidden."""
        return self._content.level if self._content else None

    def summary_text(self) -> str:
        """Everything the banner says, as plain text (empty while hidden)."""
        return self._content.text() if self._content else ""

    def details_dialog(self) -> CertificateDetailsDialog | None:
        """The open details dialog, if any."""
        return self._dialog

    def show_details(self) -> None:
        """Open the certificate details of the current report (window-modal, not blocking)."""
        if self._report is None:
            return
        if self._dialog is None:
            # Loaded on demand: it needs the crypto stack, which the first paint does not.
            from inbox_app.ui.dialogs.certificate_details import (  # noqa: PLC0415
                CertificateDetailsDialog,
            )

            self._dialog = CertificateDetailsDialog(self._report, self)
        self._dialog.open()


def _plain_label(parent: QWidget, *, bold: bool = False) -> QLabel:
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)  # certificate names are not markup
    label.setWordWrap(True)
    label.setTextInteractionFlags(
        Qt.TextInteractionFlag.TextSelectableByMouse
        | Qt.TextInteractionFlag.TextSelectableByKeyboard
    )
    if bold:
        font = label.font()
        font.setBold(True)
        label.setFont(font)
    return label
