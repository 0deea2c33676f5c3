"""The main window over the real demo home: every security state, installs from
attachments, composing and sending, files opened with the app, keyboard and responsiveness.

Offscreen, through the real services on the real worker thread (no mocks).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

from inbox_app.services.app import InboxServices
from inbox_app.services.demo import DemoHome, build_demo
from inbox_app.services.reading import AttachmentKind
from inbox_app.services.runtime import Runtime
from inbox_app.services.sessions import scratch_session
from inbox_app.ui.bridge import Bridge
from inbox_app.ui.dialogs.install_p12 import InstallP12Dialog
from inbox_app.ui.dialogs.install_profile import InstallProfileDialog
from inbox_app.ui.main_window import MainWindow
from inbox_app.ui.views.security_banner import BannerLevel

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
WAIT = 10_000


@dataclass
class Demo:
    window: MainWindow
    home: DemoHome
    runtime: Runtime

    def run(self, job):  # a job on the worker, waited for (for assertions)
        return self.runtime.submit(job).result(timeout=30)


@pytest.fixture
def demo(qtbot, tmp_path: Path) -> Iterator[Demo]:
    home = tmp_path / "demo"
    home.mkdir(mode=0o700)
    services = scratch_session(home)
    demo_home = build_demo(home, services.secrets, now=NOW)
    # A fresh services object for the worker: the store connection is made on its thread.
    runtime = Runtime(lambda: InboxServices(home, secrets=services.secrets))
    window = MainWindow(Bridge(runtime), clock=lambda: NOW)
    qtbot.addWidget(window)
    window.show()
    window.start(sync=False)
    qtbot.waitUntil(lambda: window.messages.rowCount() == len(demo_home.uids), timeout=WAIT)
    yield Demo(window, demo_home, runtime)
    window.close()
    runtime.close()


def open_uid(qtbot, demo: Demo, uid: int):
    window = demo.window
    row = window.messages.row_of(uid)
    assert row is not None
    window.select_row(row)
    qtbot.waitUntil(lambda: window.opened is not None and window.opened.uid == uid, timeout=WAIT)
    return window.opened


def test_the_demo_lists_its_account_folders_and_messages(qtbot, demo: Demo) -> None:
    window = demo.window
    inbox = window.folders.first_inbox()
    assert inbox.data().startswith("Inbox (")  # unread count shown
    assert inbox.parent().data() == demo.home.account
    assert window.messages.location == (demo.home.account, "INBOX")


@pytest.mark.parametrize(
    ("key", "level", "words"),
    [
        ("signed", BannerLevel.GOOD, ["valid"]),
        ("tampered", BannerLevel.DANGER, ["invalid"]),
        ("encrypted", BannerLevel.GOOD, ["authenticated encryption"]),
        ("historic", BannerLevel.GOOD, ["historic key"]),
        ("note", BannerLevel.NEUTRAL, ["not signed"]),
        ("newsletter", BannerLevel.NEUTRAL, ["not signed"]),
    ],
)
def test_the_banner_shows_each_demo_state(
    qtbot, demo: Demo, key: str, level: BannerLevel, words: list[str]
) -> None:
    opened = open_uid(qtbot, demo, demo.home.uids[key])
    banner = demo.window.reader.banner
    assert banner.level() is level
    text = banner.summary_text().lower()
    for word in words:
        assert word in text, text
    if key == "historic":
        assert opened.report.historic_key is True
    if key == "newsletter":
        assert opened.html is not None
        assert "https://" not in opened.html


def test_an_encrypted_subject_shows_in_the_list_once_opened(qtbot, demo: Demo) -> None:
    uid = demo.home.uids["encrypted"]
    window = demo.window
    row = window.messages.row_of(uid)
    assert window.messages.data(window.messages.index(row, 2)) == "(encrypted subject)"
    opened = open_uid(qtbot, demo, uid)
    assert window.messages.data(window.messages.index(row, 2)) == opened.headers.subject
    # Only in memory: the store still holds the outer placeholder.
    stored = demo.run(lambda s: s.mailbox.store.summary(demo.home.account, "INBOX", uid))
    assert stored.subject == "[...]"


def _dialog(window: QWidget, kind: type) -> QWidget:
    found = [
        w for w in QApplication.topLevelWidgets() + window.findChildren(kind) if isinstance(w, kind)
    ]
    assert found, f"no {kind.__name__} opened"
    return found[-1]


def test_a_p12_attachment_installs_through_the_dialog(qtbot, demo: Demo) -> None:
    opened = open_uid(qtbot, demo, demo.home.uids["p12"])
    attachment = next(a for a in opened.attachments if a.kind is AttachmentKind.P12)
    demo.window.reader.install_p12_requested.emit(attachment.data, attachment.filename)
    dialog = _dialog(demo.window, InstallP12Dialog)
    assert dialog.warning_label.isVisibleTo(dialog)  # keys by mail are not recommended
    dialog.password_edit.setText("wrong")
    dialog.inspect()
    qtbot.waitUntil(lambda: bool(dialog.error_label.text()), timeout=WAIT)
    before = demo.run(lambda s: len(s.keystore.identities()))
    dialog.password_edit.setText(demo.home.p12_password)
    dialog.inspect()
    qtbot.waitUntil(dialog.use_box.isEnabled, timeout=WAIT)
    dialog.use_buttons["both"].setChecked(True)
    with qtbot.waitSignal(dialog.installed, timeout=WAIT):
        dialog.install()
    assert demo.run(lambda s: len(s.keystore.identities())) > before


def test_a_profile_attachment_opens_the_profile_flow(qtbot, demo: Demo) -> None:
    opened = open_uid(qtbot, demo, demo.home.uids["profile"])
    attachment = next(a for a in opened.attachments if a.kind is AttachmentKind.PROFILE)
    demo.window.reader.install_profile_requested.emit(attachment.data, attachment.filename)
    dialog = _dialog(demo.window, InstallProfileDialog)
    qtbot.waitUntil(dialog.install_button.isEnabled, timeout=WAIT)
    assert "verified" in dialog.contents.toPlainText().lower() or dialog.findChildren(QWidget)
    with qtbot.waitSignal(dialog.installed, timeout=WAIT):
        dialog.install()
    profiles = demo.run(lambda s: [p.identifier for p in s.profiles.list()])
    assert demo.home.profile_identifier in profiles


def test_compose_and_send_an_encrypted_message_to_yourself(qtbot, demo: Demo) -> None:
    window = demo.window
    composer = window.compose()
    assert composer is not None
    qtbot.waitUntil(composer.encrypt_box.isEnabled, timeout=WAIT)  # the policy has loaded
    composer.to_edit.setText(demo.home.address)
    composer.subject_edit.setText("Note to self")
    composer.body_edit.setPlainText("Remember the launch on the 14th.")
    composer.encrypt_box.setChecked(True)
    qtbot.waitUntil(composer.send_button.isEnabled, timeout=WAIT)
    with qtbot.waitSignal(composer.sent, timeout=WAIT):
        composer.send()
    before = len(demo.home.uids)
    window.sync_all()
    qtbot.waitUntil(lambda: window.messages.rowCount() == before + 1, timeout=WAIT)
    newest = window.messages.summary(0)
    assert newest is not None
    assert "encrypted" in newest.security
    opened = open_uid(qtbot, demo, newest.uid)
    assert opened.report.encryption.value == "aead"
    assert opened.headers.subject == "Note to self"
    assert "launch on the 14th" in (opened.text or "")


def test_reply_to_encrypted_mail_is_encrypted(qtbot, demo: Demo) -> None:
    open_uid(qtbot, demo, demo.home.uids["encrypted"])
    demo.window.reply()
    qtbot.waitUntil(lambda: bool(demo.window.composers()), timeout=WAIT)
    composer = demo.window.composers()[-1]
    assert composer.encrypt_box.isChecked()
    assert "> " in composer.body_edit.toPlainText()
    composer.close()


@pytest.mark.parametrize("suffix", [".p12", ".mobileconfig", ".eml"])
def test_a_file_opened_with_the_app_goes_to_its_flow(
    qtbot, demo: Demo, tmp_path: Path, suffix: str
) -> None:
    key = {".p12": "p12", ".mobileconfig": "profile", ".eml": "signed"}[suffix]
    opened = open_uid(qtbot, demo, demo.home.uids[key])
    if suffix == ".eml":
        data = demo.run(lambda s: s.mailbox.store.raw(demo.home.account, "INBOX", opened.uid))
    else:
        data = next(a.data for a in opened.attachments if a.filename.endswith(suffix))
    path = tmp_path / f"opened{suffix}"
    path.write_bytes(data)
    window = demo.window
    window.open_path(path)
    qtbot.waitUntil(lambda: window.opened_file_kind is not None, timeout=WAIT)
    if suffix == ".p12":
        assert window.opened_file_kind == "p12"
        assert not _dialog(window, InstallP12Dialog).warning_label.isVisibleTo(window)
    elif suffix == ".mobileconfig":
        assert window.opened_file_kind == "profile"
        _dialog(window, InstallProfileDialog)
    else:
        assert window.opened_file_kind == "message"
        assert window.opened is not None
        assert window.opened.uid is None
        assert window.reader.banner.level() is BannerLevel.GOOD


def test_a_missing_file_is_one_clear_line(qtbot, demo: Demo, tmp_path: Path) -> None:
    demo.window.open_path(tmp_path / "nope.p12")
    qtbot.waitUntil(lambda: bool(demo.window.errors.shown), timeout=WAIT)
    assert "\n" not in demo.window.errors.shown[-1]
    for box in QApplication.topLevelWidgets():
        if box.isVisible() and box.windowTitle() == "Cannot open file":
            box.close()


def test_search_finds_cached_messages(qtbot, demo: Demo) -> None:
    window = demo.window
    window.search_field.setText("Lunch")
    window.search_field.returnPressed.emit()
    qtbot.waitUntil(lambda: window.messages.rowCount() == 1, timeout=WAIT)
    assert "Lunch" in window.messages.summary(0).subject
    window.search_field.clear()
    qtbot.waitUntil(lambda: window.messages.rowCount() == len(demo.home.uids), timeout=WAIT)


def test_main_actions_have_shortcuts_and_accessible_names(demo: Demo) -> None:
    window = demo.window
    for action in (
        window.new_action,
        window.reply_action,
        window.sync_action,
        window.delete_action,
        window.search_action,
        window.certificates_action,
    ):
        assert not action.shortcut().isEmpty(), action.text()
    for widget in (window.folder_view, window.message_view, window.search_field, window.reader):
        assert widget.accessibleName() or widget.findChildren(QWidget)
    assert window.folder_view.accessibleName() == "Accounts and folders"
    assert window.message_view.accessibleName() == "Messages"


def test_the_gui_thread_stays_responsive_while_the_worker_is_busy(qtbot, demo: Demo) -> None:
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(10)
    done: list[object] = []
    demo.window.bridge.run(lambda s: time.sleep(0.6), done.append)
    demo.window.sync_all()
    qtbot.waitUntil(lambda: bool(done) and not demo.window.bridge.is_busy(), timeout=WAIT)
    timer.stop()
    assert gaps
    assert max(gaps) < 0.1, f"the GUI thread stalled for {max(gaps):.3f} s"


def test_screenshots_of_the_demo(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-m", "inbox_app", "--demo", "--screenshots", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names[0] == "01-main-window.png"
    assert any("composer" in n for n in names)
    assert any("certificates" in n for n in names)
    assert sum("reader" in n for n in names) == 8
    assert result.stderr.strip() == ""


def test_self_test_passes_with_the_os_keyring(secret_service: None) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-m", "inbox_app", "--self-test"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "window painted" in result.stdout


def test_self_test_fails_in_one_line_without_a_keyring(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    result = subprocess.run(
        [sys.executable, "-m", "inbox_app", "--self-test"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "keyring" in result.stderr.lower()
    assert "Traceback" not in result.stderr


def test_a_dropped_profile_opens_its_flow(qtbot, demo: Demo, tmp_path: Path) -> None:
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    opened = open_uid(qtbot, demo, demo.home.uids["profile"])
    data = next(a.data for a in opened.attachments if a.kind is AttachmentKind.PROFILE)
    path = tmp_path / "dropped.mobileconfig"
    path.write_bytes(data)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)), QUrl.fromLocalFile(str(tmp_path / "x.txt"))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    demo.window.dropEvent(event)
    qtbot.waitUntil(lambda: demo.window.opened_file_kind == "profile", timeout=WAIT)
    _dialog(demo.window, InstallProfileDialog)
    # The other file is neither a certificate, a profile nor a message: one clear line.
    qtbot.waitUntil(lambda: bool(demo.window.errors.shown), timeout=WAIT)
    assert "x.txt" in demo.window.errors.shown[-1]
    for box in QApplication.topLevelWidgets():
        if box.isVisible() and box.windowTitle() == "Cannot open file":
            box.close()


def test_the_list_shows_a_signature_as_unchecked_until_opened_then_its_verdict(
    qtbot, demo: Demo
) -> None:
    from PySide6.QtCore import Qt

    window = demo.window
    for key, verdict in (("tampered", "NOT valid"), ("signed", "valid signature")):
        uid = demo.home.uids[key]
        index = window.messages.index(window.messages.row_of(uid), 0)
        assert "not checked yet" in index.data(Qt.ItemDataRole.AccessibleTextRole)
        open_uid(qtbot, demo, uid)
        assert verdict in index.data(Qt.ItemDataRole.AccessibleTextRole)
    # An encrypted message turns out signed inside: the list learns it on opening.
    uid = demo.home.uids["encrypted"]
    index = window.messages.index(window.messages.row_of(uid), 0)
    assert index.data(Qt.ItemDataRole.AccessibleTextRole) == "Encrypted"
    open_uid(qtbot, demo, uid)
    assert index.data(Qt.ItemDataRole.AccessibleTextRole) == "Signed, encrypted: valid signature"


def test_list_tooltips_show_the_message_s_words_as_text(qtbot, demo: Demo) -> None:
    from PySide6.QtCore import Qt

    index = demo.window.messages.index(0, 2)
    tip = index.data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("<qt>")  # escaped rich text: shows literally, whatever it holds
    assert "<b>" not in tip


def test_deleting_a_search_hit_deletes_that_folder_s_message_only(qtbot, demo: Demo) -> None:
    account = demo.home.account
    note = demo.home.uids["note"]
    # The same UID in two folders: move the note to Sent (it gets UID 1 there) and make
    # sure INBOX holds a UID 1 too.
    demo.run(lambda s: s.mailbox.move(account, "INBOX", [note], "Sent"))
    demo.run(lambda s: s.mailbox.sync(account))
    sent = demo.run(lambda s: s.mailbox.page(account, "Sent", limit=5))
    assert [m.uid for m in sent] == [1]
    inbox_uid_1 = demo.run(lambda s: s.mailbox.store.summary(account, "INBOX", 1))
    assert inbox_uid_1 is not None
    window = demo.window
    window.search_field.setText(sent[0].subject.split()[0])
    window.search_field.returnPressed.emit()
    qtbot.waitUntil(lambda: window.messages.row_of(sent[0]) is not None, timeout=WAIT)
    row = window.messages.row_of(sent[0])
    assert row is not None
    window.message_view.selectionModel().clearSelection()
    window.select_row(row)
    assert [m.folder for m in window.selected_messages()] == ["Sent"]
    window.delete_selected()
    qtbot.waitUntil(lambda: window.messages.row_of(sent[0]) is None, timeout=WAIT)
    qtbot.waitUntil(lambda: not window.bridge.is_busy(), timeout=WAIT)
    assert demo.run(lambda s: s.mailbox.store.summary(account, "INBOX", 1)) is not None
    assert demo.run(lambda s: s.mailbox.page(account, "Sent", limit=5)) == []


def test_a_deselected_current_row_is_not_acted_on(qtbot, demo: Demo) -> None:
    from PySide6.QtCore import QItemSelectionModel

    window = demo.window
    window.select_row(0)
    selection = window.message_view.selectionModel()
    selection.select(
        window.messages.index(1, 0),
        QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
    )
    selection.select(
        window.messages.index(0, 0),
        QItemSelectionModel.SelectionFlag.Deselect | QItemSelectionModel.SelectionFlag.Rows,
    )
    assert [m.uid for m in window.selected_messages()] == [window.messages.summary(1).uid]


def test_a_saved_draft_reopens_from_the_drafts_dialog(qtbot, demo: Demo) -> None:
    window = demo.window
    composer = window.compose()
    assert composer is not None
    qtbot.waitUntil(composer.encrypt_box.isEnabled, timeout=WAIT)
    composer.to_edit.setText("alice@demo.inbox.example")
    composer.subject_edit.setText("Half-written plan")
    with qtbot.waitSignal(composer.draft_saved, timeout=WAIT):
        composer.body_edit.setPlainText("To be continued.")
    composer.close()
    qtbot.waitUntil(lambda: not window.composers(), timeout=WAIT)

    dialog = window.show_drafts()
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.selected() is not None, timeout=WAIT)
    assert dialog.selected().subject == "Half-written plan"
    dialog.open_selected()
    qtbot.waitUntil(lambda: bool(window.composers()), timeout=WAIT)
    reopened = window.composers()[-1]
    assert reopened.subject_edit.text() == "Half-written plan"
    assert "To be continued." in reopened.body_edit.toPlainText()
    reopened.close()
