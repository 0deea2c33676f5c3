"""The S/MIME engine: recipes over bytes.  No Qt, no network, no disk I/O in here.

Recipes:
    :func:`sign_message`     sign a whole RFC 5322 message (multipart/signed or opaque)
    :func:`encrypt_message`  encrypt (and optionally sign first) a whole message
    :func:`open_message`     decrypt and check every cryptographic layer at the MIME root
    :func:`verify_signed_data`  verify one CMS SignedData (raises on failure)
    :func:`decrypt_envelope`    decrypt one CMS (Auth)EnvelopedData (raises on failure)
    :func:`load_identity`    a certificate and private key from PKCS#12

The ASN.1 plumbing lives in the private ``_der``, ``_cms`` and ``_enveloped`` modules.
"""

from inbox_app.smime.decrypt import Decrypted, decrypt_envelope
from inbox_app.smime.encrypt import encrypt_message
from inbox_app.smime.errors import (
    DecryptionError,
    IdentityError,
    MalformedError,
    NoMatchingKeyError,
    SignatureVerificationError,
    SmimeError,
    UnsupportedError,
)
from inbox_app.smime.identity import Identity, load_identity
from inbox_app.smime.layers import open_message
from inbox_app.smime.report import (
    EncryptionStatus,
    Report,
    SignatureStatus,
    SignedLayer,
    Signer,
)
from inbox_app.smime.sign import sign_message
from inbox_app.smime.trust import TrustStore, load_certificates
from inbox_app.smime.verify import VerifiedSignature, verify_signed_data

__all__ = [
    "Decrypted",
    "DecryptionError",
    "EncryptionStatus",
    "Identity",
    "IdentityError",
    "MalformedError",
    "NoMatchingKeyError",
    "Report",
    "SignatureStatus",
    "SignatureVerificationError",
    "SignedLayer",
    "Signer",
    "SmimeError",
    "TrustStore",
    "UnsupportedError",
    "VerifiedSignature",
    "decrypt_envelope",
    "encrypt_message",
    "load_certificates",
    "load_identity",
    "open_message",
    "sign_message",
    "verify_signed_data",
]
