"""A streaming reader for the FETCH responses a sync asks for (RFC 3501 §7.4.2).

imapclient's generic response parser tokenises every byte in Python; for the message
list's items (UID, FLAGS, INTERNALDATE, RFC822.SIZE, a header section, MODSEQ) it costs
several times what the server needs to send them. This reader takes the response line by
line (literals by their announced length), matches each item with one regular
expression, and hands anything it does not expect (nested lists, unusual spacing) to
imapclient's parser, so its answers are the same, only sooner.

Responses are yielded as they arrive, so a caller can store the first messages while the
server is still sending the rest.

Private to :mod:`inbox_app.transport.imap`, which translates the errors raised here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Protocol

from imapclient.exceptions import ProtocolError  # type: ignore[import-untyped]
from imapclient.response_parser import parse_fetch_response  # type: ignore[import-untyped]

# A set on one command line stays well under servers' line limits (Dovecot: 64 KiB).
MAX_SET_LENGTH = 8_000

_FETCH = re.compile(rb"\* (\d+) FETCH \(", re.IGNORECASE)
_LITERAL = re.compile(rb"\{(\d+)\}\r?\n\Z")
# One item and its value: a number, a quoted string, a flat list (FLAGS, MODSEQ), NIL or a
# literal announced at the end of the line. Section names such as
# "BODY[HEADER.FIELDS (FROM SUBJECT)]" may hold spaces and parentheses inside brackets.
_ITEM = re.compile(
    rb" ?([A-Za-z0-9.]+(?:\[[^\]]*\])?(?:<\d+>)?) "
    rb'(?:(\d+)|"((?:[^"\\\r\n]|\\.)*)"|\(([^()\r\n]*)\)|(NIL)|\{(\d+)\}\r?\n\Z)',
    re.IGNORECASE,
)
_END = re.compile(rb"\)\r?\n\Z")
_ESCAPED = re.compile(rb"\\(.)")
_INTERNALDATE = re.compile(
    rb" ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)\Z"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        (b"jan", b"feb", b"mar", b"apr", b"may", b"jun",
         b"jul", b"aug", b"sep", b"oct", b"nov", b"dec"), 1
    )
}  # fmt: skip


class LineReader(Protocol):
    """What the reader needs of imaplib's ``IMAP4``: its line and block reads."""

    def readline(self) -> bytes: ...

    def read(self, size: int) -> bytes: ...


class FetchFailed(Exception):
    """The server ended the command with NO or BAD; ``str()`` is its text."""


class Closed(Exception):
    """The connection ended (EOF or BYE) before the command completed."""


def uid_sets(uids: Iterable[int], *, limit: int = MAX_SET_LENGTH) -> list[bytes]:
    """UIDs as IMAP sequence sets ("1:500,502"), each short enough for one command."""
    ranges: list[list[int]] = []
    for uid in sorted(set(uids)):
        if ranges and uid == ranges[-1][1] + 1:
            ranges[-1][1] = uid
        else:
            ranges.append([uid, uid])
    sets: list[bytes] = []
    current: list[bytes] = []
    length = 0
    for low, high in ranges:
        text = b"%d" % low if low == high else b"%d:%d" % (low, high)
        if current and length + len(text) + 1 > limit:
            sets.append(b",".join(current))
            current, length = [], 0
        current.append(text)
        length += len(text) + 1
    if current:
        sets.append(b",".join(current))
    return sets


def read_responses(
    imap: LineReader, tag: bytes, *, others: list[bytes] | None = None
) -> Iterator[dict[bytes, Any]]:
    """Each FETCH response up to the tagged completion of ``tag``, as a dict.

    Keys are item names in upper case (``b"UID"``, ``b"FLAGS"``, ...) plus ``b"SEQ"``;
    values: int (numbers), bytes (strings and literals), a tuple of bytes (flat lists;
    MODSEQ as an int), None (NIL), and INTERNALDATE as an aware datetime. Other untagged
    responses (EXISTS, VANISHED, ...) are read past, or their first lines appended to
    ``others``.

    Raises:
        FetchFailed: the command ended with NO or BAD.
        Closed: the server said BYE or closed the connection.
    """
    done = tag + b" "
    while True:
        line = imap.readline()
        if not line:
            raise Closed("the server closed the connection")
        if line.startswith(done):
            status, _, text = line[len(done) :].partition(b" ")
            if status.upper() != b"OK":
                raise FetchFailed(text.decode("utf-8", "replace").strip() or status.decode())
            return
        parts = [line]
        literals: list[bytes] = []
        while (literal := _LITERAL.search(line)) is not None:
            size = int(literal.group(1))
            data = imap.read(size)
            if len(data) != size:
                raise Closed("the server closed the connection")
            literals.append(data)
            line = imap.readline()
            if not line:
                raise Closed("the server closed the connection")
            parts.append(line)
        if parts[0][:6].upper() == b"* BYE ":
            raise Closed(parts[0][6:].decode("utf-8", "replace").strip())
        if _FETCH.match(parts[0]) is None:
            if others is not None:
                others.append(parts[0])
            continue
        parsed = _parse(parts, literals)
        if parsed is None:
            parsed = _parse_generic(parts, literals)
        yield parsed


def _parse(parts: list[bytes], literals: list[bytes]) -> dict[bytes, Any] | None:
    """The fast path: a response made of simple items; None when it is anything else."""
    start = _FETCH.match(parts[0])
    assert start is not None  # noqa: S101 (checked by the caller)
    data: dict[bytes, Any] = {b"SEQ": int(start.group(1))}
    text, pos, index = parts[0], start.end(), 0
    while True:
        item = _ITEM.match(text, pos)
        if item is None:
            if index == len(literals) and _END.match(text, pos) is not None:
                return data
            return None
        name = item.group(1).upper()
        number, quoted, listed, nil, literal = item.group(2, 3, 4, 5, 6)
        if literal is not None:
            if index >= len(literals):
                return None
            data[name] = literals[index]
            index += 1
            text, pos = parts[index], 0
            continue
        pos = item.end()
        if number is not None:
            data[name] = int(number)
        elif quoted is not None:
            value = _ESCAPED.sub(rb"\1", quoted) if b"\\" in quoted else quoted
            if name == b"INTERNALDATE":
                data[name] = internaldate(value)
            else:
                data[name] = value
        elif listed is not None:
            values = tuple(listed.split())
            data[name] = int(values[0]) if name == b"MODSEQ" and len(values) == 1 else values
        else:
            assert nil is not None  # noqa: S101 (the only alternative left)
            data[name] = None


def _parse_generic(parts: list[bytes], literals: list[bytes]) -> dict[bytes, Any]:
    """Anything unusual goes through imapclient's full parser, in imaplib's shapes."""
    lines: list[Any] = []
    first = _FETCH.sub(lambda m: m.group(1) + b" (", parts[0], count=1)
    texts = [first, *parts[1:]]
    for index, text in enumerate(texts):
        stripped = text.rstrip(b"\r\n")
        lines.append((stripped, literals[index]) if index < len(literals) else stripped)
    parsed = parse_fetch_response(lines, False, False)
    if len(parsed) != 1:
        # One FETCH response line names one message; anything else is the server's error,
        # reported as one (the caller's guard turns it into a one-line ServerError).
        raise ProtocolError(f"a FETCH response named {len(parsed)} messages")
    ((seq, data),) = parsed.items()
    result: dict[bytes, Any] = {b"SEQ": int(seq)}
    for key, value in data.items():
        if key == b"MODSEQ" and isinstance(value, tuple) and len(value) == 1:
            value = int(value[0])
        result[key.upper() if isinstance(key, bytes) else key] = value
    return result


def internaldate(text: bytes) -> datetime | None:
    """An INTERNALDATE ("01-Jun-2026 12:00:00 +0200") as an aware datetime; None if bad."""
    match = _INTERNALDATE.match(text)
    if match is None:
        return None
    day, month, year, hour, minute, second, sign, zone_h, zone_m = match.groups()
    number = _MONTHS.get(month.lower())
    if number is None:
        return None
    try:
        return datetime(
            int(year), number, int(day), int(hour), int(minute), int(second),
            tzinfo=_zone(sign == b"-", int(zone_h), int(zone_m)),
        )  # fmt: skip
    except ValueError:
        return None


@lru_cache(maxsize=64)
def _zone(negative: bool, hours: int, minutes: int) -> timezone:
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if negative else offset)
