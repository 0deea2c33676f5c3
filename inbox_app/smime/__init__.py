"""The S/MIME engine: recipes over bytes.  No Qt, no network, no disk I/O in here.

Recipes:
    :func:`sign_message`     sign a whole RFC 5322 message (multipart/signed or opaque)
    :func:`open_message`     unwrap and check every cryptographic layer at the MIME root
    :func:`verify_signed_data`  verify one CMS SignedData (raises on failure)
    :func:`load_identity`    a certificate and private key from PKCS#12

The ASN.1 plumbing lives in the private ``_cms`` module.
"""

from inbox_app.smime.errors import (
    IdentityError,
    MalformedError,
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
    "EncryptionStatus",
    "Identity",
    "IdentityError",
    "MalformedError",
    "Report",
    "SignatureStatus",
    "SignatureVerificationError",
    "SignedLayer",
    "Signer",
    "SmimeError",
    "TrustStore",
    "UnsupportedError",
    "VerifiedSignature",
    "load_certificates",
    "load_identity",
    "open_message",
    "sign_message",
    "verify_signed_data",
]
