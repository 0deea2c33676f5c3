"""The store's value objects that front ends show, re-exported for ``ui/`` and ``cli/``.

Front ends depend on services, not on the store: they take these names from here.
"""

from inbox_app.store.models import MessageSummary

__all__ = ["MessageSummary"]
