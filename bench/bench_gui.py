"""Benchmark the GUI: start-up, and opening a huge folder.

A script, not a test: it prints times and ratios measured in one run and never asserts.

- Whole-process start to the first painted main window (``inbox-app --demo``, offscreen)
  vs a bare PySide6 QMainWindow shown the same way, each a fresh ``python`` process
  (target: at most 1.5x). Also to the demo's first page of messages painted.
- Opening a 100,000-message folder (first page on screen) vs a 1,000-message one, each in
  a fresh process, with the resident memory of each (targets: at most 1.5x, and at most
  50 MB more).

Usage:
    .venv/bin/python bench/bench_gui.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# As installed: with bytecode (pip compiles it at install time, the frozen app ships it), so
# PYTHONDONTWRITEBYTECODE is dropped and the package is compiled before measuring.
ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    "QT_QPA_PLATFORM": "offscreen",
    "PYTHONPATH": str(REPO),
}

BARE = """
import sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QLabel
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setCentralWidget(QLabel("Inbox"))
window.resize(1200, 760)
class Painted(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, app.quit)
        return False
painted = Painted()
window.installEventFilter(painted)
window.show()
app.exec()
"""

# For reference: the same widgets as Inbox's main window (tree, list with a header, splitters,
# toolbar, menu, status bar), in bare PySide6: what Qt itself costs for this layout.
SAME_LAYOUT = """
import sys
from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication, QLabel, QLineEdit, QMainWindow, QProgressBar, QSplitter, QToolBar, QTreeView,
)
app = QApplication(sys.argv[:1])
HEADERS = ("Security", "From", "Subject", "Date")
class Model(QAbstractTableModel):
    def rowCount(self, parent=QModelIndex()):
        return 0
    def columnCount(self, parent=QModelIndex()):
        return 4
    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        return None
    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        horizontal = orientation == Qt.Orientation.Horizontal
        return HEADERS[section] if horizontal and role == Qt.ItemDataRole.DisplayRole else None
window = QMainWindow()
window.resize(1200, 760)
tree, messages = QTreeView(), QTreeView()
messages.setModel(Model())
messages.setUniformRowHeights(True)
right = QSplitter(Qt.Orientation.Vertical)
right.addWidget(messages)
right.addWidget(QLabel("No message selected"))
main = QSplitter(Qt.Orientation.Horizontal)
main.addWidget(tree)
main.addWidget(right)
window.setCentralWidget(main)
toolbar = QToolBar("Main")
for name in ("Get mail", "New message", "Reply", "Reply all", "Delete", "Certificates"):
    action = QAction(name, window)
    action.setShortcut(QKeySequence("Ctrl+R"))
    toolbar.addAction(action)
toolbar.addWidget(QLineEdit())
window.addToolBar(toolbar)
window.menuBar().addMenu("&File").addAction(QAction("Quit", window))
window.statusBar().addWidget(QLabel("Ready"), 1)
progress = QProgressBar()
progress.hide()
window.statusBar().addPermanentWidget(progress)
class Painted(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, app.quit)
        return False
painted = Painted()
window.installEventFilter(painted)
window.show()
app.exec()
"""

# Opens one folder of a prepared home in the real main window; prints the time from the
# request to the first page painted, and the process's resident memory then.
OPEN_FOLDER = """
import resource, sys, time
from pathlib import Path
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication
from inbox_app.services.runtime import Runtime
from inbox_app.services.sessions import scratch_session
from inbox_app.ui.bridge import Bridge
from inbox_app.ui.main_window import MainWindow
home, folder = Path(sys.argv[1]), sys.argv[2]
app = QApplication(sys.argv[:1])
runtime = Runtime(lambda: scratch_session(home))
window = MainWindow(Bridge(runtime))
window.show()
app.processEvents()
runtime.submit(lambda s: s.mailbox.store.count("Bench", folder)).result()  # warm the worker
class Painted(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and window.messages.rowCount() > 0:
            QTimer.singleShot(0, app.quit)
        return False
painted = Painted()
window.message_view.viewport().installEventFilter(painted)
start = time.perf_counter()
window.messages.set_folder("Bench", folder)
app.exec()
elapsed = time.perf_counter() - start
rss_kb = int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0])
print(elapsed, rss_kb)
runtime.close()
"""


def _process_time(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, env=env, check=True, capture_output=True, timeout=120)
    return time.perf_counter() - start


def _median(values: list[float]) -> float:
    return statistics.median(values)


def startup(runs: int) -> None:
    python = sys.executable
    subprocess.run([python, "-m", "compileall", "-q", str(REPO / "inbox_app")], check=True)
    bare, layout, first, ready = [], [], [], []
    for _ in range(runs):  # interleaved, so drift hits both alike
        bare.append(_process_time([python, "-c", BARE], ENV))
        layout.append(_process_time([python, "-c", SAME_LAYOUT], ENV))
        first.append(
            _process_time(
                [python, "-m", "inbox_app", "--demo"], {**ENV, "INBOX_BENCH_EXIT": "first-paint"}
            )
        )
        ready.append(
            _process_time(
                [python, "-m", "inbox_app", "--demo"], {**ENV, "INBOX_BENCH_EXIT": "ready"}
            )
        )
    b, f, r = _median(bare), _median(first), _median(ready)
    same = _median(layout)
    print(
        f"reference: bare PySide6 with the main window's widgets {same * 1000:.0f} ms "
        f"({same / b:.2f}x the bare window)"
    )
    print(
        f"start-up: bare PySide6 window {b * 1000:.0f} ms; Inbox demo first paint "
        f"{f * 1000:.0f} ms ({f / b:.2f}x, target <= 1.5x); demo messages on screen "
        f"{r * 1000:.0f} ms ({r / b:.2f}x)"
    )


def _seed(home: Path, folders: dict[str, int]) -> None:
    sys.path.insert(0, str(REPO))
    from inbox_app.store import MailStore, MessageSummary  # noqa: PLC0415

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    with MailStore(home) as store:
        for folder, count in folders.items():
            store.save_folder(
                "Bench", folder, role=None, uidvalidity=1, uidnext=count + 1, highestmodseq=None
            )
            store.add_summaries(
                MessageSummary(
                    account="Bench",
                    folder=folder,
                    uid=uid,
                    uidvalidity=1,
                    flags=("\\Seen",) if uid % 2 else (),
                    internaldate=t0 + timedelta(seconds=uid),
                    size=2048,
                    from_addr=f"Sender {uid} <s{uid}@example.com>",
                    subject=f"Quarterly report number {uid}",
                    date=t0 + timedelta(seconds=uid),
                    message_id=f"<{uid}@example.com>",
                    security="signed" if uid % 3 else "none",
                )
                for uid in range(1, count + 1)
            )


def big_folder(runs: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        started = time.perf_counter()
        _seed(home, {"Small": 1_000, "Huge": 100_000})
        print(f"seeded 101,000 summaries in {time.perf_counter() - started:.1f} s")
        results: dict[str, list[tuple[float, int]]] = {"Small": [], "Huge": []}
        for _ in range(runs):
            for folder in ("Small", "Huge"):
                out = subprocess.run(
                    [sys.executable, "-c", OPEN_FOLDER, str(home), folder],
                    env=ENV,
                    check=True,
                    capture_output=True,
                    text=True,
                    timeout=120,
                ).stdout.split()
                results[folder].append((float(out[0]), int(out[1])))
        small_t = _median([t for t, _ in results["Small"]])
        huge_t = _median([t for t, _ in results["Huge"]])
        small_rss = _median([r for _, r in results["Small"]]) / 1024
        huge_rss = _median([r for _, r in results["Huge"]]) / 1024
        print(
            f"open folder: 1,000 messages {small_t * 1000:.1f} ms; 100,000 messages "
            f"{huge_t * 1000:.1f} ms ({huge_t / small_t:.2f}x, target <= 1.5x)"
        )
        print(
            f"resident memory: 1,000 {small_rss:.0f} MB; 100,000 {huge_rss:.0f} MB "
            f"(+{huge_rss - small_rss:.1f} MB, target <= 50 MB)"
        )
        print(json.dumps({"open_ratio": huge_t / small_t, "rss_delta_mb": huge_rss - small_rss}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    startup(args.runs)
    big_folder(args.runs)


if __name__ == "__main__":
    main()
