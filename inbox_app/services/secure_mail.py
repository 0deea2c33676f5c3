"""Signing and opening messages with the app's trust anchors and the caller's extras."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509

from inbox_app.credentials.anchors import load_app_anchors
from inbox_app.credentials.contacts import ContactStore
from inbox_app.credentials.errors import CredentialsError
from inbox_app.credentials.keystore import ENCRYPT, SIGN, Keystore
from inbox_app.credentials.profiles import profile_anchors
from inbox_app.fileio import StorageError
from inbox_app.smime import Identity, Report, TrustStore, mime, open_message, sign_message
from inbox_app.smime.encrypt import encrypt_message
from inbox_app.smime.identity import DecryptionKey
from inbox_app.smime.sender import sender_from_fields


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
    oaep_recipients: tuple[x509.Certificate, ...] = ()


class SecureMail:
    """The S/MIME use cases for one Inbox home directory."""

    def __init__(
        self,
        home: Path,
        keystore: Keystore | None = None,
        contacts: ContactStore | None = None,
    ) -> None:
        self._home = home
        self._keystore = keystore
        self._contacts = contacts

    def trust_store(self, extra_anchors: Sequence[x509.Certificate] = ()) -> TrustStore:
        """The app's own anchors plus ``extra_anchors`` (e.g. ``--ca`` files)."""
        return TrustStore(
            [*load_app_anchors(self._home), *profile_anchors(self._home), *extra_anchors]
        )

    def open(
        self,
        raw: bytes,
        *,
        now: datetime,
        extra_anchors: Sequence[x509.Certificate] = (),
        identities: Sequence[DecryptionKey] = (),
    ) -> Report:
        """Open a received message: decrypt and check every layer at its root.

        ``identities`` are the keys that may decrypt it; without them, the keystore's
        current and historic keys are used (fetched only if the message is encrypted).
        """
        source: Sequence[DecryptionKey] | Callable[[], Sequence[DecryptionKey]] = identities
        if not identities and self._keystore is not None:
            source = self._keystore.decryption_identities
        known = self._contacts.known_certificates() if self._contacts is not None else []
        report = open_message(
            raw,
            trust=self.trust_store(extra_anchors),
            now=now,
            identities=source,
            extra_certificates=known,
        )
        if self._contacts is not None:
            # Only a valid signature from the From address teaches us anything (RFC 8550 §3).
            try:
                self._contacts.harvest(report, now=now)
            except (CredentialsError, StorageError) as exc:
                report.warnings.append(f"contacts' certificates not updated: {exc}")
        return report

    def recipient_certificate(
        self, address: str, *, now: datetime, extra_anchors: Sequence[x509.Certificate] = ()
    ) -> tuple[x509.Certificate, bool]:
        """A contact's usable encryption certificate and whether they announced OAEP.

        Raises:
            CredentialsError: no usable certificate for ``address`` (the reason says why).
        """
        if self._contacts is None:
            raise CredentialsError(f"no certificate known for {address}")
        cert = self._contacts.encryption_certificate(
            address, trust=self.trust_store(extra_anchors), now=now
        )
        return cert, self._contacts.wants_oaep(address)

    def signing_identity(self, raw: bytes) -> Identity:
        """The keystore's current signing identity for the message's From address.

        Raises:
            CredentialsError: no single From address, or no signing identity for it.
        """
        address = _from_address(raw)
        entry = self._keystore.current(address, SIGN) if self._keystore else None
        if entry is None or self._keystore is None:
            raise CredentialsError(f"no signing identity for {address} in the keystore")
        return self._keystore.identity(entry)

    def own_encryption_certificate(self, raw: bytes) -> x509.Certificate | None:
        """The sender's current encryption certificate, so that sent mail stays readable."""
        if self._keystore is None:
            return None
        try:
            address = _from_address(raw)
        except CredentialsError:
            return None
        entry = self._keystore.current(address, ENCRYPT)
        return entry.certificate if entry else None

    def encrypt(
        self,
        raw: bytes,
        recipients: Sequence[x509.Certificate],
        *,
        now: datetime,
        options: EncryptOptions,
    ) -> bytes:
        """Encrypt a whole message; the sender is always a recipient too."""
        everyone = list(recipients)
        own = self.own_encryption_certificate(raw)
        if own is not None:
            everyone.append(own)
        elif options.sign_with is not None:
            everyone.append(options.sign_with.certificate)
        return encrypt_message(
            raw,
            everyone,
            now=now,
            cipher=options.cipher,
            oaep=options.oaep,
            sign_with=options.sign_with,
            header_protection=options.header_protection,
            oaep_recipients=options.oaep_recipients,
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


def _from_address(raw: bytes) -> str:
    header_block, _ = mime.split_header_body(raw)
    fields = mime.parse_header_block(header_block)
    sender = sender_from_fields([value for name, value in fields if name == "from"])
    if sender.address is None:
        raise CredentialsError(f"cannot choose an identity: {sender.problem}")
    return sender.address
