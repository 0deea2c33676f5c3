"""The local mail store: folders, message summaries and raw bytes, search, outbox, drafts.

It may use only :mod:`inbox_app.errors`, :mod:`inbox_app.paths` and :mod:`inbox_app.fileio`
(it uses the first two): no crypto, no network. It keeps the bytes and text it is handed.
"""

from inbox_app.store.errors import StoreError, StoreUnavailableError
from inbox_app.store.mailstore import STORE_FILE, MailStore, fts_query
from inbox_app.store.models import (
    OUTBOX_STATES,
    ROLES,
    SECURITY,
    Draft,
    FolderState,
    FolderView,
    MessageSummary,
    OutboxItem,
    SyncedSummary,
)

__all__ = [
    "OUTBOX_STATES",
    "ROLES",
    "SECURITY",
    "STORE_FILE",
    "Draft",
    "FolderState",
    "FolderView",
    "MailStore",
    "MessageSummary",
    "OutboxItem",
    "StoreError",
    "StoreUnavailableError",
    "SyncedSummary",
    "fts_query",
]
