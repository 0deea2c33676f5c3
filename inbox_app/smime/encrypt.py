"""Encrypt a whole message for its recipients (RFC 8551 §3.3, RFC 5083, RFC 5084, RFC 5753).

- AuthEnvelopedData with AES-256-GCM (the default) or AES-128-GCM; EnvelopedData with
  AES-CBC only when asked for, for recipients that cannot read anything better.
- RSA recipients get key transport with PKCS#1 v1.5 (what every client reads) or RSA-OAEP
  with SHA-256; EC recipients get ephemeral-static ECDH with the X9.63 KDF over SHA-256 and
  AES key wrap.
- Sign-then-encrypt: the signed entity is what gets encrypted, so the signature cannot be
  stripped or replaced without breaking the encryption's integrity (with GCM).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, keywrap, serialization
from cryptography.hazmat.primitives import padding as block_padding
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF

from inbox_app.smime import _der
from inbox_app.smime.decrypt import OID_EC_PUBLIC_KEY, OID_RSA, OID_RSAES_OAEP, shared_info
from inbox_app.smime.errors import UnsupportedError
from inbox_app.smime.header_protection import wrap_for_encryption
from inbox_app.smime.identity import Identity
from inbox_app.smime.sign import base64_lines, seven_bit_message, sign_entity, split_message


@dataclass(frozen=True)
class _Cipher:
    oid: str
    key_size: int
    gcm: bool


CIPHERS = {
    "aes-256-gcm": _Cipher("2.16.840.1.101.3.4.1.46", 32, gcm=True),
    "aes-128-gcm": _Cipher("2.16.840.1.101.3.4.1.6", 16, gcm=True),
    "aes-256-cbc": _Cipher("2.16.840.1.101.3.4.1.42", 32, gcm=False),
    "aes-128-cbc": _Cipher("2.16.840.1.101.3.4.1.2", 16, gcm=False),
}
_OID_DATA = "1.2.840.113549.1.7.1"
_OID_ENVELOPED = "1.2.840.113549.1.7.3"
_OID_AUTH_ENVELOPED = "1.2.840.113549.1.9.16.1.23"
_OID_SHA256 = "2.16.840.1.101.3.4.2.1"
_OID_MGF1 = "1.2.840.113549.1.1.8"
_OID_ECDH_SHA256_KDF = "1.3.132.1.11.1"  # dhSinglePass-stdDH-sha256kdf-scheme
_WRAP_FOR_KEY_SIZE = {16: "2.16.840.1.101.3.4.1.5", 32: "2.16.840.1.101.3.4.1.45"}


def encrypt_message(
    message: bytes,
    recipients: Sequence[x509.Certificate],
    *,
    now: datetime,
    cipher: str = "aes-256-gcm",
    oaep: bool = False,
    oaep_recipients: Sequence[x509.Certificate] = (),
    sign_with: Identity | None = None,
    digest: str = "sha256",
    header_protection: bool = True,
) -> bytes:
    """Encrypt ``message`` so that each certificate in ``recipients`` can read it.

    Args:
        message: a whole RFC 5322 message.
        recipients: the recipients' encryption certificates (add the sender's own, so that
            sent mail stays readable).
        now: the signing time, when signing.
        cipher: "aes-256-gcm" (default), "aes-128-gcm", "aes-256-cbc" or "aes-128-cbc".
        oaep: use RSA-OAEP for every RSA recipient.
        oaep_recipients: RSA recipients that announced OAEP support (RFC 8551 §2.7.1).
        sign_with: sign first with this identity (sign-then-encrypt).
        digest: the signature's digest, when signing.
        header_protection: protect the header fields (RFC 9788): they travel inside, and
            the outer Subject becomes "[...]". Without it only the body is encrypted and
            every field stays outside, readable by every relay.

    Raises:
        UnsupportedError: unknown cipher, no recipient, or a certificate whose key cannot
            receive encrypted mail.
        MalformedError: the message cannot be parsed.
    """
    spec = CIPHERS.get(cipher)
    if spec is None:
        raise UnsupportedError(f"unsupported cipher {cipher}; use one of {', '.join(CIPHERS)}")
    unique = _unique(recipients)
    if not unique:
        raise UnsupportedError("no recipient to encrypt to")
    if header_protection:
        wrapped = wrap_for_encryption(seven_bit_message(message))
        outer_fields, entity = wrapped.outer_fields, wrapped.payload
    else:
        parts = split_message(message)
        outer_fields, entity = parts.outer_fields, parts.entity
    if sign_with is not None:
        entity = sign_entity(entity, sign_with, now=now, digest=digest)
    key = os.urandom(spec.key_size)
    oaep_set = {cert.fingerprint(hashes.SHA256()) for cert in oaep_recipients}
    infos = [
        _recipient_info(cert, key, oaep=oaep or cert.fingerprint(hashes.SHA256()) in oaep_set)
        for cert in unique
    ]
    der = _envelope(spec, key, entity, infos)
    smime_type = b"authEnveloped-data" if spec.gcm else b"enveloped-data"
    return (
        outer_fields
        + b"MIME-Version: 1.0\r\n"
        + b"Content-Type: application/pkcs7-mime; smime-type="
        + smime_type
        + b'; name="smime.p7m"\r\n'
        + b"Content-Transfer-Encoding: base64\r\n"
        + b'Content-Disposition: attachment; filename="smime.p7m"\r\n'
        + b"\r\n"
        + base64_lines(der)
    )


def _unique(certificates: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    seen: list[x509.Certificate] = []
    for cert in certificates:
        if cert not in seen:
            seen.append(cert)
    return seen


def _recipient_info(cert: x509.Certificate, key: bytes, *, oaep: bool) -> tuple[bytes, bool]:
    """A RecipientInfo for ``cert``; the flag says whether it is a plain v0 ktri."""
    public = cert.public_key()
    usage = _key_usage(cert)
    if isinstance(public, rsa.RSAPublicKey):
        if usage is not None and not usage.key_encipherment:
            raise UnsupportedError(f"{_name(cert)} may not be used to encrypt (key usage)")
        return _key_transport(cert, public, key, oaep=oaep), True
    if isinstance(public, ec.EllipticCurvePublicKey):
        if usage is not None and not usage.key_agreement:
            raise UnsupportedError(f"{_name(cert)} may not be used to encrypt (key usage)")
        return _key_agreement(cert, public, key), False
    raise UnsupportedError(f"{_name(cert)} has a key type Inbox cannot encrypt to")


def _key_transport(
    cert: x509.Certificate, public: rsa.RSAPublicKey, key: bytes, *, oaep: bool
) -> bytes:
    if oaep:
        # RFC 4055 §4.1 / RFC 8551 §2.3: OAEP with SHA-256 and MGF1-SHA-256, no label.
        sha256 = _der.algorithm(_OID_SHA256)
        parameters = _der.sequence(
            _der.explicit(0, sha256), _der.explicit(1, _der.algorithm(_OID_MGF1, sha256))
        )
        algorithm = _der.algorithm(OID_RSAES_OAEP, parameters)
        encrypted = public.encrypt(
            key,
            padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
        )
    else:
        algorithm = _der.algorithm(OID_RSA, _der.NULL)
        encrypted = public.encrypt(key, padding.PKCS1v15())
    return _der.sequence(
        _der.integer(0), _issuer_and_serial(cert), algorithm, _der.octet_string(encrypted)
    )


def _key_agreement(cert: x509.Certificate, public: ec.EllipticCurvePublicKey, key: bytes) -> bytes:
    # RFC 5753 §3.1.1: a fresh ephemeral key per message; the KEK's strength follows the
    # content key's (RFC 8551 §2.7.1.2).
    ephemeral = ec.generate_private_key(public.curve)
    shared = ephemeral.exchange(ec.ECDH(), public)
    wrap_oid = _WRAP_FOR_KEY_SIZE[len(key)]
    wrap_algorithm = _der.algorithm(wrap_oid)
    kek = X963KDF(
        algorithm=hashes.SHA256(),
        length=len(key),
        sharedinfo=shared_info(wrap_algorithm, None, len(key)),
    ).derive(shared)
    point = ephemeral.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    originator = _der.explicit(
        0,
        _der.implicit(
            1,
            _der.sequence(_der.algorithm(OID_EC_PUBLIC_KEY), _der.bit_string(point)),
            constructed=True,
        ),
    )
    recipient_key = _der.sequence(
        _issuer_and_serial(cert), _der.octet_string(keywrap.aes_key_wrap(kek, key))
    )
    body = _der.sequence(
        _der.integer(3),
        originator,
        _der.algorithm(_OID_ECDH_SHA256_KDF, wrap_algorithm),
        _der.sequence(recipient_key),
    )
    return _der.implicit(1, body, constructed=True)


def _envelope(spec: _Cipher, key: bytes, content: bytes, infos: list[tuple[bytes, bool]]) -> bytes:
    recipient_infos = _der.set_of(*(info for info, _ in infos))
    if spec.gcm:
        # RFC 5084 §3.2: a 12-octet nonce, never reused: the key is fresh for each message.
        nonce = os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, content, None)
        ciphertext, tag = sealed[:-16], sealed[-16:]
        parameters = _der.sequence(_der.octet_string(nonce), _der.integer(16))
        body = _der.sequence(
            _der.integer(0),
            recipient_infos,
            _encrypted_content_info(spec.oid, parameters, ciphertext),
            _der.octet_string(tag),
        )
        content_type = _OID_AUTH_ENVELOPED
    else:
        iv = os.urandom(16)
        padder = block_padding.PKCS7(128).padder()
        padded = padder.update(content) + padder.finalize()
        encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        ciphertext = encryptor.update(padded) + encryptor.finalize()
        # RFC 5652 §6.1: version 0 only when every RecipientInfo is a version-0 ktri.
        version = 0 if all(plain for _, plain in infos) else 2
        body = _der.sequence(
            _der.integer(version),
            recipient_infos,
            _encrypted_content_info(spec.oid, _der.octet_string(iv), ciphertext),
        )
        content_type = _OID_ENVELOPED
    return _der.sequence(_der.oid(content_type), _der.explicit(0, body))


def _encrypted_content_info(oid: str, parameters: bytes, ciphertext: bytes) -> bytes:
    return _der.sequence(
        _der.oid(_OID_DATA),
        _der.algorithm(oid, parameters),
        _der.implicit(0, _der.octet_string(ciphertext), constructed=False),
    )


def _issuer_and_serial(cert: x509.Certificate) -> bytes:
    return _der.sequence(cert.issuer.public_bytes(), _der.integer(cert.serial_number))


def _key_usage(cert: x509.Certificate) -> x509.KeyUsage | None:
    try:
        return cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    except ValueError as exc:
        raise UnsupportedError(f"{_name(cert)} has malformed extensions") from exc


def _name(cert: x509.Certificate) -> str:
    try:
        return cert.subject.rfc4514_string()
    except ValueError:
        return "a certificate"
