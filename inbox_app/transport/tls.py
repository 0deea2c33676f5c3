"""TLS settings for every connection Inbox makes: verification on, TLS 1.2 or newer.

There is deliberately no switch that turns certificate checking off. A server with a
private CA is trusted by naming that CA's PEM file (``ca_file``), which is added to the
system's trust store rather than replacing it.
"""

from __future__ import annotations

import os
import ssl
import threading
from pathlib import Path

from inbox_app.transport.errors import TlsError

# Loading the system's trust store costs tens of milliseconds, more than the rest of an
# unchanged re-sync: one context per CA file (and per version of it) serves every
# connection. Contexts are safe to share between threads; nobody modifies them.
_CONTEXTS: dict[tuple[str | None, int, int], ssl.SSLContext] = {}
_CONTEXTS_LOCK = threading.Lock()


def create_context(*, ca_file: str | Path | None = None) -> ssl.SSLContext:
    """A client context that checks the certificate chain and the host name.

    The context is shared (built once per ``ca_file`` and its modification time): use
    it as it is, never change its settings.

    Args:
        ca_file: a PEM file of extra trust anchors (for a private or test CA), added to
            the default trust store.

    Raises:
        TlsError: ``ca_file`` cannot be read or holds no certificate.
    """
    key: tuple[str | None, int, int] = (None, 0, 0)
    if ca_file is not None:
        try:
            stat = os.stat(ca_file)
        except OSError as exc:
            raise TlsError(f"cannot use the CA file {ca_file}: {describe(exc)}") from exc
        key = (os.path.abspath(ca_file), stat.st_mtime_ns, stat.st_size)
    with _CONTEXTS_LOCK:
        cached = _CONTEXTS.get(key)
    if cached is not None:
        return cached
    context = _new_context(ca_file)
    with _CONTEXTS_LOCK:
        if len(_CONTEXTS) > 32:  # CA files replaced again and again: start over
            _CONTEXTS.clear()
        return _CONTEXTS.setdefault(key, context)


def _new_context(ca_file: str | Path | None) -> ssl.SSLContext:
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
