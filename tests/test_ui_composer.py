"""The composer window, through the real services on the worker thread (offscreen)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel, QLineEdit, QMessageBox, QPlainTextEdit, QPushButton, QWidget

from inbox_app.credentials.keystore import NewIdentity
from inbox_app.credentials.secrets import MemorySecretStore
from inbox_app.services.app import InboxServices
from inbox_app.services.compose import (
    MEMORY_ONLY,
    ComposeError,
    Composition,
    composition_from_draft,
    reply_to,
    save_draft,
)
from inbox_app.services.reading import MessageHeaders, OpenedMessage
from inbox_app.services.runtime import Runtime
from inbox_app.smime import Report
from inbox_app.smime.report import EncryptionStatus, SignatureStatus
from inbox_app.store.mailstore import STORE_FILE
from inbox_app.ui.bridge import Bridge
from inbox_app.ui.views import composer as composer_module
from inbox_app.ui.views.composer import ComposerWindow
from tests.pki import NOW, StandardPKI, make_leaf

ALICE = "alice@example.com"
BOB = "bob@example.org"
STRANGER = "stranger@example.net"
WAIT = 10_000  # ms


@dataclasses.dataclass
class Env:
    home: Path
    secrets: MemorySecretStore
    bridge: Bridge

    def services(self) -> InboxServices:
        """Services of the test's own thread (to look at what the worker did)."""
        return InboxServices(self.home, self.secrets)

    def account(self, **changes: Any) -> None:
        services = self.services()
        account = services.accounts.get("local")
        services.accounts.store.update(dataclasses.replace(account, **changes))


@pytest.fixture
def env(tmp_path: Path, pki: StandardPKI) -> Iterator[Env]:
    home = tmp_path / "home"
    secrets = MemorySecretStore()
    services = InboxServices(home, secrets)
    services.keystore.install(
        [NewIdentity(pki.alice.identity, frozenset({"sign", "encrypt"}), "test")]
    )
    anchors = home / "anchors"
    anchors.mkdir(mode=0o700)
    (anchors / "root.pem").write_bytes(pki.root.pem())
    services.contacts.import_file(pki.bob.pem() + pki.intermediate.pem(), now=NOW)
    services.accounts.add_local("local", ALICE)
    runtime = Runtime(lambda: InboxServices(home, secrets))
    bridge = Bridge(runtime)
    try:
        yield Env(home, secrets, bridge)
    finally:
        runtime.close()


def open_composer(qtbot: Any, env: Env, composition: Composition | None = None) -> ComposerWindow:
    window = ComposerWindow(env.bridge, "local", composition, now=lambda: NOW)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(window.sign_box.isEnabled, timeout=WAIT)  # the policy arrived
    return window


def rendered(tip: str) -> str:
    """What a tool tip shows: Qt renders it as rich text when it looks like markup."""
    document = QTextDocument()
    document.setHtml(tip)
    return document.toPlainText()


def encrypted_mail(text: str, *, cc: str = "") -> OpenedMessage:
    """A received message as the reader opened it: encrypted, decrypted."""
    return OpenedMessage(
        report=Report(encryption=EncryptionStatus.AEAD),
        headers=MessageHeaders(from_=f"Bob <{BOB}>", to=ALICE, cc=cc, subject="Plan", date=NOW),
        text=text,
    )


def store_bytes(env: Env) -> bytes:
    """Everything the local store holds on disk: the database and its write-ahead log."""
    files = [env.home / STORE_FILE, env.home / f"{STORE_FILE}-wal"]
    return b"".join(path.read_bytes() for path in files if path.exists())


def states_shown(window: ComposerWindow) -> list[str]:
    items = (window.recipient_list.item(row) for row in range(window.recipient_list.count()))
    return [item.text() for item in items if item is not None]


def test_recipient_states_are_shown(qtbot: Any, env: Env) -> None:
    window = open_composer(qtbot, env)
    window.to_edit.setText(f"Bob <{BOB}>, {STRANGER}")
    window.bcc_edit.setText("not-an-address")
    expected = [
        f"{BOB} — ready to encrypt",
        f"{STRANGER} — no certificate",
        "not-an-address — not a valid address",
    ]
    qtbot.waitUntil(lambda: states_shown(window) == expected, timeout=WAIT)
    assert rendered(window.recipient_list.item(1).toolTip()).startswith("no certificate known")
    assert window.block_label.text() == "not-an-address is not a valid address"
    assert not window.send_button.isEnabled()


def test_a_certificate_name_in_a_tooltip_is_plain_text(
    qtbot: Any, env: Env, pki: StandardPKI
) -> None:
    # Issued by the intermediate, imported without it: the reason names the subject.
    leaf = make_leaf(pki.intermediate, "erin@example.com", cn="<b>x</b>", slot=33,
                     key_usage="both")  # fmt: skip
    env.services().contacts.import_file(leaf.pem(), now=NOW)
    window = open_composer(qtbot, env)
    window.to_edit.setText("erin@example.com")
    qtbot.waitUntil(lambda: len(window.recipient_statuses()) == 1, timeout=WAIT)
    detail = window.recipient_statuses()["erin@example.com"].detail
    assert "<b\\>x" in detail
    assert rendered(window.recipient_list.item(0).toolTip()) == detail
    env.services().accounts.add_local("other", "<b>x</b>@example.com")
    other = ComposerWindow(env.bridge, "other", now=lambda: NOW)
    qtbot.addWidget(other)
    qtbot.waitUntil(lambda: other.from_label.text() == "<b>x</b>@example.com", timeout=WAIT)
    assert other.from_label.textFormat() == Qt.TextFormat.PlainText
    assert rendered(other.sign_box.toolTip()) == "No signing certificate for <b>x</b>@example.com"


def test_encryption_block_disables_send(qtbot: Any, env: Env) -> None:
    window = open_composer(qtbot, env)
    window.to_edit.setText(f"{BOB}, {STRANGER}")
    qtbot.waitUntil(lambda: len(window.recipient_statuses()) == 2, timeout=WAIT)
    assert window.send_button.isEnabled()
    assert window.block_label.text() == ""
    window.encrypt_box.setChecked(True)
    assert window.block_label.text() == f"cannot encrypt to {STRANGER}: no certificate"
    assert not window.send_button.isEnabled()
    window.to_edit.setText(BOB)
    qtbot.waitUntil(window.send_button.isEnabled, timeout=WAIT)
    assert window.block_label.text() == ""


def test_no_recipient_blocks_send(qtbot: Any, env: Env) -> None:
    window = open_composer(qtbot, env)
    assert window.block_label.text() == "add a recipient"
    assert not window.send_button.isEnabled()


def test_toggles_follow_the_policy(qtbot: Any, env: Env) -> None:
    window = open_composer(qtbot, env)
    assert not window.sign_box.isChecked()
    assert not window.encrypt_box.isChecked()
    assert window.encrypt_box.isEnabled()
    window.close()
    env.account(sign_by_default=True, encrypt_by_default=True, encryption_switch_allowed=False)
    locked = open_composer(qtbot, env)
    assert locked.sign_box.isChecked()
    assert locked.encrypt_box.isChecked()
    assert not locked.encrypt_box.isEnabled()  # the switch is not allowed
    assert locked.sign_box.isEnabled()


def test_a_reply_to_encrypted_mail_stays_encrypted(qtbot: Any, env: Env) -> None:
    reply = Composition("local", to=(BOB,), subject="Re: x", encrypt=True)
    window = open_composer(qtbot, env, reply)
    assert window.encrypt_box.isChecked()
    assert window.subject_edit.text() == "Re: x"
    assert window.windowTitle() == "Re: x — Compose"


def test_draft_saved_after_typing(qtbot: Any, env: Env) -> None:
    window = open_composer(qtbot, env)
    with qtbot.waitSignal(window.draft_saved, timeout=WAIT) as saved:
        qtbot.keyClicks(window.subject_edit, "Plans")
        qtbot.keyClicks(window.body_edit, "Dear Bob,")
    assert window.status_label.text() == "Draft saved"
    store = env.services().mailbox.store
    (draft,) = store.drafts("local")
    assert draft.id == saved.args[0] == window.draft_id
    assert b"Dear Bob," in draft.raw
    with qtbot.waitSignal(window.draft_saved, timeout=WAIT):
        qtbot.keyClicks(window.body_edit, " more")
    (draft,) = store.drafts("local")  # the same draft, replaced
    assert b"Dear Bob, more" in draft.raw
    assert window.windowTitle() == "Plans — Compose"


def test_a_draft_of_an_encrypted_reply_never_reaches_the_disk_in_the_clear(
    qtbot: Any, env: Env
) -> None:
    marker = "zq-51c0de-quoted-secret"
    window = open_composer(qtbot, env, reply_to(encrypted_mail(f"{marker}\n"), account="local"))
    assert window.encrypt_box.isChecked()
    with qtbot.waitSignal(window.draft_saved, timeout=WAIT) as saved:
        qtbot.keyClicks(window.body_edit, "typed-reply-text")
    assert window.status_label.text() == "Draft saved"
    on_disk = store_bytes(env)
    for plain in (marker, "typed-reply-text"):
        assert plain.encode() not in on_disk
    services = env.services()
    (draft,) = services.mailbox.store.drafts("local")
    assert draft.id == saved.args[0]
    report = services.secure_mail.open(draft.raw, now=NOW)  # the keystore's key opens it
    assert report.inner is not None
    assert f"> {marker}".encode() in report.inner
    assert b"typed-reply-text" in report.inner
    # The scan does see what is stored in the clear: a draft of an unencrypted message.
    window.encrypt_box.setChecked(False)
    qtbot.waitUntil(lambda: marker.encode() in store_bytes(env), timeout=WAIT)


def test_without_an_encryption_certificate_the_draft_stays_in_memory(qtbot: Any, env: Env) -> None:
    env.services().accounts.add_local("other", "nobody@example.com")
    marker = "zq-77aa-memory-only"
    start = reply_to(encrypted_mail(f"{marker}\n"), account="other")
    window = ComposerWindow(env.bridge, "other", start, now=lambda: NOW)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(window.sign_box.isEnabled, timeout=WAIT)
    qtbot.keyClicks(window.body_edit, "more")
    qtbot.waitUntil(lambda: window.status_label.text() == MEMORY_ONLY, timeout=WAIT)
    assert window.draft_id is None
    assert env.services().mailbox.store.drafts("other") == []
    assert marker.encode() not in store_bytes(env)
    assert marker in window.composition().body  # the window still holds it


def test_reply_all_to_a_hostile_cc_saves_its_draft(qtbot: Any, env: Env) -> None:
    crashes: list[object] = []
    env.bridge.crashed.connect(crashes.append)
    reply = reply_to(encrypted_mail("hi\n", cc=".:ca@\\=?, carol@example.net"),
                     account="local", reply_all=True)  # fmt: skip
    window = open_composer(qtbot, env, reply)
    with qtbot.waitSignal(window.draft_saved, timeout=WAIT):
        qtbot.keyClicks(window.body_edit, "x")
    assert window.status_label.text() == "Draft saved"
    assert crashes == []


def test_a_failing_draft_save_or_send_never_leaves_the_window_stuck(
    qtbot: Any, env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    crashes: list[object] = []
    env.bridge.crashed.connect(crashes.append)

    def broken(*args: object, **kwargs: object) -> None:
        raise AttributeError("'str' object has no attribute 'token_type'")

    window = open_composer(qtbot, env, Composition("local", to=(BOB,)))
    monkeypatch.setattr(composer_module, "save_draft", broken)
    qtbot.keyClicks(window.body_edit, "first")
    qtbot.waitUntil(lambda: window.status_label.text().startswith("Draft not saved"), timeout=WAIT)
    assert [type(bug) for bug in crashes] == [AttributeError]  # still a bug to report
    monkeypatch.undo()
    with qtbot.waitSignal(window.draft_saved, timeout=WAIT):  # not stuck "saving"
        qtbot.keyClicks(window.body_edit, " second")
    monkeypatch.setattr(composer_module, "send", broken)
    qtbot.waitUntil(window.send_button.isEnabled, timeout=WAIT)
    window.send_button.click()
    qtbot.waitUntil(lambda: len(crashes) == 2, timeout=WAIT)
    assert window.send_button.isEnabled()  # not stuck "sending": it can be sent again
    assert window.status_label.text() == "an internal error stopped it"


def test_compose_and_send_encrypted_to_yourself(qtbot: Any, env: Env, tmp_path: Path) -> None:
    attachment = tmp_path / "plan.txt"
    attachment.write_bytes(b"step one\n")
    window = open_composer(qtbot, env)
    qtbot.keyClicks(window.to_edit, ALICE)
    qtbot.keyClicks(window.subject_edit, "Launch")
    qtbot.keyClicks(window.body_edit, "The code is 0000.")
    window.add_attachment_files([str(attachment)])
    qtbot.waitUntil(lambda: window.attachment_list.count() == 1, timeout=WAIT)
    assert window.attachment_list.item(0).text() == "plan.txt (9 bytes)"
    window.sign_box.setChecked(True)
    window.encrypt_box.setChecked(True)
    qtbot.waitUntil(window.send_button.isEnabled, timeout=WAIT)
    assert states_shown(window) == [f"{ALICE} — ready to encrypt"]
    with qtbot.waitSignal(window.sent, timeout=WAIT) as sent:
        qtbot.keyClick(window.body_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert sent.args == ["delivered locally"]
    assert not window.isVisible()
    services = env.services()
    assert services.mailbox.store.outbox() == []
    assert services.mailbox.store.drafts("local") == []
    services.mailbox.sync("local")
    (arrived,) = services.mailbox.messages("local")
    assert arrived.security == "encrypted"
    report = services.mailbox.show("local", arrived.uid, now=NOW)
    assert report.encryption is EncryptionStatus.AEAD
    assert report.signature is SignatureStatus.VALID
    assert report.sender_match is True
    assert report.inner is not None
    assert b"The code is 0000." in report.inner
    assert b'filename="plan.txt"' in report.inner


def test_a_send_that_fails_shows_why_and_stays_in_the_outbox(qtbot: Any, env: Env) -> None:
    env.services().accounts.add_server(
        "work", ALICE, imap="127.0.0.1:1", smtp="127.0.0.1:1", username="alice", password="pw"
    )
    window = ComposerWindow(env.bridge, "work", Composition("work", to=(BOB,)), now=lambda: NOW)
    qtbot.addWidget(window)
    qtbot.waitUntil(window.send_button.isEnabled, timeout=WAIT)
    with qtbot.waitSignal(window.queued, timeout=WAIT):
        window.send_button.click()
    assert window.status_label.text().startswith("Not sent yet: cannot connect")
    assert window.status_label.text().endswith("It waits in the outbox.")
    assert not window.send_button.isEnabled()  # a second click would send it twice
    (item,) = env.services().mailbox.store.outbox("work")
    assert item.state == "failed"


def test_attachments_can_be_removed(qtbot: Any, env: Env, tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(bytes(2048))
    window = open_composer(qtbot, env)
    window.add_attachment_files([str(tmp_path / "a.bin")])
    qtbot.waitUntil(lambda: window.attachment_list.count() == 1, timeout=WAIT)
    assert window.attachment_list.item(0).text() == "a.bin (2.0 KB)"
    window.attachment_list.setCurrentRow(0)
    window.remove_button.click()
    assert window.attachment_list.count() == 0
    assert window.composition().attachments == ()


def test_an_unreadable_attachment_is_reported(qtbot: Any, env: Env, tmp_path: Path) -> None:
    window = open_composer(qtbot, env)
    window.add_attachment_files([str(tmp_path / "missing.txt")])
    qtbot.waitUntil(lambda: "missing.txt" in window.status_label.text(), timeout=WAIT)
    assert window.status_label.text().startswith("cannot attach missing.txt")


def test_closing_keeps_the_draft(qtbot: Any, env: Env) -> None:
    window = open_composer(qtbot, env)
    window.to_edit.setText(BOB)
    window.body_edit.setPlainText("unfinished")
    window.close()
    store = env.services().mailbox.store
    qtbot.waitUntil(lambda: len(store.drafts("local")) == 1, timeout=WAIT)
    assert b"unfinished" in store.drafts("local")[0].raw


def test_fields_and_buttons_have_accessible_names(qtbot: Any, env: Env) -> None:
    window = open_composer(qtbot, env)
    names = {
        widget.accessibleName()
        for widget in window.findChildren(QWidget)
        if isinstance(widget, (QLineEdit, QPlainTextEdit, QPushButton))
        or widget in (window.sign_box, window.encrypt_box)
    }
    assert {"To", "Cc", "Bcc", "Subject", "Message body", "Sign", "Encrypt", "Send",
            "Attach files"} <= names  # fmt: skip
    assert "" not in names


def test_closing_with_jobs_in_flight_is_safe(qtbot: Any, env: Env) -> None:
    window = ComposerWindow(env.bridge, "local", Composition("local", to=(BOB,)), now=lambda: NOW)
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # as the main window opens it
    window.show()
    window.body_edit.setPlainText("gone soon")
    with qtbot.waitSignal(window.destroyed, timeout=WAIT):
        window.close()  # the policy, the certificate check and the last save are queued
    qtbot.waitUntil(lambda: not env.bridge.is_busy(), timeout=WAIT)
    (draft,) = env.services().mailbox.store.drafts("local")
    assert b"gone soon" in draft.raw


# -- closing without losing what was written ----------------------------------------------


def memory_only_composer(qtbot: Any, env: Env) -> ComposerWindow:
    """A composer of an encrypted message from an account without an encryption certificate."""
    env.services().accounts.add_local("other", "nobody@example.com")
    start = reply_to(encrypted_mail("quoted\n"), account="other")
    window = ComposerWindow(env.bridge, "other", start, now=lambda: NOW)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(window.sign_box.isEnabled, timeout=WAIT)
    return window


def answer(qtbot: Any, window: ComposerWindow, button: QMessageBox.StandardButton) -> str:
    """Wait for the "Discard this message?" box, click ``button``; returns what it said."""
    qtbot.waitUntil(lambda: window.discard_question is not None, timeout=WAIT)
    box = window.discard_question
    assert box is not None
    assert box.text() == "Discard this message?"
    assert box.textFormat() == Qt.TextFormat.PlainText
    labels = [label for label in box.findChildren(QLabel) if label.text()]
    assert labels
    assert all(label.textFormat() == Qt.TextFormat.PlainText for label in labels)
    said = box.informativeText()
    box.button(button).click()
    assert window.discard_question is None
    return said


def test_closing_with_a_memory_only_draft_asks_and_cancel_keeps_the_window(
    qtbot: Any, env: Env
) -> None:
    window = memory_only_composer(qtbot, env)
    qtbot.keyClicks(window.body_edit, "typed")
    assert not window.close()  # the autosave is still pending: it is saved first
    said = answer(qtbot, window, QMessageBox.StandardButton.Cancel)
    assert said.startswith(MEMORY_ONLY)
    assert window.isVisible()
    assert window.status_label.text() == MEMORY_ONLY
    assert "typed" in window.composition().body
    assert not window.close()  # nothing changed since: it asks again
    answer(qtbot, window, QMessageBox.StandardButton.Discard)
    assert not window.isVisible()
    assert env.services().mailbox.store.drafts("other") == []


def test_discard_closes_a_window_deleted_on_close(qtbot: Any, env: Env) -> None:
    window = memory_only_composer(qtbot, env)
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # as the main window opens it
    qtbot.keyClicks(window.body_edit, "typed")
    qtbot.waitUntil(lambda: window.status_label.text() == MEMORY_ONLY, timeout=WAIT)
    window.close()
    with qtbot.waitSignal(window.destroyed, timeout=WAIT):
        answer(qtbot, window, QMessageBox.StandardButton.Discard)


def test_an_empty_composer_closes_without_asking(qtbot: Any, env: Env) -> None:
    window = open_composer(qtbot, env)
    window.encrypt_box.setChecked(True)  # a choice is not a message
    assert window.close()
    assert window.discard_question is None
    assert not window.isVisible()
    qtbot.waitUntil(lambda: not env.bridge.is_busy(), timeout=WAIT)
    assert env.services().mailbox.store.drafts("local") == []


def test_a_saved_unencrypted_draft_closes_without_asking(qtbot: Any, env: Env) -> None:
    window = open_composer(qtbot, env)
    with qtbot.waitSignal(window.draft_saved, timeout=WAIT):
        qtbot.keyClicks(window.body_edit, "saved")
    assert window.close()
    assert window.discard_question is None
    assert not window.isVisible()


def test_changes_since_the_last_save_are_saved_before_closing(qtbot: Any, env: Env) -> None:
    window = open_composer(qtbot, env)
    with qtbot.waitSignal(window.draft_saved, timeout=WAIT):
        qtbot.keyClicks(window.body_edit, "first")
    qtbot.keyClicks(window.body_edit, " and later")
    assert not window.close()  # waits for the save
    assert window.isVisible()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT)
    assert window.discard_question is None
    (draft,) = env.services().mailbox.store.drafts("local")
    assert b"first and later" in draft.raw


def test_a_draft_that_cannot_be_saved_on_closing_is_asked_about(
    qtbot: Any, env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*args: object, **kwargs: object) -> None:
        raise ComposeError("a header cannot be written: <b>x</b>")

    window = open_composer(qtbot, env)
    monkeypatch.setattr(composer_module, "save_draft", refused)
    qtbot.keyClicks(window.body_edit, "unsaved")
    window.close()
    said = answer(qtbot, window, QMessageBox.StandardButton.Cancel)
    assert said.startswith("Draft not saved: a header cannot be written: <b>x</b>")
    assert window.isVisible()
    monkeypatch.undo()
    qtbot.keyClicks(window.body_edit, " now")
    window.close()  # saved this time: it closes without asking
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT)
    (draft,) = env.services().mailbox.store.drafts("local")
    assert b"unsaved now" in draft.raw


# -- reopening a draft ---------------------------------------------------------------------


def test_a_reopened_draft_keeps_its_choices_and_replaces_itself(qtbot: Any, env: Env) -> None:
    env.account(sign_by_default=True)
    services = env.services()
    c = Composition("local", to=(BOB,), subject="Again", body="draft text", sign=False)
    saved = save_draft(services, c, now=NOW)
    assert saved.draft_id is not None
    reopened = composition_from_draft(services, "local", saved.draft_id, now=NOW)
    window = open_composer(qtbot, env, reopened)
    assert not window.sign_box.isChecked()  # as saved, not the account's default
    assert window.body_edit.toPlainText() == "draft text"
    assert window.close()  # unchanged and stored: nothing to ask
    window = open_composer(qtbot, env, reopened)
    with qtbot.waitSignal(window.draft_saved, timeout=WAIT) as again:
        qtbot.keyClicks(window.body_edit, " more")
    assert again.args == [saved.draft_id]
    (draft,) = env.services().mailbox.store.drafts("local")
    assert b" moredraft text" in draft.raw  # typed where the cursor starts: at the top
