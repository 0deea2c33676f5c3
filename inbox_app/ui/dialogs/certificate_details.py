"""The certificates behind a message's security status, for people who want to check them.

Everything shown is plain text in a read-only text box: subjects and issuers are chosen by
whoever made the certificate and may contain markup or line breaks on purpose.
"""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from inbox_app.errors import one_line
from inbox_app.smime.certificates import email_addresses, fingerprint
from inbox_app.smime.report import Report, SignedLayer


def certificate_details_text(report: Report) -> str:
    """Each signed layer's signer certificate, then the key that decrypted the message."""
    sections: list[str] = []
    for number, layer in enumerate(report.signed_layers, start=1):
        sections.append(_layer_text(number, layer))
    if report.decrypted_with:
        which = "a historic key" if report.historic_key else "a current key"
        sections.append(
            f"Decrypted with {which}\n  Certificate SHA-256: {_colons(report.decrypted_with)}"
        )
    if not sections:
        return "This message is not signed: there is no certificate to show."
    return "\n\n".join(sections)


def _layer_text(number: int, layer: SignedLayer) -> str:
    lines = [f"Signature {number} ({layer.kind}): {layer.status.value}"]
    if layer.reason:
        lines.append(f"  Reason: {one_line(layer.reason)}")
    if layer.digest:
        lines.append(f"  Digest: {layer.digest}")
    if layer.signing_time is not None:
        lines.append(f"  Signing time: {_when(layer.signing_time)}")
    cert = layer.certificate
    if cert is not None:
        lines.extend(_certificate_lines(cert))
    elif layer.signer is not None:
        # Failed layers keep only what the report names; the certificate itself is not kept.
        lines.append(f"  Subject: {one_line(layer.signer.subject)}")
        lines.append(f"  Addresses: {one_line(', '.join(layer.signer.addresses)) or '(none)'}")
        lines.append(f"  SHA-256: {_colons(layer.signer.sha256)}")
    else:
        lines.append("  The signer's certificate was not found in the message.")
    return "\n".join(lines)


def _certificate_lines(cert: x509.Certificate) -> list[str]:
    return [
        f"  Subject: {_name(cert.subject)}",
        f"  Issuer: {_name(cert.issuer)}",
        f"  Serial number: {_colons(format(cert.serial_number, 'x'))}",
        f"  Valid from: {_when(cert.not_valid_before_utc)}",
        f"  Valid until: {_when(cert.not_valid_after_utc)}",
        f"  SHA-256: {_colons(fingerprint(cert))}",
        f"  Addresses: {one_line(', '.join(email_addresses(cert))) or '(none)'}",
        f"  Key: {key_description(cert)}",
    ]


def key_description(cert: x509.Certificate) -> str:
    """The kind and size of the certificate's public key, e.g. ``RSA 2048 bits``."""
    try:
        key = cert.public_key()
    except (ValueError, TypeError):
        return "unreadable"
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size} bits"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name} ({key.curve.key_size} bits)"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA {key.key_size} bits"
    return type(key).__name__


def _name(name: x509.Name) -> str:
    try:
        return one_line(name.rfc4514_string())
    except ValueError:
        return "(unreadable)"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z")


def _colons(hex_text: str) -> str:
    text = hex_text.upper()
    if len(text) % 2:
        text = "0" + text
    return ":".join(text[i : i + 2] for i in range(0, len(text), 2))


class CertificateDetailsDialog(QDialog):
    """The signer certificates of one message, as plain text."""

    def __init__(self, report: Report, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Certificate details")
        self.setAccessibleName("Certificate details")
        self._text = certificate_details_text(report)

        intro = QLabel("The certificates that the security status is based on:", self)
        view = QPlainTextEdit(self)
        view.setReadOnly(True)
        view.setPlainText(self._text)
        view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        view.setAccessibleName("Certificate details text")
        intro.setBuddy(view)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName("Close certificate details")

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(view)
        layout.addWidget(buttons)
        self.resize(640, 420)

    def text(self) -> str:
        """What the dialog shows."""
        return self._text
