"""Signing and opening messages with the app's trust anchors and the caller's extras."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509

from inbox_app.credentials.anchors import load_app_anchors
from inbox_app.smime import Identity, Report, TrustStore, open_message, sign_message
from inbox_app.smime.encrypt import encrypt_message


@dataclass(frozen=True)
class SignOptions:
    digest: str = "sha256"
    opaque: bool = False
    pss: bool = False
    encryption_certificate: x509.Certificate | None = None


@dataclass(frozen=True)
class EncryptOptions:
    cipher: str = "aes-256-gcm"
    oaep: bool = False
    sign_with: Identity | None = None
    header_protection: bool = True


class SecureMail:
    """The S/MIME use cases for one Inbox home directory."""

    def __init__(self, home: Path) -> None:
        self._home = home

    def trust_store(self, extra_anchors: Sequence[x509.Certificate] = ()) -> TrustStore:
        """The app's own anchors plus ``extra_anchors`` (e.g. ``--ca`` files)."""
        return TrustStore([*load_app_anchors(self._home), *extra_anchors])

    def open(
        self,
        raw: bytes,
        *,
        now: datetime,
        extra_anchors: Sequence[x509.Certificate] = (),
        identities: Sequence[Identity] = (),
    ) -> Report:
        """Open a received message: decrypt and check every layer at its root.

        ``identities`` are the keys that may decrypt it, current and historic.
        """
        return open_message(
            raw, trust=self.trust_store(extra_anchors), now=now, identities=identities
        )

    def encrypt(
        self,
        raw: bytes,
        recipients: Sequence[x509.Certificate],
        *,
        now: datetime,
        options: EncryptOptions,
    ) -> bytes:
        """Encrypt a whole message; the signer (the sender) is always a recipient too."""
        everyone = list(recipients)
        if options.sign_with is not None:
            everyone.append(options.sign_with.certificate)
        return encrypt_message(
            raw,
            everyone,
            now=now,
            cipher=options.cipher,
            oaep=options.oaep,
            sign_with=options.sign_with,
            header_protection=options.header_protection,
        )

    def sign(self, raw: bytes, identity: Identity, *, now: datetime, options: SignOptions) -> bytes:
        """Sign a whole message with ``identity``."""
        return sign_message(
            raw,
            identity,
            now=now,
            digest=options.digest,
            opaque=options.opaque,
            pss=options.pss,
            encryption_certificate=options.encryption_certificate,
        )
