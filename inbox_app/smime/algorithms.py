"""Algorithm names, OIDs and the policy on which of them are too weak to trust.

RFC 8551 §2.1-2.2 lists what S/MIME 4.0 agents must support; SHA-1 and MD5 are only
acceptable for reading old mail, never as a basis for a ``valid`` signature.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes

from inbox_app.smime.errors import UnsupportedError

# asn1crypto's names for DigestAlgorithmIdentifier OIDs -> hash objects.
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "md5": hashes.MD5,
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}

WEAK_DIGESTS = frozenset({"md5", "sha1"})

# What we sign with, and the micalg parameter for each (RFC 8551 §3.5.3.2).
SIGNING_DIGESTS = ("sha256", "sha384", "sha512")
MICALG = {"sha256": "sha-256", "sha384": "sha-384", "sha512": "sha-512", "sha1": "sha-1"}


def hash_for(name: str) -> hashes.HashAlgorithm:
    """The hash object for an asn1crypto digest algorithm name.

    Raises:
        UnsupportedError: the digest algorithm is unknown.
    """
    try:
        return _HASHES[name]()
    except KeyError:
        raise UnsupportedError(f"unsupported digest algorithm {name}") from None


def hash_name(algorithm: hashes.HashAlgorithm | None) -> str | None:
    """The asn1crypto-style name ("sha256") of a cryptography hash object."""
    if algorithm is None:
        return None
    return algorithm.name.replace("-", "")
