"""A throwaway PKI for tests: roots, intermediates and mail certificates of every shape.

Keys are generated once per process and reused (RSA generation dominates test time).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    pkcs12,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from inbox_app.smime import Identity

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


@functools.cache
def key(kind: str = "rsa2048", slot: int = 0) -> PrivateKey:
    """A private key; the same (kind, slot) always gives the same key in one process."""
    del slot
    if kind.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    if kind == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "p384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(kind)


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: PrivateKey
    chain: tuple[x509.Certificate, ...] = field(default=())  # issuers, leaf's first, root last

    @property
    def identity(self) -> Identity:
        return Identity(self.cert, self.key, self.chain)

    def pem(self) -> bytes:
        return self.cert.public_bytes(Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())

    def p12(self, password: bytes | None = b"secret", *, with_chain: bool = True) -> bytes:
        encryption = BestAvailableEncryption(password) if password else NoEncryption()
        return pkcs12.serialize_key_and_certificates(
            b"test", self.key, self.cert, list(self.chain) if with_chain else None, encryption
        )


def _name(cn: str, email: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if email is not None:
        attributes.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    return x509.Name(attributes)


def _hash_for(signing_key: PrivateKey, algorithm: hashes.HashAlgorithm | None):
    if isinstance(signing_key, ed25519.Ed25519PrivateKey):
        return None
    return algorithm or hashes.SHA256()


def make_ca(
    cn: str = "Test Root CA",
    *,
    issuer: Issued | None = None,
    key_kind: str = "rsa2048",
    slot: int = 0,
    ca: bool = True,
    path_length: int | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    key_usage: bool = True,
    eku: Sequence[x509.ObjectIdentifier] | None = None,
    hash_algorithm: hashes.HashAlgorithm | None = None,
    name_constraints: x509.NameConstraints | None = None,
) -> Issued:
    """A CA certificate (self-signed when ``issuer`` is None)."""
    ca_key = key(key_kind, slot)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer.cert.subject if issuer else _name(cn))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - timedelta(days=365))
        .not_valid_after(not_after or NOW + timedelta(days=3650))
        .add_extension(
            x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
    )
    if key_usage:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if name_constraints is not None:
        builder = builder.add_extension(name_constraints, critical=True)
    signer_key = issuer.key if issuer else ca_key
    cert = builder.sign(signer_key, _hash_for(signer_key, hash_algorithm))
    chain = (issuer.cert, *issuer.chain) if issuer else ()
    return Issued(cert, ca_key, chain)


def make_leaf(
    issuer: Issued,
    email: str | Sequence[str] | None = "alice@example.com",
    *,
    cn: str = "Alice",
    key_kind: str = "rsa2048",
    slot: int = 0,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    key_usage: str | None = "sign",  # "sign", "nonrepudiation", "encrypt", "both", None
    eku: Sequence[x509.ObjectIdentifier] | None = (ExtendedKeyUsageOID.EMAIL_PROTECTION,),
    hash_algorithm: hashes.HashAlgorithm | None = None,
    email_in_subject: bool = False,
    ca: bool | None = False,
    self_signed: bool = False,
    extra_extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
) -> Issued:
    """A mail certificate issued by ``issuer`` (or self-signed)."""
    leaf_key = key(key_kind, slot)
    emails = [email] if isinstance(email, str) else list(email or [])
    subject = _name(cn, emails[0] if email_in_subject and emails else None)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject if self_signed else issuer.cert.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - timedelta(days=30))
        .not_valid_after(not_after or NOW + timedelta(days=365))
    )
    if ca is not None:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=ca, path_length=None), critical=True
        )
    if emails and not email_in_subject:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(e) for e in emails]), critical=False
        )
    is_ec = isinstance(leaf_key, ec.EllipticCurvePrivateKey)
    if key_usage is not None:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=key_usage in ("sign", "both"),
                content_commitment=key_usage == "nonrepudiation",
                key_encipherment=key_usage in ("encrypt", "both") and not is_ec,
                data_encipherment=False,
                key_agreement=key_usage in ("encrypt", "both") and is_ec,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    for extension, critical in extra_extensions:
        builder = builder.add_extension(extension, critical=critical)
    signer_key = leaf_key if self_signed else issuer.key
    cert = builder.sign(signer_key, _hash_for(signer_key, hash_algorithm))
    chain = () if self_signed else (issuer.cert, *issuer.chain)
    return Issued(cert, leaf_key, chain)


@dataclass(frozen=True)
class StandardPKI:
    """Root -> intermediate -> Alice, Bob (RSA), Carol (P-256), Dave (P-384)."""

    root: Issued
    intermediate: Issued
    alice: Issued
    bob: Issued
    carol: Issued
    dave: Issued


@functools.cache
def standard_pki() -> StandardPKI:
    root = make_ca("Inbox Test Root")
    intermediate = make_ca("Inbox Test Mail CA", issuer=root, slot=1, path_length=0)
    return StandardPKI(
        root=root,
        intermediate=intermediate,
        alice=make_leaf(intermediate, "alice@example.com", cn="Alice", slot=2, key_usage="both"),
        bob=make_leaf(intermediate, "bob@example.org", cn="Bob", slot=3, key_usage="both"),
        carol=make_leaf(
            intermediate, "carol@example.net", cn="Carol", key_kind="p256", key_usage="both"
        ),
        dave=make_leaf(
            intermediate, "dave@example.com", cn="Dave", key_kind="p384", key_usage="both"
        ),
    )


def message(
    sender: str = "Alice <alice@example.com>",
    body: bytes = b"Hello Bob,\r\n\r\nsee you tomorrow.\r\n",
    *,
    to: str = "bob@example.org",
    subject: str = "Meeting",
    extra_headers: bytes = b"",
) -> bytes:
    """A small RFC 5322 message."""
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        "Date: Mon, 01 Jun 2026 12:00:00 +0000\r\n"
        "Message-ID: <test-1@example.com>\r\n".encode()
        + extra_headers
        + b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        + body
    )
