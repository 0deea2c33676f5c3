"""The boundary between the store and ``sqlite3``: opening the file, translating errors."""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from inbox_app.paths import ensure_private_dir
from inbox_app.store.errors import StoreUnavailableError

# A writer waits this long for another connection's write lock before giving up: long
# enough for a sync batch to commit, short enough that the UI reports a stuck database.
BUSY_TIMEOUT = 5.0

# Primary result codes (the low byte of an extended code) that mean the environment
# failed, with the words the user sees. Everything else (SQLITE_ERROR: bad SQL;
# SQLITE_CONSTRAINT; SQLITE_MISUSE; ...) is a bug.
_ENVIRONMENT = {
    3: "permission denied",  # SQLITE_PERM
    5: "it is locked by another program",  # SQLITE_BUSY
    6: "it is locked by another program",  # SQLITE_LOCKED
    7: "out of memory",  # SQLITE_NOMEM
    8: "it is read-only",  # SQLITE_READONLY
    10: "a disk I/O error occurred",  # SQLITE_IOERR
    11: "the file is damaged",  # SQLITE_CORRUPT
    13: "the disk is full",  # SQLITE_FULL
    14: "the file cannot be opened",  # SQLITE_CANTOPEN
    15: "it is locked by another program",  # SQLITE_PROTOCOL
    22: "the file is too large for this system",  # SQLITE_NOLFS
    26: "the file is not a mail store database",  # SQLITE_NOTADB
}


def unavailable(path: Path, exc: sqlite3.Error) -> StoreUnavailableError | None:
    """The user-facing error for an environment failure, or None when ``exc`` is a bug."""
    code = getattr(exc, "sqlite_errorcode", None)
    if not isinstance(code, int) or code & 0xFF not in _ENVIRONMENT:
        return None
    reason = _ENVIRONMENT[code & 0xFF]
    return StoreUnavailableError(f"cannot use the mail store {path}: {reason} ({exc})")


class _HasPath(Protocol):
    @property
    def path(self) -> Path: ...


S = TypeVar("S", bound=_HasPath)
P = ParamSpec("P")
R = TypeVar("R")


def boundary(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Translate environment failures of a store method into :class:`StoreUnavailableError`.

    The ``sqlite3`` exception stays attached as the cause; bugs are re-raised unchanged.
    """

    @functools.wraps(method)
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            error = unavailable(self.path, exc)
            if error is None:
                raise
            raise error from exc

    return wrapper


def connect(path: Path, busy_timeout: float = BUSY_TIMEOUT) -> sqlite3.Connection:
    """Open (creating if needed) the database at ``path``: directory 0700, file 0600.

    The connection is in autocommit mode (``isolation_level=None``): every write runs in an
    explicit ``BEGIN IMMEDIATE`` transaction, so lock waits happen at the start of a
    transaction, where the busy timeout applies, rather than as a deadlock mid-way.

    Raises:
        StoreUnavailableError: the directory or file cannot be created or opened.
    """
    try:
        ensure_private_dir(path.parent)
        # Create the file ourselves so it is never readable by others, not even for the
        # moment between SQLite creating it and a chmod. SQLite gives the -wal and -shm
        # files the main file's mode.
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        if os.name != "nt":
            path.chmod(0o600)
    except OSError as exc:
        raise StoreUnavailableError(
            f"cannot use the mail store {path}: {exc.strerror or exc}"
        ) from exc
    try:
        conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
    except sqlite3.Error as exc:
        error = unavailable(path, exc)
        if error is None:
            raise
        raise error from exc
    return conn


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: committed when the block ends, rolled back on any error.

    ``BEGIN IMMEDIATE`` takes the write lock up front, waiting up to the busy timeout.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        # SQLite may already have rolled back (disk full, I/O error); a second ROLLBACK
        # would hide the original error behind "no transaction is active".
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
