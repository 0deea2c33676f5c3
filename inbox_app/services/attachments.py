"""Attachments of a displayed message: what they are, and writing them out safely.

Light on purpose (no MIME parser, no crypto): the reader pane imports it before the first
window paints.
"""

from __future__ import annotations

import enum
import os
import re
import shutil
import stat
import tempfile
import time
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
# Device names Windows reserves whatever follows them ("con .txt" and "COM¹" included).
_WINDOWS_RESERVED = re.compile(r"(con|prn|aux|nul|(com|lpt)[\d¹²³])\s*(\..*)?", re.IGNORECASE)
_MAX_NAME_BYTES = 200
# What "Open" may hand to the desktop, by extension: documents, pictures and sound that
# their usual programs show rather than run. An allow-list, because a list of the dangerous
# types is never complete (.library-ms, .terminal, .fileloc...). Not web pages
# (html, svg, xhtml, mht: a browser would load their remote content), not archives (one
# double-click from running what they hold), not certificates or profiles (the system's
# installer would take them, not this application's). Not office documents either: they
# can fetch remote templates and images when opened, and a copy we write carries no
# "downloaded from the internet" mark, so Office would not open it in Protected View.
# Anything else can still be saved, and opened from there knowingly.
_OPENABLE = frozenset(
    {
        "pdf", "txt", "csv", "ics", "vcf",
        "png", "jpg", "jpeg", "gif", "webp", "bmp", "heic", "tif", "tiff",
        "mp3", "m4a", "wav", "ogg", "mp4", "mov", "webm",
    }
)  # fmt: skip
# open_copy's private directories (the prefix remove_stale_open_copies looks for).
_OPEN_COPY_PREFIX = "inbox-open-"


def safe_filename(name: str | None, fallback: str = "attachment") -> str:
    """A file name from a message, made harmless to save or show.

    No directories (``../``, ``C:\\``), no control or format characters (a right-to-left
    override can make ``exe.pdf`` look like ``fdp.exe``), no leading dots, no trailing dots
    or spaces, no characters Windows refuses, and not too long (the extension is kept).
    """
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _UNSAFE_CATEGORIES)
    name = re.sub(r'[<>:"|?*]', "_", name).strip().lstrip(".").strip()
    # Windows drops trailing dots and spaces: "invoice.exe." would be saved as invoice.exe.
    name = name.rstrip(". ")
    if _WINDOWS_RESERVED.fullmatch(name):
        name = "_" + name
    if len(name.encode()) > _MAX_NAME_BYTES:
        stem, dot, extension = name.rpartition(".")
        if not dot or len(extension) > 16:
            stem, extension = name, ""
        budget = _MAX_NAME_BYTES - len(extension.encode()) - 1
        stem = stem.encode()[:budget].decode(errors="ignore")
        name = f"{stem}.{extension}" if extension else stem.rstrip(". ")
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
    """Whether "Open" may hand the attachment to the desktop: only for types known safe.

    The desktop chooses the program by the file name's extension, so that is what decides,
    after the name has been through :func:`safe_filename` as the copy's will have been.
    """
    stem, dot, extension = safe_filename(attachment.filename).rpartition(".")
    return bool(dot and stem) and extension.lower() in _OPENABLE


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
        private = Path(tempfile.mkdtemp(prefix=_OPEN_COPY_PREFIX, dir=directory))
    except OSError as exc:
        raise StorageError(f"cannot write a copy of {attachment.filename}: {exc}") from exc
    path = private / safe_filename(attachment.filename)
    atomic_write(path, attachment.data, mode=0o600)
    return path


def remove_stale_open_copies(
    directory: Path | None = None, *, older_than_seconds: float = 24 * 3600
) -> int:
    """Remove the private copies that earlier sessions left behind (call it at startup).

    The copies :func:`open_copy` makes stay while the application runs, since the program
    they were handed to may still be reading them; a session that crashed or was killed
    never removes its own. Only this user's ``inbox-open-*`` directories are touched (not
    links to them), and only those older than ``older_than_seconds``, so another running
    instance keeps the copies it has just opened.

    Args:
        directory: where :func:`open_copy` put them (default: the system's temp dir).
        older_than_seconds: how long since a directory was last changed.

    Returns:
        How many directories were removed.
    """
    base = directory if directory is not None else Path(tempfile.gettempdir())
    try:
        entries = [entry for entry in base.iterdir() if entry.name.startswith(_OPEN_COPY_PREFIX)]
    except OSError:
        return 0
    uid = os.getuid() if hasattr(os, "getuid") else None  # Windows: the temp dir is per user
    cutoff = time.time() - older_than_seconds
    removed = 0
    for entry in entries:
        try:
            info = entry.lstat()
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_mtime > cutoff:
            continue
        if uid is not None and info.st_uid != uid:
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed += not entry.exists()
    return removed
