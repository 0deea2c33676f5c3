"""Everything one Inbox home needs, built on first use and handed to front ends explicitly.

No global state: the CLI builds one :class:`InboxServices` per command, the GUI one per
window session, tests one per temporary home.
"""

from __future__ import annotations

import functools
from pathlib import Path

from inbox_app.credentials.contacts import ContactStore
from inbox_app.credentials.keystore import Keystore
from inbox_app.credentials.profiles import InstalledProfile, ProfileRegistry
from inbox_app.credentials.secrets import OsKeyring, SecretStore
from inbox_app.services.accounts import AccountService
from inbox_app.services.mailbox import Mailbox
from inbox_app.services.profile_accounts import apply_profile_accounts, remove_profile_accounts
from inbox_app.services.secure_mail import SecureMail
from inbox_app.services.sending import MailSender


class InboxServices:
    """The use cases of one data directory."""

    def __init__(self, home: Path, secrets: SecretStore | None = None) -> None:
        self.home = home
        self._secrets = secrets

    @functools.cached_property
    def secrets(self) -> SecretStore:
        return self._secrets if self._secrets is not None else OsKeyring()

    @functools.cached_property
    def keystore(self) -> Keystore:
        return Keystore(self.home, self.secrets)

    @functools.cached_property
    def accounts(self) -> AccountService:
        return AccountService(self.home, self.secrets)

    @functools.cached_property
    def mailbox(self) -> Mailbox:
        return Mailbox(self.home, self.accounts, self.secure_mail)

    @functools.cached_property
    def sender(self) -> MailSender:
        return MailSender(self.accounts, self.secure_mail, self.mailbox)

    @functools.cached_property
    def contacts(self) -> ContactStore:
        return ContactStore(self.home)

    @functools.cached_property
    def profiles(self) -> ProfileRegistry:
        return ProfileRegistry(self.home, self.keystore)

    def close(self) -> None:
        """Close what these services opened (the store's connection, if it was opened).

        Call it on the thread that used them: the store is not shared between threads.
        """
        if "mailbox" in vars(self):  # built on first use (cached_property)
            self.mailbox.store.close()

    def apply_profile_accounts(self, profile: InstalledProfile) -> list[str]:
        """Create or update the mail accounts an installed profile brings."""
        return apply_profile_accounts(self.accounts, profile)

    def remove_profile_accounts(self, identifier: str) -> list[str]:
        return remove_profile_accounts(self.accounts, identifier)

    @functools.cached_property
    def secure_mail(self) -> SecureMail:
        return SecureMail(self.home, self.keystore, self.contacts)
