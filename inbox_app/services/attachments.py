"""Attachments of a displayed message: what they are, and writing them out safely.

Light on purpose (no MIME parser, no crypto): the reader pane imports it before the first
window paints.
"""

from __future__ import annotations

import enum
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from inbox_app.fileio import StorageError, atomic_write

_P12_TYPES = frozenset({"application/x-pkcs12", "application/pkcs12"})
_PROFILE_TYPES = frozenset({"application/x-apple-aspen-config"})


class AttachmentKind(enum.StrEnum):
    """What the reader offers for an attachment besides save and open."""

    P12 = "p12"  # "Install certificate…"
    PROFILE = "profile"  # "Install profile…"
    MESSAGE = "message"  # an attached .eml / message/rfc822
    OTHER = "other"


@dataclass(frozen=True)
class Attachment:
    """One attachment of the displayed entity."""

    filename: str  # sanitised: no directories, no control characters
    content_type: str
    data: bytes = field(repr=False)
    kind: AttachmentKind = AttachmentKind.OTHER


# ---------------------------------------------------------------------------- attachments

_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_WINDOWS_RESERVED = re.compile(r"(con|prn|aux|nul|com\d|lpt\d)(\..*)?", re.IGNORECASE)
_MAX_NAME_BYTES = 200
# Opening these hands the attachment to a program that runs it: save it instead, knowingly.
_RUNS_CODE = frozenset(
    {
        "app", "appimage", "bat", "cmd", "com", "cpl", "desktop", "exe", "hta", "jar", "js",
        "jse", "lnk", "msi", "msp", "pif", "ps1", "py", "reg", "scr", "sh", "url", "vbe",
        "vbs", "ws", "wsf", "command", "run", "bin", "elf", "deb", "rpm", "apk", "dmg", "pkg",
    }
)  # fmt: skip


def safe_filename(name: str | None, fallback: str = "attachment") -> str:
    """A file name from a message, made harmless to save or show.

    No directories (``../``, ``C:\\``), no control or format characters (a right-to-left
    override can make ``exe.pdf`` look like ``fdp.exe``), no leading dots, no characters
    Windows refuses, and not too long (the extension is kept).
    """
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _UNSAFE_CATEGORIES)
    name = re.sub(r'[<>:"|?*]', "_", name).strip().lstrip(".").strip()
    if _WINDOWS_RESERVED.fullmatch(name):
        name = "_" + name
    if len(name.encode()) > _MAX_NAME_BYTES:
        stem, dot, extension = name.rpartition(".")
        if not dot or len(extension) > 16:
            stem, extension = name, ""
        budget = _MAX_NAME_BYTES - len(extension.encode()) - 1
        stem = stem.encode()[:budget].decode(errors="ignore")
        name = f"{stem}.{extension}" if extension else stem
    return name or fallback


def attachment_kind(filename: str, content_type: str) -> AttachmentKind:
    """What the reader offers for an attachment, from its name or its declared type."""
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    if content_type in _P12_TYPES or extension in ("p12", "pfx"):
        return AttachmentKind.P12
    if content_type in _PROFILE_TYPES or extension == "mobileconfig":
        return AttachmentKind.PROFILE
    if content_type == "message/rfc822" or extension == "eml":
        return AttachmentKind.MESSAGE
    return AttachmentKind.OTHER


def may_open(attachment: Attachment) -> bool:
    """Whether "Open" may hand the attachment to the desktop: never for programs."""
    extension = attachment.filename.rpartition(".")[2].lower()
    return "." not in attachment.filename or extension not in _RUNS_CODE


def save_attachment(attachment: Attachment, path: Path) -> None:
    """Write an attachment where the user chose (atomically, 0600).

    Raises:
        StorageError: the file could not be written.
    """
    atomic_write(path, attachment.data, mode=0o600)


def open_copy(attachment: Attachment, *, directory: Path | None = None) -> Path:
    """Write a private copy of an attachment for another program to open.

    Each copy gets a fresh directory (0700, so other users cannot read or swap it) and the
    file is 0600.

    Args:
        attachment: what to copy.
        directory: where the private directories go (default: the system's temp dir).

    Raises:
        StorageError: the copy could not be written.
    """
    try:
        private = Path(tempfile.mkdtemp(prefix="inbox-open-", dir=directory))
    except OSError as exc:
        raise StorageError(f"cannot write a copy of {attachment.filename}: {exc}") from exc
    path = private / safe_filename(attachment.filename)
    atomic_write(path, attachment.data, mode=0o600)
    return path
