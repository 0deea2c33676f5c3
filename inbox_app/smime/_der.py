"""A minimal, strict reader of DER tag-length-value triples.  Private.

asn1crypto parses everything we need, but walking the signed attributes through it costs
more than the rest of a verification together; signed attributes must be DER anyway
(RFC 5652 §5.3), so a strict reader for them is both faster and stricter.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from inbox_app.smime.errors import MalformedError

TAG_OCTET_STRING = 0x04
TAG_OID = 0x06
TAG_UTC_TIME = 0x17
TAG_GENERALIZED_TIME = 0x18
TAG_SEQUENCE = 0x30
TAG_SET = 0x31


@dataclass(frozen=True)
class Tlv:
    tag: int  # the identifier octet (single-octet tags only)
    value: bytes


def read_tlv(data: bytes, offset: int = 0) -> tuple[Tlv, int]:
    """Read one DER TLV at ``offset``; return it and the offset just past it.

    Raises:
        MalformedError: truncated, indefinite or non-minimal length, multi-octet tag.
    """
    end = len(data)
    if offset + 2 > end:
        raise MalformedError("truncated DER")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise MalformedError("unexpected multi-octet DER tag")
    first = data[offset + 1]
    offset += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or offset + count > end:
            raise MalformedError("invalid DER length")
        length = int.from_bytes(data[offset : offset + count], "big")
        if length < 0x80 or data[offset] == 0:
            raise MalformedError("non-minimal DER length")
        offset += count
    if offset + length > end:
        raise MalformedError("truncated DER")
    return Tlv(tag, data[offset : offset + length]), offset + length


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
