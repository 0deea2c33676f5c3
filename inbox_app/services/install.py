"""Installing credentials and looking after certificates: the flows behind the GUI's dialogs.

Plain objects and functions, no Qt (STYLE habit 3): the certificate manager, the "Install
certificate…" and "Install profile…" dialogs and the account setup run these on the
services worker and show what they return; tests drive them headlessly. They sit on the
same calls as the command line (``cert``, ``profile``, ``contact`` and ``account``
commands), so both front ends install the same way.

Flows:

* A ``.p12``/``.pfx`` (from a file, or a mail attachment, which the white paper calls not
  recommended: :data:`P12_BY_MAIL_WARNING`): :func:`inspect_p12` opens it with the password
  and describes the identity without changing anything: whether its certificate chains to
  a trust anchor (the mail engine's own path validation over the same trust store), and
  which of my current identities it would replace; :func:`install_p12` installs it for the
  chosen use, all or nothing. Installing makes it the address's current key, so a key
  that came by mail is refused unless a trusted authority issued it for the address of
  one of my accounts: otherwise anyone could mail a self-made key "for you", and what you
  send and keep (sent copies, drafts) would be encrypted to a key they hold.
* A managed profile (``.mobileconfig`` or an S/MIME upload bundle): :func:`inspect_profile`
  reads and verifies it and says what it holds and who signed it; :func:`install_profile`
  installs it together with its mail accounts. An unsigned profile from a file is
  installed only with the user's explicit consent (``allow_unsigned``); from mail, only a
  profile signed by a trusted signer is installed (it adds trust anchors and accounts:
  one checkbox must not hand that to whoever sent a message). One whose signature is bad
  or whose signer is not trusted cannot be installed at all.
* Files: :func:`open_credential_file` reads a file by its content, as ``inbox-app FILE``
  does (:func:`~inbox_app.services.open_file.classify`).
* The manager's lists: :func:`identity_rows` (with expiry warnings
  :data:`EXPIRY_WARNING_DAYS` ahead), :func:`contact_rows`, :func:`anchor_rows`,
  :func:`profile_rows`; and the acts on them: :func:`confirm_contact`,
  :func:`remove_profile`, :func:`export_certificate`, :func:`save_certificate`.
* Account setup: :func:`add_account_by_hand` and :func:`add_local_account`.

Every text here that comes from a certificate or a profile (subjects, names, addresses) is
controlled by whoever issued or wrote it: it is made one line here (no line breaks or
bidirectional controls to forge a line of a preview with), and front ends show it as plain
text, never markup.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding

from inbox_app.credentials.anchors import load_app_anchors
from inbox_app.credentials.errors import CredentialsError
from inbox_app.credentials.keystore import (
    CURRENT,
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
from inbox_app.fileio import atomic_write
from inbox_app.mail.accounts import Account, TlsMode
from inbox_app.mail.errors import AccountError
from inbox_app.services.app import InboxServices
from inbox_app.services.open_file import FileKind, OpenedFile, OpenFileError, classify
from inbox_app.smime import Identity, IdentityError, SignatureStatus, load_identity
from inbox_app.smime.certificates import email_addresses, fingerprint, subject_text
from inbox_app.smime.errors import SignatureVerificationError
from inbox_app.smime.pathvalidation import validate_signer_path

# ---------------------------------------------------------------------------- constants

P12_BY_MAIL_WARNING = (
    "Receiving private keys by mail is not recommended: anyone who saw this message and "
    "its password can use the key. Install it only if you expected it, and ask your "
    "administrator for a managed profile next time."
)
PROFILE_BY_MAIL_WARNING = (
    "This profile came by mail: a profile can add mail accounts, keys and the authorities "
    "you trust, so Inbox installs one from mail only if a signer it trusts signed it."
)
PROFILE_UNSIGNED_BY_MAIL = (
    "Inbox does not install an unsigned profile received by mail: install it from a file "
    "you trust, or ask your administrator for a signed one."
)
EXPIRY_WARNING_DAYS = 30

UseChoice = Literal["signing", "encryption", "both"]
USE_CHOICES: tuple[UseChoice, ...] = ("signing", "encryption", "both")
# The GUI's words for the keystore's uses (the CLI says sign, encrypt, both).
_KEYSTORE_USE: dict[str, str] = {"signing": "sign", "encryption": "encrypt", "both": "both"}
_REPLACED_USES: tuple[tuple[str, Literal["signing", "encryption"]], ...] = (
    (SIGN, "signing"),
    (ENCRYPT, "encryption"),
)

MAX_CREDENTIAL_FILE_BYTES = MAX_PROFILE_BYTES

# Signer status of a profile (ProfilePreview.signer_status).
SIGNER_VERIFIED = "verified"  # signed by a trusted profile signer: installable
SIGNER_UNSIGNED = "unsigned"  # installable only with the user's explicit consent
SIGNER_UNTRUSTED = "untrusted"  # signed, but not by a signer Inbox trusts: refused
SIGNER_INVALID = "invalid"  # a bad or unreadable signature (tampered): refused

# How much of a profile's anchor names the consent question quotes.
_CONSENT_ANCHORS = 3
_CONSENT_NAME_CHARS = 80

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
class Replacement:
    """One of my current identities that installing a ``.p12`` would push aside for one use.

    Attributes:
        use: ``signing`` or ``encryption``: the use it would lose (to the new one).
    """

    use: Literal["signing", "encryption"]
    sha256: str
    subject: str
    addresses: tuple[str, ...]
    not_after: datetime

    def text(self) -> str:
        """``This replaces your current encryption certificate …, valid until …`` (one line)."""
        who = f"{self.subject} ({', '.join(self.addresses)})" if self.addresses else self.subject
        return one_line(
            f"This replaces your current {self.use} certificate {who}, valid until "
            f"{self.not_after:%Y-%m-%d}"
        )


@dataclass(frozen=True)
class P12Preview:
    """What a ``.p12``/``.pfx`` holds, opened with its password; nothing is installed.

    Every text is one line (see the module's note on names).

    Attributes:
        allowed_uses: the uses (of :data:`USE_CHOICES`) its certificate is fit for.
        suggested_use: the widest of them.
        already_installed: the keystore holds this very certificate.
        warnings: one-line warnings (expired, not yet valid, expiring soon).
        trusted: its certificate chains to one of the mail engine's trust anchors, for
            mail, at ``now`` (the path validation a signature from it would get).
        trust_reason: what vouches for it (trusted) or why nothing does.
        own_address: it names the address of one of my accounts.
        replaces: my current identities it would replace, per use (see
            :meth:`replacements`).
        from_mail: it came as a mail attachment.
        refusal: why it cannot be installed from where it came (one line), or None.
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
    trusted: bool = False
    trust_reason: str = ""
    own_address: bool = False
    replaces: tuple[Replacement, ...] = ()
    from_mail: bool = True
    refusal: str | None = None

    @property
    def installable(self) -> bool:
        return self.refusal is None and bool(self.allowed_uses)

    def trust_text(self) -> str:
        """``Trusted: …`` or ``Not trusted: …``, one line."""
        label = "Trusted" if self.trusted else "Not trusted"
        return one_line(f"{label}: {self.trust_reason}")

    def replacements(self, use: str | None) -> tuple[Replacement, ...]:
        """What installing it for ``use`` replaces (an expired one replaces nothing)."""
        if use not in _KEYSTORE_USE or self.expired:
            return ()
        if use == "both":
            return self.replaces
        return tuple(item for item in self.replaces if item.use == use)


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

    def consent_text(self) -> str:
        """What the user agrees to by installing it unsigned, naming the anchors it adds.

        The question on its first line, then one line per anchor (each name made one line
        and cut to :data:`_CONSENT_NAME_CHARS` characters), at most :data:`_CONSENT_ANCHORS`
        of them: the full list is in the preview, and a profile's author must not be
        able to push the question off the screen.
        """
        head = "I trust where this unsigned profile came from: install it"
        if not self.anchors:
            return f"{head} (it adds no certificate authority)"
        kind = (
            "this certificate authority"
            if len(self.anchors) == 1
            else f"these {len(self.anchors)} certificate authorities"
        )
        lines = [f"{head} and trust {kind} for mail:"]
        lines += [f"• {_shorten(one_line(name))}" for name in self.anchors[:_CONSENT_ANCHORS]]
        if len(self.anchors) > _CONSENT_ANCHORS:
            lines.append(f"• and {len(self.anchors) - _CONSENT_ANCHORS} more (listed above)")
        return "\n".join(lines)

    def signer_text(self) -> str:
        """The signer status in one line of plain text."""
        if self.signer_status == SIGNER_VERIFIED:
            return one_line(f"Verified: signed by {self.signer}")
        if self.signer_status == SIGNER_UNSIGNED:
            return "Unsigned: nobody vouches for this profile"
        label = "Untrusted" if self.signer_status == SIGNER_UNTRUSTED else "Invalid signature"
        return one_line(f"{label}: {self.reason}")


# ---------------------------------------------------------------------------- .p12


def open_credential_file(services: InboxServices, path: Path) -> OpenedFile:
    """Read a file the user picked or dropped and tell which install flow it is for.

    As ``inbox-app FILE`` does (:func:`~inbox_app.services.open_file.classify`), the
    content decides, not the name: a ``.p12`` saved as ``.bin`` opens the same way.

    Raises:
        OpenFileError: missing, a folder, unreadable, empty, implausibly large, a message,
            or of no kind Inbox installs (one line, naming the file).
    """
    del services  # a job like the others: it runs on the services worker
    opened = classify(path, limit=MAX_CREDENTIAL_FILE_BYTES)
    if opened.kind is FileKind.MESSAGE:
        raise OpenFileError(
            one_line(f"{path.name} is a message, not a certificate (.p12, .pfx) or a profile")
        )
    return opened


def inspect_p12(
    services: InboxServices,
    data: bytes,
    password: str,
    *,
    now: datetime,
    from_mail: bool = True,
) -> P12Preview:
    """Open a ``.p12``/``.pfx`` and describe its identity; nothing is written.

    The preview says whether its certificate is trusted, which of my current identities
    it would replace, and (``from_mail``) why it may not be installed at all.

    Raises:
        CredentialsError: wrong password, not a PKCS#12 file, key not matching its
            certificate, or a certificate that is not for S/MIME (one line).
        MalformedError, ProfileError: a trust anchor file cannot be read.
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
    stored = services.keystore.identities()
    installed = any(entry.sha256 == sha for entry in stored)
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
    trusted, trust_reason = _chain_trust(
        services, identity, now=now, for_signing="signing" in allowed
    )
    own = _names_an_account(services, cert)
    return P12Preview(
        sha256=sha,
        subject=one_line(subject_text(cert)),
        issuer=one_line(_issuer_text(cert)),
        addresses=tuple(one_line(address) for address in email_addresses(cert)),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key_type=key_description(cert),
        chain=tuple(one_line(subject_text(other)) for other in identity.chain),
        allowed_uses=tuple(allowed),
        suggested_use=suggested,
        expired=expired,
        already_installed=installed,
        warnings=tuple(one_line(warning) for warning in warnings),
        trusted=trusted,
        trust_reason=one_line(trust_reason),
        own_address=own,
        replaces=_replacements(stored, cert),
        from_mail=from_mail,
        refusal=_mail_refusal(cert, trusted, trust_reason, own) if from_mail else None,
    )


def install_p12(
    services: InboxServices,
    data: bytes,
    password: str,
    use: str,
    *,
    source: str,
    now: datetime,
    from_mail: bool = True,
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
        from_mail: it came as a mail attachment (the safe default): it is installed only
            if its certificate chains to a trust anchor for ``use`` and names the address
            of one of my accounts. False for a file the user opened.

    Raises:
        CredentialsError: wrong password, corrupt file, unfit certificate, unknown use,
            an expired certificate asked to sign, or (from mail) an untrusted certificate
            or one for an address that is none of my accounts'. Nothing was changed.
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
                one_line(
                    f"the certificate {subject_text(cert)} expired on "
                    f"{cert.not_valid_after_utc:%Y-%m-%d}: it can no longer sign"
                )
            )
        uses = frozenset({ENCRYPT})
    if from_mail:
        check_usable(identity, uses)  # the keystore's words for an unfit certificate first
        trusted, reason = _chain_trust(services, identity, now=now, for_signing=SIGN in uses)
        refusal = _mail_refusal(cert, trusted, reason, _names_an_account(services, cert))
        if refusal is not None:
            raise CredentialsError(refusal)
    return services.keystore.install([NewIdentity(identity, uses, source, historic=historic)])


def _open_p12(data: bytes, password: str) -> Identity:
    try:
        return load_identity(data, password.encode("utf-8") if password else None)
    except IdentityError as exc:
        raise CredentialsError(one_line(str(exc))) from exc


def _chain_trust(
    services: InboxServices, identity: Identity, *, now: datetime, for_signing: bool
) -> tuple[bool, str]:
    """Whether ``identity``'s certificate is trusted for mail, and what vouches or why not.

    The same trust store and path validation the mail engine applies to a signature (or,
    for an encryption-only key, to a recipient's certificate); a weak path is untrusted
    here, as a signature over it would be reported weak.
    """
    cert = identity.certificate
    if _self_signed(cert):
        return False, "the certificate is self-signed: no certificate authority vouches for it"
    try:
        path = validate_signer_path(
            cert,
            intermediates=identity.chain,
            trust=services.secure_mail.trust_store(),
            now=now,
            for_signing=for_signing,
        )
    except SignatureVerificationError as exc:
        return False, str(exc)
    if path.weaknesses:
        return False, "weak: " + "; ".join(path.weaknesses)
    anchor = subject_text(path.certificates[-1])
    return True, f"issued by {_issuer_text(cert)}, which chains to the trust anchor {anchor}"


def _self_signed(cert: x509.Certificate) -> bool:
    # Signed by its own key, not merely named after its issuer (a CA may share its name).
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _names_an_account(services: InboxServices, cert: x509.Certificate) -> bool:
    """Whether the certificate names the address of one of my accounts."""
    mine = {_address_key(account.email) for account in services.accounts.accounts()}
    return any(_address_key(address) in mine for address in email_addresses(cert))


def _address_key(address: str) -> str:
    # Domains are case-blind (RFC 5321 §2.4); local parts nearly always are in practice.
    return address.strip().lower()


def _mail_refusal(
    cert: x509.Certificate, trusted: bool, trust_reason: str, own_address: bool
) -> str | None:
    """Why a key received by mail may not be installed, or None."""
    if not trusted:
        return one_line(
            "Inbox does not install a key received by mail unless a trusted certificate "
            f"authority issued it: {trust_reason}"
        )
    if not own_address:
        addresses = ", ".join(email_addresses(cert)) or "no address"
        return one_line(
            f"this key is for {addresses}, which is none of your accounts' addresses: Inbox "
            "installs keys received by mail only for your own accounts"
        )
    return None


def _replacements(stored: list[StoredIdentity], cert: x509.Certificate) -> tuple[Replacement, ...]:
    """The current identities that would lose a use to ``cert`` (as the keystore retires
    them: a current holder of one of its addresses, other than itself)."""
    sha = fingerprint(cert)
    addresses = set(email_addresses(cert))
    found: list[Replacement] = []
    for entry in stored:
        if entry.state != CURRENT or entry.sha256 == sha or not addresses & set(entry.addresses):
            continue
        for keystore_use, label in _REPLACED_USES:
            if keystore_use in entry.uses:
                found.append(
                    Replacement(
                        use=label,
                        sha256=entry.sha256,
                        subject=one_line(subject_text(entry.certificate)),
                        addresses=tuple(one_line(address) for address in entry.addresses),
                        not_after=entry.certificate.not_valid_after_utc,
                    )
                )
    return tuple(found)


# ---------------------------------------------------------------------------- profiles


def inspect_profile(
    services: InboxServices,
    data: bytes,
    *,
    now: datetime,
    allow_unsigned: bool = True,
    from_mail: bool = True,
) -> ProfilePreview:
    """Read and verify a profile and describe it; nothing is written.

    Args:
        allow_unsigned: read an unsigned profile's contents for the preview (installing
            it still needs :func:`install_profile`'s ``allow_unsigned``).
        from_mail: it came as a mail attachment (the safe default): an unsigned one is
            not read past its (missing) signature and cannot be installed
            (:data:`PROFILE_UNSIGNED_BY_MAIL`). False for a file the user opened.

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
        if from_mail:
            return ProfilePreview(
                signer_status=SIGNER_UNSIGNED,
                signer=None,
                reason=reason,
                problem=PROFILE_UNSIGNED_BY_MAIL,
            )
        if not allow_unsigned:
            return ProfilePreview(signer_status=SIGNER_UNSIGNED, signer=None, reason=reason)
        profile = services.profiles.read(data, allow_unsigned=True, now=now)
        status, signer = SIGNER_UNSIGNED, None
    return _preview(services, profile, status, signer, reason)


def install_profile(
    services: InboxServices,
    data: bytes,
    *,
    now: datetime,
    allow_unsigned: bool = False,
    from_mail: bool = True,
) -> InstallResult:
    """Install a profile and the mail accounts it brings, as ``profile install`` does.

    Installing the same profile again changes nothing (``result.changed`` is False). The
    result's notes include what happened to the accounts.

    Args:
        allow_unsigned: the user consented to an unsigned profile (from a file only).
        from_mail: it came as a mail attachment (the safe default): only a profile
            signed by a trusted signer is installed, whatever ``allow_unsigned`` says.

    Raises:
        ProfileSignatureError: a bad or untrusted signature, or unsigned without
            ``allow_unsigned`` or from mail (a security refusal; nothing changed).
        ProfileError, CredentialsError, KeyringUnavailableError, StorageError: nothing
            was changed.
    """
    try:
        result = services.profiles.install_data(
            data, allow_unsigned=allow_unsigned and not from_mail, now=_aware(now)
        )
    except ProfileSignatureError as exc:
        if from_mail and exc.status is SignatureStatus.UNSIGNED:
            raise ProfileSignatureError(SignatureStatus.UNSIGNED, PROFILE_UNSIGNED_BY_MAIL) from exc
        raise
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
        identifier=one_line(profile.identifier),
        display_name=one_line(profile.display_name),
        identities=tuple(
            ProfileIdentityRow(
                sha256=item.sha256,
                subject=one_line(subject_text(item.identity.certificate)),
                addresses=tuple(
                    one_line(address) for address in email_addresses(item.identity.certificate)
                ),
                use="decryption only" if item.historic else use_label(item.uses),
                exportable=item.exportable,
                not_after=item.identity.certificate.not_valid_after_utc,
            )
            for item in profile.identities
        ),
        anchors=tuple(one_line(subject_text(cert)) for cert in profile.anchors),
        accounts=tuple(_account_row(account) for account in profile.accounts),
        notes=tuple(one_line(note) for note in profile.notes),
        installed=installed,
        problem=problem,
    )


def _account_row(account: MailAccount) -> ProfileAccountRow:
    def server(host: str | None, port: int | None) -> str | None:
        if host is None:
            return None
        return one_line(f"{host}:{port}" if port is not None else host)

    return ProfileAccountRow(
        email=one_line(account.email) if account.email is not None else None,
        protocol=one_line(account.protocol),
        incoming=server(account.incoming_host, account.incoming_port),
        outgoing=server(account.outgoing_host, account.outgoing_port),
        username=one_line(account.incoming_username)
        if account.incoming_username is not None
        else None,
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
        addresses=tuple(one_line(address) for address in entry.addresses),
        subject=one_line(subject_text(cert)),
        issuer=one_line(_issuer_text(cert)),
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
                subject=one_line(subject_text(contact.certificate)),
                not_after=contact.certificate.not_valid_after_utc,
                source=contact.source,
                expired=now > contact.certificate.not_valid_after_utc,
                pending_sha256=pending.sha256 if pending is not None else None,
                pending_subject=one_line(subject_text(pending.certificate))
                if pending is not None
                else None,
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
                subject=one_line(subject_text(cert)),
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
            identifier=record.identifier,  # an identifier: removing it needs it exact
            display_name=one_line(record.display_name),
            signed_by=one_line(record.signed_by) if record.signed_by is not None else None,
            identities=len(record.identities),
            accounts=tuple(one_line(account.email) for account in record.accounts if account.email),
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


def _shorten(text: str, limit: int = _CONSENT_NAME_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


__all__ = [
    "ANCHOR_APP",
    "ANCHOR_PROFILE_SIGNER",
    "EXPIRY_WARNING_DAYS",
    "P12_BY_MAIL_WARNING",
    "PROFILE_BY_MAIL_WARNING",
    "PROFILE_UNSIGNED_BY_MAIL",
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
    "Replacement",
    "StoredIdentity",
    "UseChoice",
    "add_account_by_hand",
    "add_local_account",
    "anchor_rows",
    "confirm_contact",
    "contact_rows",
    "export_certificate",
    "identity_rows",
    "inspect_p12",
    "inspect_profile",
    "install_p12",
    "install_profile",
    "key_description",
    "open_credential_file",
    "profile_rows",
    "remove_profile",
    "save_certificate",
    "use_label",
]
