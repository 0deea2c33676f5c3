"""Errors of the command line."""

from inbox_app.errors import InboxError


class UsageError(InboxError, ValueError):
    """The command line is wrong (exit code 2)."""
