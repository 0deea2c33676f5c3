"""A minimal, strict reader of DER tag-length-value triples.  Private.

asn1crypto parses everything we need, but walking the signed attributes through it costs
more than the rest of a verification together; signed attributes must be DER anyway
(RFC 5652 §5.3), so a strict reader for them is both faster and stricter.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import NamedTuple

from inbox_app.smime.errors import MalformedError

TAG_OCTET_STRING = 0x04
TAG_OID = 0x06
TAG_UTC_TIME = 0x17
TAG_GENERALIZED_TIME = 0x18
TAG_SEQUENCE = 0x30
TAG_SET = 0x31


class Tlv(NamedTuple):
    tag: int  # the identifier octet (single-octet tags only)
    value: bytes

    def encode(self) -> bytes:
        """The TLV encoded again (DER: the same octets it was read from)."""
        return encode(self.tag, self.value)


def read_tlv(data: bytes, offset: int = 0) -> tuple[Tlv, int]:
    """Read one DER TLV at ``offset``; return it and the offset just past it.

    Raises:
        MalformedError: truncated, indefinite or non-minimal length, multi-octet tag.
    """
    element = read_element(data, offset, der=True)
    return Tlv(element.tag, data[element.content_start : element.content_end]), element.end


def iter_tlvs(data: bytes) -> Iterator[Tlv]:
    """Every TLV in ``data``, which must be nothing but TLVs."""
    offset = 0
    while offset < len(data):
        tlv, offset = read_tlv(data, offset)
        yield tlv


def encode_oid(dotted: str) -> bytes:
    """The content octets of an OBJECT IDENTIFIER (X.690 §8.19)."""
    arcs = [int(arc) for arc in dotted.split(".")]
    body = [40 * arcs[0] + arcs[1], *arcs[2:]]
    out = bytearray()
    for arc in body:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return bytes(out)


@functools.lru_cache(maxsize=256)
def decode_oid(content: bytes) -> str:
    """Dotted text of OBJECT IDENTIFIER content octets.

    Raises:
        MalformedError: empty or truncated.
    """
    if not content or content[-1] & 0x80:
        raise MalformedError("invalid OBJECT IDENTIFIER")
    arcs: list[int] = []
    value = 0
    for octet in content:
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(arc) for arc in (*head, *arcs[1:]))


# ------------------------------------------------------------------------------- BER
# CMS objects may be BER (NSS writes indefinite lengths and chunked OCTET STRINGs);
# RFC 5652 §5.3 requires DER only for the signed attributes.

MAX_DEPTH = 32
CONSTRUCTED = 0x20
_EOC = b"\x00\x00"


class Element(NamedTuple):
    """One BER element located inside a buffer (offsets, no copies).

    A named tuple rather than a dataclass: a message's envelope has dozens of elements and
    tuples are several times cheaper to make.
    """

    tag: int
    start: int
    content_start: int
    content_end: int
    end: int

    @property
    def constructed(self) -> bool:
        return bool(self.tag & CONSTRUCTED)


def read_element(
    data: bytes, offset: int = 0, limit: int | None = None, depth: int = 0, *, der: bool = False
) -> Element:
    """Locate the BER element at ``offset`` (ending at or before ``limit``).

    Args:
        der: also refuse what DER forbids (indefinite and non-minimal lengths).

    Raises:
        MalformedError: truncated, too deeply nested, or otherwise unreadable.
    """
    if depth > MAX_DEPTH:
        raise MalformedError("the CMS structure is nested too deeply")
    end = len(data) if limit is None else limit
    if offset + 2 > end:
        raise MalformedError("truncated CMS structure")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise MalformedError("unexpected multi-octet tag in CMS structure")
    first = data[offset + 1]
    position = offset + 2
    if first == 0x80:
        if der or not tag & CONSTRUCTED:
            raise MalformedError("indefinite length on a primitive CMS element")
        while True:
            if position + 2 > end:
                raise MalformedError("truncated CMS structure (no end-of-contents)")
            if data[position : position + 2] == _EOC:
                return Element(tag, offset, offset + 2, position, position + 2)
            position = read_element(data, position, end, depth + 1).end
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count > 4 or position + count > end:
            raise MalformedError("invalid length in CMS structure")
        length = int.from_bytes(data[position : position + count], "big")
        if der and (length < 0x80 or data[position] == 0):
            raise MalformedError("non-minimal length in DER")
        position += count
    if position + length > end:
        raise MalformedError("truncated CMS structure")
    return Element(tag, offset, position, position + length, position + length)


def children(data: bytes, element: Element, depth: int = 0) -> list[Element]:
    """The elements inside a constructed ``element``."""
    if not element.constructed:
        raise MalformedError("expected a constructed CMS element")
    result = []
    position = element.content_start
    while position < element.content_end:
        child = read_element(data, position, element.content_end, depth + 1)
        result.append(child)
        position = child.end
    return result


def octets(data: bytes, element: Element, depth: int = 0) -> bytes:
    """The value of an OCTET STRING, primitive or constructed from chunks (X.690 §8.7)."""
    if depth > MAX_DEPTH:
        raise MalformedError("the CMS structure is nested too deeply")
    if not element.constructed:
        return data[element.content_start : element.content_end]
    return b"".join(octets(data, chunk, depth + 1) for chunk in children(data, element, depth))


def raw(data: bytes, element: Element) -> bytes:
    """The whole encoding of ``element`` as received."""
    return data[element.start : element.end]


def content(data: bytes, element: Element) -> bytes:
    return data[element.content_start : element.content_end]


# ----------------------------------------------------------------------------- writing
# DER, for the structures we build ourselves (asn1crypto has no definitions for several
# of them: GCMParameters, ECC-CMS-SharedInfo, the RFC 5753 key agreement schemes).


def encode(tag: int, value: bytes) -> bytes:
    """One DER TLV."""
    length = len(value)
    if length < 0x80:
        header = bytes([tag, length])
    else:
        octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
        header = bytes([tag, 0x80 | len(octets)]) + octets
    return header + value


def sequence(*items: bytes) -> bytes:
    return encode(TAG_SEQUENCE, b"".join(items))


def set_of(*items: bytes) -> bytes:
    """A SET OF, its elements sorted by their encodings as DER requires (X.690 §11.6)."""
    return encode(TAG_SET, b"".join(sorted(items)))


def oid(dotted: str) -> bytes:
    return encode(TAG_OID, encode_oid(dotted))


def integer(value: int) -> bytes:
    magnitude = value if value >= 0 else ~value
    size = magnitude.bit_length() // 8 + 1  # minimal, with room for the sign bit
    return encode(0x02, value.to_bytes(size, "big", signed=True))


def octet_string(value: bytes) -> bytes:
    return encode(TAG_OCTET_STRING, value)


def bit_string(value: bytes) -> bytes:
    return encode(0x03, b"\x00" + value)


NULL = b"\x05\x00"


def explicit(number: int, value: bytes) -> bytes:
    """A context-specific [number] EXPLICIT wrapper."""
    return encode(0xA0 | number, value)


def implicit(number: int, tlv: bytes, *, constructed: bool) -> bytes:
    """Re-tag an encoded TLV as context-specific [number] IMPLICIT."""
    tag = (0xA0 if constructed else 0x80) | number
    return bytes([tag]) + tlv[1:]


def algorithm(dotted: str, parameters: bytes | None = None) -> bytes:
    """An AlgorithmIdentifier (RFC 5280 §4.1.1.2)."""
    return sequence(oid(dotted), parameters or b"")
