"""``inbox-app --demo --screenshots DIR``: PNGs of the main window, the reader on each demo
message, the composer and the certificate manager, for the README and for review.

A small state machine on a timer: each step acts, waits until the window shows what it
should (a job has come back), then saves the picture. The whole tour has a deadline, so a
stuck job fails the run instead of hanging it.
"""

from __future__ import annotations

import functools
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from inbox_app.ui.main_window import MainWindow

DEADLINE_SECONDS = 60.0
POLL_MS = 50


@dataclass
class _Step:
    name: str
    act: Callable[[], QWidget | None]
    ready: Callable[[], bool]


class ScreenshotTour(QObject):
    """Walks the demo and saves one PNG per step into ``directory``; then quits the app."""

    def __init__(self, window: MainWindow, directory: Path) -> None:
        super().__init__(window)
        self._window = window
        self._directory = directory
        self._steps: list[_Step] = []
        self._target: QWidget | None = None
        self._waiting: _Step | None = None
        self._deadline = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._tick)
        self.saved: list[Path] = []
        self.exit_code = 1

    def start(self) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        self._deadline = time.monotonic() + DEADLINE_SECONDS
        window = self._window
        # First the main window once the demo's folder has loaded.
        self._steps.append(
            _Step(
                "main-window",
                lambda: None,
                lambda: window.messages.rowCount() > 0 and not window.messages.is_loading(),
            )
        )
        self._timer.start()

    def _plan_messages(self) -> None:
        window = self._window
        for row in range(window.messages.rowCount()):
            summary = window.messages.summary(row)
            if summary is None:
                continue
            shown = window.messages.data(window.messages.index(row, 2))  # the Subject column
            name = f"reader-{row + 1:02d}-{_slug(str(shown or ''))}"
            self._steps.append(
                _Step(
                    name,
                    functools.partial(self._select, row),
                    functools.partial(self._shown, summary.uid),
                )
            )
        self._steps.append(_Step("composer", self._composer, self._composer_open))
        self._steps.append(_Step("certificates", self._certificates, lambda: True))

    def _select(self, row: int) -> QWidget | None:
        self._window.select_row(row)
        return None

    def _shown(self, uid: int) -> bool:
        opened = self._window.opened
        return opened is not None and opened.uid == uid

    def _composer(self) -> QWidget | None:
        # A reply to the last message shown: the composer opens when its job is back.
        self._window.reply()
        return None

    def _composer_open(self) -> bool:
        composers = self._window.composers()
        if composers:
            self._target = composers[-1]
        return bool(composers)

    def _certificates(self) -> QWidget | None:
        return self._window.show_certificates()

    def _tick(self) -> None:
        if time.monotonic() > self._deadline:
            self._finish(
                f"screenshots timed out waiting for {self._waiting.name if self._waiting else '?'}"
            )
            return
        if self._waiting is None:
            if not self._steps:
                self.exit_code = 0
                self._finish(None)
                return
            self._waiting = self._steps.pop(0)
            self._target = self._waiting.act()
            return
        if not self._waiting.ready() or self._window.bridge.is_busy():
            return
        step, self._waiting = self._waiting, None
        target = self._target or self._window
        QApplication.processEvents()
        path = self._directory / f"{len(self.saved) + 1:02d}-{step.name}.png"
        if not target.grab().save(str(path), "PNG"):
            self._finish(f"could not write {path}")
            return
        self.saved.append(path)
        if self._target is not None:
            self._target.close()
            self._target = None
        if step.name == "main-window":
            self._plan_messages()

    def _finish(self, error: str | None) -> None:
        self._timer.stop()
        if error is not None:
            sys.stderr.write(f"inbox-app: {error}\n")
            self.exit_code = 1
        else:
            sys.stdout.write(f"saved {len(self.saved)} screenshots in {self._directory}\n")
        app = QApplication.instance()
        if app is not None:
            app.quit()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "message"
