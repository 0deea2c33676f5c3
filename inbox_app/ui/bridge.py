"""The one place where results of background work cross to the GUI thread.

Widgets start jobs through :meth:`Bridge.run` with a success callback (and, optionally, a
failure callback); the job runs on the :class:`~inbox_app.services.runtime.Runtime` worker
and the callback runs later on the GUI thread, delivered by a queued signal. Widgets never
touch a widget from a worker, and workers never see a widget.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal, Slot

from inbox_app.errors import InboxError

if TYPE_CHECKING:
    from concurrent.futures import Future

    from inbox_app.services.app import InboxServices
    from inbox_app.services.runtime import Runtime

T = TypeVar("T")
ErrorHandler = Callable[[BaseException], None]


class Bridge(QObject):
    """Runs jobs on the worker and delivers their outcome on the GUI thread.

    Signals:
        busy_changed(bool): whether any job is running or queued.
        progress(str): a one-line progress message from a running job.
        account_changed(str): the server says this account's mail changed (IDLE push).
        failed(str): a user-facing error of a job that had no failure callback.
        crashed(object): an unexpected exception (a bug) of any job, for the crash report.
    """

    busy_changed = Signal(bool)
    progress = Signal(str)
    account_changed = Signal(str)
    failed = Signal(str)
    crashed = Signal(object)
    _finished = Signal(int, object, object)

    def __init__(self, runtime: Runtime, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runtime = runtime
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[Callable[[Any], None], ErrorHandler | None]] = {}
        # Queued: emitted on the worker, delivered to the GUI thread's event loop.
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def run(
        self,
        job: Callable[[InboxServices], T],
        on_done: Callable[[T], None],
        on_error: ErrorHandler | None = None,
    ) -> None:
        """Run ``job`` off the GUI thread, then ``on_done(result)`` on it.

        ``on_error`` receives user-facing errors (:class:`InboxError`); without one they go
        to :attr:`failed`. Any other exception is a bug and goes to :attr:`crashed`.
        """
        job_id = next(self._ids)
        self._pending[job_id] = (on_done, on_error)
        if len(self._pending) == 1:
            self.busy_changed.emit(True)
        future = self._runtime.submit(job)
        future.add_done_callback(lambda f: self._finished.emit(job_id, *_outcome(f)))

    def report_progress(self, message: str) -> None:
        """Thread-safe: jobs call this (signals cross threads queued)."""
        self.progress.emit(message)

    def report_change(self, account: str) -> None:
        """Thread-safe: the push watcher calls this when a server reports a change."""
        self.account_changed.emit(account)

    def report_failure(self, account: str, message: str) -> None:
        """Thread-safe: a background failure that is not a job's (one line)."""
        self.failed.emit(f"{account}: {message}")

    @Slot(int, object, object)
    def _deliver(self, job_id: int, result: object, error: object) -> None:
        on_done, on_error = self._pending.pop(job_id)
        if not self._pending:
            self.busy_changed.emit(False)
        if isinstance(error, _Cancelled):
            return  # never ran: the session is closing, nobody waits for an answer
        if error is None:
            on_done(result)
        elif isinstance(error, InboxError):
            if on_error is not None:
                on_error(error)
            else:
                self.failed.emit(str(error))
        else:
            self.crashed.emit(error)

    def is_busy(self) -> bool:
        return bool(self._pending)


def _outcome(future: Future[Any]) -> tuple[object, object]:
    if future.cancelled():
        return None, _Cancelled()
    error = future.exception()
    if error is not None:
        return None, error
    return future.result(), None


class _Cancelled:
    """The marker of a job that never ran (the runtime closed first)."""
