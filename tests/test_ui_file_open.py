"""Files the desktop hands to a running Inbox (macOS Finder): a ``QFileOpenEvent`` on the
application opens the same flow as ``inbox-app FILE``.

Offscreen, over a real demo home on the real worker thread (no mocks).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QUrl
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication

from inbox_app.services.app import InboxServices
from inbox_app.services.demo import DemoHome, build_demo
from inbox_app.services.runtime import Runtime
from inbox_app.services.sessions import scratch_session
from inbox_app.ui.bridge import Bridge
from inbox_app.ui.file_open import InboxApplication
from inbox_app.ui.main_window import MainWindow

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
WAIT = 10_000

MESSAGE = b"From: alice@example.com\r\nTo: bob@example.com\r\nSubject: Hello\r\n\r\nHello Bob.\r\n"


@pytest.fixture
def window(qtbot, tmp_path: Path) -> Iterator[tuple[MainWindow, DemoHome, Runtime]]:
    home = tmp_path / "demo"
    home.mkdir(mode=0o700)
    services = scratch_session(home)
    demo_home = build_demo(home, services.secrets, now=NOW)
    runtime = Runtime(lambda: InboxServices(home, secrets=services.secrets))
    main = MainWindow(Bridge(runtime), clock=lambda: NOW)
    qtbot.addWidget(main)
    main.show()
    main.start(sync=False)
    qtbot.waitUntil(lambda: main.messages.rowCount() == len(demo_home.uids), timeout=WAIT)
    yield main, demo_home, runtime
    for widget in QApplication.topLevelWidgets():  # the install dialogs a flow opened
        if widget is not main and widget.isVisible():
            widget.close()
    main.close()
    runtime.close()


def _attachment(qtbot, main: MainWindow, uid: int, suffix: str) -> bytes:
    row = main.messages.row_of(uid)
    assert row is not None
    main.select_row(row)
    qtbot.waitUntil(lambda: main.opened is not None and main.opened.uid == uid, timeout=WAIT)
    assert main.opened is not None
    return next(a.data for a in main.opened.attachments if a.filename.endswith(suffix))


@pytest.mark.parametrize(
    ("suffix", "kind"), [(".eml", "message"), (".p12", "p12"), (".mobileconfig", "profile")]
)
def test_a_file_open_event_opens_the_files_flow(
    qtbot, window, tmp_path: Path, suffix: str, kind: str
) -> None:
    main, demo_home, _runtime = window
    data = MESSAGE if suffix == ".eml" else _attachment(qtbot, main, demo_home.uids[kind], suffix)
    path = tmp_path / f"from-finder{suffix}"
    path.write_bytes(data)
    app = QApplication.instance()
    assert isinstance(app, InboxApplication)  # tests run on the GUI's application class
    app.file_open_requested.connect(main.open_path_named)
    try:
        QCoreApplication.postEvent(app, QFileOpenEvent(str(path)))
        qtbot.waitUntil(lambda: main.opened_file_kind is not None, timeout=WAIT)
    finally:
        app.file_open_requested.disconnect(main.open_path_named)
    assert main.opened_file_kind == kind
    if kind == "message":
        assert main.opened is not None
        assert main.opened.uid is None  # the file, not a message of the mailbox
        assert main.opened.headers.subject == "Hello"


def test_an_event_naming_no_local_file_is_left_alone(qtbot) -> None:
    app = QApplication.instance()
    assert isinstance(app, InboxApplication)
    opened: list[str] = []
    app.file_open_requested.connect(opened.append)
    try:
        assert app.event(QFileOpenEvent(QUrl("https://example.com/message.eml"))) is False
        assert app.event(QFileOpenEvent("/tmp/message.eml")) is True
    finally:
        app.file_open_requested.disconnect(opened.append)
    assert opened == ["/tmp/message.eml"]


# The whole `inbox-app --demo` start-up, in its own process: run() owns the application's
# event loop, SIGINT handler and message handler, which must not leak into other tests.
_WHOLE_RUN = """
import json, sys
from pathlib import Path
from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication
from inbox_app.ui.app import run
from inbox_app.ui.file_open import InboxApplication
from inbox_app.ui.main_window import MainWindow

path = Path(sys.argv[1])
app = InboxApplication(sys.argv[:1])
seen = {}

def poll():
    main = next(
        (w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()), None
    )
    if main is None:
        return
    if "posted" not in seen:
        seen["posted"] = True
        seen["icon sizes"] = [size.width() for size in app.windowIcon().availableSizes()]
        QCoreApplication.postEvent(app, QFileOpenEvent(str(path)))
    elif main.opened_file_kind is not None:
        seen["kind"] = main.opened_file_kind
        app.quit()

timer = QTimer()
timer.timeout.connect(poll)
timer.start(20)
QTimer.singleShot(30_000, app.quit)  # never hang
seen["exit"] = run(demo=True)
print(json.dumps(seen))
"""


def test_the_gui_routes_file_open_events_and_sets_the_window_icon(tmp_path: Path) -> None:
    # A file opened once the window is up must reach its flow, as from Finder on macOS.
    path = tmp_path / "from-finder.eml"
    path.write_bytes(MESSAGE)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", _WHOLE_RUN, str(path)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["exit"] == 0
    assert seen.get("kind") == "message"
    assert seen["icon sizes"] == [16, 32, 48, 256]
