"""Installing credentials and looking after certificates: the flows behind the GUI's dialogs.

Plain objects and functions, no Qt (STYLE habit 3): the certificate manager, the "Install
certificate…" and "Install profile…" dialogs and the account setup run these on the
services worker and show what they return; tests drive them headlessly. They sit on the
same calls as the command line (``cert``, ``profile``, ``contact`` and ``account``
commands), so both front ends install the same way.

Flows:

* A ``.p12``/``.pfx`` (from a file, or a mail attachment, which the white paper calls not
  recommended: :data:`P12_BY_MAIL_WARNING`): :func:`inspect_p12` opens it with the password
  and describes the identity without changing anything; :func:`install_p12` installs it
  for the chosen use, all or nothing.
* A managed profile (``.mobileconfig`` or an S/MIME upload bundle): :func:`inspect_profile`
  reads and verifies it and says what it holds and who signed it; :func:`install_profile`
  installs it together with its mail accounts. An unsigned profile is installed only with
  the user's explicit consent (``allow_unsigned``); one whose signature is bad or whose
  signer is not trusted cannot be installed at all.
* The manager's lists: :func:`identity_rows` (with expiry warnings
  :data:`EXPIRY_WARNING_DAYS` ahead), :func:`contact_rows`, :func:`anchor_rows`,
  :func:`profile_rows`; and the acts on them: :func:`confirm_contact`,
  :func:`remove_profile`, :func:`export_certificate`, :func:`save_certificate`.
* Account setup: :func:`add_account_by_hand` and :func:`add_local_account`.

Every text here that comes from a certificate or a profile (subjects, names, addresses) is
controlled by whoever issued or wrote it: front ends show it as plain text, never markup.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePath
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding

from inbox_app.credentials.anchors import load_app_anchors
from inbox_app.credentials.errors import CredentialsError
from inbox_app.credentials.keystore import (
    ENCRYPT,
    HISTORIC,
    SIGN,
    USES,
    NewIdentity,
    StoredIdentity,
    check_usable,
)
from inbox_app.credentials.profiles import (
    MAX_PROFILE_BYTES,
    InstallResult,
    MailAccount,
    Profile,
    ProfileSignatureError,
    RemoveResult,
)
from inbox_app.errors import one_line
from inbox_app.fileio import StorageError, atomic_write, read_file
from inbox_app.mail.accounts import Account, TlsMode
from inbox_app.mail.errors import AccountError
from inbox_app.services.app import InboxServices
from inbox_app.smime import Identity, IdentityError, SignatureStatus, load_identity
from inbox_app.smime.certificates import email_addresses, fingerprint, subject_text

# ---------------------------------------------------------------------------- constants

P12_BY_MAIL_WARNING = (
    "Receiving private keys by mail is not recommended: anyone who saw this message and "
    "its password can use the key. Install it only if you expected it, and ask your "
    "administrator for a managed profile next time."
)
EXPIRY_WARNING_DAYS = 30

UseChoice = Literal["signing", "encryption", "both"]
USE_CHOICES: tuple[UseChoice, ...] = ("signing", "encryption", "both")
# The GUI's words for the keystore's uses (the CLI says sign, encrypt, both).
_KEYSTORE_USE: dict[str, str] = {"signing": "sign", "encryption": "encrypt", "both": "both"}

P12_SUFFIXES = frozenset({".p12", ".pfx"})
PROFILE_SUFFIXES = frozenset({".mobileconfig"})
MAX_CREDENTIAL_FILE_BYTES = MAX_PROFILE_BYTES

# Signer status of a profile (ProfilePreview.signer_status).
SIGNER_VERIFIED = "verified"  # signed by a trusted profile signer: installable
SIGNER_UNSIGNED = "unsigned"  # installable only with the user's explicit consent
SIGNER_UNTRUSTED = "untrusted"  # signed, but not by a signer Inbox trusts: refused
SIGNER_INVALID = "invalid"  # a bad or unreadable signature (tampered): refused

# Where a trust anchor comes from (AnchorRow.origin).
ANCHOR_APP = "Inbox"
ANCHOR_PROFILE_SIGNER = "profile signer"


# ---------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class IdentityRow:
    """One of my identities, as the certificate manager lists it.

    Attributes:
        use: ``signing``, ``encryption`` or ``both`` for a current identity;
            ``decryption only`` for a historic one (``none`` if it never decrypted).
        state: ``current`` or ``historic``.
        expires_soon: a current identity that expires within :data:`EXPIRY_WARNING_DAYS`.
    """

    sha256: str
    addresses: tuple[str, ...]
    subject: str
    issuer: str
    use: str
    state: str
    not_before: datetime
    not_after: datetime
    source: str
    exportable: bool
    expired: bool
    expires_soon: bool

    @property
    def warning(self) -> str | None:
        """A one-line warning about this identity's validity, or None."""
        if self.state == HISTORIC:
            return None  # historic keys only open old mail: their expiry is expected
        if self.expired:
            return f"expired on {self.not_after:%Y-%m-%d}"
        if self.expires_soon:
            return f"expires on {self.not_after:%Y-%m-%d}: renew it soon"
        return None


@dataclass(frozen=True)
class ContactRow:
    """A correspondent's certificate; ``pending_sha256`` is a changed key awaiting confirmation."""

    address: str
    sha256: str
    subject: str
    not_after: datetime
    source: str  # "harvested" or "imported"
    expired: bool
    pending_sha256: str | None
    pending_subject: str | None


@dataclass(frozen=True)
class AnchorRow:
    """A trust anchor: the home's own (``Inbox``), a profile's CA, or a profile signer."""

    subject: str
    sha256: str
    not_after: datetime
    origin: str
    expired: bool


@dataclass(frozen=True)
class ProfileRow:
    """An installed profile."""

    identifier: str
    display_name: str
    signed_by: str | None
    identities: int
    accounts: tuple[str, ...]
    anchors: int
    installed_at: str


@dataclass(frozen=True)
class P12Preview:
    """What a ``.p12``/``.pfx`` holds, opened with its password; nothing is installed.

    Attributes:
        allowed_uses: the uses (of :data:`USE_CHOICES`) its certificate is fit for.
        suggested_use: the widest of them.
        already_installed: the keystore holds this very certificate.
        warnings: one-line warnings (expired, not yet valid, expiring soon).
    """

    sha256: str
    subject: str
    issuer: str
    addresses: tuple[str, ...]
    not_before: datetime
    not_after: datetime
    key_type: str
    chain: tuple[str, ...]  # the subjects of the other certificates in the file
    allowed_uses: tuple[UseChoice, ...]
    suggested_use: UseChoice | None
    expired: bool
    already_installed: bool
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class ProfileIdentityRow:
    """An identity a profile would install."""

    sha256: str
    subject: str
    addresses: tuple[str, ...]
    use: str  # "signing", "encryption", "both" or "decryption only" (historic)
    exportable: bool
    not_after: datetime


@dataclass(frozen=True)
class ProfileAccountRow:
    """A mail account a profile brings (passwords are never part of a profile we keep)."""

    email: str | None
    protocol: str
    incoming: str | None  # "host:port"
    outgoing: str | None
    username: str | None
    sign_by_default: bool
    encrypt_by_default: bool
    supported: bool  # IMAP accounts become Inbox accounts; POP and Exchange are recorded only


@dataclass(frozen=True)
class ProfilePreview:
    """What a profile holds and who signed it; nothing is installed.

    A profile whose signature is bad or whose signer is not trusted cannot be read past
    its signature, so its preview lists nothing but the reason.

    Attributes:
        signer_status: :data:`SIGNER_VERIFIED`, :data:`SIGNER_UNSIGNED`,
            :data:`SIGNER_UNTRUSTED` or :data:`SIGNER_INVALID`.
        signer: the verified signer's subject (None unless verified).
        reason: why it is refused or what being unsigned means (one line).
        problem: why a readable profile still cannot be installed (None if it can).
        installed: ``new``, ``same`` (this very version is installed) or ``update``.
    """

    signer_status: str
    signer: str | None
    reason: str
    identifier: str | None = None
    display_name: str | None = None
    identities: tuple[ProfileIdentityRow, ...] = ()
    anchors: tuple[str, ...] = ()
    accounts: tuple[ProfileAccountRow, ...] = ()
    notes: tuple[str, ...] = ()
    installed: str = "new"
    problem: str | None = None

    @property
    def installable(self) -> bool:
        return self.signer_status in (SIGNER_VERIFIED, SIGNER_UNSIGNED) and self.problem is None

    @property
    def needs_consent(self) -> bool:
        """Unsigned: install only after the user says they trust where it came from."""
        return self.signer_status == SIGNER_UNSIGNED

    def signer_text(self) -> str:
        """The signer status in one line of plain text."""
        if self.signer_status == SIGNER_VERIFIED:
            return one_line(f"Verified: signed by {self.signer}")
        if self.signer_status == SIGNER_UNSIGNED:
            return "Unsigned: nobody vouches for this profile"
        label = "Untrusted" if self.signer_status == SIGNER_UNTRUSTED else "Invalid signature"
        return one_line(f"{label}: {self.reason}")


# ---------------------------------------------------------------------------- .p12


def credential_kind(filename: str) -> Literal["p12", "profile"] | None:
    """Which install flow a file name asks for: ``p12``, ``profile``, or None."""
    suffix = PurePath(filename).suffix.lower()
    if suffix in P12_SUFFIXES:
        return "p12"
    if suffix in PROFILE_SUFFIXES:
        return "profile"
    return None


def read_credential_file(services: InboxServices, path: Path) -> bytes:
    """Read a ``.p12``/``.mobileconfig`` the user picked or dropped.

    Raises:
        StorageError: unreadable, a directory, or implausibly large.
    """
    del services  # a job like the others: it runs on the services worker
    if path.is_dir():
        raise StorageError(f"{path} is a directory, not a file")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if size > MAX_CREDENTIAL_FILE_BYTES:
        raise StorageError(f"{path} is larger than {MAX_CREDENTIAL_FILE_BYTES // 2**20} MB")
    return read_file(path, what="file")


def inspect_p12(
    services: InboxServices, data: bytes, password: str, *, now: datetime
) -> P12Preview:
    """Open a ``.p12``/``.pfx`` and describe its identity; nothing is written.

    Raises:
        CredentialsError: wrong password, not a PKCS#12 file, key not matching its
            certificate, or a certificate that is not for S/MIME (one line).
    """
    now = _aware(now)
    identity = _open_p12(data, password)
    cert = identity.certificate
    allowed: list[UseChoice] = []
    for choice in USE_CHOICES:
        try:
            check_usable(identity, USES[_KEYSTORE_USE[choice]])
        except CredentialsError:
            continue
        allowed.append(choice)
    if not allowed:
        # Not an S/MIME certificate at all: say why, in the keystore's words.
        check_usable(identity, USES["sign"])
        check_usable(identity, USES["encrypt"])
    sha = fingerprint(cert)
    installed = any(entry.sha256 == sha for entry in services.keystore.identities())
    expired = now > cert.not_valid_after_utc
    warnings: list[str] = []
    if expired:
        warnings.append(
            f"the certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}: it can only "
            "decrypt old mail, so it is installed as historic"
        )
    elif now < cert.not_valid_before_utc:
        warnings.append(f"the certificate is not valid before {cert.not_valid_before_utc:%Y-%m-%d}")
    elif cert.not_valid_after_utc - now <= timedelta(days=EXPIRY_WARNING_DAYS):
        warnings.append(f"the certificate expires on {cert.not_valid_after_utc:%Y-%m-%d}")
    if installed:
        warnings.append("this certificate is already installed")
    suggested: UseChoice | None = "both" if "both" in allowed else (allowed[0] if allowed else None)
    if expired and "encryption" in allowed:
        suggested = "encryption"
    return P12Preview(
        sha256=sha,
        subject=subject_text(cert),
        issuer=_issuer_text(cert),
        addresses=email_addresses(cert),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key_type=key_description(cert),
        chain=tuple(subject_text(other) for other in identity.chain),
        allowed_uses=tuple(allowed),
        suggested_use=suggested,
        expired=expired,
        already_installed=installed,
        warnings=tuple(one_line(warning) for warning in warnings),
    )


def install_p12(
    services: InboxServices,
    data: bytes,
    password: str,
    use: str,
    *,
    source: str,
    now: datetime,
) -> list[StoredIdentity]:
    """Install a ``.p12``/``.pfx`` for ``use`` (``signing``, ``encryption`` or ``both``).

    All or nothing: it is opened and checked completely before anything is written. As
    with ``cert import``, it becomes the address's current identity for ``use``, and the
    previous holder of that use becomes historic. An expired certificate is the
    exception: it can no longer sign, and making it current would push a valid key
    aside, so it is installed as historic (decryption of old mail only).

    Args:
        source: what the keystore records as its origin, e.g. ``p12:alice.p12`` or
            ``mail:alice.p12``.

    Raises:
        CredentialsError: wrong password, corrupt file, unfit certificate, unknown use,
            or an expired certificate asked to sign.
        KeyringUnavailableError: no secure keyring to protect the key with.
    """
    if use not in _KEYSTORE_USE:
        raise CredentialsError(f"unknown use {use!r}: choose signing, encryption or both")
    now = _aware(now)
    identity = _open_p12(data, password)
    cert = identity.certificate
    uses = USES[_KEYSTORE_USE[use]]
    historic = now > cert.not_valid_after_utc
    if historic:
        if ENCRYPT not in uses:
            raise CredentialsError(
                f"the certificate {subject_text(cert)} expired on "
                f"{cert.not_valid_after_utc:%Y-%m-%d}: it can no longer sign"
            )
        uses = frozenset({ENCRYPT})
    return services.keystore.install([NewIdentity(identity, uses, source, historic=historic)])


def _open_p12(data: bytes, password: str) -> Identity:
    try:
        return load_identity(data, password.encode("utf-8") if password else None)
    except IdentityError as exc:
        raise CredentialsError(str(exc)) from exc


# ---------------------------------------------------------------------------- profiles


def inspect_profile(
    services: InboxServices, data: bytes, *, now: datetime, allow_unsigned: bool = True
) -> ProfilePreview:
    """Read and verify a profile and describe it; nothing is written.

    Args:
        allow_unsigned: read an unsigned profile's contents for the preview (installing
            it still needs :func:`install_profile`'s ``allow_unsigned``).

    Raises:
        ProfileError: the profile is malformed or could not be installed as it is (a
            wrong PKCS#12 password in it, an unfit certificate...), one line.
    """
    now = _aware(now)
    try:
        profile = services.profiles.read(data, allow_unsigned=False, now=now)
        status, signer = SIGNER_VERIFIED, profile.signed_by
        reason = ""
    except ProfileSignatureError as exc:
        if exc.status is not SignatureStatus.UNSIGNED:
            refused = exc.status in (SignatureStatus.INVALID, SignatureStatus.ERROR)
            return ProfilePreview(
                signer_status=SIGNER_INVALID if refused else SIGNER_UNTRUSTED,
                signer=None,
                reason=one_line(str(exc)),
            )
        reason = "the profile is not signed: install it only if you trust where it came from"
        if not allow_unsigned:
            return ProfilePreview(signer_status=SIGNER_UNSIGNED, signer=None, reason=reason)
        profile = services.profiles.read(data, allow_unsigned=True, now=now)
        status, signer = SIGNER_UNSIGNED, None
    return _preview(services, profile, status, signer, reason)


def install_profile(
    services: InboxServices, data: bytes, *, now: datetime, allow_unsigned: bool = False
) -> InstallResult:
    """Install a profile and the mail accounts it brings, as ``profile install`` does.

    Installing the same profile again changes nothing (``result.changed`` is False). The
    result's notes include what happened to the accounts.

    Raises:
        ProfileSignatureError: a bad or untrusted signature, or unsigned without
            ``allow_unsigned`` (a security refusal; nothing changed).
        ProfileError, CredentialsError, KeyringUnavailableError, StorageError: nothing
            was changed.
    """
    result = services.profiles.install_data(data, allow_unsigned=allow_unsigned, now=_aware(now))
    account_notes = services.apply_profile_accounts(result.profile)
    return dataclasses.replace(
        result, notes=(*result.notes, *(one_line(note) for note in account_notes))
    )


def remove_profile(
    services: InboxServices, identifier: str, *, purge: bool = False
) -> RemoveResult:
    """Remove a profile and its accounts; its decryption keys stay historic unless ``purge``.

    Raises:
        ProfileError: no profile with this identifier is installed.
    """
    result = services.profiles.remove(identifier, purge=purge)
    services.remove_profile_accounts(identifier)
    return result


def _preview(
    services: InboxServices, profile: Profile, status: str, signer: str | None, reason: str
) -> ProfilePreview:
    previous = services.profiles.get(profile.identifier)
    installed = "new"
    problem: str | None = None
    if previous is not None:
        installed = "same" if previous.uuid == profile.uuid else "update"
        if previous.signed_by is not None and previous.signed_by != profile.signed_by:
            problem = one_line(
                f"the installed version is signed by {previous.signed_by}; a new version "
                "must be signed by the same signer (remove the old one first)"
            )
    return ProfilePreview(
        signer_status=status,
        signer=signer,
        reason=reason,
        identifier=profile.identifier,
        display_name=profile.display_name,
        identities=tuple(
            ProfileIdentityRow(
                sha256=item.sha256,
                subject=subject_text(item.identity.certificate),
                addresses=email_addresses(item.identity.certificate),
                use="decryption only" if item.historic else use_label(item.uses),
                exportable=item.exportable,
                not_after=item.identity.certificate.not_valid_after_utc,
            )
            for item in profile.identities
        ),
        anchors=tuple(subject_text(cert) for cert in profile.anchors),
        accounts=tuple(_account_row(account) for account in profile.accounts),
        notes=profile.notes,
        installed=installed,
        problem=problem,
    )


def _account_row(account: MailAccount) -> ProfileAccountRow:
    def server(host: str | None, port: int | None) -> str | None:
        if host is None:
            return None
        return f"{host}:{port}" if port is not None else host

    return ProfileAccountRow(
        email=account.email,
        protocol=account.protocol,
        incoming=server(account.incoming_host, account.incoming_port),
        outgoing=server(account.outgoing_host, account.outgoing_port),
        username=account.incoming_username,
        sign_by_default=account.smime_signing_enabled,
        encrypt_by_default=account.smime_encrypt_by_default,
        supported=account.protocol == "imap",
    )


# ---------------------------------------------------------------------------- the manager


def use_label(uses: frozenset[str]) -> str:
    """``signing``, ``encryption``, ``both`` (or ``none``) for a set of keystore uses."""
    if {SIGN, ENCRYPT} <= uses:
        return "both"
    if SIGN in uses:
        return "signing"
    if ENCRYPT in uses:
        return "encryption"
    return "none"


def identity_rows(services: InboxServices, *, now: datetime) -> list[IdentityRow]:
    """My identities: current ones first, then by address and newest first."""
    now = _aware(now)
    rows = [_identity_row(entry, now) for entry in services.keystore.identities()]
    rows.sort(key=lambda row: (row.state == HISTORIC, row.addresses, -row.not_after.timestamp()))
    return rows


def _identity_row(entry: StoredIdentity, now: datetime) -> IdentityRow:
    cert = entry.certificate
    not_after = cert.not_valid_after_utc
    historic = entry.state == HISTORIC
    if historic:
        use = "decryption only" if entry.may_decrypt or ENCRYPT in entry.uses else "none"
    else:
        use = use_label(entry.uses)
    expired = now > not_after
    return IdentityRow(
        sha256=entry.sha256,
        addresses=entry.addresses,
        subject=subject_text(cert),
        issuer=_issuer_text(cert),
        use=use,
        state=entry.state,
        not_before=cert.not_valid_before_utc,
        not_after=not_after,
        source=entry.source,
        exportable=entry.exportable,
        expired=expired,
        expires_soon=not historic
        and not expired
        and not_after - now <= timedelta(days=EXPIRY_WARNING_DAYS),
    )


def contact_rows(services: InboxServices, *, now: datetime) -> list[ContactRow]:
    """Correspondents' certificates, by address, with any changed key awaiting confirmation."""
    now = _aware(now)
    rows = []
    for contact in services.contacts.contacts():
        pending = contact.changed
        rows.append(
            ContactRow(
                address=contact.address,
                sha256=contact.sha256,
                subject=subject_text(contact.certificate),
                not_after=contact.certificate.not_valid_after_utc,
                source=contact.source,
                expired=now > contact.certificate.not_valid_after_utc,
                pending_sha256=pending.sha256 if pending is not None else None,
                pending_subject=subject_text(pending.certificate) if pending is not None else None,
            )
        )
    return rows


def confirm_contact(
    services: InboxServices, address: str, sha256: str, *, now: datetime
) -> ContactRow:
    """Settle a changed key: ``sha256`` of the pending key adopts it, the current one keeps it.

    Raises:
        CredentialsError: unknown address, or neither fingerprint.
    """
    contact = services.contacts.confirm(address, sha256)
    return next(row for row in contact_rows(services, now=now) if row.address == contact.address)


def anchor_rows(services: InboxServices, *, now: datetime) -> list[AnchorRow]:
    """The trust anchors: the home's own, the installed profiles' CAs, the profile signers.

    Raises:
        MalformedError, ProfileError: an anchor file cannot be read (named in the message).
    """
    now = _aware(now)
    rows: list[AnchorRow] = []
    seen: set[tuple[str, str]] = set()

    def add(cert: x509.Certificate, origin: str) -> None:
        sha = fingerprint(cert)
        if (sha, origin) in seen:
            return
        seen.add((sha, origin))
        rows.append(
            AnchorRow(
                subject=subject_text(cert),
                sha256=sha,
                not_after=cert.not_valid_after_utc,
                origin=origin,
                expired=now > cert.not_valid_after_utc,
            )
        )

    for cert in load_app_anchors(services.home):
        add(cert, ANCHOR_APP)
    for record in services.profiles.list():
        for cert in record.anchors:
            add(cert, f"profile {record.identifier}")
    for cert in services.profiles.signer_anchors():
        add(cert, ANCHOR_PROFILE_SIGNER)
    return rows


def profile_rows(services: InboxServices) -> list[ProfileRow]:
    """The installed profiles, in the order they were first installed."""
    return [
        ProfileRow(
            identifier=record.identifier,
            display_name=record.display_name,
            signed_by=record.signed_by,
            identities=len(record.identities),
            accounts=tuple(account.email for account in record.accounts if account.email),
            anchors=len(record.anchors),
            installed_at=record.installed_at,
        )
        for record in services.profiles.list()
    ]


def export_certificate(services: InboxServices, sha256: str, *, der: bool = False) -> bytes:
    """One of my public certificates, PEM (or DER); never a private key.

    Raises:
        CredentialsError: no single identity with this fingerprint.
    """
    if not der:
        return services.keystore.export_certificate(sha256)
    return services.keystore.find(sha256).certificate.public_bytes(Encoding.DER)


def save_certificate(services: InboxServices, sha256: str, path: Path) -> Path:
    """Write one of my public certificates to ``path``: DER for ``.der``/``.cer``, else PEM.

    Raises:
        CredentialsError: no single identity with this fingerprint.
        StorageError: the file cannot be written.
    """
    der = path.suffix.lower() in (".der", ".cer")
    atomic_write(path, export_certificate(services, sha256, der=der), mode=0o644)
    return path


# ---------------------------------------------------------------------------- accounts


def add_account_by_hand(
    services: InboxServices,
    name: str,
    email: str,
    *,
    imap: str,
    smtp: str,
    username: str,
    password: str,
    tls: str = "ssl",
    ca_file: str | None = None,
) -> Account:
    """An IMAP/SMTP account typed in by the user (``account add``); the password goes to
    the OS keyring.

    Raises:
        AccountError: invalid or duplicate settings, a missing password or CA file.
        KeyringUnavailableError: the keyring cannot keep the password.
    """
    if tls not in ("ssl", "starttls"):
        raise AccountError(f"unknown TLS mode {tls!r}: use ssl or starttls")
    mode: TlsMode = "ssl" if tls == "ssl" else "starttls"
    if ca_file and not Path(ca_file).is_file():
        raise AccountError(f"the CA file {ca_file} does not exist")
    return services.accounts.add_server(
        name,
        email,
        imap=imap,
        smtp=smtp,
        username=username,
        password=password,
        tls=mode,
        ca_file=ca_file or None,
    )


def add_local_account(services: InboxServices, name: str, email: str) -> Account:
    """A local account ("Local Folders"): a Maildir, no server.

    Raises:
        AccountError: invalid or duplicate settings.
    """
    return services.accounts.add_local(name, email)


# ---------------------------------------------------------------------------- helpers


def key_description(cert: x509.Certificate) -> str:
    """The certificate's key in a few words: ``RSA 2048``, ``EC P-256``, ``Ed25519``."""
    try:
        key = cert.public_key()
    except (ValueError, TypeError):
        return "unreadable key"
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        curves = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
        return f"EC {curves.get(key.curve.name, key.curve.name)}"
    for kind, label in (
        (ed25519.Ed25519PublicKey, "Ed25519"),
        (ed448.Ed448PublicKey, "Ed448"),
        (x25519.X25519PublicKey, "X25519"),
        (x448.X448PublicKey, "X448"),
    ):
        if isinstance(key, kind):
            return label
    return "other key"


def _issuer_text(cert: x509.Certificate) -> str:
    try:
        return cert.issuer.rfc4514_string()
    except ValueError:
        return "<unreadable issuer>"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


__all__ = [
    "ANCHOR_APP",
    "ANCHOR_PROFILE_SIGNER",
    "EXPIRY_WARNING_DAYS",
    "P12_BY_MAIL_WARNING",
    "SIGNER_INVALID",
    "SIGNER_UNSIGNED",
    "SIGNER_UNTRUSTED",
    "SIGNER_VERIFIED",
    "USE_CHOICES",
    "AnchorRow",
    "ContactRow",
    "IdentityRow",
    "InstallResult",
    "P12Preview",
    "ProfileAccountRow",
    "ProfileIdentityRow",
    "ProfilePreview",
    "ProfileRow",
    "RemoveResult",
    "StoredIdentity",
    "UseChoice",
    "add_account_by_hand",
    "add_local_account",
    "anchor_rows",
    "confirm_contact",
    "contact_rows",
    "credential_kind",
    "export_certificate",
    "identity_rows",
    "inspect_p12",
    "inspect_profile",
    "install_p12",
    "install_profile",
    "key_description",
    "profile_rows",
    "read_credential_file",
    "remove_profile",
    "save_certificate",
    "use_label",
]
