"""Contacts' certificates: whom we can encrypt to, learnt from verified mail or imported.

Stored in ``<home>/contacts.json`` (file 0600, directory 0700, every write atomic)::

    {"version": 1, "contacts": [{"address", "certificate" (PEM), "chain" (PEM list),
      "source" ("harvested" | "imported"), "first_seen", "last_signing_time",
      "capabilities" (OIDs, most preferred first), "changed" (null or the pending
      certificate, chain, capabilities, signing time and when it was "seen")}]}

Rules (issue "Contacts' certificates"):

- Harvesting learns only from a valid signature whose signer is the From address, and only
  for that address; capabilities and the preferred encryption certificate follow the newest
  signing time. The certificate remembered is the one named by SMIMEEncryptionKeyPreference
  (when the message carries it), else the signing certificate if it may encrypt.
- A different key for an address whose certificate is still valid is never swapped in
  silently: it waits in ``changed`` until :meth:`ContactStore.confirm`; the old one stays in
  use meanwhile (key-replacement attacks).
- Importing a .cer/.pem/.p7c is the user's explicit act: it adds or replaces.
- A certificate is handed out for encryption only when unexpired, fit for encryption and
  trusted (a path to an anchor of the caller's trust store).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from inbox_app.credentials.errors import CredentialsError
from inbox_app.fileio import atomic_write, read_file
from inbox_app.paths import ensure_private_dir
from inbox_app.smime import Report, SignatureStatus, SignatureVerificationError, TrustStore
from inbox_app.smime._cms import parse_signed_data
from inbox_app.smime.certificates import (
    email_addresses,
    fingerprint,
    is_identified_by,
    load_der_certificate,
    subject_text,
)
from inbox_app.smime.errors import MalformedError
from inbox_app.smime.pathvalidation import MAIL_SIGNER, validate_signer_path
from inbox_app.smime.report import SignedLayer
from inbox_app.smime.trust import load_certificates

HARVESTED = "harvested"
IMPORTED = "imported"
RSAES_OAEP = "1.2.840.113549.1.1.7"

# What happened to an address (ContactChange.action).
ADDED = "added"  # first certificate for the address
UPDATED = "updated"  # same certificate, newer signing time: capabilities refreshed
UNCHANGED = "unchanged"  # nothing new
REPLACED = "replaced"  # a new current certificate (import, or the old one had expired)
CHANGED = "changed"  # a different key is pending confirmation; the old one stays current

_VERSION = 1
_FILE = "contacts.json"
_MAX_CHAIN = 8
_MAX_CAPABILITIES = 64
_PEM_CMS = re.compile(rb"-----BEGIN (PKCS7|CMS)-----(.*?)-----END \1-----", re.DOTALL)


@dataclass(frozen=True)
class PendingChange:
    """A different key seen for an address that still has a valid certificate."""

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    seen: datetime
    signing_time: datetime | None
    capabilities: tuple[str, ...]

    @property
    def sha256(self) -> str:
        return fingerprint(self.certificate)


@dataclass(frozen=True)
class Contact:
    """One address and the certificate we encrypt to."""

    address: str
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    source: str
    first_seen: datetime
    last_signing_time: datetime | None
    capabilities: tuple[str, ...]
    changed: PendingChange | None = None

    @property
    def sha256(self) -> str:
        return fingerprint(self.certificate)

    def to_json(self) -> dict[str, Any]:
        """The ``contact list --json`` object (exact contract)."""
        return {
            "address": self.address,
            "sha256": self.sha256,
            "subject": subject_text(self.certificate),
            "not_after": self.certificate.not_valid_after_utc.isoformat(),
            "source": self.source,
            "capabilities": list(self.capabilities),
            "changed": self.changed.sha256 if self.changed is not None else None,
        }


@dataclass(frozen=True)
class ContactChange:
    """What an import, a harvest or a confirmation did to one address."""

    address: str
    action: str
    sha256: str
    previous: str | None = None

    def describe(self) -> str:
        text = f"{self.action} {self.address} {self.sha256}"
        if self.previous is not None and self.previous != self.sha256:
            text += f" (was {self.previous})"
        if self.action == CHANGED:
            text += f"; confirm with: inbox-app contact confirm {self.address} {self.sha256}"
        return text


def normalize_address(address: str) -> str:
    """``local@domain`` with the domain in lower case; the local part is kept exactly.

    Raises:
        CredentialsError: not an address.
    """
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain or any(ch.isspace() for ch in address.strip()):
        raise CredentialsError(f"{address!r} is not a mail address")
    return f"{local}@{domain.lower()}"


def encryption_problem(cert: x509.Certificate) -> str | None:
    """Why ``cert`` cannot receive encrypted mail, or None when it can (key, KU, EKU)."""
    try:
        key = cert.public_key()
    except (ValueError, TypeError):
        return "its public key cannot be read"
    if not isinstance(key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
        return "its key type cannot receive encrypted mail"
    try:
        usage: x509.KeyUsage | None = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    except ValueError:
        return "its extensions are malformed"
    if usage is not None:
        if isinstance(key, ec.EllipticCurvePublicKey) and not usage.key_agreement:
            return "its key usage does not allow key agreement"
        if isinstance(key, rsa.RSAPublicKey) and not usage.key_encipherment:
            return "its key usage does not allow key encipherment"
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if not MAIL_SIGNER.intersection(eku):
            return "its extended key usage does not allow email protection"
    except x509.ExtensionNotFound:
        pass
    except ValueError:
        return "its extensions are malformed"
    if _is_ca(cert):
        return "it is a certificate authority"
    return None


class ContactStore:
    """The contacts' certificates of one Inbox home."""

    def __init__(self, home: Path) -> None:
        self._home = home

    @property
    def path(self) -> Path:
        return self._home / _FILE

    # ------------------------------------------------------------------ reading

    def contacts(self) -> list[Contact]:
        """Every contact, ordered by address."""
        return sorted(self._load().values(), key=lambda contact: contact.address)

    def find(self, address: str) -> Contact | None:
        return self._load().get(normalize_address(address))

    def known_certificates(self) -> list[x509.Certificate]:
        """Current certificates and their chains (``open_message``'s extra certificates)."""
        found: list[x509.Certificate] = []
        for contact in self.contacts():
            for cert in (contact.certificate, *contact.chain):
                if cert not in found:
                    found.append(cert)
        return found

    def wants_oaep(self, address: str) -> bool:
        """True when the contact announced RSAES-OAEP in its SMIMECapabilities."""
        contact = self.find(address)
        return contact is not None and RSAES_OAEP in contact.capabilities

    def encryption_certificate(
        self,
        address: str,
        *,
        trust: TrustStore,
        now: datetime,
        intermediates: Sequence[x509.Certificate] = (),
    ) -> x509.Certificate:
        """The certificate to encrypt to ``address``: trusted, unexpired, fit for encryption.

        A pending changed key is never used; the current certificate stays in use until
        the change is confirmed. When the current one cannot be used and a change is
        pending, the error says so.

        Raises:
            CredentialsError: a one-line reason (no certificate, expired, not fit for
                encryption, untrusted, changed key awaiting confirmation).
        """
        normalized = normalize_address(address)
        contact = self._load().get(normalized)
        if contact is None:
            raise CredentialsError(
                f"no certificate for {normalized}: import one with 'inbox-app contact import'"
            )
        problem = _usability_problem(contact, trust, _aware(now), intermediates)
        if problem is None:
            return contact.certificate
        if contact.changed is not None:
            raise CredentialsError(
                f"{problem}; a changed key awaiting confirmation was seen for {normalized} "
                f"(inbox-app contact confirm {normalized} {contact.changed.sha256})"
            )
        raise CredentialsError(problem)

    # ------------------------------------------------------------------ writing

    def import_file(self, data: bytes, *, now: datetime) -> list[ContactChange]:
        """Import a .cer/.pem (one or more certificates) or .p7c (certs-only CMS).

        Every end-entity certificate naming an address is taken (per address the one fit
        for encryption that lasts longest); CA certificates in the file become its chain.

        Raises:
            CredentialsError: no certificate with an address could be read.
        """
        now = _aware(now)
        certs = _read_certificates(data)
        cas = tuple(cert for cert in certs if _is_ca(cert))[:_MAX_CHAIN]
        chosen: dict[str, x509.Certificate] = {}
        for cert in certs:
            if _is_ca(cert):
                continue
            for raw in email_addresses(cert):
                try:
                    address = normalize_address(raw)
                except CredentialsError:
                    continue
                best = chosen.get(address)
                if best is None or _rank(cert) > _rank(best):
                    chosen[address] = cert
        if not chosen:
            raise CredentialsError("the file holds no end-entity certificate with a mail address")
        contacts = self._load()
        changes: list[ContactChange] = []
        for address, cert in sorted(chosen.items()):
            sha = fingerprint(cert)
            existing = contacts.get(address)
            if existing is None:
                contacts[address] = Contact(address, cert, cas, IMPORTED, now, None, ())
                changes.append(ContactChange(address, ADDED, sha))
                continue
            pending = existing.changed
            if pending is not None and pending.sha256 == sha:
                pending = None  # the user settled the pending change
            if existing.sha256 == sha:
                contacts[address] = replace(existing, chain=cas or existing.chain, changed=pending)
                changes.append(ContactChange(address, UNCHANGED, sha))
                continue
            contacts[address] = replace(
                existing, certificate=cert, chain=cas, source=IMPORTED, changed=pending
            )
            changes.append(ContactChange(address, REPLACED, sha, existing.sha256))
        self._save(contacts)
        return changes

    def harvest(self, report: Report, *, now: datetime) -> list[ContactChange]:
        """Learn the sender's certificate from a verified message (no-op unless valid).

        Only a report whose signature is valid and matches the sender teaches anything,
        and only about the From address.
        """
        if (
            report.malformed
            or report.signature is not SignatureStatus.VALID
            or report.sender_match is not True
            or report.from_address is None
        ):
            return []
        try:
            address = normalize_address(report.from_address)
        except CredentialsError:
            return []
        now = _aware(now)
        contacts = self._load()
        changes: list[ContactChange] = []
        for layer in report.signed_layers:
            if layer.status is not SignatureStatus.VALID or layer.certificate is None:
                continue
            if not _names_address(layer.certificate, address):
                continue
            cert = _encryption_choice(layer, address)
            if cert is None:
                continue
            change = _learn(contacts, address, cert, layer, now)
            if change is not None:
                changes.append(change)
        if any(change.action != UNCHANGED for change in changes):
            self._save(contacts)
        return changes

    def confirm(self, address: str, sha256: str) -> Contact:
        """Settle a pending change: its fingerprint adopts the new key, the current one's
        fingerprint keeps the old key and drops the change.

        Raises:
            CredentialsError: unknown address, or a fingerprint that is neither.
        """
        normalized = normalize_address(address)
        contacts = self._load()
        contact = contacts.get(normalized)
        if contact is None:
            raise CredentialsError(f"no certificate for {normalized}")
        wanted = sha256.strip().lower()
        pending = contact.changed
        if len(wanted) < 8:
            raise CredentialsError("give at least 8 hex digits of the fingerprint")
        if pending is not None and pending.sha256.startswith(wanted):
            updated = replace(
                contact,
                certificate=pending.certificate,
                chain=pending.chain,
                source=HARVESTED,
                last_signing_time=_latest(pending.signing_time, contact.last_signing_time),
                capabilities=pending.capabilities or contact.capabilities,
                changed=None,
            )
        elif contact.sha256.startswith(wanted):
            updated = replace(contact, changed=None)
        else:
            raise CredentialsError(
                f"{sha256} is neither the current nor the changed certificate of {normalized}"
            )
        contacts[normalized] = updated
        self._save(contacts)
        return updated

    # ------------------------------------------------------------------ storage

    def _load(self) -> dict[str, Contact]:
        path = self.path
        if not path.exists():
            return {}
        try:
            data = json.loads(read_file(path, what="contacts file"))
            if data.get("version") != _VERSION:
                raise CredentialsError("the contacts file was written by a newer Inbox")
            loaded = [_contact_from_json(item) for item in data["contacts"]]
        except CredentialsError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CredentialsError(f"the contacts file {path} is damaged") from exc
        return {contact.address: contact for contact in loaded}

    def _save(self, contacts: dict[str, Contact]) -> None:
        ensure_private_dir(self._home)
        data = {
            "version": _VERSION,
            "contacts": [_contact_to_json(contacts[key]) for key in sorted(contacts)],
        }
        atomic_write(self.path, json.dumps(data, indent=1).encode())


# ---------------------------------------------------------------------- harvesting


def _learn(
    contacts: dict[str, Contact],
    address: str,
    cert: x509.Certificate,
    layer: SignedLayer,
    now: datetime,
) -> ContactChange | None:
    sha = fingerprint(cert)
    chain = _chain_from(cert, layer.certificates)
    capabilities = tuple(layer.capabilities[:_MAX_CAPABILITIES])
    signing_time = _aware(layer.signing_time) if layer.signing_time else None
    existing = contacts.get(address)
    if existing is None:
        contacts[address] = Contact(
            address, cert, chain, HARVESTED, now, signing_time, capabilities
        )
        return ContactChange(address, ADDED, sha)
    newer = signing_time is not None and (
        existing.last_signing_time is None or signing_time > existing.last_signing_time
    )
    if existing.sha256 == sha:
        if not newer:
            return ContactChange(address, UNCHANGED, sha)
        contacts[address] = replace(
            existing,
            chain=chain or existing.chain,
            last_signing_time=signing_time,
            capabilities=capabilities,
        )
        return ContactChange(address, UPDATED, sha)
    # A different key. Older mail (signed before what we know) teaches nothing.
    if (
        signing_time is not None
        and existing.last_signing_time is not None
        and signing_time <= existing.last_signing_time
    ):
        return None
    current = existing.certificate
    if current.not_valid_before_utc <= now <= current.not_valid_after_utc:
        pending = existing.changed
        if pending is not None and pending.sha256 == sha and not _is_newer(signing_time, pending):
            return ContactChange(address, UNCHANGED, existing.sha256)
        contacts[address] = replace(
            existing,
            changed=PendingChange(cert, chain, now, signing_time, capabilities),
        )
        return ContactChange(address, CHANGED, sha, existing.sha256)
    # The old certificate is no longer valid: a verified successor takes its place.
    contacts[address] = Contact(
        address, cert, chain, HARVESTED, existing.first_seen, signing_time, capabilities
    )
    return ContactChange(address, REPLACED, sha, existing.sha256)


def _is_newer(signing_time: datetime | None, pending: PendingChange) -> bool:
    return signing_time is not None and (
        pending.signing_time is None or signing_time > pending.signing_time
    )


def _encryption_choice(layer: SignedLayer, address: str) -> x509.Certificate | None:
    """The certificate the signer wants mail encrypted to, else the signing one if fit."""
    signing = layer.certificate
    if signing is None:
        return None
    preference = layer.encryption_key_preference
    if preference is not None:
        for cert in (*layer.certificates, signing):
            if is_identified_by(
                cert,
                issuer_der=preference.issuer_der,
                serial=preference.serial,
                subject_key_id=preference.subject_key_id,
            ):
                if _names_address(cert, address) and encryption_problem(cert) is None:
                    return cert
                break
    return signing if encryption_problem(signing) is None else None


def _chain_from(
    cert: x509.Certificate, certificates: Sequence[x509.Certificate]
) -> tuple[x509.Certificate, ...]:
    """The CA certificates that came with ``cert`` (untrusted helpers for path building)."""
    chain = [other for other in certificates if other != cert and _is_ca(other)]
    return tuple(chain[:_MAX_CHAIN])


def _names_address(cert: x509.Certificate, address: str) -> bool:
    for raw in email_addresses(cert):
        try:
            if normalize_address(raw) == address:
                return True
        except CredentialsError:
            continue
    return False


# ---------------------------------------------------------------------- using


def _usability_problem(
    contact: Contact,
    trust: TrustStore,
    now: datetime,
    intermediates: Sequence[x509.Certificate],
) -> str | None:
    cert = contact.certificate
    who = f"the certificate of {contact.address}"
    if now > cert.not_valid_after_utc:
        return f"{who} expired on {cert.not_valid_after_utc:%Y-%m-%d}"
    if now < cert.not_valid_before_utc:
        return f"{who} is not valid before {cert.not_valid_before_utc:%Y-%m-%d}"
    problem = encryption_problem(cert)
    if problem is not None:
        return f"{who} is not fit for encryption: {problem}"
    try:
        _validate_recipient_path(cert, [*contact.chain, *intermediates], trust, now)
    except SignatureVerificationError as exc:
        if exc.status is SignatureStatus.EXPIRED:
            return f"{who} cannot be used: {exc}"
        return f"{who} is not trusted: {exc}"
    return None


def _validate_recipient_path(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    trust: TrustStore,
    now: datetime,
) -> None:
    """Path validation for a recipient: as for signers, but the leaf need not sign.

    Raises:
        SignatureVerificationError: untrusted, expired, revoked, or weak.
    """
    validated = validate_signer_path(
        leaf, intermediates=intermediates, trust=trust, now=now, for_signing=False
    )
    if validated.weaknesses:
        raise SignatureVerificationError(
            SignatureStatus.UNTRUSTED, "weak: " + "; ".join(validated.weaknesses)
        )


# ---------------------------------------------------------------------- files


def _read_certificates(data: bytes) -> list[x509.Certificate]:
    """Certificates from PEM (certificates or PKCS7), DER (certificate or certs-only CMS),
    or a bare base64 certs-only CMS."""
    try:
        if b"-----BEGIN" in data:
            certs: list[x509.Certificate] = []
            for match in _PEM_CMS.finditer(data):
                certs.extend(_certificates_from_cms(_b64(match.group(2))))
            rest = _PEM_CMS.sub(b"", data)
            if b"-----BEGIN" in rest:
                certs.extend(load_certificates(rest))
            if certs:
                return certs
            raise MalformedError("no certificate found")
        stripped = data.strip()
        if not stripped.startswith(b"\x30"):
            stripped = _b64(stripped)
        try:
            return _certificates_from_cms(stripped)
        except MalformedError:
            return load_certificates(stripped)
    except (MalformedError, ValueError) as exc:
        raise CredentialsError(
            "not a certificate (.cer/.pem) or certificate bundle (.p7c)"
        ) from exc


def _certificates_from_cms(der: bytes) -> list[x509.Certificate]:
    signed = parse_signed_data(der)
    certs = [load_der_certificate(blob) for blob in signed.certificates]
    if not certs:
        raise MalformedError("the certificate bundle holds no certificate")
    return certs


def _b64(text: bytes) -> bytes:
    try:
        return base64.b64decode(b"".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedError("not base64") from exc


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except (x509.ExtensionNotFound, ValueError):
        return False


def _rank(cert: x509.Certificate) -> tuple[bool, datetime]:
    return encryption_problem(cert) is None, cert.not_valid_after_utc


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(Encoding.PEM).decode()


def _load_pem(text: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(text.encode())


def _time(text: str | None) -> datetime | None:
    return _aware(datetime.fromisoformat(text)) if text is not None else None


def _contact_to_json(contact: Contact) -> dict[str, Any]:
    changed = contact.changed
    return {
        "address": contact.address,
        "certificate": _pem(contact.certificate),
        "chain": [_pem(cert) for cert in contact.chain],
        "source": contact.source,
        "first_seen": contact.first_seen.isoformat(),
        "last_signing_time": contact.last_signing_time.isoformat()
        if contact.last_signing_time
        else None,
        "capabilities": list(contact.capabilities),
        "changed": None
        if changed is None
        else {
            "certificate": _pem(changed.certificate),
            "chain": [_pem(cert) for cert in changed.chain],
            "seen": changed.seen.isoformat(),
            "signing_time": changed.signing_time.isoformat() if changed.signing_time else None,
            "capabilities": list(changed.capabilities),
        },
    }


def _contact_from_json(item: dict[str, Any]) -> Contact:
    changed = item.get("changed")
    first_seen = _time(item["first_seen"])
    if first_seen is None:
        raise ValueError("first_seen is missing")
    pending = None
    if changed is not None:
        seen = _time(changed["seen"])
        if seen is None:
            raise ValueError("seen is missing")
        pending = PendingChange(
            certificate=_load_pem(changed["certificate"]),
            chain=tuple(_load_pem(pem) for pem in changed["chain"]),
            seen=seen,
            signing_time=_time(changed["signing_time"]),
            capabilities=tuple(str(oid) for oid in changed["capabilities"]),
        )
    source = item["source"]
    if source not in (HARVESTED, IMPORTED):
        raise ValueError(f"unknown source {source!r}")
    return Contact(
        address=normalize_address(item["address"]),
        certificate=_load_pem(item["certificate"]),
        chain=tuple(_load_pem(pem) for pem in item["chain"]),
        source=source,
        first_seen=first_seen,
        last_signing_time=_time(item["last_signing_time"]),
        capabilities=tuple(str(oid) for oid in item["capabilities"]),
        changed=pending,
    )


__all__ = [
    "ADDED",
    "CHANGED",
    "HARVESTED",
    "IMPORTED",
    "REPLACED",
    "RSAES_OAEP",
    "UNCHANGED",
    "UPDATED",
    "Contact",
    "ContactChange",
    "ContactStore",
    "PendingChange",
    "normalize_address",
]
