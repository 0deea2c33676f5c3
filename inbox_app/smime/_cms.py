"""Low-level CMS (RFC 5652) plumbing.  Private: use the recipes instead.

Parsing walks the BER/DER with our own small reader (:mod:`._der`) and turns it into plain
Python values or raises :class:`MalformedError`, so the code that makes security decisions
never touches half-parsed ASN.1. Building uses asn1crypto's definitions. Whatever
asn1crypto can raise stays inside this module.
"""

from __future__ import annotations

import contextlib
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
class KeyPreference:
    """The certificate a signer wants mail encrypted to (issuer and serial, or key id)."""

    issuer_der: bytes | None = None
    serial: int | None = None
    subject_key_id: bytes | None = None


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
    capabilities: tuple[str, ...] = ()
    encryption_key_preference: KeyPreference | None = None


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
    info = _der.read_element(der)
    parts = _der.children(der, info)
    if info.tag != _der.TAG_SEQUENCE or not parts or parts[0].tag != _der.TAG_OID:
        raise MalformedError("not a CMS ContentInfo")
    return content_type_name(_der.content(der, parts[0]))


def parse_signed_data(der: bytes) -> SignedDataData:
    """Parse a ContentInfo holding SignedData (RFC 5652 §5.1), BER or DER.

    Raises:
        MalformedError: not a SignedData, or not parseable.
    """
    try:
        return _parse_signed_data(der)
    except RecursionError as exc:
        raise MalformedError("the CMS structure is nested too deeply") from exc


def expect(element: _der.Element, tag: int, what: str) -> _der.Element:
    if element.tag != tag:
        raise MalformedError(f"malformed CMS: {what}")
    return element


def content_info(der: bytes, kinds: tuple[str, ...]) -> tuple[str, list[_der.Element]]:
    """Unwrap a ContentInfo (RFC 5652 §3): its content type and the fields of its content.

    Raises:
        MalformedError: not a ContentInfo, trailing data, or a type not in ``kinds``.
    """
    info = expect(_der.read_element(der), _der.TAG_SEQUENCE, "ContentInfo")
    if der[info.end :].strip(b"\x00"):
        raise MalformedError("unexpected data after the CMS structure")
    parts = _der.children(der, info)
    if len(parts) != 2:
        raise MalformedError("malformed CMS: ContentInfo")
    kind = content_type_name(_der.content(der, expect(parts[0], _der.TAG_OID, "contentType")))
    if kind not in kinds:
        raise MalformedError(f"expected {' or '.join(kinds)}, found {kind}".replace("_", " "))
    explicit = _der.children(der, expect(parts[1], 0xA0, "content"))
    if len(explicit) != 1:
        raise MalformedError("malformed CMS: content")
    return kind, _der.children(der, expect(explicit[0], _der.TAG_SEQUENCE, kind))


def _parse_signed_data(der: bytes) -> SignedDataData:
    _, fields = content_info(der, ("signed_data",))
    if len(fields) < 4:
        raise MalformedError("malformed CMS: SignedData is incomplete")
    expect(fields[0], _TAG_INTEGER, "SignedData version")
    digest_set = expect(fields[1], _der.TAG_SET, "digestAlgorithms")
    digest_algorithms = tuple(
        _algorithm(der, element)[0] for element in _der.children(der, digest_set)
    )
    econtent_type, econtent = _encapsulated(der, expect(fields[2], _der.TAG_SEQUENCE, "eContent"))
    certificates: list[bytes] = []
    crls: list[bytes] = []
    rest = fields[3:]
    if rest and rest[0].tag == 0xA0:  # certificates [0] IMPLICIT CertificateSet
        certificates = [
            _der.raw(der, choice)
            for choice in _der.children(der, rest[0])
            if choice.tag == _der.TAG_SEQUENCE  # X.509 certificates; skip other choices
        ]
        rest = rest[1:]
    if rest and rest[0].tag == 0xA1:  # crls [1] IMPLICIT RevocationInfoChoices
        crls = [
            _der.raw(der, choice)
            for choice in _der.children(der, rest[0])
            if choice.tag == _der.TAG_SEQUENCE
        ]
        rest = rest[1:]
    if len(rest) != 1:
        raise MalformedError("malformed CMS: SignedData has unexpected fields")
    signer_set = expect(rest[0], _der.TAG_SET, "signerInfos")
    return SignedDataData(
        digest_algorithms=digest_algorithms,
        econtent_type=econtent_type,
        econtent=econtent,
        certificates=tuple(certificates),
        crls=tuple(crls),
        signers=tuple(_parse_signer(der, element) for element in _der.children(der, signer_set)),
    )


def parse_issuer_serial(der: bytes, element: _der.Element) -> tuple[bytes, int]:
    """IssuerAndSerialNumber (RFC 5652 §10.2.4): the issuer's DER Name and the serial."""
    parts = _der.children(der, element)
    if len(parts) != 2 or parts[0].tag != _der.TAG_SEQUENCE or parts[1].tag != _TAG_INTEGER:
        raise MalformedError("malformed CMS: issuerAndSerialNumber")
    return _der.raw(der, parts[0]), int.from_bytes(_der.content(der, parts[1]), "big", signed=True)


def _encapsulated(der: bytes, element: _der.Element) -> tuple[str, bytes | None]:
    parts = _der.children(der, element)
    if not parts or len(parts) > 2:
        raise MalformedError("malformed CMS: EncapsulatedContentInfo")
    kind = content_type_name(_der.content(der, expect(parts[0], _der.TAG_OID, "eContentType")))
    if len(parts) == 1:
        return kind, None
    inner = _der.children(der, expect(parts[1], 0xA0, "eContent"))
    if len(inner) != 1 or inner[0].tag not in (_der.TAG_OCTET_STRING, 0x24):
        raise MalformedError("malformed CMS: eContent is not an OCTET STRING")
    return kind, _der.octets(der, inner[0])


def _algorithm(der: bytes, element: _der.Element) -> tuple[str, bytes | None]:
    """An AlgorithmIdentifier: (dotted OID or known name, raw parameters or None)."""
    parts = _der.children(der, expect(element, _der.TAG_SEQUENCE, "AlgorithmIdentifier"))
    if not parts or len(parts) > 2 or parts[0].tag != _der.TAG_OID:
        raise MalformedError("malformed CMS: AlgorithmIdentifier")
    oid = _der.decode_oid(_der.content(der, parts[0]))
    name = _DIGESTS.get(oid) or _SIGNATURES.get(oid, (oid, None))[0]
    return name, (_der.raw(der, parts[1]) if len(parts) == 2 else None)


def _parse_signer(der: bytes, element: _der.Element) -> SignerInfoData:
    fields = _der.children(der, expect(element, _der.TAG_SEQUENCE, "SignerInfo"))
    if len(fields) < 5:
        raise MalformedError("malformed CMS: SignerInfo is incomplete")
    expect(fields[0], _TAG_INTEGER, "SignerInfo version")
    sid = fields[1]
    issuer_der = serial = ski = None
    if sid.tag == _der.TAG_SEQUENCE:  # issuerAndSerialNumber
        issuer_der, serial = parse_issuer_serial(der, sid)
    elif sid.tag in (0x80, 0xA0):  # subjectKeyIdentifier [0] IMPLICIT OCTET STRING
        ski = _der.octets(der, sid)
    else:
        raise MalformedError("malformed CMS: SignerIdentifier")
    digest_name, _ = _algorithm(der, fields[2])
    rest = fields[3:]
    signed_attrs_der = None
    parsed = _SignedAttributes()
    if rest[0].tag == 0xA0:
        # The signature covers the DER encoding of the attributes with an explicit SET OF
        # tag, not the [0] IMPLICIT tag they travel under (RFC 5652 §5.4).
        contents = _der.content(der, rest[0])
        signed_attrs_der = b"\x31" + _der_length(len(contents)) + contents
        parsed = _parse_signed_attributes(contents)
        rest = rest[1:]
    if len(rest) < 2:
        raise MalformedError("malformed CMS: SignerInfo is incomplete")
    if len(rest) > 3 or (len(rest) == 3 and rest[2].tag != 0xA1):
        raise MalformedError("malformed CMS: SignerInfo has unexpected fields")
    algorithm_parts = _der.children(der, expect(rest[0], _der.TAG_SEQUENCE, "signatureAlgorithm"))
    if not algorithm_parts or algorithm_parts[0].tag != _der.TAG_OID:
        raise MalformedError("malformed CMS: signatureAlgorithm")
    oid = _der.decode_oid(_der.content(der, algorithm_parts[0]))
    signature_algo, signature_hash = _SIGNATURES.get(oid, (oid, None))
    pss = None
    if signature_algo == "rsassa_pss":
        params = _der.raw(der, algorithm_parts[1]) if len(algorithm_parts) > 1 else b"\x30\x00"
        pss = _guard(lambda: _pss_parameters(params))
        signature_hash = pss.hash_name
    signature_element = rest[1]
    if signature_element.tag not in (_der.TAG_OCTET_STRING, 0x24):
        raise MalformedError("malformed CMS: signature is not an OCTET STRING")
    return SignerInfoData(
        issuer_der=issuer_der,
        serial=serial,
        subject_key_id=ski,
        digest_algorithm=digest_name,
        signed_attrs_der=signed_attrs_der,
        content_type_attr=parsed.content_type,
        message_digest_attr=parsed.message_digest,
        signing_time=parsed.signing_time,
        signature_algorithm=signature_algo,
        signature_hash=signature_hash,
        pss=pss,
        signature=_der.octets(der, signature_element),
        attribute_types=parsed.types,
        capabilities=parsed.capabilities,
        encryption_key_preference=parsed.encryption_key_preference,
    )


def _guard(action: Callable[[], _T]) -> _T:
    try:
        return action()
    except MalformedError:
        raise
    except _ASN1_ERRORS as exc:
        raise MalformedError("the CMS structure is malformed") from exc


def _pss_parameters(params_der: bytes) -> PssParameters:
    # RFC 4055 §3.1: absent fields mean SHA-1, MGF1 with SHA-1, 20 octets of salt.
    params = algos.RSASSAPSSParams.load(params_der)
    return PssParameters(
        hash_name=str(params["hash_algorithm"]["algorithm"].native),
        mgf_hash_name=str(params["mask_gen_algorithm"]["parameters"]["algorithm"].native),
        salt_length=int(params["salt_length"].native),
    )


_TAG_INTEGER = 0x02
_DIGESTS = {
    "1.2.840.113549.2.5": "md5",
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.4": "sha224",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}
# signatureAlgorithm OID -> (scheme, hash named by the OID or None)
_SIGNATURES: dict[str, tuple[str, str | None]] = {
    "1.2.840.113549.1.1.1": ("rsassa_pkcs1v15", None),  # rsaEncryption: hash = digestAlgorithm
    "1.2.840.113549.1.1.4": ("rsassa_pkcs1v15", "md5"),
    "1.2.840.113549.1.1.5": ("rsassa_pkcs1v15", "sha1"),
    "1.2.840.113549.1.1.14": ("rsassa_pkcs1v15", "sha224"),
    "1.2.840.113549.1.1.11": ("rsassa_pkcs1v15", "sha256"),
    "1.2.840.113549.1.1.12": ("rsassa_pkcs1v15", "sha384"),
    "1.2.840.113549.1.1.13": ("rsassa_pkcs1v15", "sha512"),
    "1.2.840.113549.1.1.10": ("rsassa_pss", None),
    "1.2.840.10045.2.1": ("ecdsa", None),  # id-ecPublicKey, as some agents write it
    "1.2.840.10045.4.1": ("ecdsa", "sha1"),
    "1.2.840.10045.4.3.1": ("ecdsa", "sha224"),
    "1.2.840.10045.4.3.2": ("ecdsa", "sha256"),
    "1.2.840.10045.4.3.3": ("ecdsa", "sha384"),
    "1.2.840.10045.4.3.4": ("ecdsa", "sha512"),
    "1.2.840.10040.4.1": ("dsa", None),
    "1.2.840.10040.4.3": ("dsa", "sha1"),
    "2.16.840.1.101.3.4.3.1": ("dsa", "sha224"),
    "2.16.840.1.101.3.4.3.2": ("dsa", "sha256"),
    "1.3.101.112": ("ed25519", None),
    "1.3.101.113": ("ed448", None),
}
_CONTENT_TYPES = {
    "1.2.840.113549.1.7.1": "data",
    "1.2.840.113549.1.7.2": "signed_data",
    "1.2.840.113549.1.7.3": "enveloped_data",
    "1.2.840.113549.1.7.5": "digested_data",
    "1.2.840.113549.1.7.6": "encrypted_data",
    "1.2.840.113549.1.9.16.1.2": "authenticated_data",
    "1.2.840.113549.1.9.16.1.9": "compressed_data",
    "1.2.840.113549.1.9.16.1.23": "authenticated_enveloped_data",
}


def content_type_name(oid_content: bytes) -> str:
    oid = _der.decode_oid(oid_content)
    return _CONTENT_TYPES.get(oid, oid)


@dataclass
class _SignedAttributes:
    content_type: str | None = None
    message_digest: bytes | None = None
    signing_time: datetime | None = None
    types: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    encryption_key_preference: KeyPreference | None = None


_OID_CONTENT_TYPE = _der.encode_oid("1.2.840.113549.1.9.3")
_OID_MESSAGE_DIGEST = _der.encode_oid("1.2.840.113549.1.9.4")
_OID_SIGNING_TIME = _der.encode_oid("1.2.840.113549.1.9.5")
_ATTRIBUTE_NAMES = {
    _OID_CONTENT_TYPE: "content_type",
    _OID_MESSAGE_DIGEST: "message_digest",
    _OID_SIGNING_TIME: "signing_time",
    _der.encode_oid("1.2.840.113549.1.9.15"): "smime_capabilities",
    _der.encode_oid("1.2.840.113549.1.9.16.2.11"): "encryption_key_preference",
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
            result.content_type = content_type_name(value.value)
        elif name == "message_digest":
            if value.tag != _der.TAG_OCTET_STRING:
                raise MalformedError("the messageDigest attribute is not an OCTET STRING")
            result.message_digest = value.value
        elif name == "signing_time":
            result.signing_time = _parse_time(value)
        else:
            # Informational (RFC 8551 §2.5.2-2.5.3): a malformed one is ignored, not fatal.
            with contextlib.suppress(MalformedError):
                if name == "smime_capabilities":
                    result.capabilities = _capabilities(value)
                else:
                    result.encryption_key_preference = _key_preference(value)
    result.types = tuple(types)
    return result


def _capabilities(value: _der.Tlv) -> tuple[str, ...]:
    """SMIMECapabilities: the algorithm OIDs, most preferred first."""
    if value.tag != _der.TAG_SEQUENCE:
        raise MalformedError("SMIMECapabilities is not a SEQUENCE")
    found = []
    for capability in _der.iter_tlvs(value.value):
        oid, _ = _der.read_tlv(capability.value)
        if capability.tag != _der.TAG_SEQUENCE or oid.tag != _der.TAG_OID:
            raise MalformedError("malformed SMIMECapability")
        found.append(_der.decode_oid(oid.value))
    return tuple(found)


def _key_preference(value: _der.Tlv) -> KeyPreference:
    """SMIMEEncryptionKeyPreference (RFC 8551 §2.5.3): which certificate to encrypt to."""
    if value.tag == 0xA0:  # issuerAndSerialNumber [0] IMPLICIT
        element = _der.read_element(value.encode())
        issuer, serial = parse_issuer_serial(value.encode(), element)
        return KeyPreference(issuer_der=issuer, serial=serial)
    if value.tag == 0xA1:  # rKeyId [1] IMPLICIT RecipientKeyIdentifier
        inner = _der.read_tlv(value.value)[0]
        if inner.tag != _der.TAG_OCTET_STRING:
            raise MalformedError("malformed RecipientKeyIdentifier")
        return KeyPreference(subject_key_id=inner.value)
    raise MalformedError("unsupported SMIMEEncryptionKeyPreference")


def _parse_time(value: _der.Tlv) -> datetime:
    encoded = bytes([value.tag]) + _der_length(len(value.value)) + value.value
    if value.tag == _der.TAG_UTC_TIME:
        parsed = _guard(lambda: core.UTCTime.load(encoded).native)
    elif value.tag == _der.TAG_GENERALIZED_TIME:
        parsed = _guard(lambda: core.GeneralizedTime.load(encoded).native)
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
