"""The app's own trust anchors: PEM files in ``<home>/anchors/``.

Anchors are public certificates, so they live in plain files; the directory is created
0700 like every directory Inbox makes.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from inbox_app.fileio import read_file
from inbox_app.smime import MalformedError, load_certificates

ANCHORS_DIR = "anchors"


def load_app_anchors(home: Path) -> list[x509.Certificate]:
    """Every certificate in ``<home>/anchors/*.pem``; a missing directory means none.

    Raises:
        MalformedError: a file there is not a certificate (named in the message).
    """
    return load_pem_directory(home / ANCHORS_DIR, what="trust anchor")


def load_pem_directory(directory: Path, *, what: str) -> list[x509.Certificate]:
    """Every certificate in ``directory/*.pem``, in name order; none if it is missing.

    Raises:
        MalformedError: a file there is not a certificate (named in the message).
    """
    if not directory.is_dir():
        return []
    found: list[x509.Certificate] = []
    for path in sorted(directory.glob("*.pem")):
        try:
            found.extend(load_certificates(read_file(path, what=what)))
        except MalformedError as exc:
            raise MalformedError(f"{what} {path}: {exc}") from exc
    return found
