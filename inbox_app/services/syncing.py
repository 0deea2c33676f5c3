"""Syncing every account at once, for front ends that show all of them (the GUI)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from inbox_app.errors import InboxError
from inbox_app.mail.errors import MissingPasswordError

if TYPE_CHECKING:
    from inbox_app.services.app import InboxServices
    from inbox_app.services.mailbox import SyncResult


@dataclass(frozen=True)
class SyncFailure:
    """One account that could not be synced, and whether a password would help."""

    account: str
    message: str  # one line, user-facing
    needs_password: bool = False


@dataclass(frozen=True)
class SyncAllResult:
    results: list[SyncResult] = field(default_factory=list)
    failures: list[SyncFailure] = field(default_factory=list)

    @property
    def new(self) -> int:
        return sum(result.new for result in self.results)

    @property
    def removed(self) -> int:
        return sum(result.removed for result in self.results)


def sync_all(
    services: InboxServices, *, progress: Callable[[str], None] | None = None
) -> SyncAllResult:
    """Sync every account; one failing (user-facing errors) does not stop the others.

    Bugs (anything not an :class:`InboxError`) still propagate.
    """
    results, failures = [], []
    for account in services.accounts.accounts():
        try:
            results.append(services.mailbox.sync(account.name, progress=progress))
        except MissingPasswordError as exc:
            failures.append(SyncFailure(account.name, str(exc), needs_password=True))
        except InboxError as exc:
            failures.append(SyncFailure(account.name, str(exc)))
    return SyncAllResult(results, failures)
