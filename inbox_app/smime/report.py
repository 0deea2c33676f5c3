"""What opening a message found: value objects shared by the engine, CLI and GUI."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography import x509

    from inbox_app.smime._cms import KeyPreference


class SignatureStatus(enum.StrEnum):
    """The signature status of a message, from the layers at its MIME root only."""

    VALID = "valid"
    INVALID = "invalid"  # altered content, bad signature, revoked, or not from the sender
    UNTRUSTED = "untrusted"  # no acceptable path to a trust anchor
    EXPIRED = "expired"  # a certificate on the path is expired at the time checked
    WEAK = "weak"  # cryptographically correct, but with algorithms we no longer accept
    ERROR = "error"  # malformed or unsupported: nothing could be verified
    UNSIGNED = "unsigned"


# Worst first: when several signed layers are present the message gets the worst status.
_SEVERITY = {
    SignatureStatus.ERROR: 6,
    SignatureStatus.INVALID: 5,
    SignatureStatus.UNTRUSTED: 4,
    SignatureStatus.EXPIRED: 3,
    SignatureStatus.WEAK: 2,
    SignatureStatus.VALID: 1,
    SignatureStatus.UNSIGNED: 0,
}


def worst(*statuses: SignatureStatus) -> SignatureStatus:
    """Return the most severe of ``statuses`` (``unsigned`` when none are given)."""
    return max(statuses, key=_SEVERITY.__getitem__, default=SignatureStatus.UNSIGNED)


class EncryptionStatus(enum.StrEnum):
    """How the message was encrypted, as far as its root layers tell."""

    AEAD = "aead"  # AES-GCM: authenticated
    UNAUTHENTICATED = "unauthenticated"  # AES-CBC: malleable (EFAIL)
    WEAK = "weak"  # 3DES, RC2
    NONE = "none"
    FAILED = "failed"


@dataclass(frozen=True)
class Signer:
    """The signer of one layer, as named by their certificate (never by the message)."""

    addresses: tuple[str, ...]
    subject: str
    sha256: str  # hex of the DER certificate
    common_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"addresses": list(self.addresses), "subject": self.subject, "sha256": self.sha256}


@dataclass(frozen=True)
class SignedLayer:
    """One signed layer at the MIME root and what verifying it found."""

    kind: str  # "signed" (multipart/signed) or "signed-opaque" (application/pkcs7-mime)
    status: SignatureStatus
    reason: str  # one line; empty when valid
    signer: Signer | None
    digest: str | None = None  # "sha256"...
    signing_time: datetime | None = None
    # Only for valid layers: what contacts' certificates may learn from it (RFC 8550 §3).
    certificate: x509.Certificate | None = field(default=None, repr=False, compare=False)
    certificates: tuple[x509.Certificate, ...] = field(default=(), repr=False, compare=False)
    capabilities: tuple[str, ...] = ()
    encryption_key_preference: KeyPreference | None = None


@dataclass
class Report:
    """Everything ``open`` found about a message; ``inner`` is what may be displayed."""

    signature: SignatureStatus = SignatureStatus.UNSIGNED
    sender_match: bool | None = None
    encryption: EncryptionStatus = EncryptionStatus.NONE
    decrypted_with: str | None = None
    historic_key: bool | None = None  # set when decrypted: was the key a historic one?
    protected_headers: dict[str, str] | None = None  # RFC 9788 fields shown, when present
    malformed: bool = False  # the input itself is bad (exit code 2)
    layers: list[str] = field(default_factory=list)
    signed_layers: list[SignedLayer] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None  # the one-line reason when something failed
    from_address: str | None = None
    inner: bytes | None = None  # the displayable message (outer headers + verified entity)

    @property
    def signers(self) -> list[Signer]:
        return [layer.signer for layer in self.signed_layers if layer.signer is not None]

    @property
    def ok(self) -> bool:
        """True when every layer checks out: the condition for exit code 0."""
        if self.malformed or self.encryption is EncryptionStatus.FAILED:
            return False
        if self.signature is SignatureStatus.UNSIGNED:
            return self.error is None
        return self.signature is SignatureStatus.VALID and self.sender_match is True

    def to_json(self) -> dict[str, Any]:
        return {
            "signature": self.signature.value,
            "signers": [signer.to_json() for signer in self.signers],
            "sender_match": self.sender_match,
            "encryption": self.encryption.value,
            "decrypted_with": self.decrypted_with,
            "layers": list(self.layers),
            "warnings": list(self.warnings),
            **({"historic_key": self.historic_key} if self.historic_key is not None else {}),
            **(
                {"protected_headers": dict(self.protected_headers)}
                if self.protected_headers is not None
                else {}
            ),
            "error": self.error,
            "from": self.from_address,
            "details": [
                {
                    "layer": layer.kind,
                    "status": layer.status.value,
                    "reason": layer.reason,
                    "digest": layer.digest,
                    "signing_time": layer.signing_time.isoformat() if layer.signing_time else None,
                }
                for layer in self.signed_layers
            ],
        }
