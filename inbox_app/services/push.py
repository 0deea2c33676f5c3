"""New mail pushed by the server (IMAP IDLE, RFC 2177) while the GUI runs.

One daemon thread per IMAP account waits in IDLE on a connection of its own, with
services of its own (its own SQLite connection): the services worker is never blocked by
a wait. The watcher syncs nothing itself; it says which account changed, and the front
end syncs through its one worker, as when the user asks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from inbox_app.errors import InboxError
from inbox_app.mail.errors import MissingPasswordError

if TYPE_CHECKING:
    from inbox_app.services.app import InboxServices

# After a failure (server down, network gone), wait this long before trying again, then
# longer: a broken server is not hammered, a short outage heals by itself.
RETRY_DELAYS = (5.0, 30.0, 120.0, 300.0)


class PushWatcher:
    """Watches IMAP accounts for changes; reports them through callbacks.

    Args:
        factory: builds services for a watcher thread (called once per thread).
        on_change: called (on the watcher's thread) with the account's name when its
            INBOX changed; the front end must hop to its own thread.
        on_error: called (on the watcher's thread) with the account's name and a one-line
            reason when watching failed; the watcher retries later.
        window: seconds per IDLE round (how soon :meth:`stop` is noticed).
    """

    def __init__(
        self,
        factory: Callable[[], InboxServices],
        *,
        on_change: Callable[[str], None],
        on_error: Callable[[str, str], None],
        window: float = 25.0,
    ) -> None:
        self._factory = factory
        self._on_change = on_change
        self._on_error = on_error
        self._window = window
        self._stop = threading.Event()
        self._threads: dict[str, threading.Thread] = {}

    def watch(self, account: str) -> None:
        """Start watching ``account`` (nothing happens if it is watched already)."""
        thread = self._threads.get(account)
        if (thread is not None and thread.is_alive()) or self._stop.is_set():
            return
        thread = threading.Thread(
            target=self._run, args=(account,), name=f"inbox-push-{account}", daemon=True
        )
        self._threads[account] = thread
        thread.start()

    def watching(self) -> list[str]:
        return [name for name, thread in self._threads.items() if thread.is_alive()]

    def stop(self) -> None:
        """Ask every watcher to end (each notices within one IDLE round)."""
        self._stop.set()

    def _run(self, account: str) -> None:
        services = self._factory()
        failures = 0
        try:
            while not self._stop.is_set():
                try:
                    changed = services.mailbox.wait_for_change(
                        account, stop=self._stop.is_set, window=self._window
                    )
                except MissingPasswordError:
                    return  # the front end asks for it when it syncs; nothing to watch yet
                except InboxError as exc:
                    self._on_error(account, str(exc))
                    delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)]
                    failures += 1
                    self._stop.wait(delay)
                    continue
                failures = 0
                if changed and not self._stop.is_set():
                    self._on_change(account)
        finally:
            services.close()
