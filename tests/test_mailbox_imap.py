"""IMAP accounts read through the store, against a real Dovecot on 127.0.0.1."""

from __future__ import annotations

import contextlib
import dataclasses
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
    ("client_bytes", "server_bytes"),
    [(0, None), (40, None), (200, None), (600, None), (None, 480_000)],
    ids=["at-connect", "in-tls-or-login", "after-login", "after-list", "in-fetch"],
)
def test_a_sync_cut_at_each_step_loses_and_duplicates_nothing(
    dovecot: Dovecot,
    account: tuple[InboxServices, str],
    client_bytes: int | None,
    server_bytes: int | None,
) -> None:
    from inbox_app.transport import TransportError
    from tests.smtp_server import TcpProxy

    services, name = account
    folder = f"Cut{uuid.uuid4().hex[:8]}"
    dovecot.seed(folder, [message(subject=f"Seed {n}") for n in range(2000)])
    proxy = TcpProxy(dovecot.imaps_port)
    try:
        stored = services.accounts.get(name)
        assert stored.imap is not None
        services.accounts.store.update(
            dataclasses.replace(stored, imap=dataclasses.replace(stored.imap, port=proxy.port))
        )
        # A budget of client bytes: the connection is cut during the TLS handshake, the
        # login, the LIST or the SELECTs; of server bytes: in the middle of the FETCH
        # answer (a few hundred bytes a message), after some summaries were stored.
        # A cut while connecting is retried (with backoff) and may succeed; a cut later
        # ends the sync with a TransportError. Either way the next sync completes it.
        if client_bytes is not None:
            proxy.cut_after(client_bytes)
        if server_bytes is not None:
            proxy.cut_after_server(server_bytes)
        with contextlib.suppress(TransportError):
            services.mailbox.sync(name)
        assert proxy.cuts == 1
        if server_bytes is not None:
            # Cut mid-answer (some 320 bytes a message): the batches written before the
            # cut stay, and the folder is not marked complete.
            assert 0 < services.mailbox.store.count(name, folder) < 2000
            state = services.mailbox.store.folder(name, folder)
            assert state is not None
            assert state.highestmodseq is None
        proxy.cut_after(10**12)
        services.mailbox.sync(name)
    finally:
        proxy.close()
    subjects = [m.subject for m in services.mailbox.messages(name, folder)]
    assert len(subjects) == 2000
    assert len(set(subjects)) == 2000


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


# ---------------------------------------------------------------- how changes are found


def count_calls(monkeypatch: pytest.MonkeyPatch, *names: str) -> dict[str, int]:
    """Count the calls of these ImapSession methods (they still do their work)."""
    counts = dict.fromkeys(names, 0)

    def counting(method: str) -> Callable[..., Any]:
        original = getattr(ImapSession, method)

        def counted(self: ImapSession, *args: Any, **kwargs: Any) -> Any:
            counts[method] += 1
            return original(self, *args, **kwargs)

        return counted

    for method in names:
        monkeypatch.setattr(ImapSession, method, counting(method))
    return counts


def enable_only(monkeypatch: pytest.MonkeyPatch, *extensions: str) -> None:
    """Make sessions enable only these extensions, as on a server without the others."""

    def enable(self: ImapSession) -> None:
        if extensions:
            self._live.enable(*extensions)
        self._enabled = frozenset(extensions)

    monkeypatch.setattr(ImapSession, "_enable_extensions", enable)


def changes_elsewhere(dovecot: Dovecot, folder: str) -> dict[str, int]:
    """Another client flags one message, expunges another and delivers a new one."""
    with session(dovecot) as imap:
        first = imap.append(folder, message(subject="Flag me"))
        second = imap.append(folder, message(subject="Expunge me"))
        imap.append(folder, message(subject="Keep me"))
    assert first is not None
    assert second is not None
    return {"flag": first, "expunge": second}


def apply_changes_elsewhere(dovecot: Dovecot, folder: str, uids: dict[str, int]) -> None:
    with session(dovecot) as imap:
        imap.select(folder)
        imap.add_flags([uids["flag"]], ["\\Flagged", "$Later"])
        imap.delete([uids["expunge"]])
        imap.append(folder, message(subject="New one"))


def assert_changes_arrived(services: InboxServices, name: str, folder: str) -> None:
    listed = {m.subject: m for m in services.mailbox.messages(name, folder)}
    assert set(listed) == {"Flag me", "Keep me", "New one"}
    assert set(listed["Flag me"].flags) == {"\\Flagged", "$Later"}
    assert listed["Keep me"].flags == ()


def test_incremental_sync_uses_qresync(
    dovecot: Dovecot, account: tuple[InboxServices, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    services, name = account
    folder = f"Q{uuid.uuid4().hex[:8]}"
    with session(dovecot) as imap:
        imap.create_folder(folder)
    uids = changes_elsewhere(dovecot, folder)
    services.mailbox.sync(name)
    before = services.mailbox.store.folder(name, folder)
    assert before is not None
    assert before.highestmodseq is not None
    apply_changes_elsewhere(dovecot, folder, uids)

    counts = count_calls(monkeypatch, "resync", "select", "all_uids", "changes_since", "all_flags")
    result = services.mailbox.sync(name)
    folders = len(services.mailbox.store.folders(name))
    # Every folder reopened with EXAMINE ... (QRESYNC ...): no UID SEARCH, no FETCH 1:*.
    assert counts == {
        "resync": folders, "select": 0, "all_uids": 0, "changes_since": 0, "all_flags": 0,
    }  # fmt: skip
    assert (result.new, result.removed) == (1, 1)
    assert_changes_arrived(services, name, folder)
    after = services.mailbox.store.folder(name, folder)
    assert after is not None
    assert after.highestmodseq is not None
    assert after.highestmodseq > before.highestmodseq
    # Nothing changed since: nothing fetched, nothing removed, still no UID SEARCH.
    assert (services.mailbox.sync(name).new, counts["all_uids"]) == (0, 0)


def test_incremental_sync_with_condstore_only_compares_uids(
    dovecot: Dovecot, account: tuple[InboxServices, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    enable_only(monkeypatch, "CONDSTORE")
    services, name = account
    folder = f"C{uuid.uuid4().hex[:8]}"
    with session(dovecot) as imap:
        imap.create_folder(folder)
    uids = changes_elsewhere(dovecot, folder)
    services.mailbox.sync(name)
    apply_changes_elsewhere(dovecot, folder, uids)
    counts = count_calls(monkeypatch, "resync", "all_uids", "changes_since", "all_flags")
    result = services.mailbox.sync(name)
    folders = len(services.mailbox.store.folders(name))
    assert counts == {"resync": 0, "all_uids": folders, "changes_since": folders, "all_flags": 0}
    assert (result.new, result.removed) == (1, 1)
    assert_changes_arrived(services, name, folder)


def test_incremental_sync_without_condstore_reads_every_flag(
    dovecot: Dovecot, account: tuple[InboxServices, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    enable_only(monkeypatch)
    services, name = account
    folder = f"N{uuid.uuid4().hex[:8]}"
    with session(dovecot) as imap:
        imap.create_folder(folder)
    uids = changes_elsewhere(dovecot, folder)
    services.mailbox.sync(name)
    state = services.mailbox.store.folder(name, folder)
    assert state is not None
    assert state.highestmodseq is None  # no CONDSTORE: no mod-sequences
    apply_changes_elsewhere(dovecot, folder, uids)
    counts = count_calls(monkeypatch, "resync", "all_uids", "changes_since", "all_flags")
    result = services.mailbox.sync(name)
    folders = len(services.mailbox.store.folders(name))
    assert counts == {"resync": 0, "all_uids": 0, "changes_since": 0, "all_flags": folders}
    assert (result.new, result.removed) == (1, 1)
    assert_changes_arrived(services, name, folder)


def test_odd_header_fields_sync(dovecot: Dovecot, account: tuple[InboxServices, str]) -> None:
    services, name = account
    folder = f"Odd{uuid.uuid4().hex[:8]}"
    dovecot.seed(
        folder,
        [
            # "-0000": the zone is unknown (RFC 5322 §3.3), read as UTC.
            b"From: a@example.com\r\nSubject: Unknown zone\r\n"
            b"Date: Mon, 01 Jun 2026 12:00:00 -0000\r\n\r\nx\r\n",
            b"From: b@example.com\r\nSubject: No date\r\n\r\nx\r\n",
            # An encoded word, folded over two lines.
            b"From: =?utf-8?q?J=C3=BCrgen?= <j@example.com>\r\n"
            b"Subject: =?utf-8?b?R3LDvMOfZQ==?=\r\n  again\r\nDate: garbage\r\n\r\nx\r\n",
        ],
    )
    services.mailbox.sync(name)
    listed = {m.subject: m for m in services.mailbox.messages(name, folder)}
    assert set(listed) == {"Unknown zone", "No date", "Grüße again"}
    assert listed["Unknown zone"].date == datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert listed["No date"].date is None
    assert listed["No date"].internaldate is not None
    assert listed["Grüße again"].from_addr == "Jürgen <j@example.com>"
    assert listed["Grüße again"].date is None
    assert [m.subject for m in services.mailbox.search(name, "Grüße")] == ["Grüße again"]


def test_a_store_failure_mid_sync_stops_the_fetch_and_loses_nothing(
    dovecot: Dovecot, account: tuple[InboxServices, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from inbox_app.store import MailStore, StoreUnavailableError

    services, name = account
    folder = f"Full{uuid.uuid4().hex[:8]}"
    dovecot.seed(folder, [message(subject=f"Seed {n}") for n in range(2500)])
    original = MailStore.add_synced
    calls = []

    def full_disk(self: MailStore, *args: Any, **kwargs: Any) -> int:
        calls.append(args[1])
        if args[1] == folder and calls.count(folder) == 2:
            raise StoreUnavailableError("cannot use the mail store: the disk is full")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(MailStore, "add_synced", full_disk)
    started = time.monotonic()
    with pytest.raises(StoreUnavailableError, match="disk is full"):
        services.mailbox.sync(name)
    assert time.monotonic() - started < 10  # the reader thread stopped: nothing hangs
    assert services.mailbox.store.count(name, folder) == 1000  # the first batch stayed
    monkeypatch.setattr(MailStore, "add_synced", original)
    services.mailbox.sync(name)
    subjects = [m.subject for m in services.mailbox.messages(name, folder)]
    assert sorted(subjects) == sorted(f"Seed {n}" for n in range(2500))
