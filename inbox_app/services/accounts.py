"""Account use cases: settings in the home directory, passwords in the OS keyring."""

from __future__ import annotations

import contextlib
from pathlib import Path

from inbox_app.credentials.errors import KeyringUnavailableError
from inbox_app.credentials.secrets import SecretStore, home_namespace
from inbox_app.mail.accounts import Account, AccountStore, Server, TlsMode, parse_host_port
from inbox_app.mail.errors import AccountError, MissingPasswordError


class AccountService:
    """Add, list and remove accounts; a password never reaches a settings file."""

    def __init__(self, home: Path, secrets: SecretStore) -> None:
        self._store = AccountStore(home)
        self._secrets = secrets
        self._namespace = home_namespace(home)

    @property
    def store(self) -> AccountStore:
        return self._store

    def accounts(self) -> list[Account]:
        return self._store.accounts()

    def get(self, name: str) -> Account:
        return self._store.get(name)

    def add_local(self, name: str, email: str) -> Account:
        """A local Maildir account ("Local Folders"): no server, no password."""
        return self.add(Account(name=name, email=email, local=True), None)

    def add_server(
        self,
        name: str,
        email: str,
        *,
        imap: str,
        smtp: str,
        username: str,
        password: str,
        tls: TlsMode = "ssl",
        ca_file: str | None = None,
    ) -> Account:
        """An IMAP/SMTP account from ``HOST:PORT`` strings, as a user types them."""
        imap_host, imap_port = parse_host_port(imap, what="the IMAP server")
        smtp_host, smtp_port = parse_host_port(smtp, what="the SMTP server")
        account = Account(
            name=name,
            email=email,
            imap=Server(imap_host, imap_port, tls, ca_file),
            smtp=Server(smtp_host, smtp_port, tls, ca_file),
            username=username,
        )
        return self.add(account, password)

    def add(self, account: Account, password: str | None) -> Account:
        """Add an account; for a server account, its password goes to the keyring first.

        Raises:
            AccountError: invalid or duplicate settings, or no password for a server.
            KeyringUnavailableError: the keyring cannot keep the password.
        """
        if not account.local and not password:
            raise AccountError("a server account needs a password (--password-file)")
        if any(existing.name == account.name for existing in self._store.accounts()):
            raise AccountError(f"an account named {account.name!r} already exists")
        if password:
            self._secrets.set(self._password_name(account.name), password)
        try:
            return self._store.add(account)
        except BaseException:
            # Leave nothing behind: no password without its account.
            if password:
                with contextlib.suppress(KeyringUnavailableError):
                    self._secrets.delete(self._password_name(account.name))
            raise

    def remove(self, name: str) -> Account:
        """Forget an account and its password; cached mail and local Maildirs stay."""
        account = self._store.remove(name)
        if not account.local:
            self._secrets.delete(self._password_name(name))
        return account

    def set_password(self, name: str, password: str) -> None:
        """Set or change a server account's password (in the OS keyring)."""
        account = self._store.get(name)
        if account.local:
            raise AccountError("a local account has no password")
        if not password:
            raise AccountError("the password is empty")
        self._secrets.set(self._password_name(name), password)

    def password(self, name: str) -> str:
        """The account's password from the keyring.

        Raises:
            MissingPasswordError: the keyring holds no password for it.
        """
        password = self._secrets.get(self._password_name(name))
        if password is None:
            raise MissingPasswordError(name)
        return password

    def _password_name(self, name: str) -> str:
        return f"account/{self._namespace}/{name}"
