"""A local (Maildir) account read through the store: sync, list, show, search."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from inbox_app.cli.main import main
from inbox_app.credentials.secrets import MemorySecretStore
from inbox_app.mail.accounts import AccountStore
from inbox_app.mail.errors import AccountError
from inbox_app.mail.maildir import MaildirFolder
from inbox_app.mail.summary import root_security, summarize
from inbox_app.services.app import InboxServices
from inbox_app.services.mailbox import FolderView
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


# ---------------------------------------------------------------- flags, moves, deletes


def files(services: InboxServices, folder: str = "INBOX") -> list[str]:
    """The message files of a local folder as ``sub/name``, sorted."""
    root = AccountStore(services.home).maildir("local")
    base = root if folder == "INBOX" else root / f".{folder}"
    return sorted(
        f"{p.parent.name}/{p.name}" for sub in ("new", "cur") for p in (base / sub).iterdir()
    )


def unchanged_by_sync(services: InboxServices) -> None:
    """The store already matches the Maildir: a sync finds nothing to do."""
    before = {f: services.mailbox.messages("local", f) for f in ("INBOX", "Sent", "Trash")}
    result = services.mailbox.sync("local")
    assert (result.new, result.removed) == (0, 0)
    assert {f: services.mailbox.messages("local", f) for f in before} == before


def test_flags_go_into_the_file_names_and_the_store(services: InboxServices) -> None:
    first = deliver(services, message(subject="One"))
    deliver(services, message(subject="Two"))
    services.mailbox.sync("local")
    services.mailbox.change_flags("local", "INBOX", [1], add=("\\Seen", "\\Flagged"))
    # Out of new/ into cur/, letters in ASCII order (the Maildir specification).
    assert f"cur/{first.name}:2,FS" in files(services)
    assert services.mailbox.store.summary("local", "INBOX", 1).flags == ("\\Flagged", "\\Seen")  # type: ignore[union-attr]
    unchanged_by_sync(services)
    services.mailbox.change_flags(
        "local", "INBOX", [1, 2], add=("\\answered", "$Forwarded", "\\Draft"), remove=("\\Seen",)
    )
    assert f"cur/{first.name}:2,DFPR" in files(services)
    flags = {m.uid: m.flags for m in services.mailbox.messages("local")}
    assert flags == {
        1: ("$Forwarded", "\\Answered", "\\Draft", "\\Flagged"),
        2: ("$Forwarded", "\\Answered", "\\Draft"),
    }
    unchanged_by_sync(services)
    services.mailbox.change_flags("local", "INBOX", [2], add=("\\Deleted",), remove=("\\Draft",))
    assert services.mailbox.store.summary("local", "INBOX", 2).flags == (  # type: ignore[union-attr]
        "$Forwarded", "\\Answered", "\\Deleted",
    )  # fmt: skip
    unchanged_by_sync(services)


def test_other_programs_letters_are_kept_and_unknown_flags_refused(
    services: InboxServices,
) -> None:
    path = deliver(services, message(subject="Keyworded"))
    cur = path.parent.parent / "cur" / f"{path.name}:2,Sa"  # "a": a Dovecot keyword letter
    path.rename(cur)
    services.mailbox.sync("local")
    services.mailbox.change_flags("local", "INBOX", [1], add=("\\Flagged",))
    assert files(services) == [f"cur/{path.name}:2,FSa"]
    with pytest.raises(AccountError, match="cannot keep the flag"):
        services.mailbox.change_flags("local", "INBOX", [1], add=("$Junk",))
    assert files(services) == [f"cur/{path.name}:2,FSa"]
    # A UID that is gone is skipped, not an error.
    services.mailbox.change_flags("local", "INBOX", [99], add=("\\Seen",))
    with pytest.raises(AccountError, match="no folder 'Nowhere'"):
        services.mailbox.change_flags("local", "Nowhere", [1], add=("\\Seen",))


def test_move_between_local_folders(services: InboxServices) -> None:
    deliver(services, message(body=b"quince jam\r\n", subject="Keep"))
    deliver(services, message(body=b"moved plum\r\n", subject="Move me"))
    deliver(services, message(subject="Already there"), folder="Sent")
    services.mailbox.sync("local")
    services.mailbox.change_flags("local", "INBOX", [2], add=("\\Seen",))
    services.mailbox.move("local", "INBOX", [2], "Sent")
    assert [m.subject for m in services.mailbox.messages("local")] == ["Keep"]
    sent = {m.subject: m for m in services.mailbox.messages("local", "Sent")}
    assert set(sent) == {"Move me", "Already there"}
    moved = sent["Move me"]
    assert moved.uid == 2  # the next UID of Sent
    assert moved.flags == ("\\Seen",)
    assert [(m.folder, m.uid) for m in services.mailbox.search("local", "plum")] == [("Sent", 2)]
    assert services.mailbox.store.raw("local", "Sent", 2) is not None
    assert len(files(services)) == 1
    unchanged_by_sync(services)
    # Moving back gives a new UID (UIDs never go back), nothing is duplicated.
    services.mailbox.move("local", "Sent", [2], "INBOX")
    assert sorted((m.uid, m.subject) for m in services.mailbox.messages("local")) == [
        (1, "Keep"), (3, "Move me"),
    ]  # fmt: skip
    unchanged_by_sync(services)
    with pytest.raises(AccountError, match="no folder"):
        services.mailbox.move("local", "INBOX", [1], "Nowhere")
    services.mailbox.move("local", "INBOX", [1], "INBOX")  # to itself: nothing happens
    assert len(services.mailbox.messages("local")) == 2


def test_delete_goes_to_trash_then_for_good(services: InboxServices) -> None:
    deliver(services, message(body=b"gone fig\r\n", subject="Delete me"))
    deliver(services, message(subject="Stay"))
    services.mailbox.sync("local")
    services.mailbox.delete("local", "INBOX", [1])
    assert [m.subject for m in services.mailbox.messages("local")] == ["Stay"]
    (trashed,) = services.mailbox.messages("local", "Trash")
    assert trashed.subject == "Delete me"
    assert len(files(services, "Trash")) == 1
    unchanged_by_sync(services)
    services.mailbox.delete("local", "Trash", [trashed.uid])
    assert services.mailbox.messages("local", "Trash") == []
    assert files(services, "Trash") == []
    assert services.mailbox.search("local", "fig") == []
    unchanged_by_sync(services)


def test_without_a_trash_folder_delete_is_for_good(services: InboxServices) -> None:
    import shutil

    shutil.rmtree(AccountStore(services.home).maildir("local") / ".Trash")
    deliver(services, message(subject="Delete me"))
    services.mailbox.sync("local")
    services.mailbox.delete("local", "INBOX", [1])
    assert services.mailbox.messages("local") == []
    assert files(services) == []


# ---------------------------------------------------------------- what the GUI reads


def test_folders_count_total_and_unread(services: InboxServices) -> None:
    for n in range(5):
        deliver(services, message(subject=f"M{n}"))
    deliver(services, message(subject="Sent one"), folder="Sent")
    services.mailbox.sync("local")
    services.mailbox.change_flags("local", "INBOX", [1, 2], add=("\\Seen",))
    services.mailbox.change_flags("local", "Sent", [1], add=("\\Seen",))
    views = {view.name: view for view in services.mailbox.folders("local")}
    assert views["INBOX"] == FolderView("local", "INBOX", "inbox", 5, 3)
    assert views["Sent"] == FolderView("local", "Sent", "sent", 1, 0)
    assert views["Trash"] == FolderView("local", "Trash", "trash", 0, 0)
    assert views["Drafts"].role == "drafts"
    with pytest.raises(dataclasses.FrozenInstanceError):
        views["INBOX"].unread = 0  # type: ignore[misc]
    with pytest.raises(AccountError):
        services.mailbox.folders("nobody")


def test_page_is_keyset_paging(services: InboxServices) -> None:
    for n in range(7):
        deliver(services, message(subject=f"M{n}"))
    services.mailbox.sync("local")
    seen: list = []
    while page := services.mailbox.page(
        "local", "INBOX", limit=3, after=seen[-1] if seen else None
    ):
        seen.extend(page)
    assert seen == services.mailbox.messages("local")
    assert len(seen) == 7
    assert services.mailbox.page("local", "Nowhere", limit=3) == []
    by_subject = services.mailbox.page(
        "local", "INBOX", limit=10, order="subject", descending=False
    )
    assert [m.subject for m in by_subject] == [f"M{n}" for n in range(7)]


def test_a_failed_signature_takes_the_body_out_of_the_search_index(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from inbox_app.credentials.secrets import MemorySecretStore
    from inbox_app.services.demo import build_demo
    from inbox_app.services.sessions import scratch_session

    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    home = tmp_path / "demo"
    home.mkdir(mode=0o700)
    services = scratch_session(home)
    demo = build_demo(home, services.secrets, now=now)
    assert isinstance(services.secrets, MemorySecretStore)
    mailbox = services.mailbox
    tampered = demo.uids["tampered"]
    # Its body is searchable on arrival (plain text, as any unencrypted mail)...
    assert tampered in {m.uid for m in mailbox.search(demo.account, "IBAN")}
    report = mailbox.show(demo.account, tampered, now=now)
    assert report.signature.value == "invalid"
    # ...and no longer once verifying it failed; its headers still are.
    assert tampered not in {m.uid for m in mailbox.search(demo.account, "IBAN")}
    subject = mailbox.store.summary(demo.account, "INBOX", tampered).subject
    assert tampered in {m.uid for m in mailbox.search(demo.account, subject.split()[0])}
