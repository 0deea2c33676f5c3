"""A local (Maildir) account read through the store: sync, list, show, search."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inbox_app.cli.main import main
from inbox_app.credentials.secrets import MemorySecretStore
from inbox_app.mail.accounts import AccountStore
from inbox_app.mail.maildir import MaildirFolder
from inbox_app.mail.summary import root_security, summarize
from inbox_app.services.app import InboxServices
from inbox_app.smime import encrypt_message, sign_message
from tests.pki import NOW, StandardPKI, message


@pytest.fixture
def services(tmp_path: Path) -> InboxServices:
    services = InboxServices(tmp_path / "home", MemorySecretStore())
    services.accounts.add_local("local", "alice@example.com")
    return services


def deliver(services: InboxServices, raw: bytes, folder: str = "INBOX") -> Path:
    root = AccountStore(services.home).maildir("local")
    return MaildirFolder(root if folder == "INBOX" else root / f".{folder}").deliver(raw)


def test_sync_lists_security_and_never_indexes_encrypted_text(
    services: InboxServices, pki: StandardPKI
) -> None:
    deliver(services, message(body=b"plain apple\r\n", subject="Plain"))
    deliver(services, sign_message(message(body=b"signed banana\r\n", subject="Signed"),
                                   pki.alice.identity, now=NOW))  # fmt: skip
    deliver(services, encrypt_message(message(body=b"secret kiwi\r\n", subject="Secret"),
                                      [pki.alice.cert], now=NOW))  # fmt: skip
    result = services.mailbox.sync("local")
    assert (result.new, result.removed) == (3, 0)
    listed = services.mailbox.messages("local")
    assert [(m.uid, m.security, m.subject) for m in listed] == [
        (3, "encrypted", "[...]"),  # header protection: the real Subject stays inside
        (2, "signed", "Signed"),
        (1, "none", "Plain"),
    ]
    assert [m.uid for m in services.mailbox.search("local", "banana")] == [2]
    assert services.mailbox.search("local", "kiwi") == []
    assert services.mailbox.search("local", "Secret") == []
    # Re-syncing changes nothing; a deleted file disappears from the store.
    assert services.mailbox.sync("local").new == 0


def test_removed_and_flagged_files_follow_the_maildir(services: InboxServices) -> None:
    first = deliver(services, message(subject="One"))
    deliver(services, message(subject="Two"))
    services.mailbox.sync("local")
    cur = first.parent.parent / "cur" / (first.name + ":2,FS")
    first.rename(cur)
    assert services.mailbox.sync("local").removed == 0
    flags = {m.subject: m.flags for m in services.mailbox.messages("local")}
    assert flags["One"] == ("\\Flagged", "\\Seen")
    cur.unlink()
    assert services.mailbox.sync("local").removed == 1
    assert [m.subject for m in services.mailbox.messages("local")] == ["Two"]


def test_show_opens_the_stored_bytes(services: InboxServices, pki: StandardPKI) -> None:
    anchors = services.home / "anchors"
    anchors.mkdir(mode=0o700)
    (anchors / "root.pem").write_bytes(pki.root.pem())
    deliver(services, sign_message(message(sender="alice@example.com"), pki.alice.identity,
                                   now=NOW))  # fmt: skip
    services.mailbox.sync("local")
    report = services.mailbox.show("local", 1, now=NOW)
    assert report.ok
    assert report.signature.value == "valid"


def test_cli_contract(tmp_path: Path, pki: StandardPKI, capsys: pytest.CaptureFixture[str]) -> None:
    home = str(tmp_path / "home")
    assert main(["--home", home, "account", "add", "local", "--email", "me@localhost",
                 "--local"]) == 0  # fmt: skip
    MaildirFolder(Path(home) / "local" / "local").deliver(message(subject="Hello"))
    assert main(["--home", home, "sync", "local"]) == 0
    capsys.readouterr()
    assert main(["--home", home, "messages", "local", "--json"]) == 0
    (item,) = json.loads(capsys.readouterr().out)
    assert set(item) == {"uid", "folder", "from", "subject", "date", "flags", "security"}
    assert item["subject"] == "Hello"
    assert main(["--home", home, "show", "local", "1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["signature"] == "unsigned"
    assert shown["headers"]["subject"] == "Hello"
    assert main(["--home", home, "search", "local", "hello", "--json"]) == 0
    assert [hit["uid"] for hit in json.loads(capsys.readouterr().out)] == [1]
    assert main(["--home", home, "show", "local", "99"]) == 2
    assert "no message with UID 99" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content_type", "smime_type", "expected"),
    [
        ("multipart/signed", None, "signed"),
        ("application/pkcs7-mime", "signed-data", "signed"),
        ("application/pkcs7-mime", "enveloped-data", "encrypted"),
        ("application/pkcs7-mime", "authEnveloped-data", "encrypted"),
        ("multipart/mixed", None, "none"),
    ],
)
def test_root_security(content_type: str, smime_type: str | None, expected: str) -> None:
    assert root_security(content_type, smime_type) == expected


def test_summary_survives_garbage_headers() -> None:
    summary = summarize(b"From: =?x-unknown?q?bad?= \r\nDate: not a date\r\n\r\nbody")
    assert summary.date is None
    assert summary.security == "none"
