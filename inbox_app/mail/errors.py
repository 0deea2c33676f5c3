"""Errors of the mail package."""

from inbox_app.errors import InboxError


class AccountError(InboxError, ValueError):
    """An account's settings are missing, duplicated or invalid; ``str()`` is one line."""


class MissingPasswordError(AccountError):
    """A server account has no password in the OS keyring yet (a front end may ask)."""

    def __init__(self, account: str) -> None:
        super().__init__(f"no password for the account {account!r} in the OS keyring")
        self.account = account
