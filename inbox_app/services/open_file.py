"""``inbox-app FILE``: what a file the OS (or the user) hands to the app is, and its bytes.

Three kinds are routed: a PKCS#12 identity (``.p12``, ``.pfx``) to "Install certificate",
a configuration profile or S/MIME upload bundle (``.mobileconfig``, signed or not) to the
profile install flow, and a message (``.eml``) to the reader.

The bytes decide, the name only breaks a tie: a file's extension is easily wrong (a
``.p12`` saved as ``.bin``, a profile renamed ``.xml``), so the content is sniffed first and
the extension is used only when the content matches no kind. Sniffing looks at structure,
never at meaning: the flows that follow check everything again, completely.
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
from dataclasses import dataclass, field
from pathlib import Path

from inbox_app.errors import one_line
from inbox_app.fileio import StorageError

MAX_FILE_BYTES = 50 * 2**20


class FileKind(enum.StrEnum):
    """What a file holds, and so which flow it goes to."""

    P12 = "p12"
    PROFILE = "profile"
    MESSAGE = "message"


class OpenFileError(StorageError):
    """A file given to the app is missing, unreadable, too large or of no kind Inbox opens."""


@dataclass(frozen=True)
class OpenedFile:
    """A file to open: its kind and its bytes."""

    path: Path
    kind: FileKind
    data: bytes = field(repr=False)

    @property
    def name(self) -> str:
        return self.path.name


_BY_EXTENSION = {
    ".p12": FileKind.P12,
    ".pfx": FileKind.P12,
    ".mobileconfig": FileKind.PROFILE,
    ".eml": FileKind.MESSAGE,
}
# DER of the ContentInfo types (RFC 5652 §5.1 signedData) and PFX's version (RFC 7292 §4).
_SIGNED_DATA_OID = bytes.fromhex("06092a864886f70d010702")
_PFX_VERSION = b"\x02\x01\x03"
_PEM_CMS = re.compile(rb"-----BEGIN (PKCS7|CMS)-----")
# Strings every profile carries (Apple's payload keys; the upload bundle's field).
_PROFILE_MARKS = (b"PayloadType", b"PayloadContent", b"CertificatePayload")
_FIELD = re.compile(rb"^[\x21-\x39\x3b-\x7e]+[ \t]*:")
_MESSAGE_FIELDS = frozenset(
    {
        b"from",
        b"to",
        b"cc",
        b"subject",
        b"date",
        b"message-id",
        b"mime-version",
        b"content-type",
        b"received",
        b"return-path",
        b"sender",
        b"reply-to",
    }
)
_SNIFF_BYTES = 64 * 1024


def classify(path: Path, *, limit: int = MAX_FILE_BYTES) -> OpenedFile:
    """Read ``path`` and tell which flow it belongs to.

    Raises:
        OpenFileError: the file is missing, a directory, unreadable, empty, larger than
            ``limit``, or holds none of the kinds Inbox opens (one line, naming the file).
    """
    data = _read(path, limit)
    kind = sniff(data) or _BY_EXTENSION.get(path.suffix.lower())
    if kind is None:
        raise OpenFileError(
            one_line(
                f"Inbox cannot open {path.name}: it is not a certificate (.p12, .pfx), "
                "a configuration profile (.mobileconfig) or a message (.eml)"
            )
        )
    return OpenedFile(path, kind, data)


def sniff(data: bytes) -> FileKind | None:
    """The kind of ``data`` from its structure alone, or None when it matches none."""
    body = _der_sequence_body(data)
    if body is not None:
        if body.startswith(_PFX_VERSION):
            return FileKind.P12
        if body.startswith(_SIGNED_DATA_OID) and _looks_like_profile(data):
            return FileKind.PROFILE  # a signed profile: the property list travels inside
        return None
    head = data[:_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"bplist"):
        return FileKind.PROFILE
    if head.startswith(b"<") and (b"<plist" in head or b"DOCTYPE plist" in head):
        return FileKind.PROFILE
    if head.startswith(b"{") and _looks_like_profile(head):
        return FileKind.PROFILE
    if _PEM_CMS.match(head):
        return FileKind.PROFILE
    if _looks_like_message(head):
        return FileKind.MESSAGE
    # Base64 of a DER SEQUENCE starts "MI"; only then is decoding the whole file worth it.
    if head.startswith(b"MI") and _base64_signed_profile(data):
        return FileKind.PROFILE
    return None


def _read(path: Path, limit: int) -> bytes:
    name = one_line(str(path))
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError as exc:
        raise OpenFileError(f"there is no file {name}") from exc
    except IsADirectoryError as exc:
        raise OpenFileError(f"{name} is a folder, not a file") from exc
    except PermissionError as exc:
        raise OpenFileError(f"cannot read {name}: permission denied") from exc
    except OSError as exc:
        raise OpenFileError(one_line(f"cannot read {name}: {exc.strerror or exc}")) from exc
    if len(data) > limit:
        raise OpenFileError(f"{name} is larger than {limit // 2**20} MB: Inbox does not open it")
    if not data:
        raise OpenFileError(f"{name} is empty")
    return data


def _der_sequence_body(data: bytes) -> bytes | None:
    """What follows a DER/BER SEQUENCE's header, or None if ``data`` does not start with one."""
    if len(data) < 4 or data[0] != 0x30:
        return None
    first = data[1]
    if first < 0x80 or first == 0x80:  # short form, or BER's indefinite length
        return data[2:]
    count = first & 0x7F
    if count > 4 or len(data) < 2 + count:
        return None
    return data[2 + count :]


def _looks_like_profile(data: bytes) -> bool:
    return any(mark in data for mark in _PROFILE_MARKS)


def _base64_signed_profile(data: bytes) -> bool:
    """A signed profile saved as base64 without PEM armour (as some MDM consoles do)."""
    try:
        der = base64.b64decode(b"".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    body = _der_sequence_body(der)
    return body is not None and body.startswith(_SIGNED_DATA_OID) and _looks_like_profile(der)


def _looks_like_message(head: bytes) -> bool:
    """RFC 5322: header fields (``Name: value``, folded lines) before the first empty line."""
    lines = re.split(rb"\r\n|\n", head)
    if lines and lines[0].startswith(b"From "):
        lines = lines[1:]  # an mbox separator line, as some clients save single messages
    known = False
    for position, line in enumerate(lines):
        if not line:
            return position > 0 and known
        if line[:1] in (b" ", b"\t"):
            if position == 0:
                return False
            continue
        match = _FIELD.match(line)
        if match is None:
            return False
        name = match.group(0).rstrip(b" \t:").lower()
        known = known or name in _MESSAGE_FIELDS
    return known  # a header without a body (or longer than the sample)
