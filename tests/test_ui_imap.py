"""The main window on a real IMAP account (Dovecot on 127.0.0.1): the password prompt,
sync into the list, flags both ways from the GUI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inbox_app.credentials.secrets import MemorySecretStore
from inbox_app.mail.accounts import Account, Server
from inbox_app.services.app import InboxServices
from inbox_app.services.runtime import Runtime
from inbox_app.ui.bridge import Bridge
from inbox_app.ui.main_window import MainWindow
from tests.pki import NOW, message
from tests.servers import Dovecot

WAIT = 15_000


@pytest.fixture
def window(qtbot, dovecot: Dovecot, tmp_path: Path) -> Iterator[MainWindow]:
    home = tmp_path / "home"
    secrets = MemorySecretStore()
    services = InboxServices(home, secrets)
    server = Server(dovecot.host, dovecot.imaps_port, "ssl", str(dovecot.ca_file))
    # As a profile would create it: settings, but no password yet.
    services.accounts.store.add(
        Account(
            "work",
            "alice@example.com",
            imap=server,
            smtp=Server(dovecot.host, 25, "ssl", str(dovecot.ca_file)),
            username=dovecot.user,
        )
    )
    runtime = Runtime(lambda: InboxServices(home, secrets))
    main = MainWindow(Bridge(runtime), clock=lambda: NOW)
    qtbot.addWidget(main)
    main.show()
    yield main
    main.close()
    runtime.close()


def test_a_missing_password_is_asked_for_then_mail_syncs(
    qtbot, dovecot: Dovecot, window: MainWindow
) -> None:
    folder = "INBOX"
    dovecot.seed(folder, [message(subject=f"Hello {n}") for n in range(3)])
    window.start(sync=True)
    qtbot.waitUntil(lambda: window.password_dialog is not None, timeout=WAIT)
    assert "no password" in window.errors.shown[-1]
    dialog = window.password_dialog
    assert dialog is not None
    dialog.setTextValue(dovecot.password)
    dialog.accept()
    qtbot.waitUntil(lambda: window.messages.rowCount() >= 3, timeout=WAIT)
    subjects = {window.messages.summary(r).subject for r in range(window.messages.rowCount())}  # type: ignore[union-attr]
    assert {"Hello 0", "Hello 1", "Hello 2"} <= subjects
    # Mark one unread from the GUI: the server sees it.
    window.select_row(0)
    qtbot.waitUntil(lambda: window.opened is not None, timeout=WAIT)
    uid = window.opened.uid  # type: ignore[union-attr]
    window.mark_unread()
    qtbot.waitUntil(
        lambda: "\\Seen" not in window.messages.summary(window.messages.row_of(uid)).flags,  # type: ignore[arg-type, union-attr]
        timeout=WAIT,
    )
