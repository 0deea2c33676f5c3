"""Mail accounts that managed profiles bring (``com.apple.mail.managed``).

The profile registry keeps the payload's settings; this turns the IMAP ones into Inbox
accounts (source ``profile:ID``) with the profile's S/MIME policy, and removes them with
the profile. Passwords are never in profiles we keep: the first sync asks for one
(``inbox-app account password NAME``).
"""

from __future__ import annotations

import re

from inbox_app.credentials.profiles import InstalledProfile, MailAccount
from inbox_app.mail.accounts import Account, AccountStore, Server, TlsMode
from inbox_app.mail.errors import AccountError
from inbox_app.services.accounts import AccountService

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def apply_profile_accounts(accounts: AccountService, profile: InstalledProfile) -> list[str]:
    """Create or update the accounts of ``profile``; returns notes for the user."""
    store: AccountStore = accounts.store
    notes: list[str] = []
    source = f"profile:{profile.identifier}"
    existing = {account.name: account for account in store.accounts()}
    for payload in profile.accounts:
        account = _account(payload, source)
        if account is None:
            notes.append(f"the {payload.protocol} account {payload.email or '?'} is not supported")
            continue
        current = existing.get(account.name)
        if current is None:
            store.add(account)
            notes.append(
                f"added the account {account.name}: set its password with "
                f"'inbox-app account password {account.name}'"
            )
        elif current.source == source:
            store.update(account)  # settings change; the cached mail stays
        else:
            notes.append(f"an account named {account.name} already exists; left as it is")
    return notes


def remove_profile_accounts(accounts: AccountService, identifier: str) -> list[str]:
    """Remove the accounts a profile created (their cached mail stays)."""
    removed = []
    for account in accounts.accounts():
        if account.source == f"profile:{identifier}":
            accounts.remove(account.name)
            removed.append(f"removed the account {account.name}")
    return removed


def _account(payload: MailAccount, source: str) -> Account | None:
    if payload.protocol != "imap" or not payload.email:
        return None
    if not payload.incoming_host or not payload.outgoing_host:
        return None
    name = _UNSAFE.sub("-", payload.email.replace("@", "-at-"))[:64].strip("-.") or "profile"
    imap_tls: TlsMode = "ssl" if payload.incoming_ssl else "starttls"
    smtp_tls: TlsMode = "ssl" if payload.outgoing_ssl else "starttls"
    imap_port = payload.incoming_port or _port("imap", imap_tls)
    smtp_port = payload.outgoing_port or _port("smtp", smtp_tls)
    try:
        return Account(
            name=name,
            email=payload.email,
            imap=Server(payload.incoming_host, imap_port, imap_tls),
            smtp=Server(payload.outgoing_host, smtp_port, smtp_tls),
            username=payload.incoming_username or payload.email,
            sign_by_default=payload.smime_signing_enabled,
            encrypt_by_default=payload.smime_encrypt_by_default,
            encryption_switch_allowed=payload.smime_per_message_switch,
            source=source,
        )
    except AccountError:
        return None


def _port(protocol: str, tls: str) -> int:
    # RFC 8314: implicit TLS ports; RFC 3501/6409: the STARTTLS ones.
    return {("imap", "ssl"): 993, ("imap", "starttls"): 143,
            ("smtp", "ssl"): 465, ("smtp", "starttls"): 587}[(protocol, tls)]  # fmt: skip
