"""TLS settings for every connection Inbox makes: verification on, TLS 1.2 or newer.

There is deliberately no switch that turns certificate checking off. A server with a
private CA is trusted by naming that CA's PEM file (``ca_file``), which is added to the
system's trust store rather than replacing it.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from inbox_app.transport.errors import TlsError


def create_context(*, ca_file: str | Path | None = None) -> ssl.SSLContext:
    """A client context that checks the certificate chain and the host name.

    Args:
        ca_file: a PEM file of extra trust anchors (for a private or test CA), added to
            the default trust store.

    Raises:
        TlsError: ``ca_file`` cannot be read or holds no certificate.
    """
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    # create_default_context already sets both; stated here because they are the point.
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise TlsError(f"cannot use the CA file {ca_file}: {describe(exc)}") from exc
    return context


def client_context(ca_file: str | Path | None = None) -> ssl.SSLContext:
    """:func:`create_context` with ``ca_file`` positional (the SMTP transport's spelling)."""
    return create_context(ca_file=ca_file)


def describe(exc: BaseException) -> str:
    """A short, one-line reason for an ssl or socket error."""
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return str(exc.verify_message)
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason).replace("_", " ").lower()
    if isinstance(exc, OSError) and exc.strerror:
        return str(exc.strerror)
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
