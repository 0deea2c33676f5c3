"""Reading what the command line points at: messages, passwords, keys, certificates."""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from inbox_app.cli.errors import UsageError
from inbox_app.fileio import read_file
from inbox_app.smime import Identity, load_certificates, load_identity

MAX_MESSAGE_BYTES = 512 * 1024 * 1024


def read_message(path: str) -> bytes:
    """The message at ``path``, or standard input for ``-``."""
    if path == "-":
        return sys.stdin.buffer.read()
    file = Path(path)
    if file.is_dir():
        raise UsageError(f"{path} is a directory, not a message")
    data = read_file(file, what="message")
    if len(data) > MAX_MESSAGE_BYTES:
        raise UsageError(f"{path} is larger than {MAX_MESSAGE_BYTES // (1024 * 1024)} MB")
    return data


def read_password(path: str | None, *, prompt_for: str) -> bytes | None:
    """A password from a file (its first line), a prompt on a terminal, or None.

    The password is never echoed, logged or kept beyond the call that needs it.
    """
    if path is not None:
        data = read_file(Path(path), what="password file")
        return data.split(b"\n", 1)[0].removesuffix(b"\r")
    if sys.stdin.isatty():
        return getpass.getpass(f"Password for {prompt_for}: ").encode("utf-8")
    return None


def read_identity(path: str, password_file: str | None) -> Identity:
    data = read_file(Path(path), what="key file")
    password = read_password(password_file, prompt_for=path)
    try:
        return load_identity(data, password)
    except ValueError as exc:
        raise type(exc)(f"{path}: {exc}") from exc


def read_certificates(path: str) -> list[x509.Certificate]:
    data = read_file(Path(path), what="certificate file")
    try:
        return load_certificates(data)
    except ValueError as exc:
        raise type(exc)(f"{path}: {exc}") from exc


def resolve_existing(path: str) -> Path:
    """An absolute path to an existing file (settings must not depend on the cwd)."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise UsageError(f"{path} is not a file")
    return file.resolve()


def parse_time(text: str | None) -> datetime:
    """``--at`` as an aware datetime (UTC when no offset is given); now when absent."""
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--at {text!r} is not an ISO 8601 date or time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
