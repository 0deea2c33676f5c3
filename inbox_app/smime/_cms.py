"""Low-level CMS (RFC 5652) plumbing over asn1crypto.  Private: use the recipes instead.

Everything asn1crypto can raise stays inside this module: parsing turns a DER/BER blob
into plain Python values or raises :class:`MalformedError`, so the code that makes
security decisions never touches half-parsed ASN.1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509

from inbox_app.smime import _der
from inbox_app.smime.errors import MalformedError

_T = TypeVar("_T")

# Everything asn1crypto raises on hostile input; RecursionError covers absurd nesting.
_ASN1_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError)


@dataclass(frozen=True)
class PssParameters:
    hash_name: str
    mgf_hash_name: str
    salt_length: int


@dataclass(frozen=True)
class SignerInfoData:
    """One SignerInfo reduced to the values verification needs."""

    issuer_der: bytes | None  # issuerAndSerialNumber
    serial: int | None
    subject_key_id: bytes | None  # or subjectKeyIdentifier
    digest_algorithm: str
    signed_attrs_der: bytes | None  # re-tagged as SET OF for the signature (RFC 5652 §5.4)
    content_type_attr: str | None
    message_digest_attr: bytes | None
    signing_time: datetime | None
    signature_algorithm: str  # asn1crypto's signature_algo: rsassa_pkcs1v15, ecdsa...
    signature_hash: str | None  # the hash named by the signature algorithm, if it names one
    pss: PssParameters | None
    signature: bytes
    attribute_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class SignedDataData:
    """A SignedData reduced to plain values."""

    digest_algorithms: tuple[str, ...]
    econtent_type: str
    econtent: bytes | None
    certificates: tuple[bytes, ...]
    crls: tuple[bytes, ...]
    signers: tuple[SignerInfoData, ...] = field(default_factory=tuple)


def content_type_of(der: bytes) -> str:
    """The content type of a ContentInfo ("signed_data", "enveloped_data", ...)."""
    return _guard(lambda: str(cms.ContentInfo.load(der)["content_type"].native))


def parse_signed_data(der: bytes) -> SignedDataData:
    """Parse a ContentInfo holding SignedData.

    Raises:
        MalformedError: not a SignedData, or not parseable.
    """
    return _guard(lambda: _parse_signed_data(der))


def _guard(action: Callable[[], _T]) -> _T:
    try:
        return action()
    except MalformedError:
        raise
    except _ASN1_ERRORS as exc:
        raise MalformedError("the CMS structure is malformed") from exc


def _parse_signed_data(der: bytes) -> SignedDataData:
    info = cms.ContentInfo.load(der, strict=False)
    if info["content_type"].native != "signed_data":
        raise MalformedError(f"expected signed data, found {info['content_type'].native}")
    signed = info["content"]
    encap = signed["encap_content_info"]
    content = encap["content"]
    econtent = None if isinstance(content, core.Void) or content.native is None else content.native
    if econtent is not None and not isinstance(econtent, bytes):
        # asn1crypto may have parsed a known inner type; take the octets as received.
        econtent = content.parsed.dump() if hasattr(content, "parsed") else bytes(econtent)
    certificates = []
    if not isinstance(signed["certificates"], core.Void):
        for choice in signed["certificates"]:
            if choice.name == "certificate":
                certificates.append(choice.chosen.dump())
    crls = []
    if not isinstance(signed["crls"], core.Void):
        for choice in signed["crls"]:
            if choice.name == "crl":
                crls.append(choice.chosen.dump())
    return SignedDataData(
        digest_algorithms=tuple(
            str(alg["algorithm"].native) for alg in signed["digest_algorithms"]
        ),
        econtent_type=str(encap["content_type"].native),
        econtent=econtent,
        certificates=tuple(certificates),
        crls=tuple(crls),
        signers=tuple(_parse_signer(info) for info in signed["signer_infos"]),
    )


def _parse_signer(info: cms.SignerInfo) -> SignerInfoData:
    sid = info["sid"]
    issuer_der = serial = ski = None
    if sid.name == "issuer_and_serial_number":
        issuer_der = sid.chosen["issuer"].dump()
        serial = int(sid.chosen["serial_number"].native)
    else:
        ski = bytes(sid.chosen.native)

    attrs = info["signed_attrs"]
    signed_attrs_der = None
    parsed = _SignedAttributes()
    if not isinstance(attrs, core.Void):
        # The signature covers the DER encoding of the attributes with an explicit SET OF
        # tag, not the [0] IMPLICIT tag they travel under (RFC 5652 §5.4).
        signed_attrs_der = b"\x31" + _der_length(len(attrs.contents)) + attrs.contents
        parsed = _parse_signed_attributes(attrs.contents)

    algorithm = info["signature_algorithm"]
    signature_algo = str(algorithm.signature_algo)
    try:
        signature_hash: str | None = str(algorithm.hash_algo)
    except ValueError:
        signature_hash = None  # e.g. rsaEncryption: the hash is the digestAlgorithm
    pss = None
    if signature_algo == "rsassa_pss":
        params = algorithm["parameters"]
        mgf = params["mask_gen_algorithm"]
        pss = PssParameters(
            hash_name=str(params["hash_algorithm"]["algorithm"].native),
            mgf_hash_name=str(mgf["parameters"]["algorithm"].native),
            salt_length=int(params["salt_length"].native),
        )
        signature_hash = pss.hash_name

    return SignerInfoData(
        issuer_der=issuer_der,
        serial=serial,
        subject_key_id=ski,
        digest_algorithm=str(info["digest_algorithm"]["algorithm"].native),
        signed_attrs_der=signed_attrs_der,
        content_type_attr=parsed.content_type,
        message_digest_attr=parsed.message_digest,
        signing_time=parsed.signing_time,
        signature_algorithm=signature_algo,
        signature_hash=signature_hash,
        pss=pss,
        signature=bytes(info["signature"].native),
        attribute_types=parsed.types,
    )


@dataclass
class _SignedAttributes:
    content_type: str | None = None
    message_digest: bytes | None = None
    signing_time: datetime | None = None
    types: tuple[str, ...] = ()


_OID_CONTENT_TYPE = _der.encode_oid("1.2.840.113549.1.9.3")
_OID_MESSAGE_DIGEST = _der.encode_oid("1.2.840.113549.1.9.4")
_OID_SIGNING_TIME = _der.encode_oid("1.2.840.113549.1.9.5")
_ATTRIBUTE_NAMES = {
    _OID_CONTENT_TYPE: "content_type",
    _OID_MESSAGE_DIGEST: "message_digest",
    _OID_SIGNING_TIME: "signing_time",
}


def _parse_signed_attributes(contents: bytes) -> _SignedAttributes:
    """Read the attributes verification needs; each may appear once with one value.

    RFC 5652 §11: contentType, messageDigest and signingTime are single-valued and a
    SignerInfo must not include multiple instances of them.
    """
    result = _SignedAttributes()
    types: list[str] = []
    for attribute in _der.iter_tlvs(contents):
        if attribute.tag != _der.TAG_SEQUENCE:
            raise MalformedError("a signed attribute is not a SEQUENCE")
        oid, offset = _der.read_tlv(attribute.value)
        values, end = _der.read_tlv(attribute.value, offset)
        if oid.tag != _der.TAG_OID or values.tag != _der.TAG_SET or end != len(attribute.value):
            raise MalformedError("a signed attribute is malformed")
        name = _ATTRIBUTE_NAMES.get(oid.value)
        types.append(name or oid.value.hex())
        if name is None:
            continue
        if name in types[:-1]:
            raise MalformedError(f"the signed attribute {name} appears more than once")
        items = list(_der.iter_tlvs(values.value))
        if len(items) != 1:
            raise MalformedError(f"the signed attribute {name} must have exactly one value")
        value = items[0]
        if name == "content_type":
            if value.tag != _der.TAG_OID:
                raise MalformedError("the contentType attribute is not an OID")
            result.content_type = str(
                cms.ContentType.load(b"\x06" + _der_length(len(value.value)) + value.value).native
            )
        elif name == "message_digest":
            if value.tag != _der.TAG_OCTET_STRING:
                raise MalformedError("the messageDigest attribute is not an OCTET STRING")
            result.message_digest = value.value
        else:
            result.signing_time = _parse_time(value)
    result.types = tuple(types)
    return result


def _parse_time(value: _der.Tlv) -> datetime:
    encoded = bytes([value.tag]) + _der_length(len(value.value)) + value.value
    if value.tag == _der.TAG_UTC_TIME:
        parsed = core.UTCTime.load(encoded).native
    elif value.tag == _der.TAG_GENERALIZED_TIME:
        parsed = core.GeneralizedTime.load(encoded).native
    else:
        raise MalformedError("the signingTime attribute is not a time")
    if not isinstance(parsed, datetime):
        raise MalformedError("the signingTime attribute is not a valid time")
    return parsed


def names_equal(der_a: bytes, der_b: bytes) -> bool:
    """Compare two X.501 Names as RFC 5280 §7.1 does (case and space insensitive)."""
    if der_a == der_b:
        return True
    try:
        return bool(asn1_x509.Name.load(der_a) == asn1_x509.Name.load(der_b))
    except _ASN1_ERRORS:
        return False


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


# ----------------------------------------------------------------------------- building


def digest_algorithm_id(name: str) -> algos.DigestAlgorithm:
    # RFC 5754 §2: the parameters of SHA-2 digest identifiers are absent.
    return algos.DigestAlgorithm({"algorithm": name})


def build_signed_attrs(attributes: list[cms.CMSAttribute]) -> cms.CMSAttributes:
    """A DER SET OF attributes, sorted by encoding as DER requires (X.690 §11.6)."""
    encoded = sorted(attr.dump() for attr in attributes)
    return cms.CMSAttributes([cms.CMSAttribute.load(blob) for blob in encoded])


def signed_attrs_for_signature(attrs: cms.CMSAttributes) -> bytes:
    """The octets a signer signs: the attributes under a SET OF tag (RFC 5652 §5.4)."""
    contents = b"".join(attr.dump() for attr in attrs)
    return b"\x31" + _der_length(len(contents)) + contents


def build_signed_data_der(
    *,
    digest_name: str,
    econtent: bytes | None,
    certificates: list[bytes],
    signer_info: cms.SignerInfo,
) -> bytes:
    """A ContentInfo holding SignedData with one signer, as DER."""
    encap: dict[str, Any] = {"content_type": "data"}
    if econtent is not None:
        encap["content"] = econtent
    signed = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [digest_algorithm_id(digest_name)],
            "encap_content_info": encap,
            "certificates": [asn1_x509.Certificate.load(der) for der in certificates],
            "signer_infos": [signer_info],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump())
