"""Errors of the mail store (see :mod:`inbox_app.errors` for the whole tree).

Only failures of the environment become a :class:`StoreError`: the disk is full, the file
is read-only, locked by another program or damaged. A failing SQL statement, a violated
constraint or a closed connection is a bug in Inbox and keeps its ``sqlite3`` type and
traceback.
"""

from inbox_app.errors import InboxError


class StoreError(InboxError, OSError):
    """Base class of the mail store's errors; ``str()`` is one user-facing line."""


class StoreUnavailableError(StoreError):
    """The store cannot be read or written: full disk, read-only, locked, damaged or newer."""
