"""Atomic, private file writes: the only way Inbox writes a file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from inbox_app.errors import InboxError


class StorageError(InboxError, OSError):
    """A file could not be read or written (disk full, permissions, missing directory)."""


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    The temporary file gets its permissions before any data is written, is fsynced, then
    replaces the target.

    Raises:
        StorageError: the directory is missing or not writable, or the disk is full.
    """
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        if os.name != "nt":
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise StorageError(f"cannot write {path}: {exc.strerror or exc}") from exc


def read_file(path: Path, *, what: str = "file") -> bytes:
    """Read a whole file, translating OS errors into a one-line :class:`StorageError`."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise StorageError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
