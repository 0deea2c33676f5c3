"""Errors of the credentials package (see :mod:`inbox_app.errors` for the whole tree)."""

from inbox_app.errors import InboxError


class CredentialsError(InboxError, ValueError):
    """A credential could not be imported, found or used; ``str()`` is one line."""


class KeyringUnavailableError(InboxError, OSError):
    """The OS keyring is locked, missing or not secure: nothing is ever stored without it."""


class ProfileError(CredentialsError):
    """A managed profile is malformed, untrusted or cannot be installed."""
