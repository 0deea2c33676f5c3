"""Managed configuration profiles: S/MIME identities, CA certificates and mail accounts.

An administrator hands Inbox its credentials the way an MDM hands them to an iPhone (and to
Workspace ONE Boxer): as an Apple configuration profile (``.mobileconfig``), or as the JSON
bundle of an S/MIME certificate upload. Everything in one profile is installed together or
not at all, and can be removed together later.

Input formats (detected from the bytes):

* An Apple configuration profile: an XML or binary property list (``plistlib``) whose
  top-level dictionary has ``PayloadType`` ``Configuration`` (Apple, *Configuration Profile
  Reference*, "Configuration Profile Keys"; Device Management, "TopLevel").
* The same, signed: a CMS SignedData (RFC 5652) whose encapsulated content is the property
  list, as DER, base64 or PEM (``-----BEGIN PKCS7-----`` / ``CMS``). It is verified by the
  mail engine (:func:`inbox_app.smime.verify_signed_data`) with the same rules as mail,
  against the profile signers the user or administrator trusts: ``--trust-signer`` files
  and every PEM file in ``<home>/profile-signers/``. The signer needs no email address;
  its extended key usage may be email protection, code signing, or TLS server or client
  authentication (:data:`~inbox_app.smime.pathvalidation.PROFILE_SIGNER`), since MDM
  servers often sign with their TLS certificate.
* The S/MIME certificate upload bundle (JSON), as a REST API takes it::

      {"Signing":    {"CertificatePayload": "<base64 PKCS#12>", "Password": "..."},
       "Encryption": {"CertificatePayload": "...", "Password": "..."},
       "Archived":   [{"CertificatePayload": "...", "Password": "..."}, ...]}

  Every key is optional, but at least one identity must be given. ``Archived`` identities
  are installed as historic (decryption only). The profile's identifier is
  ``smime-bundle:<address>`` (the encryption, else signing, else first archived
  certificate's first address), so a later bundle for the same address is its renewal.

Unsigned input (a bare property list or a JSON bundle) is only read when the caller says
so explicitly (``allow_unsigned``, the CLI's ``--allow-unsigned``). A signed profile whose
signature is bad or whose signer is not trusted is refused even then.

Payloads understood (``PayloadType``, Apple's Configuration Profile Reference):

* ``com.apple.security.pkcs12`` (Certificate PKCS12): ``PayloadContent`` the PKCS#12
  bytes, ``Password`` its password, ``KeyIsExtractable`` (default true; false means the
  private key can never be exported from Inbox).
* ``com.apple.security.root``, ``com.apple.security.pkcs1`` (DER) and
  ``com.apple.security.pem`` (PEM): certificates in ``PayloadContent``. Certificate
  authorities among them become trust anchors for mail (:func:`profile_anchors`); other
  certificates are noted and skipped.
* ``com.apple.mail.managed`` (Mail): an IMAP or POP account: ``EmailAddress``,
  ``EmailAccountName``, ``EmailAccountDescription``, ``EmailAccountType``,
  ``IncomingMailServerHostName``/``PortNumber``/``UseSSL``/``Username``,
  ``OutgoingMailServerHostName``/``PortNumber``/``UseSSL``/``Username``, and S/MIME:
  ``SMIMESigningEnabled``, ``SMIMESigningCertificateUUID``, ``SMIMEEncryptByDefault``,
  ``SMIMEEncryptionCertificateUUID``, ``SMIMEEnableEncryptionPerMessageSwitch`` (the
  deprecated ``SMIMEEnablePerMessageSwitch`` is read when the new key is absent).
  ``IncomingPassword`` and ``OutgoingPassword`` are never stored (a note says so).
* ``com.apple.eas.account`` (Exchange ActiveSync): its ``EmailAddress``, ``UserName``,
  ``Host``, ``SSL`` and the same S/MIME keys are honoured and the account is recorded with
  protocol ``eas``; Exchange ActiveSync itself is not supported, which the result notes
  (not an error). Its client-authentication certificate (``Certificate``,
  ``PayloadCertificateUUID``) is not installed as a mail identity.
* Any other payload is listed in the result's notes and skipped.

Inbox's extension for historic keys: a ``com.apple.mail.managed`` or
``com.apple.eas.account`` payload may carry ``InboxHistoricEncryptionCertificateUUIDs``, an
array of ``PayloadUUID`` strings of further ``com.apple.security.pkcs12`` payloads in the
same profile. They are the account's earlier encryption identities (archived keys):
installed as *historic*, used only to decrypt old mail, never to sign or encrypt. Other
clients ignore the key, so the same profile still works on Apple devices.

Which identity is used for what:

* The payload named by ``SMIMESigningCertificateUUID`` signs (use ``sign``); the one named
  by ``SMIMEEncryptionCertificateUUID`` decrypts and is announced for encryption (use
  ``encrypt``); one named by both is used for ``both``. Every identity an account names
  must carry the account's ``EmailAddress`` (domain compared case-blind) and be fit for
  its use (key usage, email protection).
* A ``com.apple.security.pkcs12`` payload that no account names is treated by what it is:
  if some account of the profile names S/MIME identities, the others are there for
  something else (VPN, Wi-Fi or Exchange client authentication) and are skipped with a
  note. If no account names any, each such payload that holds an S/MIME certificate is
  installed for the uses its key usage allows (``both`` when it allows both or has no key
  usage extension); one that holds no S/MIME certificate is skipped with a note.
* Within one profile at most one identity may be the current signing (or encryption)
  identity of an address; as with ``cert import``, it replaces the keystore's previous
  one, which becomes historic.

Installing, listing, removing (:class:`ProfileRegistry`): the identities go into the
:class:`~inbox_app.credentials.keystore.Keystore` with source ``profile:<identifier>``;
the profile itself is recorded in ``<home>/profiles.json`` (written atomically, 0600):
identifier (``PayloadIdentifier``), ``PayloadUUID``, display name, signer, the installed
identities' SHA-256 fingerprints and uses, the accounts, the anchors as PEM, notes and the
time of installation. It holds no secret: PKCS#12 bytes, their passwords and account
passwords exist only in memory while installing; afterwards the private keys exist only
wrapped in the keystore. Installing the same profile again changes nothing; a new version
(same identifier) replaces the old one, whose superseded encryption keys stay as
historic. A replacement for a signed profile must be signed by a signer with the same
subject. Removing a profile drops its accounts, anchors and current identities; its
decryption keys stay as historic unless ``purge`` is asked for.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import contextlib
import hashlib
import json
import plistlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.parsers.expat import ExpatError

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from inbox_app.credentials.anchors import load_pem_directory
from inbox_app.credentials.errors import CredentialsError, ProfileError
from inbox_app.credentials.keystore import (
    CURRENT,
    ENCRYPT,
    SIGN,
    Keystore,
    NewIdentity,
    StoredIdentity,
    check_usable,
)
from inbox_app.errors import one_line
from inbox_app.fileio import atomic_write, read_file
from inbox_app.paths import ensure_private_dir
from inbox_app.smime import (
    Identity,
    IdentityError,
    MalformedError,
    SignatureStatus,
    SignatureVerificationError,
    TrustStore,
    UnsupportedError,
    load_certificates,
    load_identity,
    verify_signed_data,
)
from inbox_app.smime.certificates import email_addresses, fingerprint, subject_text
from inbox_app.smime.pathvalidation import PROFILE_SIGNER

PKCS12_PAYLOAD = "com.apple.security.pkcs12"
CERTIFICATE_PAYLOADS = frozenset(
    {"com.apple.security.root", "com.apple.security.pkcs1", "com.apple.security.pem"}
)
MAIL_PAYLOAD = "com.apple.mail.managed"
EAS_PAYLOAD = "com.apple.eas.account"
HISTORIC_KEY = "InboxHistoricEncryptionCertificateUUIDs"
REGISTRY_FILE = "profiles.json"
SIGNERS_DIR = "profile-signers"
SOURCE_PREFIX = "profile:"
MAX_PROFILE_BYTES = 16 * 1024 * 1024
_REGISTRY_VERSION = 1
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 #]+)-----(.*?)-----END \1-----", re.DOTALL)
_PEM_LABELS = frozenset({b"PKCS7", b"CMS", b"PKCS #7 SIGNED DATA"})
_PLIST_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    RecursionError,
    ExpatError,
)


class ProfileSignatureError(ProfileError, SignatureVerificationError):
    """A profile was refused by a security check: bad or untrusted signature, or unsigned.

    It is both a :class:`ProfileError` and a
    :class:`~inbox_app.smime.SignatureVerificationError` (with ``.status``), so that front
    ends, which may not import this package, can tell a security refusal (exit code 1)
    from malformed input (exit code 2).
    """


# ---------------------------------------------------------------------------- values


@dataclass(frozen=True)
class ProfileIdentity:
    """A PKCS#12 payload of a profile, decrypted, with the role the profile gives it."""

    payload_uuid: str
    identity: Identity  # its repr never shows the key
    uses: frozenset[str]
    exportable: bool
    historic: bool

    @property
    def sha256(self) -> str:
        return fingerprint(self.identity.certificate)


@dataclass(frozen=True)
class MailAccount:
    """A mail account from a ``com.apple.mail.managed`` or ``com.apple.eas.account`` payload.

    Passwords are deliberately absent. ``signing_certificate``, ``encryption_certificate``
    and ``historic_certificates`` are SHA-256 fingerprints of identities of the profile.
    """

    protocol: str  # "imap", "pop" or "eas" (recorded; Exchange ActiveSync is not supported)
    email: str | None
    name: str | None
    description: str | None
    incoming_host: str | None
    incoming_port: int | None
    incoming_ssl: bool
    incoming_username: str | None
    outgoing_host: str | None
    outgoing_port: int | None
    outgoing_ssl: bool
    outgoing_username: str | None
    smime_signing_enabled: bool
    signing_certificate: str | None
    smime_encrypt_by_default: bool
    encryption_certificate: str | None
    smime_per_message_switch: bool
    historic_certificates: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "email": self.email,
            "name": self.name,
            "description": self.description,
            "incoming": {
                "host": self.incoming_host,
                "port": self.incoming_port,
                "ssl": self.incoming_ssl,
                "username": self.incoming_username,
            },
            "outgoing": {
                "host": self.outgoing_host,
                "port": self.outgoing_port,
                "ssl": self.outgoing_ssl,
                "username": self.outgoing_username,
            },
            "smime": {
                "signing_enabled": self.smime_signing_enabled,
                "signing_certificate": self.signing_certificate,
                "encrypt_by_default": self.smime_encrypt_by_default,
                "encryption_certificate": self.encryption_certificate,
                "per_message_switch": self.smime_per_message_switch,
                "historic_certificates": list(self.historic_certificates),
            },
        }

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> MailAccount:
        incoming, outgoing, smime = item["incoming"], item["outgoing"], item["smime"]
        return cls(
            protocol=str(item["protocol"]),
            email=item["email"],
            name=item["name"],
            description=item["description"],
            incoming_host=incoming["host"],
            incoming_port=incoming["port"],
            incoming_ssl=bool(incoming["ssl"]),
            incoming_username=incoming["username"],
            outgoing_host=outgoing["host"],
            outgoing_port=outgoing["port"],
            outgoing_ssl=bool(outgoing["ssl"]),
            outgoing_username=outgoing["username"],
            smime_signing_enabled=bool(smime["signing_enabled"]),
            signing_certificate=smime["signing_certificate"],
            smime_encrypt_by_default=bool(smime["encrypt_by_default"]),
            encryption_certificate=smime["encryption_certificate"],
            smime_per_message_switch=bool(smime["per_message_switch"]),
            historic_certificates=tuple(smime["historic_certificates"]),
        )


@dataclass(frozen=True)
class Profile:
    """A profile read and validated completely; nothing has been installed yet."""

    identifier: str  # PayloadIdentifier
    uuid: str  # PayloadUUID (changes with every version of the profile)
    display_name: str
    signed_by: str | None  # the verified signer's subject; None when unsigned
    signer_sha256: str | None
    identities: tuple[ProfileIdentity, ...]
    anchors: tuple[x509.Certificate, ...]
    accounts: tuple[MailAccount, ...]
    notes: tuple[str, ...]  # skipped and unsupported payloads, things not stored

    @property
    def source(self) -> str:
        """The keystore source of this profile's identities."""
        return SOURCE_PREFIX + self.identifier


@dataclass(frozen=True)
class InstalledIdentity:
    """What the registry remembers of one installed identity (no key, no password)."""

    sha256: str
    payload_uuid: str
    uses: frozenset[str]
    historic: bool
    exportable: bool


@dataclass(frozen=True)
class InstalledProfile:
    """A profile as recorded in ``<home>/profiles.json``."""

    identifier: str
    uuid: str
    display_name: str
    signed_by: str | None
    signer_sha256: str | None
    identities: tuple[InstalledIdentity, ...]
    accounts: tuple[MailAccount, ...]
    anchors: tuple[x509.Certificate, ...]
    notes: tuple[str, ...]
    installed_at: str

    @property
    def source(self) -> str:
        return SOURCE_PREFIX + self.identifier

    def to_json(self) -> dict[str, Any]:
        """The ``profile list --json`` object (exact contract)."""
        return {
            "id": self.identifier,
            "uuid": self.uuid,
            "name": self.display_name,
            "signed_by": self.signed_by,
            "identities": [identity.sha256 for identity in self.identities],
            "accounts": [account.email for account in self.accounts if account.email],
            "installed_at": self.installed_at,
        }

    def summary(self) -> str:
        """One line of plain text (names in a profile are not to be trusted as markup)."""
        signer = f"signed by {self.signed_by}" if self.signed_by else "unsigned"
        accounts = ", ".join(a.email or "?" for a in self.accounts) or "no accounts"
        return one_line(
            f"{self.identifier}  {self.display_name!r}  {len(self.identities)} identities  "
            f"{accounts}  {signer}  installed {self.installed_at}"
        )

    def _record(self) -> dict[str, Any]:
        return {
            "id": self.identifier,
            "uuid": self.uuid,
            "name": self.display_name,
            "signed_by": self.signed_by,
            "signer_sha256": self.signer_sha256,
            "identities": [
                {
                    "sha256": identity.sha256,
                    "payload_uuid": identity.payload_uuid,
                    "uses": sorted(identity.uses),
                    "historic": identity.historic,
                    "exportable": identity.exportable,
                }
                for identity in self.identities
            ],
            "accounts": [account.to_json() for account in self.accounts],
            "anchors": [cert.public_bytes(Encoding.PEM).decode() for cert in self.anchors],
            "notes": list(self.notes),
            "installed_at": self.installed_at,
        }

    def _content(self) -> dict[str, Any]:
        """The record without its time: equal for two installs of the same profile."""
        record = self._record()
        del record["installed_at"]
        return record

    @classmethod
    def _from_record(cls, item: Mapping[str, Any]) -> InstalledProfile:
        return cls(
            identifier=str(item["id"]),
            uuid=str(item["uuid"]),
            display_name=str(item["name"]),
            signed_by=item["signed_by"],
            signer_sha256=item["signer_sha256"],
            identities=tuple(
                InstalledIdentity(
                    sha256=str(entry["sha256"]),
                    payload_uuid=str(entry["payload_uuid"]),
                    uses=frozenset(entry["uses"]),
                    historic=bool(entry["historic"]),
                    exportable=bool(entry["exportable"]),
                )
                for entry in item["identities"]
            ),
            accounts=tuple(MailAccount.from_json(account) for account in item["accounts"]),
            anchors=tuple(x509.load_pem_x509_certificate(pem.encode()) for pem in item["anchors"]),
            notes=tuple(str(note) for note in item["notes"]),
            installed_at=str(item["installed_at"]),
        )

    @classmethod
    def _of(cls, profile: Profile, installed_at: str) -> InstalledProfile:
        return cls(
            identifier=profile.identifier,
            uuid=profile.uuid,
            display_name=profile.display_name,
            signed_by=profile.signed_by,
            signer_sha256=profile.signer_sha256,
            identities=tuple(
                InstalledIdentity(
                    sha256=identity.sha256,
                    payload_uuid=identity.payload_uuid,
                    uses=identity.uses,
                    historic=identity.historic,
                    exportable=identity.exportable,
                )
                for identity in profile.identities
            ),
            accounts=profile.accounts,
            anchors=profile.anchors,
            notes=profile.notes,
            installed_at=installed_at,
        )


@dataclass(frozen=True)
class InstallResult:
    """What :meth:`ProfileRegistry.install` did."""

    profile: InstalledProfile
    changed: bool  # False: this very profile was installed already; nothing was written
    replaced_uuid: str | None  # the PayloadUUID of the version this one replaced
    notes: tuple[str, ...]

    def summary(self) -> str:
        record = self.profile
        if not self.changed:
            return one_line(f"profile {record.identifier} is already installed; nothing changed")
        verb = "updated" if self.replaced_uuid is not None else "installed"
        signer = f"signed by {record.signed_by}" if record.signed_by else "unsigned"
        return one_line(
            f"{verb} profile {record.identifier} ({record.display_name}), {signer}: "
            f"{len(record.identities)} identities, {len(record.accounts)} accounts, "
            f"{len(record.anchors)} trust anchors"
        )


@dataclass(frozen=True)
class RemoveResult:
    """What :meth:`ProfileRegistry.remove` did."""

    identifier: str
    removed: tuple[str, ...]  # SHA-256 of the identities deleted from the keystore
    kept_historic: tuple[str, ...]  # SHA-256 of those kept to decrypt old mail

    def summary(self) -> str:
        kept = (
            f"; {len(self.kept_historic)} decryption keys kept as historic"
            if self.kept_historic
            else ""
        )
        return one_line(
            f"removed profile {self.identifier}: {len(self.removed)} identities deleted{kept}"
        )


# ---------------------------------------------------------------------------- reading


def read_profile(
    data: bytes,
    *,
    signer_anchors: Sequence[x509.Certificate],
    allow_unsigned: bool,
    now: datetime,
) -> Profile:
    """Read and validate a profile completely, changing nothing.

    Args:
        data: a ``.mobileconfig`` (XML or binary plist, signed or not; DER, base64 or PEM)
            or an S/MIME upload bundle (JSON).
        signer_anchors: the trust anchors for a signed profile's signer.
        allow_unsigned: accept a profile that is not signed (explicit consent).
        now: the time at which the signer's certificates must be valid.

    Returns:
        The profile, every PKCS#12 payload decrypted and checked.

    Raises:
        ProfileSignatureError: the signature is bad or cannot be checked, the signer is
            not trusted, or the profile is unsigned without ``allow_unsigned``.
        ProfileError: the input is malformed or cannot be installed (wrong password,
            unfit certificate, address mismatch...).
    """
    if len(data) > MAX_PROFILE_BYTES:
        raise ProfileError(f"the profile is larger than {MAX_PROFILE_BYTES // 2**20} MB")
    content, der = _unwrap_input(data)
    signed_by: str | None = None
    signer_sha256: str | None = None
    if der is not None:
        try:
            verified = verify_signed_data(
                der,
                detached_content=None,
                trust=TrustStore(signer_anchors),
                now=now,
                require_data_content=False,
                purposes=PROFILE_SIGNER,
            )
        except MalformedError as exc:
            raise ProfileError(f"the profile's signature is malformed: {exc}") from exc
        except UnsupportedError as exc:
            raise ProfileSignatureError(
                SignatureStatus.ERROR, f"the profile's signature cannot be checked: {exc}"
            ) from exc
        except SignatureVerificationError as exc:
            hint = "" if signer_anchors else " (no profile signer is trusted: use --trust-signer)"
            raise ProfileSignatureError(
                exc.status, f"the profile's signature is not accepted: {exc}{hint}"
            ) from exc
        content = verified.content
        signed_by = subject_text(verified.certificate)
        signer_sha256 = fingerprint(verified.certificate)
        if _kind(content) is None:
            raise ProfileError("the signed content is neither a property list nor JSON")
    elif not allow_unsigned:
        raise ProfileSignatureError(
            SignatureStatus.UNSIGNED,
            "the profile is not signed; install it only if you trust where it came from "
            "(--allow-unsigned)",
        )
    if _kind(content) == "json":
        profile = _read_bundle(content, now=now)
    else:
        profile = _read_mobileconfig(content, now=now)
    return replace(profile, signed_by=signed_by, signer_sha256=signer_sha256)


def _kind(data: bytes) -> str | None:
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:16]
    if head.startswith(b"bplist") or head.startswith(b"<"):
        return "plist"
    if head.startswith(b"{"):
        return "json"
    return None


def _unwrap_input(data: bytes) -> tuple[bytes, bytes | None]:
    """``(content, None)`` for an unsigned profile, ``(b"", der)`` for a signed one."""
    if _kind(data) is not None:
        return data, None
    if data[:1] == b"\x30":
        return b"", data  # DER, exactly as given: its last octets may look like whitespace
    stripped = data.strip()
    if stripped.startswith(b"-----BEGIN"):
        match = _PEM_BLOCK.search(stripped)
        if match is None or match.group(1) not in _PEM_LABELS:
            raise ProfileError("the profile is PEM, but not a PKCS7/CMS signature")
        stripped = match.group(2)
    try:
        der = base64.b64decode(b"".join(stripped.split()), validate=True)
    except (binascii.Error, ValueError):
        der = b""
    if der[:1] != b"\x30":
        raise ProfileError(
            "not a configuration profile: neither a property list, JSON, nor a CMS signature"
        )
    return b"", der


# ---------------------------------------------------------------- property lists


@dataclass
class _Pkcs12:
    uuid: str
    name: str
    identity: Identity
    exportable: bool


@dataclass
class _AccountPayload:
    name: str
    account: MailAccount  # certificate fields still hold PayloadUUIDs here
    signing_uuid: str | None
    encryption_uuid: str | None
    historic_uuids: tuple[str, ...]


def _read_mobileconfig(content: bytes, *, now: datetime) -> Profile:
    try:
        top = plistlib.loads(content)
    except _PLIST_ERRORS as exc:
        raise ProfileError("the profile is not a well-formed property list") from exc
    if not isinstance(top, dict):
        raise ProfileError("the profile's property list is not a dictionary")
    where = "the profile"
    if _text(top, "PayloadType", where, required=True) != "Configuration":
        raise ProfileError("the property list is not a configuration profile (PayloadType)")
    if "EncryptedPayloadContent" in top:
        raise ProfileError("encrypted profiles (EncryptedPayloadContent) are not supported")
    version = top.get("PayloadVersion", 1)
    if version != 1 or isinstance(version, bool):
        raise ProfileError(f"unsupported profile PayloadVersion {version!r}")
    identifier = _identifier(top, where)
    uuid = _identifier(top, where, key="PayloadUUID")
    display_name = _text(top, "PayloadDisplayName", where) or identifier
    payloads = top.get("PayloadContent")
    if not isinstance(payloads, list):
        raise ProfileError("the profile has no PayloadContent array")

    notes: list[str] = []
    pkcs12s: dict[str, _Pkcs12] = {}
    anchors: list[x509.Certificate] = []
    accounts: list[_AccountPayload] = []
    seen_uuids: set[str] = set()
    for position, payload in enumerate(payloads, start=1):
        if not isinstance(payload, dict):
            raise ProfileError(f"payload {position} of the profile is not a dictionary")
        kind = _text(payload, "PayloadType", f"payload {position}", required=True) or ""
        name = _payload_name(payload, position, kind)
        payload_uuid = _text(payload, "PayloadUUID", name)
        if payload_uuid is not None:
            if payload_uuid in seen_uuids:
                raise ProfileError(f"two payloads have the PayloadUUID {payload_uuid}")
            seen_uuids.add(payload_uuid)
        if kind == PKCS12_PAYLOAD:
            if payload_uuid is None:
                raise ProfileError(f"{name} has no PayloadUUID")
            pkcs12s[payload_uuid] = _read_pkcs12(payload, payload_uuid, name)
        elif kind in CERTIFICATE_PAYLOADS:
            anchors.extend(_read_certificates(payload, name, notes))
        elif kind in (MAIL_PAYLOAD, EAS_PAYLOAD):
            accounts.append(_read_account(payload, kind, name, notes))
        else:
            notes.append(f"skipped {name}: payload type {kind} is not supported by Inbox")

    identities = _assign_roles(pkcs12s, accounts, notes)
    fingerprints = {
        pkcs12.uuid: fingerprint(pkcs12.identity.certificate) for pkcs12 in pkcs12s.values()
    }
    resolved = tuple(_resolve(payload.account, payload, fingerprints) for payload in accounts)
    _check_identities(identities, now, notes)
    return Profile(
        identifier=identifier,
        uuid=uuid,
        display_name=display_name,
        signed_by=None,
        signer_sha256=None,
        identities=tuple(identities),
        anchors=tuple(_unique_certificates(anchors)),
        accounts=resolved,
        notes=tuple(one_line(note) for note in notes),
    )


def _payload_name(payload: Mapping[str, Any], position: int, kind: str) -> str:
    label = payload.get("PayloadDisplayName") or payload.get("PayloadIdentifier")
    label = label if isinstance(label, str) else ""
    return one_line(f"payload {position} ({kind}{': ' + label if label else ''})")


def _read_pkcs12(payload: Mapping[str, Any], uuid: str, name: str) -> _Pkcs12:
    data = _data(payload, "PayloadContent", name)
    password = _text(payload, "Password", name)
    exportable = _flag(payload, "KeyIsExtractable", name, default=True)
    return _Pkcs12(uuid, name, _load_p12(data, password, name), exportable)


def _load_p12(data: bytes, password: str | None, name: str) -> Identity:
    try:
        return load_identity(data, password.encode("utf-8") if password is not None else None)
    except IdentityError as exc:
        raise ProfileError(f"{name}: {exc}") from None


def _read_certificates(
    payload: Mapping[str, Any], name: str, notes: list[str]
) -> list[x509.Certificate]:
    data = _data(payload, "PayloadContent", name)
    try:
        certificates = load_certificates(data)
    except MalformedError as exc:
        raise ProfileError(f"{name}: {exc}") from None
    anchors = []
    for cert in certificates:
        try:
            constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
            is_ca = constraints.ca
        except x509.ExtensionNotFound:
            is_ca = False
        except ValueError as exc:
            raise ProfileError(f"{name}: a certificate has malformed extensions") from exc
        if is_ca:
            anchors.append(cert)
        else:
            notes.append(
                f"skipped a certificate of {name}: {subject_text(cert)} is not a certificate "
                "authority, so it cannot be a trust anchor"
            )
    return anchors


def _read_account(
    payload: Mapping[str, Any], kind: str, name: str, notes: list[str]
) -> _AccountPayload:
    email = _text(payload, "EmailAddress", name)
    if kind == EAS_PAYLOAD:
        protocol = "eas"
        notes.append(
            f"{name}: Exchange ActiveSync is not supported by Inbox; only the account's "
            "address and S/MIME settings are used"
        )
        if "Certificate" in payload or "PayloadCertificateUUID" in payload:
            notes.append(f"{name}: its Exchange client certificate is not installed")
        if "Password" in payload:
            notes.append(f"{name}: the account's password is not stored")
        incoming_host = _host(payload, "Host", name)
        account = MailAccount(
            protocol=protocol,
            email=email,
            name=_text(payload, "PayloadDisplayName", name),
            description=_text(payload, "PayloadDescription", name),
            incoming_host=incoming_host,
            incoming_port=None,
            incoming_ssl=_flag(payload, "SSL", name, default=True),
            incoming_username=_text(payload, "UserName", name),
            outgoing_host=None,
            outgoing_port=None,
            outgoing_ssl=True,
            outgoing_username=None,
            **_smime_flags(payload, name),
        )
    else:
        account_type = _text(payload, "EmailAccountType", name) or "EmailTypeIMAP"
        protocols = {"EmailTypeIMAP": "imap", "EmailTypePOP": "pop"}
        if account_type not in protocols:
            raise ProfileError(f"{name}: unknown EmailAccountType {account_type!r}")
        protocol = protocols[account_type]
        if protocol == "pop":
            notes.append(f"{name}: POP accounts are not supported by Inbox; recorded only")
        for key in ("IncomingPassword", "OutgoingPassword"):
            if key in payload:
                notes.append(f"{name}: {key} is not stored; Inbox asks for it when needed")
        incoming_host = _host(payload, "IncomingMailServerHostName", name, required=True)
        outgoing_host = _host(payload, "OutgoingMailServerHostName", name, required=True)
        account = MailAccount(
            protocol=protocol,
            email=email,
            name=_text(payload, "EmailAccountName", name),
            description=_text(payload, "EmailAccountDescription", name),
            incoming_host=incoming_host,
            incoming_port=_port(payload, "IncomingMailServerPortNumber", name),
            incoming_ssl=_flag(payload, "IncomingMailServerUseSSL", name, default=False),
            incoming_username=_text(payload, "IncomingMailServerUsername", name),
            outgoing_host=outgoing_host,
            outgoing_port=_port(payload, "OutgoingMailServerPortNumber", name),
            outgoing_ssl=_flag(payload, "OutgoingMailServerUseSSL", name, default=False),
            outgoing_username=_text(payload, "OutgoingMailServerUsername", name),
            **_smime_flags(payload, name),
        )
    historic = payload.get(HISTORIC_KEY, [])
    if not isinstance(historic, list) or not all(isinstance(u, str) for u in historic):
        raise ProfileError(f"{name}: {HISTORIC_KEY} must be an array of PayloadUUIDs")
    return _AccountPayload(
        name=name,
        account=account,
        signing_uuid=_text(payload, "SMIMESigningCertificateUUID", name) or None,
        encryption_uuid=_text(payload, "SMIMEEncryptionCertificateUUID", name) or None,
        historic_uuids=tuple(historic),
    )


def _smime_flags(payload: Mapping[str, Any], name: str) -> dict[str, Any]:
    switch = _flag(payload, "SMIMEEnablePerMessageSwitch", name, default=False)
    return {
        "smime_signing_enabled": _flag(payload, "SMIMESigningEnabled", name, default=False),
        "signing_certificate": None,
        "smime_encrypt_by_default": _flag(payload, "SMIMEEncryptByDefault", name, default=False),
        "encryption_certificate": None,
        "smime_per_message_switch": _flag(
            payload, "SMIMEEnableEncryptionPerMessageSwitch", name, default=switch
        ),
    }


def _assign_roles(
    pkcs12s: Mapping[str, _Pkcs12], accounts: Sequence[_AccountPayload], notes: list[str]
) -> list[ProfileIdentity]:
    """Give each PKCS#12 payload its uses from the accounts that name it (module docs)."""
    current: dict[str, set[str]] = {}
    historic: set[str] = set()
    addresses: dict[str, set[str]] = {}  # payload UUID -> addresses of accounts naming it
    for payload in accounts:
        references = [
            ("SMIMESigningCertificateUUID", payload.signing_uuid, SIGN),
            ("SMIMEEncryptionCertificateUUID", payload.encryption_uuid, ENCRYPT),
            *((HISTORIC_KEY, uuid, "") for uuid in payload.historic_uuids),
        ]
        for key, uuid, use in references:
            if uuid is None:
                continue
            if uuid not in pkcs12s:
                raise ProfileError(
                    f"{payload.name}: {key} {uuid} names no PKCS#12 payload of the profile"
                )
            if use:
                current.setdefault(uuid, set()).add(use)
            else:
                historic.add(uuid)
            if payload.account.email:
                addresses.setdefault(uuid, set()).add(payload.account.email)
    both = set(current) & historic
    if both:
        raise ProfileError(
            f"the PKCS#12 payload {sorted(both)[0]} is named both as a current and as a "
            "historic identity"
        )
    account_addresses = {p.account.email for p in accounts if p.account.email}
    named_any = bool(current or historic)
    identities: list[ProfileIdentity] = []
    for uuid, pkcs12 in pkcs12s.items():
        if uuid in current or uuid in historic:
            uses = frozenset(current[uuid]) if uuid in current else frozenset({ENCRYPT})
            wanted = addresses.get(uuid, set())
        elif named_any:
            notes.append(
                f"skipped {pkcs12.name}: no mail account names it for S/MIME (it may be "
                "for VPN, Wi-Fi or Exchange authentication)"
            )
            continue
        else:
            derived = _derived_uses(pkcs12.identity)
            if derived is None:
                notes.append(f"skipped {pkcs12.name}: it holds no S/MIME certificate")
                continue
            uses = derived
            wanted = account_addresses
        try:
            check_usable(pkcs12.identity, uses)
        except CredentialsError as exc:
            raise ProfileError(f"{pkcs12.name}: {exc}") from None
        _check_addresses(pkcs12, wanted, every=uuid in current or uuid in historic)
        identities.append(
            ProfileIdentity(
                payload_uuid=uuid,
                identity=pkcs12.identity,
                uses=uses,
                exportable=pkcs12.exportable,
                historic=uuid in historic,
            )
        )
    return identities


def _derived_uses(identity: Identity) -> frozenset[str] | None:
    """The uses an unnamed identity's certificate allows, or None if it is not S/MIME."""
    cert = identity.certificate
    if not email_addresses(cert):
        return None
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if not {
            ExtendedKeyUsageOID.EMAIL_PROTECTION,
            ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
        } & set(eku):
            return None
    except x509.ExtensionNotFound:
        pass
    except ValueError:
        return None
    agreement_only = isinstance(
        identity.private_key, (x25519.X25519PrivateKey, x448.X448PrivateKey)
    )
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return frozenset({ENCRYPT}) if agreement_only else frozenset({SIGN, ENCRYPT})
    except ValueError:
        return None
    uses: set[str] = set()
    if (usage.digital_signature or usage.content_commitment) and not agreement_only:
        uses.add(SIGN)
    is_ec = isinstance(identity.private_key, ec.EllipticCurvePrivateKey)
    if usage.key_agreement if is_ec or agreement_only else usage.key_encipherment:
        uses.add(ENCRYPT)
    return frozenset(uses) or None


def _check_addresses(pkcs12: _Pkcs12, wanted: set[str], *, every: bool) -> None:
    """The certificate must carry every naming account's address (``every``) or one of
    the profile's account addresses (an identity no account names)."""
    if not wanted:
        return
    held = {_address_key(address) for address in email_addresses(pkcs12.identity.certificate)}
    missing = sorted(address for address in wanted if _address_key(address) not in held)
    if missing and (every or len(missing) == len(wanted)):
        raise ProfileError(
            f"{pkcs12.name}: the certificate {subject_text(pkcs12.identity.certificate)} "
            f"is not for {missing[0]}, the account's address"
        )


def _address_key(address: str) -> str:
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def _check_identities(
    identities: Sequence[ProfileIdentity], now: datetime, notes: list[str]
) -> None:
    """At most one current identity per (address, use); the same certificate only once."""
    seen: dict[str, ProfileIdentity] = {}
    holders: dict[tuple[str, str], str] = {}
    for identity in identities:
        previous = seen.get(identity.sha256)
        if previous is not None:
            raise ProfileError(
                f"the PKCS#12 payloads {previous.payload_uuid} and {identity.payload_uuid} "
                "hold the same certificate"
            )
        seen[identity.sha256] = identity
        cert = identity.identity.certificate
        if identity.historic:
            continue
        if now > cert.not_valid_after_utc:
            notes.append(
                f"the certificate {subject_text(cert)} expired on "
                f"{cert.not_valid_after_utc:%Y-%m-%d}"
            )
        for address in email_addresses(cert):
            for use in identity.uses:
                holder = holders.setdefault((_address_key(address), use), identity.payload_uuid)
                if holder != identity.payload_uuid:
                    raise ProfileError(
                        f"the PKCS#12 payloads {holder} and {identity.payload_uuid} would both "
                        f"be the current {'signing' if use == SIGN else 'encryption'} "
                        f"identity of {address}"
                    )


def _resolve(
    account: MailAccount, payload: _AccountPayload, fingerprints: Mapping[str, str]
) -> MailAccount:
    def sha(uuid: str | None) -> str | None:
        return fingerprints[uuid] if uuid is not None else None

    return replace(
        account,
        signing_certificate=sha(payload.signing_uuid),
        encryption_certificate=sha(payload.encryption_uuid),
        historic_certificates=tuple(fingerprints[uuid] for uuid in payload.historic_uuids),
    )


def _unique_certificates(certificates: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    unique: list[x509.Certificate] = []
    for cert in certificates:
        if cert not in unique:
            unique.append(cert)
    return unique


# Typed access to plist values; each error names the payload and the key.


def _text(
    payload: Mapping[str, Any], key: str, where: str, *, required: bool = False
) -> str | None:
    value = payload.get(key)
    if value is None:
        if required:
            raise ProfileError(f"{where} has no {key}")
        return None
    if not isinstance(value, str):
        raise ProfileError(f"{where}: {key} is not a string")
    return value


def _identifier(payload: Mapping[str, Any], where: str, *, key: str = "PayloadIdentifier") -> str:
    value = _text(payload, key, where, required=True) or ""
    if not value.strip() or not value.isprintable() or len(value) > 255:
        raise ProfileError(f"{where}: {key} must be one line of 1 to 255 printable characters")
    return value


def _host(
    payload: Mapping[str, Any], key: str, where: str, *, required: bool = False
) -> str | None:
    value = _text(payload, key, where, required=required)
    if value is not None and (not value or not value.isprintable() or " " in value):
        raise ProfileError(f"{where}: {key} {value!r} is not a host name")
    return value


def _flag(payload: Mapping[str, Any], key: str, where: str, *, default: bool) -> bool:
    value = payload.get(key, default)
    if not isinstance(value, bool):
        raise ProfileError(f"{where}: {key} is not a boolean")
    return value


def _port(payload: Mapping[str, Any], key: str, where: str) -> int | None:
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ProfileError(f"{where}: {key} is not a port number")
    return value


def _data(payload: Mapping[str, Any], key: str, where: str) -> bytes:
    value = payload.get(key)
    if not isinstance(value, bytes) or not value:
        raise ProfileError(f"{where}: {key} is missing or not data")
    return value


# ---------------------------------------------------------------- the JSON bundle


def _read_bundle(content: bytes, *, now: datetime) -> Profile:
    try:
        bundle = json.loads(content)
    except (ValueError, RecursionError) as exc:
        raise ProfileError("the S/MIME bundle is not well-formed JSON") from exc
    if not isinstance(bundle, dict):
        raise ProfileError("the S/MIME bundle is not a JSON object")
    notes = [
        f"ignored the bundle's key {key!r}"
        for key in bundle
        if key not in ("Signing", "Encryption", "Archived")
    ]
    archived = bundle.get("Archived", [])
    if not isinstance(archived, list):
        raise ProfileError("the bundle's Archived is not an array")
    entries: list[tuple[str, Any]] = [
        (role, bundle[role]) for role in ("Signing", "Encryption") if bundle.get(role) is not None
    ]
    entries += [(f"Archived[{index}]", item) for index, item in enumerate(archived)]
    if not entries:
        raise ProfileError("the S/MIME bundle holds no certificate")
    loaded: list[tuple[str, Identity]] = []
    for role, item in entries:
        if not isinstance(item, dict):
            raise ProfileError(f"the bundle's {role} is not an object")
        encoded = item.get("CertificatePayload")
        password = item.get("Password")
        if not isinstance(encoded, str) or (password is not None and not isinstance(password, str)):
            raise ProfileError(
                f"the bundle's {role} needs CertificatePayload (and Password) strings"
            )
        try:
            p12 = base64.b64decode("".join(encoded.split()), validate=True)
        except (binascii.Error, ValueError):
            raise ProfileError(f"the bundle's {role} CertificatePayload is not base64") from None
        loaded.append((role, _load_p12(p12, password, f"the bundle's {role}")))

    by_sha: dict[str, tuple[str, Identity, set[str]]] = {}
    for role, identity in loaded:
        sha = fingerprint(identity.certificate)
        use = {"Signing": SIGN, "Encryption": ENCRYPT}.get(role)
        if sha not in by_sha:
            by_sha[sha] = (role, identity, {use} if use else set())
            continue
        first_role, _, uses = by_sha[sha]
        if (use is None) != (not uses):
            raise ProfileError(
                f"the bundle's {role} holds the same certificate as its {first_role}"
            )
        if use is not None:
            uses.add(use)
    identities: list[ProfileIdentity] = []
    for role, loaded_identity, uses in by_sha.values():
        final = frozenset(uses) if uses else frozenset({ENCRYPT})
        try:
            check_usable(loaded_identity, final)
        except CredentialsError as exc:
            raise ProfileError(f"the bundle's {role}: {exc}") from None
        identities.append(ProfileIdentity(role, loaded_identity, final, True, historic=not uses))
    # The address: the encryption identity's, else the signing one's, else an archived one's.
    primary = min(identities, key=lambda i: (i.historic, ENCRYPT not in i.uses))
    addresses = email_addresses(primary.identity.certificate)
    wanted = {_address_key(address) for address in addresses}
    for item in identities:
        held = {_address_key(a) for a in email_addresses(item.identity.certificate)}
        if not held & wanted:
            raise ProfileError(
                f"the bundle's {item.payload_uuid} is not for {addresses[0]} "
                f"({subject_text(item.identity.certificate)})"
            )
    _check_identities(identities, now, notes)
    address = addresses[0]
    summary = sorted(f"{i.sha256}:{','.join(sorted(i.uses))}:{i.historic}" for i in identities)
    digest = hashlib.sha256(";".join(summary).encode()).hexdigest()
    return Profile(
        identifier=f"smime-bundle:{address}",
        uuid=f"sha256:{digest[:32]}",
        display_name=f"S/MIME certificates for {address}",
        signed_by=None,
        signer_sha256=None,
        identities=tuple(identities),
        anchors=(),
        accounts=(),
        notes=tuple(one_line(note) for note in notes),
    )


# ---------------------------------------------------------------------------- registry


def load_profile_signers(home: Path) -> list[x509.Certificate]:
    """Every certificate in ``<home>/profile-signers/*.pem``: the trusted profile signers.

    Raises:
        ProfileError: a file there is not a certificate (named in the message).
    """
    try:
        return load_pem_directory(home / SIGNERS_DIR, what="profile signer")
    except MalformedError as exc:
        raise ProfileError(str(exc)) from None


def profile_anchors(home: Path) -> list[x509.Certificate]:
    """The CA certificates of every installed profile: trust anchors for mail."""
    anchors: list[x509.Certificate] = []
    for record in _load_records(home).values():
        anchors.extend(record.anchors)
    return _unique_certificates(anchors)


def _registry_path(home: Path) -> Path:
    return home / REGISTRY_FILE


def _load_records(home: Path) -> dict[str, InstalledProfile]:
    path = _registry_path(home)
    if not path.exists():
        return {}
    try:
        data = json.loads(read_file(path, what="profile registry"))
        if data.get("version") != _REGISTRY_VERSION:
            raise ProfileError("the profile registry was written by a newer Inbox")
        records = [InstalledProfile._from_record(item) for item in data["profiles"]]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        if isinstance(exc, ProfileError):
            raise
        raise ProfileError(f"the profile registry {path} is damaged") from exc
    return {record.identifier: record for record in records}


def _serialise(records: Mapping[str, InstalledProfile]) -> bytes:
    data = {
        "version": _REGISTRY_VERSION,
        "profiles": [record._record() for record in records.values()],
    }
    return json.dumps(data, indent=1).encode()


class ProfileRegistry:
    """The managed profiles of one Inbox home: install, list, remove."""

    def __init__(self, home: Path, keystore: Keystore) -> None:
        self._home = home
        self._keystore = keystore

    def signer_anchors(self) -> builtins.list[x509.Certificate]:
        """The profile signers configured in ``<home>/profile-signers/``."""
        return load_profile_signers(self._home)

    def anchors(self) -> builtins.list[x509.Certificate]:
        """The installed profiles' CA certificates (see :func:`profile_anchors`)."""
        return profile_anchors(self._home)

    def read(
        self,
        data: bytes,
        *,
        extra_signers: Sequence[x509.Certificate] = (),
        allow_unsigned: bool = False,
        now: datetime,
    ) -> Profile:
        """:func:`read_profile` with the configured signers plus ``extra_signers``."""
        return read_profile(
            data,
            signer_anchors=[*self.signer_anchors(), *extra_signers],
            allow_unsigned=allow_unsigned,
            now=now,
        )

    def install_data(
        self,
        data: bytes,
        *,
        extra_signers: Sequence[x509.Certificate] = (),
        allow_unsigned: bool = False,
        now: datetime,
    ) -> InstallResult:
        """Read, validate and install a profile (see :meth:`read` and :meth:`install`)."""
        profile = self.read(
            data, extra_signers=extra_signers, allow_unsigned=allow_unsigned, now=now
        )
        return self.install(profile)

    def get(self, identifier: str) -> InstalledProfile | None:
        return _load_records(self._home).get(identifier)

    def install(self, profile: Profile) -> InstallResult:
        """Install a profile read by :func:`read_profile`: all of it, or (on error) nothing.

        Raises:
            ProfileSignatureError: it would replace a signed profile but is not signed by
                a signer of the same subject.
            ProfileError, CredentialsError, KeyringUnavailableError, StorageError: nothing
                was changed.
        """
        records = _load_records(self._home)
        previous = records.get(profile.identifier)
        if (
            previous is not None
            and previous.signed_by is not None
            and profile.signed_by != previous.signed_by
        ):
            raise ProfileSignatureError(
                SignatureStatus.UNTRUSTED,
                f"the installed profile {profile.identifier} is signed by "
                f"{previous.signed_by}; a new version must be signed by the same signer "
                "(or remove the old one first)",
            )
        now = datetime.now().astimezone().isoformat(timespec="seconds")
        record = InstalledProfile._of(profile, installed_at=now)
        stored = {entry.sha256: entry for entry in self._keystore.identities()}
        if (
            previous is not None
            and previous._content() == record._content()
            and all(identity.sha256 in stored for identity in record.identities)
        ):
            return InstallResult(previous, changed=False, replaced_uuid=None, notes=profile.notes)

        source = profile.source
        batch = [
            NewIdentity(item.identity, item.uses, source, item.exportable, item.historic)
            for item in profile.identities
        ]
        # Identities of the previous version that this one drops: keys that ever decrypted
        # stay for old mail (historic), signing-only keys go (as Keystore.retire_source).
        stale_signing: builtins.list[StoredIdentity] = []
        if previous is not None:
            keep = {identity.sha256 for identity in record.identities}
            for old in previous.identities:
                entry = stored.get(old.sha256)
                if old.sha256 in keep or entry is None or entry.source != source:
                    continue
                if not (entry.may_decrypt or ENCRYPT in entry.uses):
                    stale_signing.append(entry)
                elif entry.state == CURRENT:
                    demoted = self._keystore.identity(entry)
                    batch.append(
                        NewIdentity(demoted, entry.uses, source, entry.exportable, historic=True)
                    )

        records[profile.identifier] = record
        path = _registry_path(self._home)
        before = read_file(path, what="profile registry") if path.exists() else None
        ensure_private_dir(self._home)
        atomic_write(path, _serialise(records))
        try:
            self._keystore.install(batch)
        except BaseException:
            if before is None:
                with contextlib.suppress(OSError):
                    path.unlink()
            else:
                atomic_write(path, before)
            raise
        for entry in stale_signing:
            with contextlib.suppress(CredentialsError):
                self._keystore.remove(entry.sha256)
        return InstallResult(
            record,
            changed=True,
            replaced_uuid=previous.uuid if previous is not None else None,
            notes=profile.notes,
        )

    def remove(self, identifier: str, *, purge: bool) -> RemoveResult:
        """Remove a profile: its accounts, anchors and current identities.

        Its decryption keys stay in the keystore as historic unless ``purge``.

        Raises:
            ProfileError: no profile with this identifier is installed.
        """
        records = _load_records(self._home)
        record = records.get(identifier)
        if record is None:
            raise ProfileError(f"no installed profile has the identifier {identifier}")
        dropped = self._keystore.retire_source(record.source, purge=purge)
        kept = [e.sha256 for e in self._keystore.identities() if e.source == record.source]
        del records[identifier]
        atomic_write(_registry_path(self._home), _serialise(records))
        return RemoveResult(
            identifier=identifier,
            removed=tuple(entry.sha256 for entry in dropped),
            kept_historic=tuple(kept),
        )

    def list(self) -> builtins.list[InstalledProfile]:
        """The installed profiles, in the order they were first installed."""
        return builtins.list(_load_records(self._home).values())


__all__ = [
    "CERTIFICATE_PAYLOADS",
    "EAS_PAYLOAD",
    "HISTORIC_KEY",
    "MAIL_PAYLOAD",
    "PKCS12_PAYLOAD",
    "InstallResult",
    "InstalledIdentity",
    "InstalledProfile",
    "MailAccount",
    "Profile",
    "ProfileError",
    "ProfileIdentity",
    "ProfileRegistry",
    "ProfileSignatureError",
    "RemoveResult",
    "load_profile_signers",
    "profile_anchors",
    "read_profile",
]
