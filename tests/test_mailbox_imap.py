"""IMAP accounts read through the store, against a real Dovecot on 127.0.0.1."""

from __future__ import annotations

import contextlib
import dataclasses
import time
import uuid
from pathlib import Path

import pytest

from inbox_app.credentials.secrets import MemorySecretStore
from inbox_app.services.app import InboxServices
from inbox_app.smime import encrypt_message, sign_message
from inbox_app.transport import AuthenticationError, ImapSession
from tests.pki import NOW, StandardPKI, message
from tests.servers import Dovecot


@pytest.fixture
def account(dovecot: Dovecot, tmp_path: Path) -> tuple[InboxServices, str]:
    services = InboxServices(tmp_path / "home", MemorySecretStore())
    name = "work"
    services.accounts.add_server(
        name, "alice@example.com",
        imap=f"{dovecot.host}:{dovecot.imaps_port}", smtp=f"{dovecot.host}:25",
        username=dovecot.user, password=dovecot.password, tls="ssl",
        ca_file=str(dovecot.ca_file),
    )  # fmt: skip
    return services, name


def session(dovecot: Dovecot) -> ImapSession:
    return ImapSession.connect(
        dovecot.host, dovecot.imaps_port, tls="ssl", ca_file=dovecot.ca_file,
        username=dovecot.user, password=dovecot.password, timeout=10,
    )  # fmt: skip


def test_sync_show_and_incremental_changes(
    dovecot: Dovecot, account: tuple[InboxServices, str], pki: StandardPKI
) -> None:
    services, name = account
    folder = f"Sync{uuid.uuid4().hex[:8]}"
    with session(dovecot) as imap:
        imap.create_folder(folder)
        plain = imap.append(folder, message(body=b"plain apple\r\n", subject="Plain"))
        signed = imap.append(folder, sign_message(message(sender="alice@example.com",
                                                          subject="Signed"),
                                                  pki.alice.identity, now=NOW))  # fmt: skip
        sealed = imap.append(folder, encrypt_message(message(subject="Secret"),
                                                     [pki.alice.cert], now=NOW))  # fmt: skip
    first = services.mailbox.sync(name)
    assert first.new >= 3
    listed = {m.uid: m for m in services.mailbox.messages(name, folder)}
    assert listed[plain].security == "none"
    assert listed[signed].security == "signed"
    assert listed[sealed].security == "encrypted"
    assert listed[sealed].subject == "[...]"
    # Nothing changed: a re-sync fetches nothing new.
    assert services.mailbox.sync(name).new == 0
    # The raw bytes are fetched on demand and are what the engine opens.
    assert services.mailbox.store.raw(name, folder, plain) is None
    report = services.mailbox.show(name, plain, folder=folder, now=NOW)
    assert report.signature.value == "unsigned"
    assert services.mailbox.store.raw(name, folder, plain) is not None
    assert [m.uid for m in services.mailbox.search(name, "apple")] == [plain]
    # Flags and expunges made by another client arrive with the next sync.
    with session(dovecot) as imap:
        imap.select(folder)
        imap.add_flags([signed], ["\\Flagged"])
        imap.delete([plain])
    second = services.mailbox.sync(name)
    assert second.removed == 1
    listed = {m.uid: m for m in services.mailbox.messages(name, folder)}
    assert plain not in listed
    assert "\\Flagged" in listed[signed].flags


def test_uidvalidity_change_means_a_clean_refetch(
    dovecot: Dovecot, account: tuple[InboxServices, str]
) -> None:
    services, name = account
    folder = f"Valid{uuid.uuid4().hex[:8]}"
    with session(dovecot) as imap:
        imap.create_folder(folder)
        imap.append(folder, message(subject="Before"))
    services.mailbox.sync(name)
    before = services.mailbox.store.folder(name, folder)
    assert before is not None
    with session(dovecot) as imap:
        imap.delete_folder(folder)
        imap.create_folder(folder)
        imap.append(folder, message(subject="After"))
    services.mailbox.sync(name)
    after = services.mailbox.store.folder(name, folder)
    assert after is not None
    assert after.uidvalidity != before.uidvalidity
    assert [m.subject for m in services.mailbox.messages(name, folder)] == ["After"]


def test_wrong_password_is_one_clear_line(dovecot: Dovecot, tmp_path: Path) -> None:
    services = InboxServices(tmp_path / "home", MemorySecretStore())
    services.accounts.add_server(
        "bad", "alice@example.com", imap=f"{dovecot.host}:{dovecot.imaps_port}",
        smtp="127.0.0.1:25", username=dovecot.user, password="wrong-password",
        ca_file=str(dovecot.ca_file),
    )  # fmt: skip
    with pytest.raises(AuthenticationError) as caught:
        services.mailbox.sync("bad")
    assert "wrong-password" not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_flags_moves_and_deletes_reach_the_server(
    dovecot: Dovecot, account: tuple[InboxServices, str]
) -> None:
    services, name = account
    folder, target = f"Src{uuid.uuid4().hex[:8]}", f"Dst{uuid.uuid4().hex[:8]}"
    with session(dovecot) as imap:
        imap.create_folder(folder)
        imap.create_folder(target)
        first = imap.append(folder, message(subject="First"))
        second = imap.append(folder, message(subject="Second"))
        third = imap.append(folder, message(subject="Third"))
    assert first is not None
    assert second is not None
    assert third is not None
    services.mailbox.sync(name)
    services.mailbox.change_flags(name, folder, [first], add=("\\Seen", "\\Flagged"))
    assert set(services.mailbox.store.summary(name, folder, first).flags) >= {"\\Seen"}  # type: ignore[union-attr]
    with session(dovecot) as imap:
        imap.select(folder, readonly=True)
        (summary,) = imap.summaries([first])
        assert {"\\Seen", "\\Flagged"} <= summary.flags
    services.mailbox.change_flags(name, folder, [first], remove=("\\Flagged",))
    services.mailbox.move(name, folder, [second], target)
    services.mailbox.delete(name, folder, [third])
    services.mailbox.sync(name)
    assert [m.subject for m in services.mailbox.messages(name, folder)] == ["First"]
    assert [m.subject for m in services.mailbox.messages(name, target)] == ["Second"]
    (kept,) = services.mailbox.messages(name, folder)
    assert "\\Flagged" not in kept.flags


@pytest.mark.parametrize(
    "budget",
    [0, 40, 200, 600, 6_000],
    ids=["at-connect", "in-tls-or-login", "after-login", "after-list", "in-fetch"],
)
def test_a_sync_cut_at_each_step_loses_and_duplicates_nothing(
    dovecot: Dovecot, account: tuple[InboxServices, str], budget: int
) -> None:
    from inbox_app.transport import TransportError
    from tests.smtp_server import TcpProxy

    services, name = account
    folder = f"Cut{uuid.uuid4().hex[:8]}"
    dovecot.seed(folder, [message(subject=f"Seed {n}") for n in range(1100)])
    proxy = TcpProxy(dovecot.imaps_port)
    try:
        stored = services.accounts.get(name)
        assert stored.imap is not None
        services.accounts.store.update(
            dataclasses.replace(stored, imap=dataclasses.replace(stored.imap, port=proxy.port))
        )
        # A budget of client bytes: the connection is cut during the TLS handshake, the
        # login, the LIST, the SELECTs or the FETCH commands (500 UIDs each).
        # A cut while connecting is retried (with backoff) and may succeed; a cut later
        # ends the sync with a TransportError. Either way the next sync completes it.
        proxy.cut_after(budget)
        with contextlib.suppress(TransportError):
            services.mailbox.sync(name)
        assert proxy.cuts == 1
        proxy.cut_after(10**12)
        services.mailbox.sync(name)
    finally:
        proxy.close()
    subjects = [m.subject for m in services.mailbox.messages(name, folder)]
    assert len(subjects) == 1100
    assert len(set(subjects)) == 1100


def test_new_mail_is_pushed_with_idle(dovecot: Dovecot, account: tuple[InboxServices, str]) -> None:
    import threading

    services, name = account
    services.mailbox.sync(name)

    def deliver_later() -> None:
        time.sleep(1.0)  # the watcher is in IDLE by then
        with session(dovecot) as imap:
            imap.append("INBOX", message(subject="Pushed"))

    sender = threading.Thread(target=deliver_later, daemon=True)
    sender.start()
    started = time.monotonic()
    result = services.mailbox.watch(name, timeout=20)
    sender.join(timeout=10)
    assert time.monotonic() - started < 15  # woken by the server, not by the timeout
    assert result.new >= 1
    assert any(m.subject == "Pushed" for m in services.mailbox.messages(name))


def test_an_unreachable_server_is_retried_then_one_clear_line(tmp_path: Path) -> None:
    from inbox_app.transport import TransportError
    from tests.servers import free_port

    services = InboxServices(tmp_path / "home", MemorySecretStore())
    port = free_port()
    services.accounts.add_server(
        "gone", "alice@example.com", imap=f"127.0.0.1:{port}", smtp="127.0.0.1:25",
        username="alice", password="pw",
    )  # fmt: skip
    started = time.monotonic()
    with pytest.raises(TransportError, match=f"127.0.0.1:{port}") as caught:
        services.mailbox.sync("gone")
    assert time.monotonic() - started >= 2.5  # it tried again, with backoff
    assert "\n" not in str(caught.value)
