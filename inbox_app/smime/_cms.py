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

from inbox_app.smime.errors import MalformedError

_T = TypeVar("_T")

# Everything asn1crypto raises on hostile input; RecursionError covers absurd nesting.
_ASN1_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError)

_SINGLE_VALUED = ("content_type", "message_digest", "signing_time")


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
    values: dict[str, list[Any]] = {}
    types: list[str] = []
    if not isinstance(attrs, core.Void):
        # The signature covers the DER encoding of the attributes with an explicit SET OF
        # tag, not the [0] IMPLICIT tag they travel under (RFC 5652 §5.4).
        signed_attrs_der = b"\x31" + _der_length(len(attrs.contents)) + attrs.contents
        for attr in attrs:
            name = str(attr["type"].native)
            types.append(name)
            if name in _SINGLE_VALUED:
                values.setdefault(name, []).extend(value.native for value in attr["values"])
    for name in _SINGLE_VALUED:
        if types.count(name) > 1 or len(values.get(name, ())) > 1:
            raise MalformedError(f"the signed attribute {name} appears more than once")

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

    def single(name: str) -> Any:
        found = values.get(name)
        return found[0] if found else None

    content_type_attr = single("content_type")
    digest_attr = single("message_digest")
    return SignerInfoData(
        issuer_der=issuer_der,
        serial=serial,
        subject_key_id=ski,
        digest_algorithm=str(info["digest_algorithm"]["algorithm"].native),
        signed_attrs_der=signed_attrs_der,
        content_type_attr=None if content_type_attr is None else str(content_type_attr),
        message_digest_attr=None if digest_attr is None else bytes(digest_attr),
        signing_time=single("signing_time"),
        signature_algorithm=signature_algo,
        signature_hash=signature_hash,
        pss=pss,
        signature=bytes(info["signature"].native),
        attribute_types=tuple(types),
    )


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
