"""The demo home: every message opens with the security state it is there to show."""

from __future__ import annotations

import email
import email.policy
import socket
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from inbox_app.credentials.keystore import CURRENT, HISTORIC
from inbox_app.credentials.secrets import MemorySecretStore
from inbox_app.fileio import StorageError
from inbox_app.services.app import InboxServices
from inbox_app.services.demo import DemoHome, build_demo
from inbox_app.services.demo_messages import LOGO_CID, REMOTE_IMAGE
from inbox_app.smime import EncryptionStatus, SignatureStatus, load_identity
from inbox_app.smime.certificates import email_addresses, fingerprint

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo needs no server and no network: any socket is a failure."""

    def refuse(*args: Any, **kwargs: Any) -> socket.socket:
        raise AssertionError("the demo tried to use the network")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoHome, InboxServices]]:
    secrets = MemorySecretStore()
    home = tmp_path_factory.mktemp("demo") / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "socket", None)  # no network while building, either
        demo = build_demo(home, secrets, now=NOW)
    services = InboxServices(home, secrets)
    yield demo, services
    services.mailbox.store.close()


def _message(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_the_home_is_private_and_holds_one_local_account(
    built: tuple[DemoHome, InboxServices],
) -> None:
    demo, services = built
    assert stat.S_IMODE(demo.home.stat().st_mode) == 0o700
    [account] = services.accounts.accounts()
    assert (account.name, account.email, account.local) == ("Demo", demo.address, True)
    assert account.sign_by_default
    folders = {folder.name for folder in services.mailbox.store.folders("Demo")}
    assert {"INBOX", "Sent", "Drafts", "Trash"} <= folders


def test_the_inbox_holds_the_eight_messages_newest_first(
    built: tuple[DemoHome, InboxServices],
) -> None:
    demo, services = built
    summaries = services.mailbox.messages("Demo")
    assert len(summaries) == 8 == len(demo.uids)
    assert summaries[0].uid == demo.uids["signed"]
    assert summaries[-1].uid == demo.uids["historic"]
    dates = [summary.date for summary in summaries]
    assert all(date is not None and date <= NOW for date in dates)
    assert dates == sorted(dates, reverse=True)  # type: ignore[type-var]
    security = {summary.uid: summary.security for summary in summaries}
    assert security[demo.uids["signed"]] == "signed"
    assert security[demo.uids["encrypted"]] == "encrypted"
    assert security[demo.uids["note"]] == "none"
    unread = {summary.uid for summary in summaries if "\\Seen" not in summary.flags}
    assert demo.uids["signed"] in unread
    assert demo.uids["historic"] not in unread


def test_the_keystore_has_a_current_and_a_historic_identity(
    built: tuple[DemoHome, InboxServices],
) -> None:
    demo, services = built
    states = {entry.sha256: entry for entry in services.keystore.identities()}
    current = states[demo.identity_sha256]
    assert current.state == CURRENT
    assert current.uses == frozenset({"sign", "encrypt"})
    assert states[demo.historic_sha256].state == HISTORIC
    assert services.keystore.current(demo.address, "encrypt") == current


def test_alice_is_a_contact_we_can_encrypt_to(built: tuple[DemoHome, InboxServices]) -> None:
    demo, services = built
    cert, _ = services.secure_mail.recipient_certificate(demo.correspondent, now=NOW)
    assert fingerprint(cert) == demo.correspondent_sha256


def test_the_signed_message_is_valid(built: tuple[DemoHome, InboxServices]) -> None:
    demo, services = built
    report = services.mailbox.show("Demo", demo.uids["signed"], now=NOW)
    assert report.signature is SignatureStatus.VALID
    assert report.sender_match is True
    assert report.encryption is EncryptionStatus.NONE
    assert report.signers[0].addresses == (demo.correspondent,)
    assert report.warnings == []
    assert report.ok


def test_the_tampered_message_is_invalid(built: tuple[DemoHome, InboxServices]) -> None:
    demo, services = built
    report = services.mailbox.show("Demo", demo.uids["tampered"], now=NOW)
    assert report.signature is SignatureStatus.INVALID
    assert not report.ok
    assert report.signed_layers[0].reason


def test_the_encrypted_message_is_authenticated_and_signed(
    built: tuple[DemoHome, InboxServices],
) -> None:
    demo, services = built
    summary = services.mailbox.store.summary("Demo", "INBOX", demo.uids["encrypted"])
    assert summary is not None
    assert summary.subject == "[...]"
    report = services.mailbox.show("Demo", demo.uids["encrypted"], now=NOW)
    assert report.encryption is EncryptionStatus.AEAD
    assert report.signature is SignatureStatus.VALID
    assert report.sender_match is True
    assert report.historic_key is False
    assert report.protected_headers is not None
    assert report.protected_headers["subject"] == "The launch plan (confidential)"
    assert report.inner is not None
    assert b"launch moves to the 14th" in report.inner


def test_the_old_message_needs_the_historic_key(built: tuple[DemoHome, InboxServices]) -> None:
    demo, services = built
    report = services.mailbox.show("Demo", demo.uids["historic"], now=NOW)
    assert report.historic_key is True
    assert report.encryption is EncryptionStatus.AEAD
    assert report.signature is SignatureStatus.VALID
    assert report.decrypted_with is not None
    assert report.inner is not None
    assert b"Q4  47,300 EUR" in report.inner


def test_the_p12_attachment_opens_with_the_stated_password(
    built: tuple[DemoHome, InboxServices],
) -> None:
    demo, services = built
    report = services.mailbox.show("Demo", demo.uids["p12"], now=NOW)
    assert report.signature is SignatureStatus.UNSIGNED
    assert report.inner is not None
    message = _message(report.inner)
    assert f'"{demo.p12_password}"' in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "you-demo.p12"
    assert attachment.get_content_type() == "application/x-pkcs12"
    identity = load_identity(attachment.get_content(), demo.p12_password.encode())
    assert email_addresses(identity.certificate) == (demo.address,)


def test_the_p12_attachment_installs_into_the_keystore(tmp_path: Path) -> None:
    secrets = MemorySecretStore()
    demo = build_demo(tmp_path / "home", secrets, now=NOW)
    services = InboxServices(demo.home, secrets)
    report = services.mailbox.show("Demo", demo.uids["p12"], now=NOW)
    assert report.inner is not None
    [attachment] = list(_message(report.inner).iter_attachments())
    stored = services.keystore.import_p12(attachment.get_content(), demo.p12_password.encode())
    assert stored.state == CURRENT
    # The demo's identity gives way; mail encrypted to it stays readable.
    states = {entry.sha256: entry.state for entry in services.keystore.identities()}
    assert states[demo.identity_sha256] == HISTORIC
    encrypted = services.mailbox.show("Demo", demo.uids["encrypted"], now=NOW)
    assert encrypted.encryption is EncryptionStatus.AEAD
    assert encrypted.historic_key is True
    services.mailbox.store.close()


def test_the_profile_is_signed_by_a_trusted_signer_and_installs(tmp_path: Path) -> None:
    secrets = MemorySecretStore()
    demo = build_demo(tmp_path / "home", secrets, now=NOW)
    services = InboxServices(demo.home, secrets)
    report = services.mailbox.show("Demo", demo.uids["profile"], now=NOW)
    assert report.inner is not None
    [attachment] = list(_message(report.inner).iter_attachments())
    assert attachment.get_filename() == "inbox-demo.mobileconfig"
    data = attachment.get_content()
    profile = services.profiles.read(data, now=NOW)  # signed: no --allow-unsigned needed
    assert profile.identifier == demo.profile_identifier
    assert profile.signed_by is not None
    assert "mdm.demo.inbox.example" in profile.signed_by
    assert len(profile.identities) == 1
    assert len(profile.anchors) == 1
    result = services.profiles.install(profile)
    assert result.changed
    assert services.profiles.get(demo.profile_identifier) is not None
    services.mailbox.store.close()


def test_the_newsletter_has_a_remote_and_an_inline_image(
    built: tuple[DemoHome, InboxServices],
) -> None:
    demo, services = built
    report = services.mailbox.show("Demo", demo.uids["newsletter"], now=NOW)
    assert report.signature is SignatureStatus.UNSIGNED
    assert report.inner is not None
    message = _message(report.inner)
    html = message.get_body(("html",))
    assert html is not None
    text = html.get_content()
    assert REMOTE_IMAGE in text
    assert f"cid:{LOGO_CID}" in text
    images = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert len(images) == 1
    assert images[0]["Content-ID"] == f"<{LOGO_CID}>"
    assert images[0].get_content().startswith(b"\x89PNG\r\n\x1a\n")


def test_the_note_is_plain_and_unsigned(built: tuple[DemoHome, InboxServices]) -> None:
    demo, services = built
    report = services.mailbox.show("Demo", demo.uids["note"], now=NOW)
    assert report.signature is SignatureStatus.UNSIGNED
    assert report.encryption is EncryptionStatus.NONE
    assert report.ok


def test_the_demo_is_searchable(built: tuple[DemoHome, InboxServices]) -> None:
    demo, services = built
    found = services.mailbox.search("Demo", "parking")
    assert [summary.uid for summary in found] == [demo.uids["note"]]
    # Encrypted mail is indexed by its outer fields only.
    assert services.mailbox.search("Demo", "launch") == []


def test_sending_to_yourself_lands_in_the_inbox_signed(tmp_path: Path) -> None:
    secrets = MemorySecretStore()
    demo = build_demo(tmp_path / "home", secrets, now=NOW)
    services = InboxServices(demo.home, secrets)
    raw = (
        f"To: {demo.address}\r\nSubject: Note to self\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\nBuy milk.\r\n"
    ).encode()
    outcome = services.sender.send("Demo", raw, now=NOW)
    assert outcome.sent, outcome.detail
    result = services.mailbox.sync("Demo")
    assert result.new == 2  # INBOX, and the copy in Sent
    [new] = [s for s in services.mailbox.messages("Demo") if s.uid not in demo.uids.values()]
    assert new.subject == "Note to self"
    report = services.mailbox.show("Demo", new.uid, now=NOW)
    assert report.signature is SignatureStatus.VALID  # sign_by_default
    assert report.sender_match is True
    [sent] = services.mailbox.messages("Demo", "Sent")
    assert sent.subject == "Note to self"
    services.mailbox.store.close()


def test_replying_to_alice_is_encrypted_to_her_and_readable_in_sent(tmp_path: Path) -> None:
    secrets = MemorySecretStore()
    demo = build_demo(tmp_path / "home", secrets, now=NOW)
    services = InboxServices(demo.home, secrets)
    raw = (
        f"To: Alice <{demo.correspondent}>\r\nSubject: Re: The launch plan\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\nThe 14th works for me.\r\n"
    ).encode()
    outcome = services.sender.send("Demo", raw, encrypt=True, now=NOW)
    assert outcome.sent, outcome.detail
    services.mailbox.sync("Demo")
    assert len(services.mailbox.messages("Demo")) == 8  # not for us: nothing new in INBOX
    [sent] = services.mailbox.messages("Demo", "Sent")
    assert sent.security == "encrypted"
    report = services.mailbox.show("Demo", sent.uid, folder="Sent", now=NOW)
    assert report.encryption is EncryptionStatus.AEAD
    assert report.signature is SignatureStatus.VALID
    assert report.inner is not None
    assert b"The 14th works for me." in report.inner
    services.mailbox.store.close()


def test_two_demos_are_independent(tmp_path: Path) -> None:
    first_secrets, second_secrets = MemorySecretStore(), MemorySecretStore()
    first = build_demo(tmp_path / "one", first_secrets, now=NOW)
    second = build_demo(tmp_path / "two", second_secrets, now=NOW)
    assert first.identity_sha256 != second.identity_sha256
    assert first.uids == second.uids
    # One demo's keys cannot open the other's mail.
    services = InboxServices(second.home, second_secrets)
    first_services = InboxServices(first.home, first_secrets)
    first_raw = first_services.mailbox.store.raw("Demo", "INBOX", first.uids["encrypted"])
    assert first_raw is not None
    report = services.secure_mail.open(first_raw, now=NOW)
    assert report.encryption is EncryptionStatus.FAILED
    first_services.mailbox.store.close()


def test_the_demo_needs_a_fresh_home(tmp_path: Path) -> None:
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "accounts.json").write_text("{}")
    with pytest.raises(StorageError, match="not an empty directory"):
        build_demo(tmp_path / "home", MemorySecretStore(), now=NOW)


def test_the_demo_is_valid_a_year_later_too(tmp_path: Path) -> None:
    later = NOW + timedelta(days=365)
    secrets = MemorySecretStore()
    demo = build_demo(tmp_path / "home", secrets, now=later)
    services = InboxServices(demo.home, secrets)
    report = services.mailbox.show("Demo", demo.uids["signed"], now=later)
    assert report.signature is SignatureStatus.VALID
    services.mailbox.store.close()


def test_building_the_demo_is_fast(tmp_path: Path) -> None:
    # Generous bound (shared CI machines); the target is well under a second.
    start = time.perf_counter()
    build_demo(tmp_path / "home", MemorySecretStore(), now=NOW)
    assert time.perf_counter() - start < 5.0
