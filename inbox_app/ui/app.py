"""Starting the GUI: the home (real or demo), the worker, the bridge and the main window.

Also ``--self-test`` (the packaged app's smoke test) and ``--demo --screenshots DIR``.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from inbox_app.errors import InboxError, one_line
from inbox_app.paths import resolve_home
from inbox_app.services.runtime import Runtime
from inbox_app.ui.clock import utc_now

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from inbox_app.services.app import InboxServices
    from inbox_app.ui.main_window import MainWindow


EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def _needs_offscreen() -> bool:
    # Without a display Qt aborts the whole process (exit 134): fall back to offscreen.
    if sys.platform in ("win32", "darwin"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run(
    *,
    home: str | None = None,
    demo: bool = False,
    self_test: bool = False,
    screenshots: Path | None = None,
    file: Path | None = None,
) -> int:
    """Run the GUI until its window closes; returns the process exit code."""
    if self_test:
        return run_self_test()
    if _needs_offscreen():
        # Screenshots work either way: in a real window on a display (Xvfb too), or
        # offscreen where there is none.
        if screenshots is None:
            sys.stderr.write(
                "inbox-app: no display found: running offscreen (Ctrl+C quits; "
                "--demo --screenshots DIR saves pictures instead)\n"
            )
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if file is not None and not file.exists():
        sys.stderr.write(f"inbox-app: {one_line(str(file))}: no such file\n")
        return EXIT_BAD_INPUT

    from PySide6.QtCore import QTimer  # noqa: PLC0415
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    from inbox_app.ui.bridge import Bridge  # noqa: PLC0415
    from inbox_app.ui.main_window import MainWindow  # noqa: PLC0415

    scratch: list[Path] = []  # the demo's home, made by the worker on its first job
    if demo:

        def factory() -> InboxServices:
            import tempfile  # noqa: PLC0415

            from inbox_app.services.sessions import demo_session  # noqa: PLC0415

            # A fresh, isolated home per run: the demo never sees (or changes) real data.
            scratch.append(Path(tempfile.mkdtemp(prefix="inbox-demo-")))
            return demo_session(scratch[0], now=utc_now())
    else:
        user_home = resolve_home(home)

        def factory() -> InboxServices:
            from inbox_app.services.sessions import user_session  # noqa: PLC0415

            return user_session(user_home)

    _quiet_offscreen_noise()
    from inbox_app.ui.file_open import InboxApplication  # noqa: PLC0415

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else InboxApplication(sys.argv[:1])
    app.setApplicationName("Inbox")
    app.setApplicationDisplayName("Inbox")
    app.setDesktopFileName("inbox-app")
    app.setWindowIcon(_window_icon())
    # Ctrl+C in the terminal quits; Qt's loop runs no Python code by itself, so a timer
    # lets the interpreter see the signal.
    signal.signal(signal.SIGINT, lambda *_: app.quit())
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(250)
    runtime = Runtime(factory)
    bridge = Bridge(runtime)
    push = None
    if not demo:  # the demo's only account is local: nothing to push
        from inbox_app.services.push import PushWatcher  # noqa: PLC0415

        # Each watcher thread gets services of its own (its own store connection).
        push = PushWatcher(factory, on_change=bridge.report_change, on_error=bridge.report_failure)
    window = MainWindow(bridge, push=push)
    # macOS: a file opened from Finder while Inbox runs arrives as an event, not as argv.
    if isinstance(app, InboxApplication):
        app.file_open_requested.connect(window.open_path_named)
    if demo:
        window.setWindowTitle("Inbox — demo")
    bench = os.environ.get(BENCH_ENV)
    if bench:
        _exit_for_benchmark(app, window, bench)
    try:
        window.show()
        if bench != "first-paint":
            opened_file = file
            window.start_after_first_paint(
                sync=True,
                then=(lambda: window.open_path(opened_file)) if opened_file is not None else None,
            )
        if screenshots is not None:
            from inbox_app.ui.screenshots import ScreenshotTour  # noqa: PLC0415

            tour = ScreenshotTour(window, screenshots)
            tour.start()
            app.exec()
            return tour.exit_code
        return int(app.exec())
    finally:
        if isinstance(app, InboxApplication):
            app.file_open_requested.disconnect(window.open_path_named)
        window.close()
        runtime.close(wait=True)
        if scratch:
            import shutil  # noqa: PLC0415

            shutil.rmtree(scratch[0], ignore_errors=True)


# The window icon's sizes, in inbox_app/ui/resources (written by resources/make-icons.py).
WINDOW_ICON_SIZES = (16, 32, 48, 256)


def _window_icon() -> QIcon:
    """Inbox's icon for every window (title bars, task bars, the window switcher).

    Each PNG is added with its size, so Qt only reads its header now and decodes it when it
    is first drawn: this runs before the first paint.
    """
    from PySide6.QtCore import QSize  # noqa: PLC0415
    from PySide6.QtGui import QIcon  # noqa: PLC0415

    icon = QIcon()
    folder = Path(__file__).parent / "resources"
    for size in WINDOW_ICON_SIZES:
        icon.addFile(str(folder / f"inbox-app-{size}.png"), QSize(size, size))
    return icon


# bench/bench_gui.py sets this to "first-paint" (quit once the main window has painted) or
# "ready" (quit once the first page of messages has painted): whole-process start-up times.
BENCH_ENV = "INBOX_BENCH_EXIT"


def _exit_for_benchmark(app: QApplication, window: MainWindow, mode: str) -> None:
    from PySide6.QtCore import QEvent, QObject, QTimer  # noqa: PLC0415

    class _Painted(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and (
                mode == "first-paint" or window.messages.rowCount() > 0
            ):
                QTimer.singleShot(0, app.quit)
            return False

    painted = _Painted(window)
    window.installEventFilter(painted)
    if mode != "first-paint":  # the rows paint in the list's viewport
        window.message_view.viewport().installEventFilter(painted)


def _quiet_offscreen_noise() -> None:
    """Drop the offscreen platform's "propagateSizeHints" notice; keep every other message."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler  # noqa: PLC0415

    def handler(kind: QtMsgType, _context: object, message: str) -> None:
        if "does not support propagateSizeHints" in message:
            return
        sys.stderr.write(f"{message}\n")

    qInstallMessageHandler(handler)


def run_self_test() -> int:
    """Crypto round trip, the keyring, the store, and a window painted offscreen.

    Prints one line per check; exit 0, or 1 with the first reason.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from inbox_app.services.selftest import run_self_test as run_checks  # noqa: PLC0415

    result = run_checks(now=utc_now())
    for name, seconds in result.checks:
        sys.stdout.write(f"ok   {name} ({seconds * 1000:.0f} ms)\n")
    if not result.ok:
        for failure in result.failures:
            sys.stderr.write(f"inbox-app: self-test failed: {one_line(failure)}\n")
        return EXIT_FAILED
    try:
        _paint_window()
    except InboxError as exc:
        sys.stderr.write(f"inbox-app: self-test failed: {one_line(str(exc))}\n")
        return EXIT_FAILED
    sys.stdout.write("ok   window painted offscreen\n")
    sys.stdout.write("self-test passed\n")
    return EXIT_OK


class WindowCheckError(InboxError, RuntimeError):
    """The main window could not be created or painted."""


def _paint_window() -> None:
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    from inbox_app.ui.bridge import Bridge  # noqa: PLC0415
    from inbox_app.ui.main_window import MainWindow  # noqa: PLC0415

    _quiet_offscreen_noise()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    import tempfile  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="inbox-selftest-") as scratch:
        home = Path(scratch)
        from inbox_app.services.sessions import scratch_session  # noqa: PLC0415

        runtime = Runtime(lambda: scratch_session(home))
        try:
            window = MainWindow(Bridge(runtime))
            window.show()
            app.processEvents()
            image = window.grab().toImage()
            window.close()
            if image.isNull() or image.width() < 100 or image.height() < 100:
                raise WindowCheckError("the main window painted an empty image")
        finally:
            runtime.close(wait=True)
