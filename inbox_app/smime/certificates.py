"""Facts about certificates that the engine reports or checks: addresses, names, keys."""

from __future__ import annotations

import hashlib
import warnings

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID

from inbox_app.smime import _cms
from inbox_app.smime.errors import MalformedError
from inbox_app.smime.report import Signer


def load_der_certificate(der: bytes) -> x509.Certificate:
    """Load a DER certificate and make sure its names can be read.

    cryptography parses names lazily, so a malformed issuer or subject would otherwise
    surface later, deep inside path building, as a bare ``ValueError``.

    Raises:
        MalformedError: the certificate cannot be read.
    """
    try:
        with warnings.catch_warnings():
            # e.g. non-positive serial numbers: readable today, and worth no console noise.
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            cert = x509.load_der_x509_certificate(der)
            _ = cert.issuer, cert.subject, cert.serial_number
    except (ValueError, x509.InvalidVersion) as exc:
        raise MalformedError("a certificate cannot be read") from exc
    return cert


def email_addresses(cert: x509.Certificate) -> tuple[str, ...]:
    """The certificate's mail addresses: SAN rfc822Name values, then subject emailAddress.

    RFC 8550 §3 puts the address in subjectAltName; older CAs put it in the subject's
    emailAddress attribute, which receiving agents must also accept.
    """
    found: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        found.extend(san.value.get_values_for_type(x509.RFC822Name))
    except x509.ExtensionNotFound:
        pass
    except ValueError:  # a malformed SAN: report no addresses rather than guess
        pass
    for attribute in cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS):
        value = attribute.value
        if isinstance(value, str):
            found.append(value)
    unique: list[str] = []
    for address in found:
        if address not in unique:
            unique.append(address)
    return tuple(unique)


def subject_text(cert: x509.Certificate) -> str:
    """The subject as RFC 4514 text (plain text: never to be rendered as markup)."""
    try:
        return cert.subject.rfc4514_string()
    except ValueError:
        return "<unreadable subject>"


def common_name(cert: x509.Certificate) -> str | None:
    attributes = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if attributes and isinstance(attributes[0].value, str):
        return attributes[0].value
    return None


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 over the DER certificate, lower-case hex."""
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


def signer_of(cert: x509.Certificate) -> Signer:
    """Describe ``cert`` as a :class:`Signer` for reports."""
    return Signer(
        addresses=email_addresses(cert),
        subject=subject_text(cert),
        sha256=fingerprint(cert),
        common_name=common_name(cert),
    )


def key_weakness(cert: x509.Certificate) -> str | None:
    """Why the certificate's public key is too weak to trust, or None if it is acceptable."""
    try:
        key = cert.public_key()
    except (ValueError, TypeError):
        return None  # unparseable keys fail signature checks elsewhere
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < 2048:
        return f"RSA key of {key.key_size} bits"
    if isinstance(key, dsa.DSAPublicKey) and key.key_size < 2048:
        return f"DSA key of {key.key_size} bits"
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.key_size < 256:
        return f"EC key on {key.curve.name}"
    return None


def is_identified_by(
    cert: x509.Certificate,
    *,
    issuer_der: bytes | None = None,
    serial: int | None = None,
    subject_key_id: bytes | None = None,
) -> bool:
    """Whether ``cert`` is the one an issuerAndSerialNumber or a subjectKeyIdentifier names
    (RFC 5652 §10.2.4, §5.3: SignerIdentifier, RecipientIdentifier, key preferences)."""
    if issuer_der is not None and serial is not None:
        return cert.serial_number == serial and _cms.names_equal(
            cert.issuer.public_bytes(), issuer_der
        )
    if subject_key_id is not None:
        return _subject_key_id(cert) == subject_key_id
    return False


def _subject_key_id(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except (x509.ExtensionNotFound, ValueError):
        # RFC 5280 §4.2.1.2 method (1), for certificates without the extension.
        try:
            return x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
        except (TypeError, ValueError, UnsupportedAlgorithm):
            return None
