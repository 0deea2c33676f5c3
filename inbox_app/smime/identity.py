"""S/MIME identities: a certificate, its private key and its issuers, from PKCS#12."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, pkcs12

from inbox_app.smime.errors import IdentityError

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
# Keys that can only ever decrypt (RFC 8418 key agreement).
AgreementKey = x25519.X25519PrivateKey | x448.X448PrivateKey
PrivateKey = SigningKey | AgreementKey
_USABLE_KEYS = (
    rsa.RSAPrivateKey,
    ec.EllipticCurvePrivateKey,
    ed25519.Ed25519PrivateKey,
    x25519.X25519PrivateKey,
    x448.X448PrivateKey,
)


class DecryptionKey(Protocol):
    """What decryption needs of a key we hold; :class:`Identity` is one.

    A keystore may hand out objects that unwrap their private key only when it is asked
    for, so that holding twenty historic keys costs nothing until one of them matches.
    """

    @property
    def certificate(self) -> x509.Certificate: ...

    @property
    def historic(self) -> bool: ...

    @property
    def private_key(self) -> PrivateKey: ...


@dataclass(frozen=True)
class Identity:
    """A certificate with its private key; ``chain`` holds the other certificates given.

    A ``historic`` identity (an expired or superseded encryption certificate) is only ever
    used to decrypt old mail, never to sign or encrypt.
    """

    certificate: x509.Certificate
    private_key: PrivateKey
    chain: tuple[x509.Certificate, ...] = ()
    historic: bool = False

    def __repr__(self) -> str:  # never let a key reach a log or a traceback
        return f"Identity(subject={self.certificate.subject.rfc4514_string()!r})"


def load_identity(data: bytes, password: bytes | None) -> Identity:
    """Load a ``.p12``/``.pfx`` file: legacy (RC2/3DES) and modern (PBES2/AES) encodings.

    Args:
        data: the PKCS#12 file's bytes.
        password: its password; None or empty tries both the empty and the absent password,
            which PKCS#12 tells apart (RFC 7292 Appendix B.1).

    Raises:
        IdentityError: wrong password, not PKCS#12, no key or certificate, or a key that
            does not belong to the certificate.
    """
    attempts = [password] if password else [b"", None]
    loaded = None
    for attempt in attempts:
        try:
            with warnings.catch_warnings():
                # NSS writes BER; cryptography parses it but warns that one day it may not.
                warnings.simplefilter("ignore", UserWarning)
                loaded = pkcs12.load_pkcs12(data, attempt)
            break
        except (ValueError, TypeError):
            continue
    if loaded is None:
        raise IdentityError("cannot open the PKCS#12 file: wrong password or not a PKCS#12 file")
    key = loaded.key
    if loaded.cert is None or key is None:
        raise IdentityError("the PKCS#12 file does not hold both a certificate and its private key")
    if not isinstance(key, _USABLE_KEYS):
        raise IdentityError("the PKCS#12 file holds a key type Inbox cannot use")
    certificate = loaded.cert.certificate
    if _public_der(key.public_key()) != _public_der(certificate.public_key()):
        raise IdentityError("the private key in the PKCS#12 file does not match its certificate")
    chain = tuple(extra.certificate for extra in loaded.additional_certs)
    return Identity(certificate, key, chain)


def _public_der(key: CertificatePublicKeyTypes) -> bytes:
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
