"""Errors of the mail package."""

from inbox_app.errors import InboxError


class AccountError(InboxError, ValueError):
    """An account's settings are missing, duplicated or invalid; ``str()`` is one line."""
