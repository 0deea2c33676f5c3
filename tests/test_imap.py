"""The IMAP transport against a real Dovecot on 127.0.0.1 (see tests/servers.py).

Without Dovecot the server tests are skipped, unless INBOX_SERVER_TESTS is set (the test
command sets it): then a missing server is a failure.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inbox_app.errors import InboxError
from inbox_app.smime import encrypt_message, sign_message
from inbox_app.transport import (
    AuthenticationError,
    ConnectionLostError,
    Folder,
    ImapSession,
    ServerError,
    TlsError,
    TransportError,
    classify_security,
)
from tests.pki import NOW, StandardPKI, message
from tests.servers import Dovecot, free_port, messages


def _connect(server: Dovecot, *, tls: str = "ssl", **overrides: object) -> ImapSession:
    options: dict[str, object] = {
        "tls": tls,
        "ca_file": server.ca_file,
        "username": server.user,
        "password": server.password,
        "timeout": 10.0,
    }
    options.update(overrides)
    port = server.imaps_port if tls == "ssl" else server.imap_port
    return ImapSession.connect(server.host, port, **options)  # type: ignore[arg-type]


@pytest.fixture
def imap(dovecot: Dovecot) -> Iterator[ImapSession]:
    with _connect(dovecot) as session:
        yield session


@pytest.fixture
def folder(imap: ImapSession) -> str:
    """A fresh, empty folder of this test's own."""
    name = f"T{uuid.uuid4().hex[:10]}"
    imap.create_folder(name)
    return name


def _one_line(error: BaseException) -> str:
    text = str(error)
    assert text
    assert "\n" not in text
    assert "Traceback" not in text
    return text


# -- connecting ------------------------------------------------------------------------


@pytest.mark.parametrize("tls", ["ssl", "starttls"])
def test_connects_over_tls_and_reports_extensions(dovecot: Dovecot, tls: str) -> None:
    with _connect(dovecot, tls=tls) as session:
        caps = session.capabilities
        assert {"IDLE", "CONDSTORE", "QRESYNC", "MOVE", "UIDPLUS"} <= caps
        assert session.condstore
        assert session.qresync
        assert session.idle_supported
        assert session.select("INBOX").uidvalidity > 0


@pytest.mark.parametrize("tls", ["ssl", "starttls"])
def test_certificate_is_checked_by_default(dovecot: Dovecot, tls: str) -> None:
    with pytest.raises(TlsError) as caught:
        _connect(dovecot, tls=tls, ca_file=None)
    text = _one_line(caught.value)
    assert "not trusted" in text
    assert "certificate verify failed" in text or "self" in text or "issuer" in text
    assert isinstance(caught.value, ConnectionError)
    assert isinstance(caught.value, InboxError)


def test_bad_ca_file_is_a_tls_error(dovecot: Dovecot, tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate\n")
    with pytest.raises(TlsError):
        _connect(dovecot, ca_file=bogus)


def test_wrong_password_is_an_authentication_error(dovecot: Dovecot) -> None:
    password = "wrong-passw0rd-xyz"
    with pytest.raises(AuthenticationError) as caught:
        _connect(dovecot, password=password)
    text = _one_line(caught.value)
    assert "rejected the user name or password" in text
    error: BaseException | None = caught.value
    while error is not None:  # nowhere in the chain either
        assert password not in str(error)
        error = error.__cause__ or error.__context__


def test_unreachable_port_fails_quickly(dovecot: Dovecot) -> None:
    port = free_port()
    started = time.monotonic()
    with pytest.raises(TransportError) as caught:
        ImapSession.connect(
            "127.0.0.1", port, username="test", password="secret", timeout=2, tls="ssl"
        )
    assert time.monotonic() - started < 3
    assert type(caught.value) is TransportError
    assert _one_line(caught.value).startswith(f"cannot connect to 127.0.0.1:{port}: ")


def test_closed_session_raises_connection_lost(dovecot: Dovecot) -> None:
    session = _connect(dovecot)
    session.close()
    session.close()  # twice is fine
    with pytest.raises(ConnectionLostError):
        session.select("INBOX")


def test_error_tree() -> None:
    for error in (AuthenticationError, TlsError, ServerError, ConnectionLostError):
        assert issubclass(error, TransportError)
    assert issubclass(TransportError, InboxError)
    assert issubclass(TransportError, ConnectionError)


# -- folders ---------------------------------------------------------------------------


def test_folders_and_roles(imap: ImapSession) -> None:
    existing = {entry.name for entry in imap.folders()}
    for name in ("Drafts", "Trash", "Sent"):
        if name not in existing:
            imap.create_folder(name, role=name.lower())
    folders = imap.folders()
    assert all(isinstance(entry, Folder) for entry in folders)
    roles = dict(folders)
    assert roles["INBOX"] == "inbox"
    # Special-use flags (RFC 6154) win over names: "Sent" stays a plain folder.
    assert roles["Sent Messages"] == "sent"
    assert roles["Sent"] is None
    assert roles["Old Mail"] == "archive"
    # No flags for these on this server: found by their names.
    assert roles["Drafts"] == "drafts"
    assert roles["Trash"] == "trash"
    assert sorted(role for role in roles.values() if role) == sorted(set(roles.values()) - {None})


def test_uidvalidity_changes_when_a_folder_is_recreated(imap: ImapSession) -> None:
    name = f"V{uuid.uuid4().hex[:10]}"
    imap.create_folder(name)
    before = imap.select(name)
    imap.select("INBOX")
    imap.delete_folder(name)
    imap.create_folder(name)
    after = imap.select(name)
    assert after.uidvalidity != before.uidvalidity


def test_missing_folder_is_a_server_error(imap: ImapSession) -> None:
    with pytest.raises(ServerError) as caught:
        imap.select("No Such Folder")
    assert "No Such Folder" in _one_line(caught.value)


# -- reading ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        (None, "none"),
        ("text/plain; charset=utf-8", "none"),
        ('multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256', "signed"),
        ('multipart/signed; protocol="application/x-pkcs7-signature"', "signed"),
        ('multipart/signed; protocol="application/pgp-signature"', "none"),
        ("application/pkcs7-mime; smime-type=signed-data; name=smime.p7m", "signed"),
        ('application/x-pkcs7-mime; smime-type="enveloped-data"', "encrypted"),
        ("application/pkcs7-mime; smime-type=authEnveloped-data", "encrypted"),
        ("application/pkcs7-mime; name=smime.p7m", "encrypted"),
        ("application/pkcs7-mime; smime-type=certs-only", "none"),
        ("multipart/mixed; boundary=x", "none"),
        ("garbage;;;=", "none"),
    ],
)
def test_classify_security(content_type: str | None, expected: str) -> None:
    assert classify_security(content_type) == expected


def test_summaries_classify_by_the_mime_root(
    dovecot: Dovecot, imap: ImapSession, folder: str, pki: StandardPKI
) -> None:
    plain = message(subject="Plain")
    detached = sign_message(message(subject="Detached"), pki.alice.identity, now=NOW)
    opaque = sign_message(message(subject="Opaque"), pki.alice.identity, now=NOW, opaque=True)
    enveloped = encrypt_message(
        message(subject="Secret"), [pki.bob.cert], now=NOW, header_protection=False
    )
    # A signature only deeper inside does not make the message signed.
    nested = (
        b"From: alice@example.com\r\nSubject: Forwarded\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\n"
        b"Content-Type: message/rfc822\r\n\r\n" + detached + b"\r\n--outer--\r\n"
    )
    raws = [plain, detached, opaque, enveloped, nested]
    when = datetime(2026, 5, 2, 10, 30, tzinfo=UTC)
    dovecot.seed(folder, raws, when=when)
    status = imap.select(folder)
    assert status.exists == len(raws)
    uids = imap.all_uids()
    summaries = imap.summaries(uids, batch=2)  # several batches
    assert [summary.uid for summary in summaries] == uids
    by_subject = {summary.subject: summary for summary in summaries}
    assert by_subject["Plain"].security == "none"
    assert by_subject["Detached"].security == "signed"
    assert by_subject["Opaque"].security == "signed"
    assert by_subject["Secret"].security == "encrypted"
    assert by_subject["Forwarded"].security == "none"
    first = by_subject["Plain"]
    assert first.sender == "Alice <alice@example.com>"
    assert first.message_id == "<test-1@example.com>"
    assert first.date == datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert first.size == len(plain)
    assert first.flags == frozenset()
    assert first.internaldate is not None
    assert first.internaldate.tzinfo is not None
    assert first.internaldate == when


def test_summaries_skip_missing_uids_and_keep_order(
    dovecot: Dovecot, imap: ImapSession, folder: str
) -> None:
    dovecot.seed(folder, messages(3))
    imap.select(folder)
    uids = imap.all_uids()
    assert [s.uid for s in imap.summaries([uids[2], 999, uids[0]])] == [uids[2], uids[0]]
    assert imap.summaries([]) == []


def test_summaries_stream_in_batches_from_compact_uid_sets(
    dovecot: Dovecot, imap: ImapSession, folder: str
) -> None:
    dovecot.seed(folder, messages(25))
    imap.select(folder)
    uids = imap.all_uids()
    imap.delete(uids[5:10])  # a gap: the request is "a:b,c:d"
    kept = uids[:5] + uids[10:]
    batches = list(imap.iter_summaries([*kept, 10**6], batch=7))
    assert [len(batch) for batch in batches] == [7, 7, 6]
    assert [s.uid for batch in batches for s in batch] == kept
    # Flags of every message, as a server without CONDSTORE is synced.
    imap.add_flags(kept[:2], ["\\Seen"])
    flags = imap.all_flags()
    assert sorted(flags) == kept
    assert [uid for uid, f in flags.items() if f == {"\\Seen"}] == kept[:2]
    imap.select(folder)  # the session is still in step


def test_all_flags_of_an_empty_folder(imap: ImapSession, folder: str) -> None:
    imap.select(folder)
    assert imap.all_flags() == {}
    assert list(imap.iter_summaries([])) == []


def test_leaving_a_stream_early_closes_the_session(
    dovecot: Dovecot, imap: ImapSession, folder: str
) -> None:
    dovecot.seed(folder, messages(30))
    imap.select(folder)
    stream = imap.iter_summaries(imap.all_uids(), batch=5)
    assert len(next(stream)) == 5
    stream.close()  # the rest of the answer is still on its way: the session cannot go on
    with pytest.raises(ConnectionLostError):
        imap.select(folder)


def test_a_refused_fetch_is_a_server_error_and_the_session_goes_on(
    imap: ImapSession, folder: str
) -> None:
    imap.select(folder)
    with pytest.raises(ServerError) as caught:
        list(imap._stream_fetch(b"1:*", b"NOSUCHITEM", "read the message list"))
    assert "could not read the message list" in _one_line(caught.value)
    assert imap.all_uids() == []


def test_raw_returns_the_exact_bytes_and_keeps_unseen(
    dovecot: Dovecot, imap: ImapSession, folder: str, pki: StandardPKI
) -> None:
    seeded = sign_message(message(subject="Exact"), pki.alice.identity, now=NOW)
    dovecot.seed(folder, [seeded])
    appended = message(subject="Appended", body=b"line one\r\n\r\n  trailing  \r\n")
    imap.select(folder)
    new_uid = imap.append(folder, appended)
    uids = imap.all_uids()
    assert imap.raw(uids[0]) == seeded
    assert new_uid is not None
    assert imap.raw(new_uid) == appended
    assert all("\\Seen" not in summary.flags for summary in imap.summaries(uids))
    with pytest.raises(ServerError):
        imap.raw(999)


def test_append_returns_the_new_uid_with_flags_and_date(imap: ImapSession, folder: str) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    uid = imap.append(folder, message(subject="Sent copy"), flags=["\\Seen"], internaldate=when)
    status = imap.select(folder)
    assert uid is not None
    assert imap.all_uids() == [uid]
    assert status.uidnext == uid + 1
    (summary,) = imap.summaries([uid])
    assert summary.flags == {"\\Seen"}
    assert summary.internaldate == when


# -- changing --------------------------------------------------------------------------


def test_flags_both_ways(dovecot: Dovecot, imap: ImapSession, folder: str) -> None:
    dovecot.seed(folder, messages(3))
    status = imap.select(folder)
    assert status.highestmodseq is not None
    uids = imap.all_uids()
    imap.set_flags(uids[:2], ["\\Seen", "$Label1"])
    imap.add_flags([uids[0]], ["\\Flagged"])
    imap.remove_flags([uids[1]], ["$Label1"])
    flags = {summary.uid: summary.flags for summary in imap.summaries(uids)}
    assert flags == {
        uids[0]: {"\\Seen", "$Label1", "\\Flagged"},
        uids[1]: {"\\Seen"},
        uids[2]: frozenset(),
    }
    mark = imap.select(folder).highestmodseq
    assert mark is not None
    with _connect(dovecot, tls="starttls") as other:
        other.select(folder)
        other.add_flags([uids[2]], ["\\Answered"])
    changes = imap.changes_since(mark)
    assert changes.flags == {uids[2]: {"\\Answered"}}
    assert changes.vanished == frozenset()
    assert imap.changes_since(imap.select(folder).highestmodseq or 0).flags == {}


def test_vanished_after_an_expunge_elsewhere(
    dovecot: Dovecot, imap: ImapSession, folder: str
) -> None:
    dovecot.seed(folder, messages(4))
    status = imap.select(folder)
    uids = imap.all_uids()
    assert status.highestmodseq is not None
    with _connect(dovecot) as other:
        other.select(folder)
        other.delete([uids[1], uids[2]])
        other.add_flags([uids[3]], ["\\Seen"])
    changes = imap.changes_since(status.highestmodseq)
    assert changes.vanished_known
    assert changes.vanished == {uids[1], uids[2]}
    assert changes.flags == {uids[3]: {"\\Seen"}}
    # A fresh session resynchronising with SELECT ... (QRESYNC ...) learns the same.
    with _connect(dovecot) as later:
        resynced, changes = later.resync(folder, status.uidvalidity, status.highestmodseq)
        assert resynced.uidvalidity == status.uidvalidity
        assert resynced.exists == 2
        assert changes.vanished == {uids[1], uids[2]}
        assert changes.flags == {uids[3]: {"\\Seen"}}
        assert later.all_uids() == [uids[0], uids[3]]  # selected: UID commands work
        # A stale UIDVALIDITY: the server ignores the parameters, the caller sees why.
        stale, nothing = later.resync(folder, status.uidvalidity - 1, status.highestmodseq)
        assert stale.uidvalidity != status.uidvalidity - 1
        assert nothing.vanished == frozenset()


def test_vanished_by_comparing_uids_without_qresync(
    dovecot: Dovecot, imap: ImapSession, folder: str
) -> None:
    imap._enabled = frozenset({"CONDSTORE"})  # as on a CONDSTORE-only server
    dovecot.seed(folder, messages(3))
    status = imap.select(folder)
    uids = imap.all_uids()
    with _connect(dovecot) as other:
        other.select(folder)
        other.delete([uids[0]])
    assert status.highestmodseq is not None
    assert not imap.changes_since(status.highestmodseq).vanished_known
    changes = imap.changes_since(status.highestmodseq, known_uids=uids)
    assert changes.vanished_known
    assert changes.vanished == {uids[0]}


def test_move_and_delete(dovecot: Dovecot, imap: ImapSession, folder: str) -> None:
    target = f"M{uuid.uuid4().hex[:10]}"
    imap.create_folder(target)
    dovecot.seed(folder, messages(3, subject="Move"))
    imap.select(folder)
    uids = imap.all_uids()
    subject = imap.summaries([uids[0]])[0].subject
    imap.move([uids[0]], target)
    imap.delete([uids[1]])
    assert imap.all_uids() == [uids[2]]
    imap.select(target)
    (moved,) = imap.summaries(imap.all_uids())
    assert moved.subject == subject
    imap.move([], folder)  # nothing to do
    imap.delete([])


def test_move_without_the_move_extension(
    dovecot: Dovecot, imap: ImapSession, folder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = f"C{uuid.uuid4().hex[:10]}"
    imap.create_folder(target)
    dovecot.seed(folder, messages(2))
    imap.select(folder)
    uids = imap.all_uids()
    caps = imap.capabilities - {"MOVE"}
    monkeypatch.setattr(ImapSession, "capabilities", property(lambda self: caps))
    imap.move([uids[0]], target)
    assert imap.all_uids() == [uids[1]]
    imap.select(target)
    assert len(imap.all_uids()) == 1


# -- waiting ---------------------------------------------------------------------------


def test_idle_wakes_on_an_append_from_another_session(
    dovecot: Dovecot, imap: ImapSession, folder: str
) -> None:
    imap.select(folder)
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            with _connect(dovecot) as other:
                other.append(folder, message(subject="New mail"))
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    timer = threading.Timer(0.3, deliver)
    started = time.monotonic()
    timer.start()
    try:
        assert imap.idle(timeout=10)
    finally:
        timer.join()
    assert not errors
    assert time.monotonic() - started < 5
    # Out of IDLE cleanly: ordinary commands work again.
    assert len(imap.all_uids()) == 1


def test_idle_returns_after_its_timeout(imap: ImapSession, folder: str) -> None:
    imap.select(folder)
    started = time.monotonic()
    assert imap.idle(timeout=0.5) is False
    assert 0.4 < time.monotonic() - started < 3
    assert imap.noop() is False
    assert imap.all_uids() == []
