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

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# PEP 562: the recipes load on first use, so that importing one light module of the
# engine (report, errors) does not pull in every primitive: the GUI paints its first
# window before the crypto stack has loaded.
_LAZY = {
    "Decrypted": "inbox_app.smime.decrypt",
    "DecryptionError": "inbox_app.smime.errors",
    "EncryptionStatus": "inbox_app.smime.report",
    "Identity": "inbox_app.smime.identity",
    "IdentityError": "inbox_app.smime.errors",
    "MalformedError": "inbox_app.smime.errors",
    "NoMatchingKeyError": "inbox_app.smime.errors",
    "Report": "inbox_app.smime.report",
    "SignatureStatus": "inbox_app.smime.report",
    "SignatureVerificationError": "inbox_app.smime.errors",
    "SignedLayer": "inbox_app.smime.report",
    "Signer": "inbox_app.smime.report",
    "SmimeError": "inbox_app.smime.errors",
    "TrustStore": "inbox_app.smime.trust",
    "UnsupportedError": "inbox_app.smime.errors",
    "VerifiedSignature": "inbox_app.smime.verify",
    "decrypt_envelope": "inbox_app.smime.decrypt",
    "encrypt_message": "inbox_app.smime.encrypt",
    "load_certificates": "inbox_app.smime.trust",
    "load_identity": "inbox_app.smime.identity",
    "open_message": "inbox_app.smime.layers",
    "sign_message": "inbox_app.smime.sign",
    "verify_signed_data": "inbox_app.smime.verify",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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
