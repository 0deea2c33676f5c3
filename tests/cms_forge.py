"""Forge hostile CMS SignedData and S/MIME messages for the attack tests.

Independent of ``inbox_app.smime.sign`` on purpose: an attacker does not use our signer, so
these helpers build every field by hand (asn1crypto) and can break any rule of RFC 5652 /
RFC 8551 that a test needs broken.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from tests.pki import NOW, Issued, PrivateKey

HEADERS = (
    b"From: Alice <alice@example.com>\r\n"
    b"To: bob@example.org\r\n"
    b"Subject: Meeting\r\n"
    b"Date: Mon, 01 Jun 2026 12:00:00 +0000\r\n"
    b"Message-ID: <forged-1@example.com>\r\n"
)
ENTITY = b"Content-Type: text/plain; charset=utf-8\r\n\r\nHello Bob,\r\n\r\nsee you tomorrow.\r\n"
BOUNDARY = b"----=_forged_boundary_0001"
MICALG = {"sha1": b"sha-1", "sha256": b"sha-256", "sha384": b"sha-384", "sha512": b"sha-512"}
_HASHES = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def headers(sender: str = "Alice <alice@example.com>", extra: bytes = b"") -> bytes:
    """Outer message fields with the given From value."""
    return HEADERS.replace(b"From: Alice <alice@example.com>", f"From: {sender}".encode()) + extra


def sign_bytes(private_key: PrivateKey, data: bytes, digest: str) -> tuple[bytes, str]:
    """Sign ``data``; return the signature and asn1crypto's signature algorithm name."""
    algorithm = _HASHES[digest]()
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(data, padding.PKCS1v15(), algorithm), "rsassa_pkcs1v15"
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return private_key.sign(data, ec.ECDSA(algorithm)), f"{digest}_ecdsa"
    raise TypeError("unsupported key for forging")


def issuer_and_serial(cert: x509.Certificate) -> cms.SignerIdentifier:
    return cms.SignerIdentifier(
        name="issuer_and_serial_number",
        value=cms.IssuerAndSerialNumber(
            {
                "issuer": asn1_x509.Name.load(cert.issuer.public_bytes()),
                "serial_number": cert.serial_number,
            }
        ),
    )


def signer_info(
    signer: Issued,
    content: bytes,
    *,
    digest: str = "sha256",
    content_type_attr: str | None = "data",
    message_digest: bytes | None = None,
    with_signed_attrs: bool = True,
    sid_cert: x509.Certificate | None = None,
    signing_time: datetime = NOW,
) -> cms.SignerInfo:
    """A SignerInfo over ``content`` signed with ``signer``'s key (attributes as asked)."""
    if message_digest is None:
        message_digest = hashlib.new(digest, content).digest()
    fields: dict[str, object] = {
        "version": "v1",
        "sid": issuer_and_serial(sid_cert or signer.cert),
        "digest_algorithm": algos.DigestAlgorithm({"algorithm": digest}),
    }
    if with_signed_attrs:
        attributes = [
            cms.CMSAttribute(
                {"type": "signing_time", "values": [cms.Time(name="utc_time", value=signing_time)]}
            ),
            cms.CMSAttribute({"type": "message_digest", "values": [message_digest]}),
        ]
        if content_type_attr is not None:
            attributes.append(
                cms.CMSAttribute({"type": "content_type", "values": [content_type_attr]})
            )
        encoded = sorted(attr.dump() for attr in attributes)
        attrs = cms.CMSAttributes([cms.CMSAttribute.load(blob) for blob in encoded])
        contents = b"".join(attr.dump() for attr in attrs)
        to_sign = b"\x31" + _der_length(len(contents)) + contents
        fields["signed_attrs"] = attrs
    else:
        to_sign = content
    signature, algorithm = sign_bytes(signer.key, to_sign, digest)
    if algorithm == "rsassa_pkcs1v15":
        fields["signature_algorithm"] = algos.SignedDigestAlgorithm(
            {"algorithm": algorithm, "parameters": core.Null()}
        )
    else:
        fields["signature_algorithm"] = algos.SignedDigestAlgorithm({"algorithm": algorithm})
    fields["signature"] = signature
    return cms.SignerInfo(fields)


def signed_data(
    signers: Sequence[cms.SignerInfo],
    *,
    certificates: Sequence[x509.Certificate],
    econtent: bytes | None = None,
    econtent_type: str = "data",
    digest_algorithms: Sequence[str] = ("sha256",),
) -> bytes:
    """A ContentInfo(SignedData) as DER."""
    encap: dict[str, object] = {"content_type": econtent_type}
    if econtent is not None:
        # asn1crypto only knows id-data's content as bytes; others go in as an OCTET STRING.
        encap["content"] = (
            econtent if econtent_type == "data" else core.OctetString(econtent, explicit=0)
        )
    signed = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [
                algos.DigestAlgorithm({"algorithm": name}) for name in digest_algorithms
            ],
            "encap_content_info": encap,
            "certificates": [
                asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER)) for cert in certificates
            ],
            "signer_infos": list(signers),
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump())


def forge(
    signer: Issued,
    content: bytes = ENTITY,
    *,
    opaque: bool = False,
    digest: str = "sha256",
    certificates: Sequence[x509.Certificate] | None = None,
    **signer_options: object,
) -> bytes:
    """A SignedData by ``signer`` over ``content`` with the signer's chain (minus the root)."""
    info = signer_info(signer, content, digest=digest, **signer_options)  # type: ignore[arg-type]
    if certificates is None:
        certificates = [signer.cert, *(c for c in signer.chain if c.issuer != c.subject)]
    return signed_data(
        [info],
        certificates=certificates,
        econtent=content if opaque else None,
        digest_algorithms=(digest,),
    )


def b64_lines(data: bytes) -> bytes:
    encoded = base64.b64encode(data)
    return b"".join(encoded[i : i + 76] + b"\r\n" for i in range(0, len(encoded), 76))


def multipart_signed(
    der: bytes,
    entity: bytes = ENTITY,
    *,
    outer: bytes = HEADERS,
    micalg: bytes = b"sha-256",
    boundary: bytes = BOUNDARY,
) -> bytes:
    """A whole multipart/signed message: ``entity`` and the detached signature ``der``."""
    return (
        outer
        + b"MIME-Version: 1.0\r\n"
        + b'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg='
        + micalg
        + b'; boundary="'
        + boundary
        + b'"\r\n\r\n'
        + b"--"
        + boundary
        + b"\r\n"
        + entity
        + b"\r\n--"
        + boundary
        + b"\r\n"
        + b'Content-Type: application/pkcs7-signature; name="smime.p7s"\r\n'
        + b"Content-Transfer-Encoding: base64\r\n\r\n"
        + b64_lines(der)
        + b"--"
        + boundary
        + b"--\r\n"
    )


def opaque_signed(der: bytes, *, outer: bytes = HEADERS) -> bytes:
    """A whole application/pkcs7-mime signed-data message."""
    return (
        outer
        + b"MIME-Version: 1.0\r\n"
        + b"Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\n"
        + b"Content-Transfer-Encoding: base64\r\n\r\n"
        + b64_lines(der)
    )


def extract_der(signed_message: bytes) -> bytes:
    """The base64 CMS blob of a message made by ``sign_message`` (detached or opaque)."""
    blocks = signed_message.split(b"\r\n\r\n")
    for block in reversed(blocks):
        lines = [line for line in block.split(b"\r\n") if line and not line.startswith(b"--")]
        try:
            data = base64.b64decode(b"".join(lines), validate=True)
        except ValueError:
            continue
        if data[:1] == b"\x30" and len(data) > 100:
            return data
    raise ValueError("no CMS blob found")


def replace_der(signed_message: bytes, old: bytes, new: bytes) -> bytes:
    """Swap the base64 CMS blob ``old`` for ``new`` in a message made by ``sign_message``."""
    old_b64 = b64_lines(old)
    assert old_b64 in signed_message
    return signed_message.replace(old_b64, b64_lines(new))


def same_claim_certificate(victim: x509.Certificate, attacker: Issued) -> x509.Certificate:
    """A certificate with the victim's issuer, serial and subject but the attacker's key.

    It is self-issued by the attacker (who cannot sign as the victim's CA), so it can only
    ever match by issuerAndSerialNumber, never chain to the real CA.
    """
    return (
        x509.CertificateBuilder()
        .subject_name(victim.subject)
        .issuer_name(victim.issuer)
        .public_key(attacker.key.public_key())
        .serial_number(victim.serial_number)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name("alice@example.com")]), critical=False
        )
        .sign(attacker.key, hashes.SHA256())  # type: ignore[arg-type]
    )


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets
