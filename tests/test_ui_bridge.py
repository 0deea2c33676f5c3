"""The one bridge from the services worker to the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from inbox_app.credentials.errors import CredentialsError
from inbox_app.credentials.secrets import MemorySecretStore
from inbox_app.services.app import InboxServices
from inbox_app.services.runtime import Runtime
from inbox_app.ui.bridge import Bridge


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    runtime = Runtime(lambda: InboxServices(tmp_path, secrets=MemorySecretStore()))
    yield Bridge(runtime)
    runtime.close()


def test_jobs_run_off_the_gui_thread_and_results_come_back_on_it(qtbot, bridge: Bridge) -> None:
    seen: dict[str, object] = {}

    def job(services: InboxServices) -> str:
        seen["job_thread"] = threading.current_thread().name
        return "done"

    def done(result: str) -> None:
        seen["result"] = result
        seen["done_thread"] = threading.current_thread()

    with qtbot.waitSignal(bridge.busy_changed, timeout=5000, check_params_cb=lambda busy: not busy):
        bridge.run(job, done)
    assert seen["result"] == "done"
    assert str(seen["job_thread"]).startswith("inbox-services")
    assert seen["done_thread"] is threading.main_thread()


def test_jobs_run_in_order_on_one_thread(qtbot, bridge: Bridge) -> None:
    results: list[int] = []
    threads: set[str] = set()

    def job(n: int):
        def run(services: InboxServices) -> int:
            threads.add(threading.current_thread().name)
            return n

        return run

    for n in range(20):
        bridge.run(job(n), results.append)
    qtbot.waitUntil(lambda: len(results) == 20, timeout=5000)
    assert results == list(range(20))
    assert len(threads) == 1


def test_user_errors_go_to_the_handler_or_failed(qtbot, bridge: Bridge) -> None:
    def failing(services: InboxServices) -> None:
        raise CredentialsError("no certificate for bob@example.com")

    errors: list[BaseException] = []
    bridge.run(failing, lambda _: None, errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert str(errors[0]) == "no certificate for bob@example.com"
    with qtbot.waitSignal(bridge.failed, timeout=5000) as blocker:
        bridge.run(failing, lambda _: None)
    assert blocker.args == ["no certificate for bob@example.com"]


def test_bugs_are_not_swallowed(qtbot, bridge: Bridge) -> None:
    def buggy(services: InboxServices) -> None:
        raise KeyError("bug")

    handled: list[BaseException] = []
    with qtbot.waitSignal(bridge.crashed, timeout=5000) as blocker:
        bridge.run(buggy, lambda _: None, handled.append)
    assert isinstance(blocker.args[0], KeyError)
    assert handled == []  # a bug never reaches the user-error path


def test_a_job_after_close_never_runs_and_answers_nobody(qtbot, tmp_path: Path) -> None:
    runtime = Runtime(lambda: InboxServices(tmp_path, secrets=MemorySecretStore()))
    bridge = Bridge(runtime)
    runtime.close()
    ran: list[object] = []
    with qtbot.assertNotEmitted(bridge.failed), qtbot.assertNotEmitted(bridge.crashed):
        with qtbot.waitSignal(bridge.busy_changed, check_params_cb=lambda busy: not busy):
            bridge.run(lambda s: ran.append("job"), ran.append, ran.append)
        qtbot.wait(50)
    assert ran == []
    assert not bridge.is_busy()
