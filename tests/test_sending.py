"""Sending through the outbox: to a real aiosmtpd that delivers into a real Dovecot."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from inbox_app.cli.main import main
from inbox_app.credentials.errors import CredentialsError
from inbox_app.credentials.keystore import NewIdentity
from inbox_app.credentials.secrets import MemorySecretStore
from inbox_app.mail.accounts import AccountStore, Server
from inbox_app.services.app import InboxServices
from tests.pki import NOW, StandardPKI, message
from tests.servers import NOBODY, Dovecot
from tests.smtp_server import SmtpServer


@pytest.fixture
def smtp(dovecot: Dovecot) -> Iterator[SmtpServer]:
    server = SmtpServer(dovecot.folder_path("INBOX")).start()
    try:
        yield server
    finally:
        server.stop()


def alice_services(home: Path, pki: StandardPKI) -> InboxServices:
    services = InboxServices(home, MemorySecretStore())
    services.keystore.install(
        [NewIdentity(pki.alice.identity, frozenset({"sign", "encrypt"}), "test")]
    )
    anchors = home / "anchors"
    anchors.mkdir(mode=0o700)
    (anchors / "root.pem").write_bytes(pki.root.pem())
    return services


def own_mail(dovecot: Dovecot) -> None:
    """aiosmtpd writes as root; Dovecot's mail processes run as nobody."""
    for directory, subdirectories, files in os.walk(dovecot.folder_path("INBOX")):
        for name in (*subdirectories, *files):
            os.chown(os.path.join(directory, name), NOBODY, NOBODY)


def test_send_signed_and_encrypted_to_yourself_then_sync_and_open(
    dovecot: Dovecot, smtp: SmtpServer, pki: StandardPKI, tmp_path: Path
) -> None:
    services = alice_services(tmp_path / "home", pki)
    services.accounts.add_server(
        "work", "alice@example.com",
        imap=f"{dovecot.host}:{dovecot.imaps_port}", smtp=f"{smtp.host}:{smtp.port}",
        username=dovecot.user, password=dovecot.password, tls="ssl", ca_file=str(dovecot.ca_file),
    )  # fmt: skip
    account = services.accounts.get("work")
    assert account.smtp is not None
    # The SMTP test server has its own CA and STARTTLS; the account uses it for sending.
    services.accounts.store.update(
        dataclasses.replace(
            account, smtp=Server(smtp.host, smtp.port, "starttls", str(smtp.ca_file))
        )
    )
    # Bob's certificate with its issuer, as a contact (Alice's own comes from the keystore).
    services.contacts.import_file(pki.bob.pem() + pki.intermediate.pem(), now=NOW)
    body = b"The launch code is 0000.\r\n"
    raw = message(sender="whoever@example.com", to="alice@example.com, bob@example.org",
                  subject="Launch", body=body)  # fmt: skip
    outcome = services.sender.send("work", raw, sign=True, encrypt=True, now=NOW)
    assert outcome.sent, outcome.detail
    assert services.mailbox.store.outbox("work") == []
    own_mail(dovecot)
    services.mailbox.sync("work")
    inbox = [m for m in services.mailbox.messages("work") if m.subject == "[...]"]
    assert inbox, "the encrypted message arrived with a protected Subject"
    report = services.mailbox.show("work", inbox[0].uid, now=NOW)
    assert report.encryption.value == "aead"
    assert report.signature.value == "valid"
    assert report.sender_match is True
    assert report.protected_headers is not None
    assert report.protected_headers["subject"] == "Launch"
    assert report.inner is not None
    assert body.strip() in report.inner
    # Nothing of the plaintext reached the search index.
    assert services.mailbox.search("work", "launch") == []


def test_encryption_required_without_a_certificate_is_refused(
    pki: StandardPKI, tmp_path: Path
) -> None:
    services = alice_services(tmp_path / "home", pki)
    services.accounts.add_local("local", "alice@example.com")
    raw = message(to="stranger@example.net")
    with pytest.raises(CredentialsError, match=r"stranger@example\.net"):
        services.sender.send("local", raw, encrypt=True, now=NOW)
    assert services.mailbox.store.outbox() == []


def test_unreachable_server_keeps_the_message_in_the_outbox(
    pki: StandardPKI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services = alice_services(tmp_path / "home", pki)
    services.accounts.add_server(
        "work", "alice@example.com", imap="127.0.0.1:1", smtp="127.0.0.1:1",
        username="alice", password="pw",
    )  # fmt: skip
    outcome = services.sender.send("work", message(), now=NOW)
    assert not outcome.sent
    (item,) = services.mailbox.store.outbox("work")
    assert item.state == "failed"
    assert "cannot connect" in (item.last_error or "")


def test_local_account_delivers_to_itself_and_keeps_a_sent_copy(
    pki: StandardPKI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    assert main(["--home", str(home), "account", "add", "local", "--email",
                 "alice@example.com", "--local"]) == 0  # fmt: skip
    mail = tmp_path / "mail.eml"
    mail.write_bytes(message(to="alice@example.com", subject="Note to self"))
    assert main(["--home", str(home), "send", "local", str(mail)]) == 0
    assert main(["--home", str(home), "sync", "local"]) == 0
    root = AccountStore(home).maildir("local")
    assert len(list((root / "new").iterdir())) == 1
    assert len(list((root / ".Sent" / "new").iterdir())) == 1
    capsys.readouterr()
    assert main(["--home", str(home), "messages", "local", "--json"]) == 0
    assert "Note to self" in capsys.readouterr().out


def server_account(
    services: InboxServices, dovecot: Dovecot, smtp: SmtpServer, name: str = "work"
) -> None:
    services.accounts.add_server(
        name, "alice@example.com",
        imap=f"{dovecot.host}:{dovecot.imaps_port}", smtp=f"{smtp.host}:{smtp.port}",
        username=dovecot.user, password=dovecot.password, tls="ssl", ca_file=str(dovecot.ca_file),
    )  # fmt: skip
    account = services.accounts.get(name)
    services.accounts.store.update(
        dataclasses.replace(
            account, smtp=Server(smtp.host, smtp.port, "starttls", str(smtp.ca_file))
        )
    )


def delivered(dovecot: Dovecot, message_id: str) -> int:
    root = dovecot.folder_path("INBOX")
    return sum(
        message_id.encode() in path.read_bytes()
        for sub in ("new", "cur")
        for path in (root / sub).iterdir()
    )


def test_a_send_cut_after_the_data_is_never_sent_twice(
    dovecot: Dovecot, smtp: SmtpServer, pki: StandardPKI, tmp_path: Path
) -> None:
    services = alice_services(tmp_path / "home", pki)
    server_account(services, dovecot, smtp)
    smtp.drop_after_data = True  # delivered, then the connection drops before the reply
    message_id = f"<cut-{os.getpid()}-{id(services)}@example.com>"
    raw = message(to="alice@example.com", extra_headers=f"Message-ID: {message_id}\r\n".encode())
    raw = raw.replace(b"Message-ID: <test-1@example.com>\r\n", b"")
    outcome = services.sender.send("work", raw, now=NOW)
    assert not outcome.sent
    (item,) = services.mailbox.store.outbox("work")
    assert item.maybe_delivered
    own_mail(dovecot)
    assert delivered(dovecot, message_id) == 1
    smtp.drop_after_data = False
    (retried,) = services.sender.retry("work")
    assert retried.sent
    assert "delivered" in retried.detail
    assert services.mailbox.store.outbox("work") == []
    assert delivered(dovecot, message_id) == 1  # found by Message-ID, not resent


def test_a_send_interrupted_by_a_crash_needs_force_when_not_found(
    dovecot: Dovecot, smtp: SmtpServer, pki: StandardPKI, tmp_path: Path
) -> None:
    services = alice_services(tmp_path / "home", pki)
    server_account(services, dovecot, smtp)
    store = services.mailbox.store
    raw = message(to="bob@example.org").replace(
        b"<test-1@example.com>", f"<crash-{os.getpid()}@example.com>".encode()
    )
    item_id = store.enqueue("work", f"<crash-{os.getpid()}@example.com>", raw)
    assert store.mark_sending(item_id)  # ... and the process died here
    (waiting,) = services.sender.retry("work")
    assert not waiting.sent
    assert "--force" in waiting.detail
    (forced,) = services.sender.retry("work", force=True)
    assert forced.sent
    assert store.outbox("work") == []


def test_a_draft_of_an_encrypted_message_reaches_the_server_encrypted_to_the_sender_only(
    dovecot: Dovecot, smtp: SmtpServer, pki: StandardPKI, tmp_path: Path
) -> None:
    from inbox_app.smime import decrypt_envelope, mime
    from inbox_app.smime.errors import NoMatchingKeyError
    from inbox_app.transport import ImapSession

    services = alice_services(tmp_path / "home", pki)
    server_account(services, dovecot, smtp)
    with ImapSession.connect(
        dovecot.host, dovecot.imaps_port, tls="ssl", ca_file=dovecot.ca_file,
        username=dovecot.user, password=dovecot.password,
    ) as imap:  # fmt: skip
        if "Drafts" not in {folder.name for folder in imap.folders()}:
            imap.create_folder("Drafts")
    secret = b"Unfinished thoughts about the merger.\r\n"
    draft = message(to="bob@example.org", subject="Merger", body=secret)
    draft_id = services.sender.save_draft("work", draft, encrypted=True, now=NOW)
    (local,) = services.mailbox.store.drafts("work")
    assert local.id == draft_id
    assert secret.strip() not in local.raw  # the local copy is encrypted as well
    with ImapSession.connect(
        dovecot.host, dovecot.imaps_port, tls="ssl", ca_file=dovecot.ca_file,
        username=dovecot.user, password=dovecot.password,
    ) as imap:  # fmt: skip
        imap.select("Drafts", readonly=True)
        stored = imap.raw(imap.all_uids()[-1])
    assert secret.strip() not in stored
    assert b"Merger" not in stored  # the Subject is protected too (RFC 9788)
    der = mime.parse_entity(stored).decoded_body()
    assert decrypt_envelope(der, [pki.alice.identity]).content
    with pytest.raises(NoMatchingKeyError):
        decrypt_envelope(der, [pki.bob.identity])


def test_a_missing_password_fails_the_item_instead_of_leaving_it_sending(
    pki: StandardPKI, tmp_path: Path
) -> None:
    services = alice_services(tmp_path / "home", pki)
    services.accounts.add_server(
        "work", "alice@example.com", imap="127.0.0.1:1", smtp="127.0.0.1:1",
        username="alice", password="pw",
    )  # fmt: skip
    services.secrets.values.clear()  # type: ignore[attr-defined]  (the keyring lost it)
    outcome = services.sender.send("work", message(), now=NOW)
    assert not outcome.sent
    assert "no password" in outcome.detail
    (item,) = services.mailbox.store.outbox("work")
    assert item.state == "failed"


def test_a_sent_message_is_never_resent_because_the_sent_copy_failed(
    smtp: SmtpServer, pki: StandardPKI, tmp_path: Path
) -> None:
    services = alice_services(tmp_path / "home", pki)
    services.accounts.add_server(
        "work", "alice@example.com", imap="127.0.0.1:1", smtp=f"{smtp.host}:{smtp.port}",
        username="test", password="secret", tls="starttls", ca_file=str(smtp.ca_file),
    )  # fmt: skip
    outcome = services.sender.send("work", message(), now=NOW)
    assert outcome.sent
    assert "not copied to Sent" in outcome.detail
    assert services.mailbox.store.outbox("work") == []


def test_a_draft_to_be_encrypted_is_kept_encrypted_or_not_at_all(
    pki: StandardPKI, tmp_path: Path
) -> None:
    services = alice_services(tmp_path / "home", pki)
    services.accounts.add_local("local", "alice@example.com")
    secret = b"zq-draft-9d1e secret plans\r\n"
    draft_id = services.sender.save_draft("local", message(body=secret), encrypted=True, now=NOW)
    (stored,) = services.mailbox.store.drafts("local")
    assert stored.id == draft_id
    assert secret.strip() not in stored.raw
    report = services.secure_mail.open(stored.raw, now=NOW)
    assert report.inner is not None
    assert secret.strip() in report.inner
    services.accounts.add_local("other", "nobody@example.com")
    assert (
        services.sender.prepare_draft("other", message(body=secret), encrypted=True, now=NOW)
        is None
    )
    with pytest.raises(
        CredentialsError, match=r"no encryption certificate for nobody@example\.com"
    ):
        services.sender.save_draft("other", message(body=secret), encrypted=True, now=NOW)
    assert services.mailbox.store.drafts("other") == []
    clear = services.sender.prepare_draft("other", message(body=secret), now=NOW)
    assert clear is not None
    assert secret in clear  # a draft of a message sent in the clear stays as it is


def test_the_outbox_holds_an_encrypted_message_encrypted(pki: StandardPKI, tmp_path: Path) -> None:
    services = alice_services(tmp_path / "home", pki)
    services.accounts.add_server(
        "work", "alice@example.com", imap="127.0.0.1:1", smtp="127.0.0.1:1",
        username="alice", password="pw",
    )  # fmt: skip
    secret = b"zq-outbox-4b2c the launch code\r\n"
    raw = message(to="alice@example.com", body=secret)
    outcome = services.sender.send("work", raw, encrypt=True, now=NOW)
    assert not outcome.sent  # nothing listens: it waits in the outbox
    (item,) = services.mailbox.store.outbox("work")
    assert secret.strip() not in item.raw
    home = tmp_path / "home"
    on_disk = b"".join(p.read_bytes() for p in home.glob("store.sqlite3*"))
    assert secret.strip() not in on_disk
    report = services.secure_mail.open(item.raw, now=NOW)
    assert report.inner is not None
    assert secret.strip() in report.inner
