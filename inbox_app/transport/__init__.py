"""Mail transports: IMAP (over imapclient) now, SMTP later; TLS settings; their errors.

Blocking by design: the services run these calls in the asyncio loop's executor.
Nothing here knows about S/MIME beyond classifying a message by its top-level header.
"""

from inbox_app.transport.errors import (
    AuthenticationError,
    ConnectionLostError,
    ServerError,
    TlsError,
    TransportError,
)
from inbox_app.transport.imap import (
    Changes,
    Folder,
    FolderStatus,
    ImapSession,
    Summary,
    classify_security,
)
from inbox_app.transport.tls import create_context

__all__ = [
    "AuthenticationError",
    "Changes",
    "ConnectionLostError",
    "Folder",
    "FolderStatus",
    "ImapSession",
    "ServerError",
    "Summary",
    "TlsError",
    "TransportError",
    "classify_security",
    "create_context",
]
