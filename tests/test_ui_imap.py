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


def test_new_mail_is_pushed_into_the_list_with_idle(
    qtbot, dovecot: Dovecot, tmp_path: Path
) -> None:
    from inbox_app.services.push import PushWatcher

    home = tmp_path / "push-home"
    secrets = MemorySecretStore()
    InboxServices(home, secrets).accounts.add_server(
        "work", "alice@example.com",
        imap=f"{dovecot.host}:{dovecot.imaps_port}", smtp=f"{dovecot.host}:25",
        username=dovecot.user, password=dovecot.password, tls="ssl",
        ca_file=str(dovecot.ca_file),
    )  # fmt: skip
    dovecot.seed("INBOX", [message(subject="Before")])

    def factory() -> InboxServices:
        return InboxServices(home, secrets)

    runtime = Runtime(factory)
    bridge = Bridge(runtime)
    push = PushWatcher(
        factory, on_change=bridge.report_change, on_error=bridge.report_failure, window=1.0
    )
    main = MainWindow(bridge, clock=lambda: NOW, push=push)
    qtbot.addWidget(main)
    main.show()
    try:
        main.start(sync=True)
        qtbot.waitUntil(lambda: main.messages.rowCount() >= 1, timeout=WAIT)
        qtbot.waitUntil(lambda: push.watching() == ["work"], timeout=WAIT)
        before = main.messages.rowCount()
        # Another client delivers: the server pushes it (no timer, no click).
        dovecot.seed("INBOX", [message(subject="Pushed")])
        qtbot.waitUntil(lambda: main.messages.rowCount() == before + 1, timeout=WAIT)
        assert main.messages.summary(0).subject == "Pushed"  # type: ignore[union-attr]
    finally:
        main.close()
        runtime.close()
    qtbot.waitUntil(lambda: push.watching() == [], timeout=WAIT)
