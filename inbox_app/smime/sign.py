"""Sign a whole RFC 5322 message: multipart/signed (default) or opaque signed-data.

RFC 8551 §3.5: the signed entity is the message's body with its Content-* fields, made
7-bit safe and put in canonical CRLF form first, so that no relay can alter the bytes the
signature covers. The message's own fields (From, To, Subject, Date, Message-ID...) stay
outside; protecting them is header protection's job (RFC 9788).
"""

from __future__ import annotations

import base64
import binascii
import email.policy
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from email import encoders
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser
from io import BytesIO

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from inbox_app.smime import _cms, mime
from inbox_app.smime.algorithms import MICALG, SIGNING_DIGESTS, hash_for
from inbox_app.smime.errors import MalformedError, UnsupportedError
from inbox_app.smime.header_protection import wrap_for_signing
from inbox_app.smime.identity import Identity

# RFC 8551 §2.5.2: what we can decrypt, strongest first.
CAPABILITIES = ("aes256_gcm", "aes128_gcm", "aes256_cbc", "aes128_cbc")
_MAX_LINE = 998  # RFC 5322 §2.1.1
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class SplitMessage:
    """A message taken apart for a cryptographic layer (RFC 8551 §3.1)."""

    outer_fields: bytes  # the message's own fields, CRLF-terminated; no MIME-Version/Content-*
    entity: bytes  # Content-* fields + CRLF + body: what a layer protects


def split_message(message: bytes) -> SplitMessage:
    """Separate the message's fields from the MIME entity that a layer will protect.

    Raises:
        MalformedError: the header cannot be parsed.
    """
    header_block, body = mime.split_header_body(message)
    mime.parse_header_block(header_block)  # validates the fields before we move them
    lines = mime.field_lines(header_block)
    outer = b"".join(
        raw for name, raw in lines if not name.startswith("content-") and name != "mime-version"
    )
    content_fields = b"".join(raw for name, raw in lines if name.startswith("content-"))
    if not any(name == "content-type" for name, _ in lines):
        charset = b"us-ascii" if body.isascii() else b"utf-8"
        content_fields = b"Content-Type: text/plain; charset=" + charset + b"\r\n" + content_fields
    return SplitMessage(outer, prepare_entity(content_fields + b"\r\n" + body))


def prepare_entity(entity: bytes) -> bytes:
    """An entity made 7-bit safe, then canonical (RFC 8551 §3.1.1-3.1.2).

    In this order: binary data is base64-encoded before line endings are touched, so no
    byte of it is ever taken for a line break.
    """
    return mime.canonicalize_line_endings(_seven_bit_safe(entity))


def seven_bit_message(message: bytes) -> bytes:
    """The whole message with its entity prepared (for header protection to wrap next)."""
    parts = split_message(message)
    return parts.outer_fields + b"MIME-Version: 1.0\r\n" + parts.entity


def sign_message(
    message: bytes,
    identity: Identity,
    *,
    now: datetime,
    digest: str = "sha256",
    opaque: bool = False,
    pss: bool = False,
    encryption_certificate: x509.Certificate | None = None,
    header_protection: bool = True,
) -> bytes:
    """Sign ``message`` with ``identity`` and return the signed message (CRLF line ends).

    Args:
        message: a whole RFC 5322 message.
        identity: the signer.
        now: the signing time written into the signature.
        digest: "sha256" (default), "sha384" or "sha512".
        opaque: produce application/pkcs7-mime signed-data instead of multipart/signed.
        pss: sign with RSASSA-PSS instead of PKCS#1 v1.5 (RSA keys only).
        encryption_certificate: the certificate others should encrypt to, announced with
            SMIMEEncryptionKeyPreference when it is not the signing certificate.
        header_protection: sign copies of the header fields too, marked ``hp="clear"``
            (RFC 9788), so that a changed Subject or From is noticed.

    Raises:
        MalformedError: the message cannot be parsed.
        UnsupportedError: the digest or key type cannot be used.
    """
    if header_protection:
        wrapped = wrap_for_signing(seven_bit_message(message))
        parts = SplitMessage(wrapped.outer_fields, wrapped.payload)
    else:
        parts = split_message(message)
    signed = sign_entity(
        parts.entity,
        identity,
        now=now,
        digest=digest,
        opaque=opaque,
        pss=pss,
        encryption_certificate=encryption_certificate,
    )
    return parts.outer_fields + b"MIME-Version: 1.0\r\n" + signed


def sign_entity(
    entity: bytes,
    identity: Identity,
    *,
    now: datetime,
    digest: str = "sha256",
    opaque: bool = False,
    pss: bool = False,
    encryption_certificate: x509.Certificate | None = None,
) -> bytes:
    """Sign one MIME entity; return the signed entity (its Content-* fields and body).

    The entity is made 7-bit safe and canonical first (RFC 8551 §3.1.1-3.1.2), so that no
    relay can change the bytes the signature covers.
    """
    if digest not in SIGNING_DIGESTS:
        raise UnsupportedError(f"unsupported digest {digest}; use sha256, sha384 or sha512")
    if identity.historic:
        raise UnsupportedError("a historic key may only decrypt, never sign")
    entity = prepare_entity(entity)
    der = _signed_data(
        entity,
        identity,
        now=now,
        digest=digest,
        detached=not opaque,
        pss=pss,
        encryption_certificate=encryption_certificate,
    )
    if opaque:
        return (
            b'Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"\r\n'
            + b"Content-Transfer-Encoding: base64\r\n"
            + b'Content-Disposition: attachment; filename="smime.p7m"\r\n'
            + b"\r\n"
            + base64_lines(der)
        )
    boundary = _boundary(entity)
    return (
        b'Content-Type: multipart/signed; protocol="application/pkcs7-signature";\r\n'
        + b" micalg="
        + MICALG[digest].encode()
        + b'; boundary="'
        + boundary
        + b'"\r\n\r\n'
        + b"This is an S/MIME signed message.\r\n\r\n"
        + b"--"
        + boundary
        + b"\r\n"
        + entity
        + b"\r\n--"
        + boundary
        + b"\r\n"
        + b'Content-Type: application/pkcs7-signature; name="smime.p7s"\r\n'
        + b"Content-Transfer-Encoding: base64\r\n"
        + b'Content-Disposition: attachment; filename="smime.p7s"\r\n'
        + b"Content-Description: S/MIME Cryptographic Signature\r\n"
        + b"\r\n"
        + base64_lines(der)
        + b"--"
        + boundary
        + b"--\r\n"
    )


def _signed_data(
    content: bytes,
    identity: Identity,
    *,
    now: datetime,
    digest: str,
    detached: bool,
    pss: bool,
    encryption_certificate: x509.Certificate | None,
) -> bytes:
    cert = identity.certificate
    attributes = [
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute({"type": "signing_time", "values": [_time(now)]}),
        cms.CMSAttribute(
            {"type": "message_digest", "values": [hashlib.new(digest, content).digest()]}
        ),
        cms.CMSAttribute(
            {
                "type": "smime_capabilities",
                "values": [[{"capability_id": capability} for capability in CAPABILITIES]],
            }
        ),
    ]
    if encryption_certificate is not None and encryption_certificate != cert:
        attributes.append(
            cms.CMSAttribute(
                {
                    "type": "encrypt_key_pref",
                    "values": [
                        cms.SMIMEEncryptionKeyPreference(
                            name="issuer_and_serial_number",
                            value=_issuer_and_serial(encryption_certificate),
                        )
                    ],
                }
            )
        )
    signed_attrs = _cms.build_signed_attrs(attributes)
    to_sign = _cms.signed_attrs_for_signature(signed_attrs)
    signature, algorithm = _sign(identity, to_sign, digest, pss)
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number", value=_issuer_and_serial(cert)
            ),
            "digest_algorithm": _cms.digest_algorithm_id(digest),
            "signed_attrs": signed_attrs,
            "signature_algorithm": algorithm,
            "signature": signature,
        }
    )
    return _cms.build_signed_data_der(
        digest_name=digest,
        econtent=None if detached else content,
        certificates=_chain_der(identity, encryption_certificate),
        signer_info=signer_info,
    )


def _sign(
    identity: Identity, data: bytes, digest: str, pss: bool
) -> tuple[bytes, algos.SignedDigestAlgorithm]:
    key = identity.private_key
    hash_algorithm: hashes.HashAlgorithm = hash_for(digest)
    if isinstance(key, rsa.RSAPrivateKey):
        if pss:
            # RFC 4056 §3: salt length equal to the hash length, MGF1 with the same hash.
            salt = hash_algorithm.digest_size
            signature = key.sign(
                data,
                padding.PSS(mgf=padding.MGF1(hash_algorithm), salt_length=salt),
                hash_algorithm,
            )
            params = algos.RSASSAPSSParams(
                {
                    "hash_algorithm": {"algorithm": digest},
                    "mask_gen_algorithm": {
                        "algorithm": "mgf1",
                        "parameters": {"algorithm": digest},
                    },
                    "salt_length": salt,
                }
            )
            return signature, algos.SignedDigestAlgorithm(
                {"algorithm": "rsassa_pss", "parameters": params}
            )
        signature = key.sign(data, padding.PKCS1v15(), hash_algorithm)
        # rsaEncryption with NULL parameters, as OpenSSL and NSS write it (RFC 3370 §3.2).
        return signature, algos.SignedDigestAlgorithm(
            {"algorithm": "rsassa_pkcs1v15", "parameters": core.Null()}
        )
    if pss:
        raise UnsupportedError("RSA-PSS needs an RSA key")
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(data, ec.ECDSA(hash_algorithm))
        return signature, algos.SignedDigestAlgorithm({"algorithm": f"{digest}_ecdsa"})
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raise UnsupportedError("signing with Ed25519 is not supported yet")
    raise UnsupportedError("unsupported key type for signing")


def _chain_der(identity: Identity, encryption_certificate: x509.Certificate | None) -> list[bytes]:
    """The signer's certificate and its issuers, without self-signed roots (RFC 8551 §3.5),
    and the encryption certificate SMIMEEncryptionKeyPreference names, so that recipients
    can encrypt their reply to it (RFC 8551 §2.5.3)."""
    result = [identity.certificate.public_bytes(Encoding.DER)]
    extra = [encryption_certificate] if encryption_certificate is not None else []
    for cert in [*extra, *identity.chain]:
        if cert.issuer == cert.subject:
            continue
        der = cert.public_bytes(Encoding.DER)
        if der not in result:
            result.append(der)
    return result


def _issuer_and_serial(cert: x509.Certificate) -> cms.IssuerAndSerialNumber:
    return cms.IssuerAndSerialNumber(
        {
            "issuer": asn1_x509.Name.load(cert.issuer.public_bytes()),
            "serial_number": cert.serial_number,
        }
    )


def _time(now: datetime) -> cms.Time:
    # RFC 5652 §11.3: UTCTime for 1950-2049, GeneralizedTime otherwise.
    if 1950 <= now.year < 2050:
        return cms.Time(name="utc_time", value=now)
    return cms.Time(name="general_time", value=now)


def _boundary(entity: bytes) -> bytes:
    while True:
        boundary = b"----=_inbox_" + secrets.token_hex(12).encode()
        if boundary not in entity:
            return boundary


def base64_lines(data: bytes) -> bytes:
    """Base64 in 76-character CRLF lines (RFC 2045 §6.8)."""
    encoded = base64.b64encode(data)
    return b"".join(encoded[i : i + 76] + b"\r\n" for i in range(0, len(encoded), 76))


def _seven_bit_safe(entity: bytes) -> bytes:
    """Re-encode 8-bit or binary leaves as quoted-printable (text) or base64 (RFC 8551 §3.1.2).

    A 7-bit entity with short lines is returned unchanged, byte for byte.
    """
    if _is_seven_bit(entity):
        return entity
    try:
        parsed = BytesParser(policy=email.policy.compat32).parsebytes(entity)
    except (ValueError, TypeError, IndexError) as exc:
        raise MalformedError("the message body cannot be parsed as MIME") from exc
    for part in parsed.walk():
        if part.is_multipart():
            continue
        _encode_leaf(part)
    out = BytesIO()
    BytesGenerator(
        out, mangle_from_=False, policy=email.policy.compat32.clone(linesep="\r\n")
    ).flatten(parsed)
    return out.getvalue()


def _encode_leaf(part: Message) -> None:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return
    encoding = (part.get("Content-Transfer-Encoding") or "7bit").lower()
    raw = part.get_payload(decode=False)
    raw_bytes = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    if encoding in ("base64", "quoted-printable") and _has_only_seven_bit_bytes(raw_bytes):
        return
    if _is_seven_bit(payload):
        return
    del part["Content-Transfer-Encoding"]
    if part.get_content_maintype() == "text":
        # Text line breaks are CRLF; a lone CR or LF is a line break too (RFC 2045 §2.10).
        text = _LINE_BREAK.sub(b"\n", payload)
        encoded = binascii.b2a_qp(text, quotetabs=False, istext=True, header=False)
        part.set_payload(encoded.decode("ascii"))
        part["Content-Transfer-Encoding"] = "quoted-printable"
    else:
        part.set_payload(payload)
        encoders.encode_base64(part)


def _has_only_seven_bit_bytes(data: bytes) -> bool:
    """RFC 2045 §2.7 7bit data: ASCII, no NUL, CR and LF only together as CRLF."""
    return data.isascii() and b"\x00" not in data and data.count(b"\r") == data.count(b"\r\n")


def _is_seven_bit(data: bytes) -> bool:
    """7bit data whose lines also fit RFC 5322 §2.1.1's 998-octet limit."""
    return _has_only_seven_bit_bytes(data) and max(map(len, data.split(b"\n"))) <= _MAX_LINE + 1
