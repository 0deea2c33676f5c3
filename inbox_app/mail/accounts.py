"""Mail accounts: settings declared once, stored in ``<home>/accounts.json`` (0600, atomic).

Passwords are never part of the settings: the services layer keeps them in the OS keyring.
A *local* account ("Local Folders") is a Maildir under ``<home>/local/NAME/`` that needs no
server: the demo's default, for offline work, and where the demo's sending delivers.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from inbox_app.fileio import atomic_write, read_file
from inbox_app.mail.errors import AccountError
from inbox_app.paths import ensure_private_dir

TlsMode = Literal["ssl", "starttls"]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$|^[^@\s]+@localhost$")
_VERSION = 1
LOCAL_FOLDERS = ("INBOX", "Sent", "Drafts", "Trash")


@dataclass(frozen=True)
class Server:
    """Where an account's IMAP or SMTP server is, and how to reach it safely."""

    host: str
    port: int
    tls: TlsMode = "ssl"  # implicit TLS; "starttls" upgrades a plain connection
    ca_file: str | None = None  # an extra CA to trust, on top of the system's


@dataclass(frozen=True)
class Account:
    """One account's settings (never its password).

    Attributes:
        name: the short name the command line and the GUI use.
        email: the address mail is sent from (and signed for).
        local: a local Maildir account, without servers.
        imap, smtp: the servers (None for local accounts).
        username: the login for both servers.
        sign_by_default, encrypt_by_default: S/MIME defaults for new messages.
        encryption_switch_allowed: whether the user may turn encryption off per message.
        source: "manual", or "profile:ID" when a managed profile created it.
    """

    name: str
    email: str
    local: bool = False
    imap: Server | None = None
    smtp: Server | None = None
    username: str | None = None
    sign_by_default: bool = False
    encrypt_by_default: bool = False
    encryption_switch_allowed: bool = True
    source: str = "manual"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The ``account list --json`` object."""
        data = asdict(self)
        data.pop("extra")
        return data


def parse_host_port(text: str, *, what: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` too) as a pair.

    Raises:
        AccountError: not a host and a port between 1 and 65535.
    """
    host, colon, port = text.rpartition(":")
    host = host.strip("[]")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise AccountError(f"{what} must be HOST:PORT, not {text!r}")
    return host, int(port)


class AccountStore:
    """The accounts of one Inbox home."""

    def __init__(self, home: Path) -> None:
        self._home = home
        self._path = home / "accounts.json"

    def accounts(self) -> list[Account]:
        if not self._path.exists():
            return []
        try:
            data = json.loads(read_file(self._path, what="account settings"))
            if data.get("version") != _VERSION:
                raise AccountError("the account settings were written by a newer Inbox")
            return [_from_json(item) for item in data["accounts"]]
        except (ValueError, KeyError, TypeError) as exc:
            if isinstance(exc, AccountError):
                raise
            raise AccountError(f"the account settings in {self._path} are damaged") from exc

    def get(self, name: str) -> Account:
        for account in self.accounts():
            if account.name == name:
                return account
        raise AccountError(f"no account named {name!r}")

    def add(self, account: Account) -> Account:
        """Add a new account (names are unique)."""
        _validate(account)
        accounts = self.accounts()
        if any(existing.name == account.name for existing in accounts):
            raise AccountError(f"an account named {account.name!r} already exists")
        if account.local:
            self.create_maildir(account.name)
        self._save([*accounts, account])
        return account

    def update(self, account: Account) -> Account:
        """Change an account's settings; its local cache stays as it is."""
        _validate(account)
        accounts = self.accounts()
        if not any(existing.name == account.name for existing in accounts):
            raise AccountError(f"no account named {account.name!r}")
        self._save([account if a.name == account.name else a for a in accounts])
        return account

    def remove(self, name: str) -> Account:
        """Forget an account's settings. A local account's Maildir is kept (no mail lost)."""
        account = self.get(name)
        self._save([a for a in self.accounts() if a.name != name])
        return account

    def maildir(self, name: str) -> Path:
        """The Maildir root of a local account."""
        return self._home / "local" / name

    def create_maildir(self, name: str) -> Path:
        """Create the local account's folders: each a Maildir with cur/, new/, tmp/."""
        root = self.maildir(name)
        for folder in LOCAL_FOLDERS:
            base = root if folder == "INBOX" else root / f".{folder}"
            for sub in ("cur", "new", "tmp"):
                ensure_private_dir(base / sub)
        return root

    def _save(self, accounts: list[Account]) -> None:
        ensure_private_dir(self._home)
        data = {"version": _VERSION, "accounts": [_to_json(a) for a in accounts]}
        atomic_write(self._path, json.dumps(data, indent=1).encode())


def _validate(account: Account) -> None:
    if not _NAME.match(account.name):
        raise AccountError(f"{account.name!r} is not a valid account name (letters, digits, . _ -)")
    if not _ADDRESS.match(account.email):
        raise AccountError(f"{account.email!r} is not an email address")
    if account.local:
        if account.imap or account.smtp:
            raise AccountError("a local account has no servers")
        return
    if account.imap is None or account.smtp is None or not account.username:
        raise AccountError("an account needs an IMAP server, an SMTP server and a username")


def _to_json(account: Account) -> dict[str, Any]:
    return asdict(account)


def _from_json(item: dict[str, Any]) -> Account:
    base = Account(**{k: v for k, v in item.items() if k not in ("imap", "smtp")})
    return replace(
        base,
        imap=Server(**item["imap"]) if item.get("imap") else None,
        smtp=Server(**item["smtp"]) if item.get("smtp") else None,
    )
