"""A small, throwaway PKI generated in memory: for the demo home and the self-test.

EC P-256 keys throughout (generated in a fraction of a millisecond) and one RSA key for
Alice, so that both key transport (RSA) and key agreement (ECDH) are exercised. Every
certificate is dated relative to the ``now`` passed in, so a demo built today is valid
today and a test that pins ``now`` gets a PKI valid at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    pkcs12,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from inbox_app.smime import Identity

DEMO_DOMAIN = "demo.inbox.example"
YOU = f"you@{DEMO_DOMAIN}"
ALICE = f"alice@{DEMO_DOMAIN}"

IssuerKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Issued:
    """A certificate, its private key and its issuers (nearest first, root last)."""

    certificate: x509.Certificate
    key: IssuerKey
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def identity(self) -> Identity:
        return Identity(self.certificate, self.key, self.chain)

    def pem(self) -> bytes:
        return self.certificate.public_bytes(Encoding.PEM)

    def p12(self, password: bytes | None, *, name: bytes = b"Inbox demo") -> bytes:
        """The identity as a PKCS#12 file (AES and PBKDF2 when a password is given)."""
        encryption = BestAvailableEncryption(password) if password else NoEncryption()
        return pkcs12.serialize_key_and_certificates(
            name, self.key, self.certificate, list(self.chain) or None, encryption
        )


@dataclass(frozen=True)
class DemoPki:
    """The demo's certificates.

    Attributes:
        root: "Inbox Demo Root CA", the home's trust anchor (and its profile signers' root).
        mail_ca: the intermediate that issues every mail certificate.
        you: your current identity (signing and encryption).
        you_old: your previous encryption identity, renewed by ``you``: historic.
        you_attached: a fresh identity for you, mailed as a ``.p12`` attachment.
        you_profile: a fresh identity for you inside the sample profile.
        alice: the correspondent (RSA; signing and encryption).
        profile_signer: the demo MDM server's TLS certificate, which signs the profile.
    """

    root: Issued
    mail_ca: Issued
    you: Issued
    you_old: Issued
    you_attached: Issued
    you_profile: Issued
    alice: Issued
    profile_signer: Issued


def build_demo_pki(now: datetime) -> DemoPki:
    """Generate the demo PKI, valid at ``now``."""
    root = issue_ca("Inbox Demo Root CA", now=now)
    mail_ca = issue_ca("Inbox Demo Mail CA", now=now, issuer=root)
    return DemoPki(
        root=root,
        mail_ca=mail_ca,
        you=issue_leaf(mail_ca, YOU, "You (Inbox demo)", now=now),
        you_old=issue_leaf(
            mail_ca,
            YOU,
            "You (Inbox demo, encryption until last month)",
            now=now,
            usage="encrypt",
            not_before=now - 2 * 365 * _DAY,
            not_after=now - 30 * _DAY,
        ),
        you_attached=issue_leaf(mail_ca, YOU, "You (Inbox demo, sent by mail)", now=now),
        you_profile=issue_leaf(mail_ca, YOU, "You (Inbox demo, from a profile)", now=now),
        alice=issue_leaf(mail_ca, ALICE, "Alice Demo", now=now, rsa_bits=2048),
        profile_signer=issue_leaf(
            root,
            None,
            f"mdm.{DEMO_DOMAIN}",
            now=now,
            usage="sign",
            eku=ExtendedKeyUsageOID.SERVER_AUTH,
        ),
    )


def issue_ca(cn: str, *, now: datetime, issuer: Issued | None = None) -> Issued:
    """A CA certificate: self-signed when ``issuer`` is None, else issued by it."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(cn)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - 3 * 365 * _DAY)
        .not_valid_after(now + 10 * 365 * _DAY)
        .add_extension(
            x509.BasicConstraints(ca=True, path_length=None if issuer is None else 0),
            critical=True,
        )
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    cert = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    chain = () if issuer is None else (issuer.certificate, *issuer.chain)
    return Issued(cert, key, chain)


def issue_leaf(
    issuer: Issued,
    email: str | None,
    cn: str,
    *,
    now: datetime,
    usage: str = "both",
    eku: x509.ObjectIdentifier = ExtendedKeyUsageOID.EMAIL_PROTECTION,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    rsa_bits: int | None = None,
) -> Issued:
    """An end-entity certificate; ``usage`` is "sign", "encrypt" or "both"."""
    key: IssuerKey = (
        rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
        if rsa_bits
        else ec.generate_private_key(ec.SECP256R1())
    )
    is_ec = isinstance(key, ec.EllipticCurvePrivateKey)
    encrypt = usage in ("encrypt", "both")
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - 365 * _DAY)
        .not_valid_after(not_after or now + 2 * 365 * _DAY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            _key_usage(
                sign=usage in ("sign", "both"),
                encipher=encrypt and not is_ec,
                agree=encrypt and is_ec,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    )
    if email is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False
        )
    cert = builder.sign(issuer.key, hashes.SHA256())
    return Issued(cert, key, (issuer.certificate, *issuer.chain))


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Inbox demo (not a real CA)"),
        ]
    )


def _key_usage(
    *, sign: bool = False, encipher: bool = False, agree: bool = False, cert_sign: bool = False
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign or cert_sign,
        content_commitment=False,
        key_encipherment=encipher,
        data_encipherment=False,
        key_agreement=agree,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
