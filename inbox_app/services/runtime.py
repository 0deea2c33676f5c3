"""The one worker thread that runs every use case for a front end (the GUI).

Habit 2 of STYLE.md: network, crypto and disk work never runs on the GUI thread. Jobs are
plain callables taking the :class:`InboxServices` of the session; they run one at a time on
a single worker thread that owns those services, so the SQLite connection, the keyring and
the caches are only ever touched from that thread (``MailStore`` is not shared between
threads). Results come back as :class:`concurrent.futures.Future` objects; the GUI's bridge
turns their completion into signals on the GUI thread.

Jobs that would block for long by design (IMAP IDLE) must not take the worker: the GUI
syncs on a timer instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

    from inbox_app.services.app import InboxServices

T = TypeVar("T")
Job = Callable[["InboxServices"], T]


class Runtime:
    """A single-threaded executor that owns one session's services.

    Args:
        factory: builds the services; called once, on the worker thread, on first use.
    """

    def __init__(self, factory: Callable[[], InboxServices]) -> None:
        self._factory = factory
        self._services: InboxServices | None = None
        # Made on the first job: the GUI paints its window before the worker exists.
        self._executor: ThreadPoolExecutor | None = None
        self._closed = False

    def submit(self, job: Job[T]) -> Future[T]:
        """Queue ``job``; it runs after every job submitted before it.

        After :meth:`close` the job never runs: its future comes back cancelled (a window
        that is closing may still ask for work as its last events are delivered).
        """
        if self._closed:
            from concurrent.futures import Future  # noqa: PLC0415

            cancelled: Future[T] = Future()
            cancelled.cancel()
            return cancelled
        if self._executor is None:
            from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbox-services")
        return self._executor.submit(self._run, job)

    def _run(self, job: Job[T]) -> T:
        if self._services is None:
            self._services = self._factory()
        return job(self._services)

    def close(self, *, wait: bool = True) -> None:
        """Stop taking jobs; with ``wait``, let the queued ones finish first."""
        self._closed = True
        if self._executor is None:
            return
        self._executor.submit(self._close_services)
        self._executor.shutdown(wait=wait, cancel_futures=not wait)

    def _close_services(self) -> None:
        if self._services is not None:
            self._services.close()
