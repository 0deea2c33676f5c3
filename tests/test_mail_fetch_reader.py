"""The sync's own FETCH response reader, without a server: canned answers, and the same
results as imapclient's generic parser for any answer made of the items it reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st
from imapclient.response_parser import parse_fetch_response  # type: ignore[import-untyped]

from inbox_app.transport import _fetch
from inbox_app.transport._fetch import (
    Closed,
    FetchFailed,
    internaldate,
    read_responses,
    uid_sets,
)

HEADER = b"BODY[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID CONTENT-TYPE)]"


class Wire:
    """What imaplib's IMAP4 offers the reader: lines and blocks of one byte string."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def readline(self) -> bytes:
        end = self.data.find(b"\n", self.pos)
        end = len(self.data) if end < 0 else end + 1
        line, self.pos = self.data[self.pos : end], end
        return line

    def read(self, size: int) -> bytes:
        block, self.pos = self.data[self.pos : self.pos + size], self.pos + size
        return block


def fetch(seq: int, *items: bytes, literal: bytes | None = None) -> bytes:
    """One FETCH response; ``literal`` follows the header section's announcement."""
    body = b" ".join(items)
    if literal is None:
        return b"* %d FETCH (%s)\r\n" % (seq, body)
    return b"* %d FETCH (%s %s {%d}\r\n%s)\r\n" % (seq, body, HEADER, len(literal), literal)


def read(
    data: bytes, tag: bytes = b"A1", others: list[bytes] | None = None
) -> list[dict[bytes, Any]]:
    return list(read_responses(Wire(data + tag + b" OK done\r\n"), tag, others=others))


def test_summary_items_with_a_literal() -> None:
    header = b"From: Alice <a@example.com>\r\nSubject: Hi\r\n\r\n"
    (data,) = read(
        fetch(
            7,
            b'UID 42 FLAGS (\\Seen $Label) INTERNALDATE "01-Jun-2026 12:00:00 +0200"',
            b"RFC822.SIZE 1234 MODSEQ (99)",
            literal=header,
        )
    )
    assert data == {
        b"SEQ": 7,
        b"UID": 42,
        b"FLAGS": (b"\\Seen", b"$Label"),
        b"INTERNALDATE": datetime(2026, 6, 1, 12, tzinfo=timezone(timedelta(hours=2))),
        b"RFC822.SIZE": 1234,
        b"MODSEQ": 99,
        HEADER: header,
    }


def test_shapes_servers_send() -> None:
    others: list[bytes] = []
    found = read(
        b"* 3 EXISTS\r\n"
        # Items in another order, an empty flag list, a day with a leading space.
        + fetch(1, b'FLAGS () UID 5 INTERNALDATE " 2-Jan-2026 08:09:10 -0130"', literal=b"")
        # A small header section sent as a quoted string, with escapes; NIL elsewhere.
        + b'* 2 FETCH (UID 6 %s "Subject: \\"q\\" \\\\ x" RFC822.SIZE 9)\r\n' % HEADER
        + b"* 3 FETCH (UID 7 %s NIL)\r\n" % HEADER
        # An unsolicited flag change without UID, and a literal in another response.
        + b"* 4 FETCH (FLAGS (\\Deleted))\r\n"
        + b"* VANISHED (EARLIER) 1:3,9\r\n"
        + b"* OK [ALERT] {5}\r\nhello\r\n",
        others=others,
    )
    assert [d.get(b"UID") for d in found] == [5, 6, 7, None]
    assert found[0][b"FLAGS"] == ()
    assert found[0][b"INTERNALDATE"] == datetime(
        2026, 1, 2, 8, 9, 10, tzinfo=timezone(-timedelta(hours=1, minutes=30))
    )
    assert found[1][HEADER] == b'Subject: "q" \\ x'
    assert found[2][HEADER] is None
    assert found[3] == {b"SEQ": 4, b"FLAGS": (b"\\Deleted",)}
    assert others == [b"* 3 EXISTS\r\n", b"* VANISHED (EARLIER) 1:3,9\r\n", b"* OK [ALERT] {5}\r\n"]


def test_anything_unusual_goes_to_imapclients_parser() -> None:
    # A nested list (BODYSTRUCTURE) is not ours to read: the generic parser takes it.
    (data,) = read(
        b'* 1 FETCH (UID 3 BODYSTRUCTURE ("text" "plain" ("charset" "utf-8") NIL NIL '
        b'"7bit" 5 1 NIL NIL NIL NIL) FLAGS (\\Seen))\r\n'
    )
    assert data[b"UID"] == 3
    assert data[b"FLAGS"] == (b"\\Seen",)
    assert data[b"BODYSTRUCTURE"] is not None


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (b"A1 NO [SERVERBUG] it broke\r\n", FetchFailed),
        (b"A1 BAD no mailbox selected\r\n", FetchFailed),
        (b"* BYE shutting down\r\n", Closed),
        (b"* 1 FETCH (UID 1 " + HEADER + b" {50}\r\nshort", Closed),
        (b"* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n", Closed),  # then nothing: EOF
    ],
)
def test_failures(answer: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        list(read_responses(Wire(answer), b"A1"))


def test_failed_command_text_is_the_servers() -> None:
    with pytest.raises(FetchFailed, match="it broke"):
        list(read_responses(Wire(b"A1 NO [SERVERBUG] it broke\r\n"), b"A1"))


def test_internaldate() -> None:
    assert internaldate(b"31-Dec-1999 23:59:59 +0000") == datetime(
        1999, 12, 31, 23, 59, 59, tzinfo=UTC
    )
    for bad in (b"", b"32-Dec-1999 23:59:59 +0000", b"01-Foo-2026 12:00:00 +0000", b"garbage"):
        assert internaldate(bad) is None


def test_uid_sets() -> None:
    assert uid_sets([]) == []
    assert uid_sets([5, 1, 2, 3, 3, 9, 10]) == [b"1:3,5,9:10"]
    sets = uid_sets(range(1, 20_000, 2), limit=100)
    assert all(len(s) <= 100 for s in sets)
    uids = [int(u) for s in sets for u in s.split(b",")]
    assert uids == list(range(1, 20_000, 2))


# ---------------------------------------------------------------- same as imapclient

_atoms = st.from_regex(r"\A\\?[A-Za-z$][A-Za-z0-9_$-]{0,8}\Z", fullmatch=True).map(str.encode)
_strings = st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


@st.composite
def _responses(draw: st.DrawFn) -> tuple[bytes, int]:
    seq = draw(st.integers(1, 10**6))
    items = [b"UID %d" % draw(st.integers(1, 2**32 - 1))]
    if draw(st.booleans()):
        items.append(b"FLAGS (%s)" % b" ".join(draw(st.lists(_atoms, max_size=4))))
    if draw(st.booleans()):
        items.append(b"RFC822.SIZE %d" % draw(st.integers(0, 10**9)))
    if draw(st.booleans()):
        items.append(b"MODSEQ (%d)" % draw(st.integers(1, 2**63 - 1)))
    if draw(st.booleans()):
        text = draw(_strings)
        quoted = text.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
        items.append(b'%s "%s"' % (HEADER, quoted))
    order = draw(st.permutations(items))
    literal = draw(st.none() | st.binary(max_size=200))
    return fetch(seq, *order, literal=literal), seq


@given(_responses())
def test_the_fast_reader_agrees_with_imapclient(response: tuple[bytes, int]) -> None:
    raw, seq = response
    # The fast path reads every such response itself (the generic one is not asked).
    with mock.patch.object(_fetch, "_parse_generic", side_effect=AssertionError("slow path")):
        (ours,) = read(raw)
    # imapclient's parser over what imaplib would have handed it.
    head, sep, rest = raw.partition(b"}\r\n")
    if sep:
        size = int(head.rsplit(b"{", 1)[1])
        lines = [(head.removeprefix(b"* ").replace(b" FETCH", b"", 1) + b"}", rest[:size]),
                 rest[size:].rstrip(b"\r\n")]  # fmt: skip
    else:
        lines = [raw.removeprefix(b"* ").replace(b" FETCH", b"", 1).rstrip(b"\r\n")]
    theirs = dict(parse_fetch_response(lines, False, False)[seq])
    if b"MODSEQ" in theirs:
        theirs[b"MODSEQ"] = int(theirs[b"MODSEQ"][0])
    theirs[b"SEQ"] = seq
    assert ours == theirs


def test_a_response_naming_two_messages_is_a_protocol_error() -> None:
    from imapclient.exceptions import IMAPClientError

    from inbox_app.transport import _fetch

    # Reported as the server's error (the session's guard makes it one line), not as a
    # ValueError from unpacking that would reach the crash dialog.
    with pytest.raises(IMAPClientError, match="named 2 messages"):
        _fetch._parse_generic([b"* 1 FETCH (UID 5) 2 (UID 6)\r\n"], [])
