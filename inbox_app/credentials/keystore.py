"""The keystore: our S/MIME identities, their private keys wrapped at rest.

Layout of ``<home>/keystore/`` (directories 0700, files 0600, every write atomic)::

    index.json          identities: certificates, chains, use, state, source (no secrets)
    keys/<sha256>.key   "IBK1" + nonce + AES-256-GCM(PKCS#8 DER), the AAD naming the cert

The key-encryption key (32 random octets) lives in the OS keyring under a name derived from
the data directory, so two homes never share it. Without a secure keyring nothing is stored.

Rules (issue "Credentials"): one current signing and one current encryption identity per
address; installing a new one moves the previous holder of that use to ``historic``
(decryption only); historic keys are never deleted silently.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import os
import secrets as random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_der_private_key,
    pkcs12,
)
from cryptography.x509.oid import ExtendedKeyUsageOID

from inbox_app.credentials.errors import CredentialsError, KeyringUnavailableError
from inbox_app.credentials.secrets import SecretStore, home_namespace
from inbox_app.fileio import StorageError, atomic_write, read_file
from inbox_app.paths import ensure_private_dir
from inbox_app.smime import Identity, IdentityError, load_identity
from inbox_app.smime.certificates import email_addresses, fingerprint, subject_text
from inbox_app.smime.identity import DecryptionKey, PrivateKey

_PRIVATE_KEY_TYPES = (
    rsa.RSAPrivateKey,
    ec.EllipticCurvePrivateKey,
    ed25519.Ed25519PrivateKey,
    x25519.X25519PrivateKey,
    x448.X448PrivateKey,
)

SIGN = "sign"
ENCRYPT = "encrypt"
USES = {
    "sign": frozenset({SIGN}),
    "encrypt": frozenset({ENCRYPT}),
    "both": frozenset({SIGN, ENCRYPT}),
}
CURRENT = "current"
HISTORIC = "historic"
_MAGIC = b"IBK1"
_INDEX_VERSION = 1


@dataclass(frozen=True)
class StoredIdentity:
    """An identity in the keystore, without its private key."""

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    uses: frozenset[str]
    state: str
    source: str
    exportable: bool
    installed_at: str
    # Once an encryption key, always a decryption key: mail sent to it stays readable
    # after the identity is renewed, whatever its current uses.
    may_decrypt: bool = False

    @property
    def sha256(self) -> str:
        return fingerprint(self.certificate)

    @property
    def addresses(self) -> tuple[str, ...]:
        return email_addresses(self.certificate)

    def to_json(self) -> dict[str, Any]:
        """The ``cert list --json`` object (exact contract)."""
        return {
            "sha256": self.sha256,
            "addresses": list(self.addresses),
            "subject": subject_text(self.certificate),
            "not_before": self.certificate.not_valid_before_utc.isoformat(),
            "not_after": self.certificate.not_valid_after_utc.isoformat(),
            "use": sorted(self.uses),
            "state": self.state,
            "exportable": self.exportable,
            "source": self.source,
        }


@dataclass(frozen=True)
class NewIdentity:
    """An identity to install, with how it may be used."""

    identity: Identity
    uses: frozenset[str]
    source: str
    exportable: bool = True
    historic: bool = False  # an archived key: decryption only from the start


@dataclass
class _Index:
    entries: list[StoredIdentity] = field(default_factory=list)


def check_usable(identity: Identity, uses: Iterable[str]) -> None:
    """Refuse a certificate that is not an S/MIME certificate fit for ``uses``.

    Raises:
        CredentialsError: no address, no emailProtection, or a key usage that forbids it.
    """
    cert = identity.certificate
    name = subject_text(cert)
    if not email_addresses(cert):
        raise CredentialsError(f"the certificate {name} names no email address")
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if not {
            ExtendedKeyUsageOID.EMAIL_PROTECTION,
            ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
        } & set(eku):
            raise CredentialsError(f"the certificate {name} is not for email protection")
    except x509.ExtensionNotFound:
        pass
    try:
        usage: x509.KeyUsage | None = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is None:
        return
    if SIGN in uses and not (usage.digital_signature or usage.content_commitment):
        raise CredentialsError(f"the certificate {name} may not sign (key usage)")
    if ENCRYPT in uses:
        key = identity.private_key
        allowed = (
            usage.key_agreement
            if isinstance(key, ec.EllipticCurvePrivateKey)
            else usage.key_encipherment
        )
        if not allowed:
            raise CredentialsError(f"the certificate {name} may not be used to encrypt (key usage)")
    if SIGN in uses and not isinstance(
        identity.private_key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)
    ):
        raise CredentialsError(f"Inbox cannot sign with the key of {name}")


class Keystore:
    """Identities of one Inbox home, their private keys wrapped under a keyring-held key."""

    def __init__(self, home: Path, secrets: SecretStore) -> None:
        self._home = home
        self._dir = home / "keystore"
        self._secrets = secrets
        self._kek_name = "kek/" + home_namespace(home)

    # ------------------------------------------------------------------ reading

    def identities(self) -> list[StoredIdentity]:
        return list(self._load().entries)

    def find(self, sha256: str) -> StoredIdentity:
        """The identity with this certificate fingerprint (a unique prefix is enough)."""
        wanted = sha256.lower().strip()
        matches = [entry for entry in self._load().entries if entry.sha256.startswith(wanted)]
        if len(wanted) < 8 or len(matches) != 1:
            raise CredentialsError(f"no single identity with the fingerprint {sha256}")
        return matches[0]

    def identity(self, entry: StoredIdentity, *, kek: bytes | None = None) -> Identity:
        """The identity with its private key unwrapped (kept in memory only)."""
        key = self._unwrap(entry, kek)
        # For decryption, a key no longer current for encryption counts as historic.
        historic = entry.state == HISTORIC or ENCRYPT not in entry.uses
        return Identity(entry.certificate, key, entry.chain, historic=historic)

    def decryption_identities(self) -> list[DecryptionKey]:
        """Every key that may decrypt: current and historic, current first.

        The keys are unwrapped only when the decryptor asks for one (its certificate
        matched a recipient), and the keyring is asked once, however many there are.
        """
        entries = [e for e in self._load().entries if e.may_decrypt or ENCRYPT in e.uses]
        entries.sort(key=lambda entry: entry.state == HISTORIC or ENCRYPT not in entry.uses)
        kek = _Once(lambda: self._kek(create=False))
        return [_StoredKey(self, entry, kek) for entry in entries]

    def current(self, address: str, use: str) -> StoredIdentity | None:
        """The current identity for ``use`` of ``address`` (domain compared case-blind)."""
        for entry in self._load().entries:
            if entry.state == CURRENT and use in entry.uses and _has_address(entry, address):
                return entry
        return None

    # ------------------------------------------------------------------ writing

    def import_p12(
        self,
        data: bytes,
        password: bytes | None,
        *,
        use: str = "both",
        source: str = "p12",
        exportable: bool = True,
    ) -> StoredIdentity:
        """Import a .p12/.pfx: validated completely before anything is written.

        Raises:
            CredentialsError: wrong password, corrupt file, key mismatch, unfit certificate.
            KeyringUnavailableError: no secure keyring to protect the key with.
        """
        if use not in USES:
            raise CredentialsError(f"unknown use {use!r}; use sign, encrypt or both")
        try:
            identity = load_identity(data, password)
        except IdentityError as exc:
            raise CredentialsError(str(exc)) from exc
        installed = self.install([NewIdentity(identity, USES[use], source, exportable)])
        return installed[0]

    def install(self, identities: Sequence[NewIdentity]) -> list[StoredIdentity]:
        """Install several identities at once: all of them, or (on any error) none.

        Re-installing an identity that is already present updates nothing but its use.
        """
        for new in identities:
            check_usable(new.identity, new.uses)
        index = self._load()
        entries = list(index.entries)
        had_kek = self._secrets.get(self._kek_name) is not None
        kek = self._kek(create=not any(self._dir.glob("keys/*.key")))
        written: list[Path] = []
        installed: list[StoredIdentity] = []
        try:
            for new in identities:
                sha = fingerprint(new.identity.certificate)
                existing = next((e for e in entries if e.sha256 == sha), None)
                if existing is None:
                    path = self._key_path(sha)
                    atomic_write(path, self._wrap(kek, sha, new.identity))
                    written.append(path)
                state = HISTORIC if new.historic else CURRENT
                if state == CURRENT:
                    entries = [_retire(entry, new) for entry in entries]
                stored = StoredIdentity(
                    may_decrypt=ENCRYPT in new.uses
                    or new.historic
                    or bool(existing and existing.may_decrypt),
                    certificate=new.identity.certificate,
                    chain=tuple(new.identity.chain),
                    uses=new.uses,
                    state=state,
                    source=new.source if existing is None else existing.source,
                    exportable=new.exportable if existing is None else existing.exportable,
                    installed_at=datetime.now().astimezone().isoformat(timespec="seconds")
                    if existing is None
                    else existing.installed_at,
                )
                entries = [e for e in entries if e.sha256 != sha] + [stored]
                installed.append(stored)
            self._save(_Index(entries))  # the commit point
        except BaseException:
            for path in written:
                with contextlib.suppress(OSError):
                    path.unlink()
            if not had_kek and not entries_on_disk(self._dir):
                # Leave no trace of an install that did not happen.
                with contextlib.suppress(Exception):
                    self._secrets.delete(self._kek_name)
            raise
        return installed

    def remove(self, sha256: str) -> StoredIdentity:
        """Remove one identity and its wrapped key (an explicit act, never a side effect)."""
        entry = self.find(sha256)
        index = self._load()
        self._save(_Index([e for e in index.entries if e.sha256 != entry.sha256]))
        with contextlib.suppress(OSError):
            self._key_path(entry.sha256).unlink()
        return entry

    def retire_source(self, source: str, *, purge: bool) -> list[StoredIdentity]:
        """Drop what a profile installed: its decryption keys stay historic unless ``purge``."""
        index = self._load()
        kept: list[StoredIdentity] = []
        dropped: list[StoredIdentity] = []
        for entry in index.entries:
            if entry.source != source:
                kept.append(entry)
            elif not purge and (entry.may_decrypt or ENCRYPT in entry.uses):
                kept.append(replace(entry, state=HISTORIC))
            else:
                dropped.append(entry)
        self._save(_Index(kept))
        for entry in dropped:
            with contextlib.suppress(OSError):
                self._key_path(entry.sha256).unlink()
        return dropped

    # ------------------------------------------------------------------ export

    def export_certificate(self, sha256: str) -> bytes:
        return self.find(sha256).certificate.public_bytes(Encoding.PEM)

    def export_private(self, sha256: str, password: bytes) -> bytes:
        """A new PKCS#12 protected by ``password``, only for exportable identities."""
        entry = self.find(sha256)
        if not entry.exportable:
            raise CredentialsError("this identity's private key may not be exported")
        if not password:
            raise CredentialsError("an exported private key needs a password")
        key = self._unwrap(entry)
        if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
            raise CredentialsError("this kind of key cannot be exported as PKCS#12")
        return pkcs12.serialize_key_and_certificates(
            entry.certificate.subject.rfc4514_string().encode()[:64],
            key,
            entry.certificate,
            list(entry.chain) or None,
            BestAvailableEncryption(password),
        )

    # ------------------------------------------------------------------ storage

    def _index_path(self) -> Path:
        return self._dir / "index.json"

    def _key_path(self, sha256: str) -> Path:
        return ensure_private_dir(self._dir / "keys") / f"{sha256}.key"

    def _load(self) -> _Index:
        path = self._index_path()
        if not path.exists():
            return _Index()
        try:
            data = json.loads(read_file(path, what="keystore index"))
            if data.get("version") != _INDEX_VERSION:
                raise CredentialsError("the keystore was written by a newer Inbox")
            return _Index([_entry_from_json(item) for item in data["identities"]])
        except (ValueError, KeyError, TypeError) as exc:
            if isinstance(exc, CredentialsError):
                raise
            raise CredentialsError(f"the keystore index {path} is damaged") from exc

    def _save(self, index: _Index) -> None:
        ensure_private_dir(self._home)
        ensure_private_dir(self._dir)
        data = {"version": _INDEX_VERSION, "identities": [_entry_to_json(e) for e in index.entries]}
        atomic_write(self._index_path(), json.dumps(data, indent=1).encode())

    def _kek(self, *, create: bool) -> bytes:
        stored = self._secrets.get(self._kek_name)
        if stored is None:
            if not create:
                raise KeyringUnavailableError(
                    "the key that protects the keystore is missing from the OS keyring"
                )
            kek = random.token_bytes(32)
            self._secrets.set(self._kek_name, base64.b64encode(kek).decode())
            if self._secrets.get(self._kek_name) is None:
                raise KeyringUnavailableError("the OS keyring did not keep the keystore's key")
            return kek
        try:
            kek = base64.b64decode(stored, validate=True)
        except ValueError:
            kek = b""
        if len(kek) != 32:
            raise KeyringUnavailableError("the keystore's key in the OS keyring is damaged")
        return kek

    @staticmethod
    def _wrap(kek: bytes, sha256: str, identity: Identity) -> bytes:
        der = identity.private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        nonce = os.urandom(12)
        return _MAGIC + nonce + AESGCM(kek).encrypt(nonce, der, sha256.encode())

    def _unwrap(self, entry: StoredIdentity, kek: bytes | None = None) -> PrivateKey:
        blob = read_file(self._key_path(entry.sha256), what="wrapped key")
        if kek is None:
            kek = self._kek(create=False)
        if not blob.startswith(_MAGIC) or len(blob) < len(_MAGIC) + 12 + 16:
            raise CredentialsError(
                f"the stored key of {subject_text(entry.certificate)} is damaged"
            )
        nonce, sealed = blob[4:16], blob[16:]
        try:
            der = AESGCM(kek).decrypt(nonce, sealed, entry.sha256.encode())
        except InvalidTag:
            raise CredentialsError(
                f"the stored key of {subject_text(entry.certificate)} cannot be unwrapped "
                "(damaged, or the keyring holds another keystore's key)"
            ) from None
        # The key was written by us and authenticated by the GCM tag just now, so the
        # (slow, ~30 ms for RSA) consistency checks of a foreign key add nothing.
        key = load_der_private_key(der, None, unsafe_skip_rsa_key_validation=True)
        if not isinstance(key, _PRIVATE_KEY_TYPES):
            raise CredentialsError("the stored key is of a kind Inbox cannot use")
        return key


class _Once:
    """A value computed on first use (the key-encryption key: one keyring request)."""

    def __init__(self, compute: Callable[[], bytes]) -> None:
        self._compute = compute
        self._value: bytes | None = None

    def __call__(self) -> bytes:
        if self._value is None:
            self._value = self._compute()
        return self._value


class _StoredKey:
    """A decryption key from the keystore, unwrapped on first use (see DecryptionKey)."""

    def __init__(self, keystore: Keystore, entry: StoredIdentity, kek: _Once) -> None:
        self._keystore = keystore
        self._entry = entry
        self._kek = kek
        self.certificate = entry.certificate
        # For decryption, a key no longer current for encryption counts as historic.
        self.historic = entry.state == HISTORIC or ENCRYPT not in entry.uses

    @functools.cached_property
    def private_key(self) -> PrivateKey:
        return self._keystore._unwrap(self._entry, self._kek())

    def __repr__(self) -> str:  # never a key in a log or a traceback
        return f"StoredKey({self._entry.sha256[:16]})"


def entries_on_disk(directory: Path) -> bool:
    """Whether a keystore directory holds any wrapped key or index."""
    return (directory / "index.json").exists() or any(directory.glob("keys/*.key"))


def _retire(entry: StoredIdentity, new: NewIdentity) -> StoredIdentity:
    """Take ``new``'s uses away from the current holder of the same address."""
    if entry.state != CURRENT or not set(entry.addresses) & set(
        email_addresses(new.identity.certificate)
    ):
        return entry
    if entry.sha256 == fingerprint(new.identity.certificate):
        return entry
    remaining = entry.uses - new.uses
    if remaining == entry.uses:
        return entry
    if remaining:
        return replace(entry, uses=frozenset(remaining))
    # Fully superseded: kept for decrypting old mail only (never silently deleted).
    return replace(entry, state=HISTORIC)


def _has_address(entry: StoredIdentity, address: str) -> bool:
    local, _, domain = address.rpartition("@")
    for candidate in entry.addresses:
        c_local, _, c_domain = candidate.rpartition("@")
        if c_local == local and c_domain.lower() == domain.lower():
            return True
    return False


def _entry_to_json(entry: StoredIdentity) -> dict[str, Any]:
    return {
        "certificate": entry.certificate.public_bytes(Encoding.PEM).decode(),
        "chain": [cert.public_bytes(Encoding.PEM).decode() for cert in entry.chain],
        "uses": sorted(entry.uses),
        "state": entry.state,
        "source": entry.source,
        "exportable": entry.exportable,
        "installed_at": entry.installed_at,
        "may_decrypt": entry.may_decrypt,
    }


def _entry_from_json(item: dict[str, Any]) -> StoredIdentity:
    return StoredIdentity(
        certificate=x509.load_pem_x509_certificate(item["certificate"].encode()),
        chain=tuple(x509.load_pem_x509_certificate(pem.encode()) for pem in item["chain"]),
        uses=frozenset(item["uses"]),
        state=item["state"],
        source=item["source"],
        exportable=bool(item["exportable"]),
        installed_at=item["installed_at"],
        may_decrypt=bool(
            item.get("may_decrypt", "encrypt" in item["uses"] or item["state"] == HISTORIC)
        ),
    )


__all__ = [
    "CURRENT",
    "ENCRYPT",
    "HISTORIC",
    "SIGN",
    "Keystore",
    "NewIdentity",
    "StorageError",
    "StoredIdentity",
    "check_usable",
]
