"""Verify one CMS SignedData: structure, digest, signature, signer's path, algorithm policy.

Verification raises :class:`SignatureVerificationError` (or :class:`MalformedError`) instead
of returning a flag, so no caller can forget to look at the result.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa

from inbox_app.smime import _cms
from inbox_app.smime.algorithms import WEAK_DIGESTS, hash_for
from inbox_app.smime.certificates import (
    is_identified_by,
    key_weakness,
    load_der_certificate,
    signer_of,
)
from inbox_app.smime.errors import (
    MalformedError,
    SignatureVerificationError,
    SmimeError,
    UnsupportedError,
)
from inbox_app.smime.pathvalidation import MAIL_SIGNER, ValidatedPath, validate_signer_path
from inbox_app.smime.report import SignatureStatus, Signer
from inbox_app.smime.trust import TrustStore


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature that verified: who signed, what they signed, and how."""

    signer: Signer
    certificate: x509.Certificate
    content: bytes  # exactly the octets the signature covers
    digest: str
    signing_time: datetime | None
    path: ValidatedPath
    capabilities: tuple[str, ...] = ()  # SMIMECapabilities OIDs, most preferred first
    encryption_key_preference: _cms.KeyPreference | None = None
    certificates: tuple[x509.Certificate, ...] = ()  # all those the message carried


def verify_signed_data(
    der: bytes,
    *,
    detached_content: bytes | None,
    trust: TrustStore,
    now: datetime,
    extra_certificates: Sequence[x509.Certificate] = (),
    require_data_content: bool = True,
    purposes: frozenset[x509.ObjectIdentifier] = MAIL_SIGNER,
) -> VerifiedSignature:
    """Verify a SignedData ContentInfo.

    Args:
        der: the ContentInfo (DER or BER).
        detached_content: the signed octets for a detached signature (multipart/signed);
            None for an opaque signature, whose content is inside.
        trust: the trust anchors.
        now: the time at which certificates must be valid.
        extra_certificates: certificates that may be the signer's or intermediates when the
            message does not carry them (never used as anchors).
        require_data_content: demand eContentType id-data, as MIME content must be.
        purposes: extended key usages acceptable for the signer (mail by default).

    Returns:
        The verified signature.

    Raises:
        MalformedError: structural problems; nothing about the content can be believed.
        UnsupportedError: an algorithm we cannot check.
        SignatureVerificationError: the signature is invalid, untrusted, expired or weak.
    """
    signed = _cms.parse_signed_data(der)
    if not signed.signers:
        raise MalformedError("the signature has no signer")
    if len(signed.signers) > 1:
        # RFC 8551 allows several, but which one vouches for the message would then be
        # ambiguous; "Johnny, you are fired" shows how attackers use that.
        raise MalformedError(
            f"the signature has {len(signed.signers)} signers; exactly one is allowed"
        )
    if not signed.digest_algorithms:
        raise MalformedError("the signature lists no digest algorithms")
    info = signed.signers[0]

    if detached_content is not None:
        if signed.econtent is not None:
            # eContent confusion: a detached signature that carries content of its own
            # could make different clients show different text as "signed".
            raise MalformedError(
                "a detached signature carries content of its own (eContent confusion)"
            )
        content = detached_content
    elif signed.econtent is None:
        raise MalformedError("the signed message has no content")
    else:
        content = signed.econtent

    signed_attrs = info.signed_attrs_der
    if signed_attrs is None:
        raise MalformedError("the signature has no signed attributes")
    if info.content_type_attr is None or info.message_digest_attr is None:
        raise MalformedError("the signed attributes lack contentType or messageDigest")
    if info.content_type_attr != signed.econtent_type:
        raise MalformedError("the signed contentType does not match the content's type")
    if require_data_content and signed.econtent_type != "data":
        raise MalformedError(f"signed content of type {signed.econtent_type} is not MIME")

    certificates = _load_certificates(signed.certificates)
    signer_cert = _find_signer(info, [*certificates, *extra_certificates])
    if signer_cert is None:
        raise MalformedError("the signer's certificate is not in the message")
    signer = signer_of(signer_cert)

    digest_name = info.digest_algorithm
    try:
        hash_for(digest_name)
    except UnsupportedError as exc:
        raise SignatureVerificationError(SignatureStatus.ERROR, str(exc), signer=signer) from exc
    if digest_name not in signed.digest_algorithms:
        # Harmless for a detached signature over bytes we have, but odd enough to refuse.
        raise MalformedError("the signer's digest algorithm is not listed in the SignedData")

    actual = hashlib.new(digest_name, content).digest()
    if not hmac.compare_digest(actual, info.message_digest_attr):
        raise SignatureVerificationError(
            SignatureStatus.INVALID,
            "the message was altered after it was signed (digest mismatch)",
            signer=signer,
        )
    try:
        _check_signature(info, signed_attrs, signer_cert)
    except InvalidSignature:
        raise SignatureVerificationError(
            SignatureStatus.INVALID, "the signature does not match the signer's key", signer=signer
        ) from None

    crls = _load_crls(signed.crls)
    try:
        path = validate_signer_path(
            signer_cert,
            intermediates=[*certificates, *extra_certificates],
            trust=trust,
            now=now,
            crls=crls,
            purposes=purposes,
        )
    except SignatureVerificationError as exc:
        raise SignatureVerificationError(exc.status, str(exc), signer=signer) from None

    weaknesses = list(path.weaknesses)
    for name in {digest_name, info.signature_hash}:
        if name in WEAK_DIGESTS:
            weaknesses.insert(0, f"the signature uses {name.upper()}")
    weak_key = key_weakness(signer_cert)
    if weak_key and not any(weak_key in text for text in weaknesses):
        weaknesses.insert(0, f"the signer has a {weak_key}")
    if weaknesses:
        raise SignatureVerificationError(
            SignatureStatus.WEAK, "weak: " + "; ".join(weaknesses), signer=signer
        )

    return VerifiedSignature(
        signer=signer,
        certificate=signer_cert,
        content=content,
        digest=digest_name,
        signing_time=info.signing_time,
        path=path,
        capabilities=info.capabilities,
        encryption_key_preference=info.encryption_key_preference,
        certificates=tuple(certificates),
    )


def _load_certificates(blobs: Sequence[bytes]) -> list[x509.Certificate]:
    certs = []
    for blob in blobs:
        try:
            certs.append(load_der_certificate(blob))
        except MalformedError:
            continue  # an unreadable extra certificate cannot help build a path
    return certs


def _load_crls(blobs: Sequence[bytes]) -> list[x509.CertificateRevocationList]:
    crls = []
    for blob in blobs:
        try:
            crls.append(x509.load_der_x509_crl(blob))
        except ValueError:
            continue
    return crls


def _find_signer(
    info: _cms.SignerInfoData, candidates: Sequence[x509.Certificate]
) -> x509.Certificate | None:
    for cert in candidates:
        if is_identified_by(
            cert, issuer_der=info.issuer_der, serial=info.serial, subject_key_id=info.subject_key_id
        ):
            return cert
    return None


def _check_signature(info: _cms.SignerInfoData, data: bytes, cert: x509.Certificate) -> None:
    """Check the signature over the signed attributes with the signer's public key.

    Raises:
        InvalidSignature: the signature does not verify.
        SignatureVerificationError: status ``error`` for an unsupported algorithm.
    """
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise MalformedError("the signer's public key cannot be read") from exc
    algorithm = info.signature_algorithm
    try:
        if algorithm in ("ed25519", "ed448"):
            if not isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
                raise InvalidSignature
            key.verify(info.signature, data)
            return
        hash_name = info.signature_hash or info.digest_algorithm
        digest: hashes.HashAlgorithm = hash_for(hash_name)
        if algorithm == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPublicKey):
            key.verify(info.signature, data, padding.PKCS1v15(), digest)
        elif algorithm == "rsassa_pss" and isinstance(key, rsa.RSAPublicKey) and info.pss:
            pss = padding.PSS(
                mgf=padding.MGF1(hash_for(info.pss.mgf_hash_name)),
                salt_length=info.pss.salt_length,
            )
            key.verify(info.signature, data, pss, digest)
        elif algorithm == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(info.signature, data, ec.ECDSA(digest))
        elif algorithm == "dsa" and isinstance(key, dsa.DSAPublicKey):
            key.verify(info.signature, data, digest)
        else:
            raise InvalidSignature  # algorithm and key type disagree
    except UnsupportedAlgorithm as exc:
        raise UnsupportedError(f"unsupported signature algorithm {algorithm}") from exc
    except SmimeError:
        raise
    except (ValueError, TypeError) as exc:
        raise MalformedError(f"the {algorithm} signature is malformed") from exc
