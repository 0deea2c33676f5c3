"""Errors of the transport package (see :mod:`inbox_app.errors` for the whole tree)::

    TransportError (ConnectionError)      cannot connect, or anything else on the wire
     +-- AuthenticationError              the server rejected the user name or password
     +-- TlsError                         certificate not trusted, wrong host, handshake failed
     +-- ServerError                      IMAP NO/BAD, an SMTP refusal (``code``)
     +-- ConnectionLostError              the connection dropped or timed out mid-session

``str(error)`` is one user-facing line. It never contains a password: the modules that
raise these build their messages from the host, the port and the library's reason only.
Library errors (imapclient, imaplib, ssl, socket) are translated at the boundary and kept
as ``__cause__``.
"""

from __future__ import annotations

from inbox_app.errors import InboxError


class TransportError(InboxError, ConnectionError):
    """Base class of the transport errors; also raised when a host cannot be reached."""


class AuthenticationError(TransportError):
    """The server rejected the credentials (a wrong password, an unknown user)."""


class TlsError(TransportError):
    """TLS could not be set up: an untrusted certificate, a wrong host name, no STARTTLS."""


class ServerError(TransportError):
    """The server refused a command (IMAP NO or BAD; an SMTP 4xx/5xx reply).

    Attributes:
        code: the SMTP reply code, when there is one (4xx: temporary, 5xx: permanent).
    """

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class ConnectionLostError(TransportError):
    """An established connection dropped, or the server stopped answering in time.

    Attributes:
        maybe_delivered: SMTP only: the message data was sent and the final reply never
            came, so the message may have been delivered (do not resend blindly).
    """

    def __init__(self, message: str, *, maybe_delivered: bool = False) -> None:
        super().__init__(message)
        self.maybe_delivered = maybe_delivered
