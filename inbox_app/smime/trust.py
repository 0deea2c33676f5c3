"""Trust anchors: the certificates a signer's path must end in.

The engine does no disk I/O: callers load anchors (the app's own store, ``--ca`` files)
and hand them over as certificates or PEM/DER bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from inbox_app.smime.certificates import load_der_certificate
from inbox_app.smime.errors import MalformedError


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Load every certificate in PEM ``data`` (several allowed) or a single DER certificate.

    Raises:
        MalformedError: no certificate could be read.
    """
    try:
        if b"-----BEGIN" in data:
            blobs = [
                cert.public_bytes(Encoding.DER) for cert in x509.load_pem_x509_certificates(data)
            ]
        else:
            blobs = [data]
        certs = [load_der_certificate(blob) for blob in blobs]
    except (ValueError, x509.InvalidVersion) as exc:
        raise MalformedError("not a certificate in PEM or DER form") from exc
    if not certs:
        raise MalformedError("no certificate found")
    return certs


class TrustStore:
    """An immutable set of trust anchors, indexed by subject name for path building."""

    def __init__(self, anchors: Iterable[x509.Certificate] = ()) -> None:
        self._anchors: dict[bytes, x509.Certificate] = {}
        self._by_subject: dict[x509.Name, list[x509.Certificate]] = {}
        for cert in anchors:
            der = cert.public_bytes(Encoding.DER)
            if der in self._anchors:
                continue
            self._anchors[der] = cert
            self._by_subject.setdefault(cert.subject, []).append(cert)

    def __len__(self) -> int:
        return len(self._anchors)

    def __iter__(self) -> Iterator[x509.Certificate]:
        return iter(self._anchors.values())

    def with_anchors(self, more: Iterable[x509.Certificate]) -> TrustStore:
        """A new store holding these anchors and ``more``."""
        return TrustStore([*self._anchors.values(), *more])

    def issuers_of(self, cert: x509.Certificate) -> list[x509.Certificate]:
        """Anchors whose subject is ``cert``'s issuer (signature not yet checked)."""
        return self._by_subject.get(cert.issuer, [])

    def is_anchor(self, cert: x509.Certificate) -> bool:
        return cert.public_bytes(Encoding.DER) in self._anchors
