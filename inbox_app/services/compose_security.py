"""Whether a message being written can be signed and encrypted, and what stops it.

The composer shows, per recipient, whether a usable certificate is known
(:func:`recipient_statuses`), follows the account's policy (:func:`policy`), and refuses to
send while :func:`blocking_reason` has something to say. The outbox checks again when it
encrypts: these checks are there to explain, not to protect.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from inbox_app.credentials.errors import CredentialsError
from inbox_app.credentials.keystore import ENCRYPT, SIGN
from inbox_app.fileio import StorageError
from inbox_app.services.compose_message import Composition, bare_address, is_valid_address

if TYPE_CHECKING:
    from inbox_app.services.app import InboxServices


class RecipientState(enum.StrEnum):
    """Whether a message can be encrypted to one recipient."""

    READY = "ready"  # a trusted, unexpired certificate fit for encryption
    NO_CERTIFICATE = "no-certificate"
    EXPIRED = "expired"  # the certificate expired (or is not valid yet)
    CHANGED_KEY = "changed-key"  # a different key was seen and awaits confirmation
    UNUSABLE = "unusable"  # known, but untrusted or not fit for encryption
    INVALID_ADDRESS = "invalid-address"

    @property
    def label(self) -> str:
        """The words the composer shows next to the address."""
        return _LABELS[self]


_LABELS = {
    RecipientState.READY: "ready to encrypt",
    RecipientState.NO_CERTIFICATE: "no certificate",
    RecipientState.EXPIRED: "certificate expired",
    RecipientState.CHANGED_KEY: "changed key: confirm it under Certificates",
    RecipientState.UNUSABLE: "certificate not usable",
    RecipientState.INVALID_ADDRESS: "not a valid address",
}
# Why a recipient stops an encrypted message (blocking_reason's words).
_CANNOT_ENCRYPT = {
    RecipientState.NO_CERTIFICATE: "no certificate",
    RecipientState.EXPIRED: "the certificate expired",
    RecipientState.CHANGED_KEY: "the key changed and awaits your confirmation",
    RecipientState.UNUSABLE: "the certificate cannot be used",
}


@dataclass(frozen=True)
class RecipientStatus:
    """One recipient's state, with the one-line detail (why it is not ready)."""

    address: str
    state: RecipientState
    detail: str = ""


@dataclass(frozen=True)
class SecurityPolicy:
    """An account's S/MIME policy (its own settings, or a managed profile's).

    Attributes:
        account: the account's name.
        address: the account's address (the From of what it sends).
        sign_default, encrypt_default: how a new message starts.
        encryption_switch_allowed: whether the user may choose per message; when not, the
            Encrypt switch is locked (and encryption required when it is on by default).
        can_sign: the keystore holds a current signing identity for ``address``.
    """

    account: str
    address: str
    sign_default: bool = False
    encrypt_default: bool = False
    encryption_switch_allowed: bool = True
    can_sign: bool = True

    @property
    def encryption_required(self) -> bool:
        """Sending in the clear is refused."""
        return self.encrypt_default and not self.encryption_switch_allowed

    def new_composition(self) -> Composition:
        """An empty message with the policy's defaults."""
        return Composition(self.account, sign=self.sign_default, encrypt=self.encrypt_default)

    def apply(self, c: Composition) -> Composition:
        """``c`` with what the policy does not let the user change (required encryption)."""
        if self.encryption_required and not c.encrypt:
            return replace(c, encrypt=True)
        return c


def policy(services: InboxServices, account_name: str) -> SecurityPolicy:
    """The S/MIME policy of an account, as its settings (or its profile) say.

    Raises:
        AccountError: no such account.
    """
    account = services.accounts.get(account_name)
    try:
        can_sign = services.keystore.current(account.email, SIGN) is not None
    except (CredentialsError, StorageError):
        can_sign = False
    return SecurityPolicy(
        account=account.name,
        address=account.email,
        sign_default=account.sign_by_default,
        encrypt_default=account.encrypt_by_default,
        encryption_switch_allowed=account.encryption_switch_allowed,
        can_sign=can_sign,
    )


def recipient_statuses(
    services: InboxServices,
    addresses: Iterable[str],
    *,
    now: datetime,
    sender: str | None = None,
) -> dict[str, RecipientStatus]:
    """Whether each recipient can receive encrypted mail, keyed by the address given.

    ``sender`` is the From address: the outbox encrypts to its own current encryption
    certificate from the keystore rather than to a contact's.
    """
    result: dict[str, RecipientStatus] = {}
    for entry in addresses:
        address = bare_address(entry)
        result[address] = _status(services, address, now=now, sender=sender)
    return result


def recipient_states(
    services: InboxServices,
    addresses: Iterable[str],
    *,
    now: datetime,
    sender: str | None = None,
) -> dict[str, RecipientState]:
    """:func:`recipient_statuses` without the details."""
    statuses = recipient_statuses(services, addresses, now=now, sender=sender)
    return {address: status.state for address, status in statuses.items()}


def _status(
    services: InboxServices, address: str, *, now: datetime, sender: str | None
) -> RecipientStatus:
    if not is_valid_address(address):
        return RecipientStatus(address, RecipientState.INVALID_ADDRESS, "not a valid address")
    try:
        if sender is not None and _same_address(address, sender):
            own = services.keystore.current(address, ENCRYPT)
            if own is not None:
                cert = own.certificate
                if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
                    return RecipientStatus(
                        address,
                        RecipientState.EXPIRED,
                        "your encryption certificate expired on "
                        f"{cert.not_valid_after_utc:%Y-%m-%d}",
                    )
                return RecipientStatus(address, RecipientState.READY)
        contact = services.contacts.find(address)
        if contact is None:
            return RecipientStatus(
                address, RecipientState.NO_CERTIFICATE, f"no certificate known for {address}"
            )
        if contact.changed is not None:
            return RecipientStatus(
                address,
                RecipientState.CHANGED_KEY,
                f"a different key was seen for {address}; confirm or reject it first",
            )
        cert = contact.certificate
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            return RecipientStatus(
                address,
                RecipientState.EXPIRED,
                f"the certificate of {address} is valid from "
                f"{cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d}",
            )
        services.secure_mail.recipient_certificate(address, now=now)
    except (CredentialsError, StorageError) as exc:
        return RecipientStatus(address, RecipientState.UNUSABLE, str(exc))
    return RecipientStatus(address, RecipientState.READY)


def blocking_reason(
    c: Composition, states: Mapping[str, RecipientState], policy: SecurityPolicy
) -> str | None:
    """Why ``c`` cannot be sent as it is (one line), or None when it can.

    ``states`` are the recipients' states (:func:`recipient_states`); a recipient missing
    from them has not been checked yet, which blocks an encrypted message until it is.
    """
    recipients = c.recipients()
    for address in recipients:
        if states.get(address) is RecipientState.INVALID_ADDRESS or not is_valid_address(address):
            return f"{address} is not a valid address"
    if not recipients:
        return "add a recipient"
    if policy.encryption_required and not c.encrypt:
        return "this account's policy requires encryption: it cannot be sent unencrypted"
    if c.sign and not policy.can_sign:
        return f"cannot sign: no signing certificate for {policy.address}"
    if c.encrypt:
        for address in recipients:
            state = states.get(address)
            if state is None:
                return f"checking the certificate of {address}…"
            if state is not RecipientState.READY:
                return f"cannot encrypt to {address}: {_CANNOT_ENCRYPT.get(state, state.label)}"
    return None


def _same_address(a: str, b: str) -> bool:
    # The domain is case-blind; the local part is compared exactly (RFC 5321 §2.4).
    local_a, _, domain_a = a.rpartition("@")
    local_b, _, domain_b = b.rpartition("@")
    return local_a == local_b and domain_a.lower() == domain_b.lower()
