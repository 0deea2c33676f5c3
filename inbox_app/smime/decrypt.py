"""Decrypt EnvelopedData and AuthEnvelopedData with the keys we hold (RFC 5652, 5083, 5084).

- Every key whose recipient identifier matches is tried: current keys first, then historic
  ones, so mail encrypted to a renewed certificate stays readable.
- AES-GCM and ChaCha20-Poly1305 fail closed: the plaintext is returned only after the tag
  verifies; nothing partial ever leaves this module.
- AES-CBC is reported ``unauthenticated`` (EFAIL's malleability); 3DES and RC2 decrypt old
  mail and are reported ``weak``. None of them is ever used to encrypt.
- A failed RSA PKCS#1 v1.5 unwrap continues with a random key (RFC 3218 §2.3.2), so a
  padding error and a wrong key look alike: no Bleichenbacher oracle.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from asn1crypto import algos
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.decrepit.ciphers import algorithms as decrepit
from cryptography.hazmat.primitives import hashes, keywrap
from cryptography.hazmat.primitives import padding as block_padding
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, x448, x25519
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF

from inbox_app.smime import _cms, _der
from inbox_app.smime._enveloped import (
    Envelope,
    KeyAgreement,
    KeyEncryptionKey,
    KeyTransport,
    RecipientId,
    parse_envelope,
)
from inbox_app.smime.algorithms import hash_for
from inbox_app.smime.certificates import fingerprint, is_identified_by
from inbox_app.smime.decrepit import rc2_cbc_decrypt
from inbox_app.smime.errors import (
    DecryptionError,
    MalformedError,
    NoMatchingKeyError,
    SmimeError,
    UnsupportedError,
)
from inbox_app.smime.identity import DecryptionKey
from inbox_app.smime.report import EncryptionStatus


@dataclass(frozen=True)
class ContentCipher:
    name: str
    key_size: int | None  # octets; None: taken from the key (RC2)
    status: EncryptionStatus
    mode: str  # "cbc", "gcm", "chacha"


CONTENT_CIPHERS: dict[str, ContentCipher] = {
    "2.16.840.1.101.3.4.1.2": ContentCipher(
        "aes-128-cbc", 16, EncryptionStatus.UNAUTHENTICATED, "cbc"
    ),
    "2.16.840.1.101.3.4.1.22": ContentCipher(
        "aes-192-cbc", 24, EncryptionStatus.UNAUTHENTICATED, "cbc"
    ),
    "2.16.840.1.101.3.4.1.42": ContentCipher(
        "aes-256-cbc", 32, EncryptionStatus.UNAUTHENTICATED, "cbc"
    ),
    "2.16.840.1.101.3.4.1.6": ContentCipher("aes-128-gcm", 16, EncryptionStatus.AEAD, "gcm"),
    "2.16.840.1.101.3.4.1.26": ContentCipher("aes-192-gcm", 24, EncryptionStatus.AEAD, "gcm"),
    "2.16.840.1.101.3.4.1.46": ContentCipher("aes-256-gcm", 32, EncryptionStatus.AEAD, "gcm"),
    "1.2.840.113549.1.9.16.3.18": ContentCipher(
        "chacha20-poly1305", 32, EncryptionStatus.AEAD, "chacha"
    ),
    "1.2.840.113549.3.7": ContentCipher("des-ede3-cbc", 24, EncryptionStatus.WEAK, "cbc"),
    "1.2.840.113549.3.2": ContentCipher("rc2-cbc", None, EncryptionStatus.WEAK, "cbc"),
}
OID_RSA = "1.2.840.113549.1.1.1"
OID_RSAES_OAEP = "1.2.840.113549.1.1.7"
OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
# RFC 5753 §7.1.4 (and SEC 1): ECDH key agreement schemes with the X9.63 KDF's hash. With
# the prime curves we accept (cofactor 1), cofactor DH computes the same secret.
KEY_AGREEMENT_HASHES = {
    "1.3.133.16.840.63.0.2": "sha1",
    "1.3.132.1.11.0": "sha224",
    "1.3.132.1.11.1": "sha256",
    "1.3.132.1.11.2": "sha384",
    "1.3.132.1.11.3": "sha512",
    "1.3.133.16.840.63.0.3": "sha1",
    "1.3.132.1.14.0": "sha224",
    "1.3.132.1.14.1": "sha256",
    "1.3.132.1.14.2": "sha384",
    "1.3.132.1.14.3": "sha512",
}
# RFC 8418 §2: the same schemes with HKDF instead of the X9.63 KDF.
HKDF_KEY_AGREEMENT_HASHES = {
    "1.2.840.113549.1.9.16.3.19": "sha256",
    "1.2.840.113549.1.9.16.3.20": "sha384",
    "1.2.840.113549.1.9.16.3.21": "sha512",
}
OID_X25519 = "1.3.101.110"
OID_X448 = "1.3.101.111"
KEY_WRAP_SIZES = {
    "2.16.840.1.101.3.4.1.5": 16,
    "2.16.840.1.101.3.4.1.25": 24,
    "2.16.840.1.101.3.4.1.45": 32,
}


@dataclass(frozen=True)
class Decrypted:
    """What a successful decryption produced, and how."""

    content: bytes
    content_type: str
    encryption: EncryptionStatus
    cipher: str
    certificate: x509.Certificate | None  # whose key opened it; None for a shared KEK
    historic: bool

    @property
    def certificate_sha256(self) -> str | None:
        return None if self.certificate is None else fingerprint(self.certificate)


def decrypt_envelope(
    der: bytes,
    identities: Sequence[DecryptionKey],
    *,
    key_encryption_keys: Mapping[bytes, bytes] | None = None,
) -> Decrypted:
    """Decrypt a ContentInfo holding EnvelopedData or AuthEnvelopedData.

    Args:
        der: the ContentInfo.
        identities: private keys we hold, current and historic.
        key_encryption_keys: pre-shared KEKs by key identifier (KEKRecipientInfo).

    Raises:
        MalformedError: the structure is malformed.
        UnsupportedError: the content cipher is one we do not know.
        NoMatchingKeyError: no key we hold belongs to a recipient.
        DecryptionError: a key matched, but decryption failed (tampering, wrong key).
    """
    envelope = parse_envelope(der)
    cipher = CONTENT_CIPHERS.get(envelope.content_algorithm)
    if cipher is None:
        raise UnsupportedError(f"unsupported content encryption {envelope.content_algorithm}")
    if (cipher.mode == "cbc") == envelope.authenticated:
        raise MalformedError(f"{cipher.name} is not allowed in this kind of encrypted message")
    if cipher.name == "rc2-cbc":
        # Checked from the parameters, before any private-key operation.
        _rc2_parameters(envelope.content_parameters or b"")
    attempts = _attempts(envelope, identities, key_encryption_keys or {})
    if not attempts:
        raise NoMatchingKeyError(_describe_recipients(envelope))
    for attempt in attempts:
        try:
            key = attempt.unwrap(cipher)
            content = _decrypt_content(envelope, cipher, key)
        except DecryptionError:
            continue
        return Decrypted(
            content=content,
            content_type=envelope.content_type,
            encryption=cipher.status,
            cipher=cipher.name,
            certificate=attempt.identity.certificate if attempt.identity else None,
            historic=bool(attempt.identity and attempt.identity.historic),
        )
    raise DecryptionError


@dataclass(frozen=True)
class _Attempt:
    recipient: KeyTransport | KeyAgreement | KeyEncryptionKey
    encrypted_key: bytes
    identity: DecryptionKey | None = None
    kek: bytes | None = None

    def unwrap(self, cipher: ContentCipher) -> bytes:
        if isinstance(self.recipient, KeyTransport):
            assert self.identity is not None  # noqa: S101  (built that way in _attempts)
            return _key_transport(self.recipient, self.identity, cipher)
        if isinstance(self.recipient, KeyAgreement):
            assert self.identity is not None  # noqa: S101
            return _key_agreement(self.recipient, self.encrypted_key, self.identity)
        assert self.kek is not None  # noqa: S101
        return _unwrap(self.kek, self.encrypted_key)


def _attempts(
    envelope: Envelope, identities: Sequence[DecryptionKey], keks: Mapping[bytes, bytes]
) -> list[_Attempt]:
    # Current keys before historic ones: the common case costs one private-key operation.
    ordered = sorted(identities, key=lambda identity: identity.historic)
    attempts = []
    for recipient in envelope.recipients:
        if isinstance(recipient, KeyTransport):
            for identity in ordered:
                # The certificate first: asking for the key may unwrap it (keystore).
                if _matches(recipient.rid, identity.certificate) and isinstance(
                    identity.private_key, rsa.RSAPrivateKey
                ):
                    attempts.append(_Attempt(recipient, recipient.encrypted_key, identity))
        elif isinstance(recipient, KeyAgreement):
            for rid, encrypted_key in recipient.keys:
                for identity in ordered:
                    if _matches(rid, identity.certificate) and isinstance(
                        identity.private_key, _AGREEMENT_KEYS
                    ):
                        attempts.append(_Attempt(recipient, encrypted_key, identity))
        elif recipient.key_id in keks:
            attempts.append(
                _Attempt(recipient, recipient.encrypted_key, kek=keks[recipient.key_id])
            )
    attempts.sort(key=lambda attempt: bool(attempt.identity and attempt.identity.historic))
    return attempts


def _matches(rid: RecipientId, cert: x509.Certificate) -> bool:
    return is_identified_by(
        cert, issuer_der=rid.issuer_der, serial=rid.serial, subject_key_id=rid.subject_key_id
    )


def _key_transport(
    recipient: KeyTransport, identity: DecryptionKey, cipher: ContentCipher
) -> bytes:
    key = identity.private_key
    if not isinstance(key, rsa.RSAPrivateKey):
        raise DecryptionError
    if recipient.algorithm == OID_RSA:
        try:
            return key.decrypt(recipient.encrypted_key, padding.PKCS1v15())
        except ValueError:
            # RFC 3218 §2.3.2: carry on with a random key, so that bad padding and a wrong
            # key fail in the same place, the same way.
            return os.urandom(cipher.key_size or 16)
    if recipient.algorithm == OID_RSAES_OAEP:
        scheme = _oaep(recipient.parameters)
        try:
            return key.decrypt(recipient.encrypted_key, scheme)
        except ValueError:
            raise DecryptionError from None
    raise UnsupportedError(f"unsupported key transport {recipient.algorithm}")


def _oaep(parameters: bytes | None) -> padding.OAEP:
    """RSAES-OAEP-params (RFC 4055 §4.1); absent fields mean SHA-1, MGF1-SHA-1, no label."""
    if parameters is None or parameters == _der.NULL:
        return padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)  # noqa: S303
    try:
        params = algos.RSAESOAEPParams.load(parameters)
        digest = hash_for(str(params["hash_algorithm"]["algorithm"].native))
        mgf = hash_for(str(params["mask_gen_algorithm"]["parameters"]["algorithm"].native))
        label = params["p_source_algorithm"]["parameters"].native or None
    except (ValueError, TypeError, KeyError) as exc:
        if isinstance(exc, SmimeError):
            raise
        raise MalformedError("malformed RSAES-OAEP parameters") from exc
    return padding.OAEP(mgf=padding.MGF1(mgf), algorithm=digest, label=label)


_AGREEMENT_KEYS = (ec.EllipticCurvePrivateKey, x25519.X25519PrivateKey, x448.X448PrivateKey)


def _key_agreement(recipient: KeyAgreement, encrypted_key: bytes, identity: DecryptionKey) -> bytes:
    x963_hash = KEY_AGREEMENT_HASHES.get(recipient.algorithm)
    hkdf_hash = HKDF_KEY_AGREEMENT_HASHES.get(recipient.algorithm)
    wrap_size = KEY_WRAP_SIZES.get(recipient.wrap_algorithm)
    if (x963_hash is None and hkdf_hash is None) or wrap_size is None:
        raise UnsupportedError(f"unsupported key agreement {recipient.algorithm}")
    shared = _shared_secret(recipient, identity)
    info = shared_info(recipient.wrap_algorithm_der, recipient.ukm, wrap_size)
    if x963_hash is not None:
        kdf: X963KDF | HKDF = X963KDF(
            algorithm=hash_for(x963_hash), length=wrap_size, sharedinfo=info
        )
    else:
        # RFC 8418 §2.2: HKDF with the ukm (if any) as salt and the SharedInfo as info.
        kdf = HKDF(
            algorithm=hash_for(hkdf_hash or "sha256"),
            length=wrap_size,
            salt=recipient.ukm,
            info=info,
        )
    return _unwrap(kdf.derive(shared), encrypted_key)


def _shared_secret(recipient: KeyAgreement, identity: DecryptionKey) -> bytes:
    """Z: ECDH between our static key and the originator's ephemeral one."""
    key = identity.private_key
    originator = recipient.originator_key
    algorithm = recipient.originator_algorithm
    try:
        if isinstance(key, ec.EllipticCurvePrivateKey) and algorithm == OID_EC_PUBLIC_KEY:
            point = ec.EllipticCurvePublicKey.from_encoded_point(key.curve, originator)
            return key.exchange(ec.ECDH(), point)
        if isinstance(key, x25519.X25519PrivateKey) and algorithm == OID_X25519:
            return key.exchange(x25519.X25519PublicKey.from_public_bytes(originator))
        if isinstance(key, x448.X448PrivateKey) and algorithm == OID_X448:
            return key.exchange(x448.X448PublicKey.from_public_bytes(originator))
    except ValueError:
        # Invalid points, and the all-zero X25519 result of a low-order point.
        raise DecryptionError from None
    raise DecryptionError


def shared_info(wrap_algorithm_der: bytes, ukm: bytes | None, key_size: int) -> bytes:
    """ECC-CMS-SharedInfo (RFC 5753 §7.2): the X9.63 KDF's SharedInfo."""
    return _der.sequence(
        wrap_algorithm_der,
        _der.explicit(0, _der.octet_string(ukm)) if ukm is not None else b"",
        _der.explicit(2, _der.octet_string((key_size * 8).to_bytes(4, "big"))),
    )


def _unwrap(kek: bytes, wrapped: bytes) -> bytes:
    try:
        return keywrap.aes_key_unwrap(kek, wrapped)
    except (keywrap.InvalidUnwrap, ValueError):
        raise DecryptionError from None


def _decrypt_content(envelope: Envelope, cipher: ContentCipher, key: bytes) -> bytes:
    if cipher.key_size is not None and len(key) != cipher.key_size:
        raise DecryptionError
    parameters = envelope.content_parameters or b""
    data = envelope.encrypted_content
    if cipher.mode == "gcm":
        nonce, tag_size = _gcm_parameters(parameters)
        return _gcm(
            key,
            nonce,
            data,
            tag=envelope.mac or b"",
            tag_size=tag_size,
            aad=envelope.auth_attrs_der,
        )
    if cipher.mode == "chacha":
        nonce = _octet_string(parameters, "ChaCha20-Poly1305 nonce")
        try:
            return ChaCha20Poly1305(key).decrypt(
                nonce, data + (envelope.mac or b""), envelope.auth_attrs_der
            )
        except (InvalidTag, ValueError):
            raise DecryptionError from None
    return _cbc(cipher, key, parameters, data)


def _gcm_parameters(parameters: bytes) -> tuple[bytes, int]:
    """GCMParameters (RFC 5084 §3.2): a nonce and the tag length, 12 octets by default."""
    element = _der.read_element(parameters)
    parts = _der.children(parameters, _cms.expect(element, _der.TAG_SEQUENCE, "GCMParameters"))
    if not parts or parts[0].tag != _der.TAG_OCTET_STRING or len(parts) > 2:
        raise MalformedError("malformed GCMParameters")
    nonce = _der.content(parameters, parts[0])
    tag_size = 12
    if len(parts) == 2:
        tag_size = int.from_bytes(_der.content(parameters, parts[1]), "big")
    if tag_size not in (12, 13, 14, 15, 16) or not 1 <= len(nonce) <= 64:
        raise MalformedError("unacceptable GCM parameters")
    return nonce, tag_size


def _gcm(
    key: bytes, nonce: bytes, data: bytes, *, tag: bytes, tag_size: int, aad: bytes | None
) -> bytes:
    if len(tag) != tag_size:
        raise DecryptionError
    try:
        if tag_size == 16 and len(nonce) >= 8:
            return AESGCM(key).decrypt(nonce, data + tag, aad)
        # Shorter tags need the streaming API; the plaintext stays in this buffer until
        # finalize() has checked the tag.
        decryptor = Cipher(
            algorithms.AES(key), modes.GCM(nonce, tag, min_tag_length=tag_size)
        ).decryptor()
        if aad:
            decryptor.authenticate_additional_data(aad)
        buffer = decryptor.update(data)
        decryptor.finalize()
    except (InvalidTag, ValueError):
        raise DecryptionError from None
    return buffer


def _cbc(cipher: ContentCipher, key: bytes, parameters: bytes, data: bytes) -> bytes:
    block: algorithms.AES | decrepit.TripleDES
    try:
        if cipher.name == "rc2-cbc":
            # pyca/cryptography runs RC2 with 128 effective bits only; old mail used 40.
            bits, iv = _rc2_parameters(parameters)
            padded = rc2_cbc_decrypt(key, bits, iv, data)
            return _unpad(padded, 64)
        block = algorithms.AES(key) if cipher.name.startswith("aes") else decrepit.TripleDES(key)
        iv = _octet_string(parameters, "IV")
        decryptor = Cipher(block, modes.CBC(iv)).decryptor()
        padded = decryptor.update(data) + decryptor.finalize()
        return _unpad(padded, block.block_size)
    except UnsupportedAlgorithm as exc:
        raise UnsupportedError(f"{cipher.name} is not available") from exc
    except ValueError:
        # Wrong key, bad padding or a truncated ciphertext: the same vague error for all.
        raise DecryptionError from None


def _unpad(padded: bytes, block_bits: int) -> bytes:
    """Remove RFC 5652 §6.3 padding; ValueError when it is not well-formed."""
    unpadder = block_padding.PKCS7(block_bits).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def _octet_string(parameters: bytes, what: str) -> bytes:
    tlv, end = _der.read_tlv(parameters) if parameters else (None, 0)
    if tlv is None or tlv.tag != _der.TAG_OCTET_STRING or end != len(parameters):
        raise MalformedError(f"malformed {what}")
    return tlv.value


# RFC 2268 §6: rc2ParameterVersion encodes the effective key bits (58 means 128 bits).
_RC2_VERSIONS = {160: 40, 120: 64, 58: 128}


def _rc2_parameters(parameters: bytes) -> tuple[int, bytes]:
    """RC2CBCParameter (RFC 3370 §5.2): (effective key bits, IV)."""
    element = _der.read_element(parameters)
    if element.tag == _der.TAG_OCTET_STRING:
        return 32, _der.content(parameters, element)  # RFC 2268: the version defaults to 32
    parts = _der.children(parameters, _cms.expect(element, _der.TAG_SEQUENCE, "RC2 parameters"))
    if len(parts) != 2 or parts[0].tag != 0x02 or parts[1].tag != _der.TAG_OCTET_STRING:
        raise MalformedError("malformed RC2 parameters")
    version = int.from_bytes(_der.content(parameters, parts[0]), "big")
    bits = _RC2_VERSIONS.get(version, version if 256 <= version <= 1024 else 0)
    if not bits:
        raise UnsupportedError(f"unsupported RC2 parameter version {version}")
    return bits, _der.content(parameters, parts[1])


def _describe_recipients(envelope: Envelope) -> tuple[str, ...]:
    described = []
    rids: list[RecipientId] = []
    for recipient in envelope.recipients:
        if isinstance(recipient, KeyTransport):
            rids.append(recipient.rid)
        elif isinstance(recipient, KeyAgreement):
            rids.extend(rid for rid, _ in recipient.keys)
        else:
            described.append(f"a shared key {recipient.key_id.hex()}")
    for rid in rids:
        if rid.issuer_der is not None and rid.serial is not None:
            described.append(f"certificate {rid.serial:#x} from {_issuer_text(rid.issuer_der)}")
        elif rid.subject_key_id is not None:
            described.append(f"the key {rid.subject_key_id.hex()}")
    if envelope.unsupported_recipients:
        described.append(f"{envelope.unsupported_recipients} recipient(s) of another kind")
    return tuple(described)


_SHORT_NAMES = {
    "common_name": "CN",
    "organization_name": "O",
    "organizational_unit_name": "OU",
    "country_name": "C",
    "locality_name": "L",
    "state_or_province_name": "ST",
    "email_address": "E",
}


def _issuer_text(issuer_der: bytes) -> str:
    """The issuer as short RFC 4514-style text, most specific attribute first."""
    try:
        name = asn1_x509.Name.load(issuer_der)
        parts = [
            f"{_SHORT_NAMES.get(attr['type'].native, attr['type'].dotted)}={attr['value'].native}"
            for rdn in name.chosen
            for attr in rdn
        ]
    except (ValueError, TypeError, KeyError):
        return "an unreadable issuer"
    return ",".join(reversed(parts))
