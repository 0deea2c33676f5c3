"""Composing: the message built, replies, recipients' certificates, policy, send and drafts."""

from __future__ import annotations

import dataclasses
import email.utils
from datetime import timedelta
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

from inbox_app.credentials.keystore import NewIdentity
from inbox_app.credentials.secrets import MemorySecretStore
from inbox_app.errors import InboxError
from inbox_app.fileio import StorageError
from inbox_app.services.app import InboxServices
from inbox_app.services.compose import (
    MEMORY_ONLY,
    UNREADABLE,
    AttachedFile,
    ComposeError,
    Composition,
    DraftInfo,
    RecipientState,
    SecurityPolicy,
    attachment_from_file,
    blocking_reason,
    build_message,
    composition_from_draft,
    drafts,
    forward_of,
    html_to_text,
    is_valid_address,
    policy,
    recipient_states,
    recipient_statuses,
    reply_to,
    save_draft,
    send,
    split_addresses,
)
from inbox_app.services.reading import Attachment, AttachmentKind, MessageHeaders, OpenedMessage
from inbox_app.smime import Report
from inbox_app.smime import sign_message as smime_sign
from inbox_app.smime.report import EncryptionStatus, SignatureStatus
from inbox_app.store.mailstore import STORE_FILE
from tests.pki import NOW, StandardPKI, make_leaf, message

DAY = timedelta(days=1)
ALICE = "alice@example.com"
BOB = "bob@example.org"


def parse(raw: bytes) -> EmailMessage:
    parsed = BytesParser(policy=email_policy.default).parsebytes(raw)
    assert isinstance(parsed, EmailMessage)
    return parsed


@pytest.fixture
def services(tmp_path: Path, pki: StandardPKI) -> InboxServices:
    """Alice's home: her identity, the test root as anchor, Bob as a contact, a local account."""
    home = tmp_path / "home"
    services = InboxServices(home, MemorySecretStore())
    services.keystore.install(
        [NewIdentity(pki.alice.identity, frozenset({"sign", "encrypt"}), "test")]
    )
    anchors = home / "anchors"
    anchors.mkdir(mode=0o700)
    (anchors / "root.pem").write_bytes(pki.root.pem())
    services.contacts.import_file(pki.bob.pem() + pki.intermediate.pem(), now=NOW)
    services.accounts.add_local("local", ALICE)
    return services


def set_account(services: InboxServices, **changes: Any) -> None:
    account = services.accounts.get("local")
    services.accounts.store.update(dataclasses.replace(account, **changes))


# -- the message -------------------------------------------------------------------------


def test_build_message_plain_text_with_every_header() -> None:
    c = Composition(
        "local", to=("Bob <bob@example.org>",), cc=("carol@example.net",),
        bcc=("dave@example.com",), subject="Grüße", body="Hello Bob,\nsee you.\n",
    )  # fmt: skip
    raw = build_message(c, from_address=ALICE, now=NOW)
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF throughout
    assert max(raw) < 128  # 7-bit clean: safe to sign
    parsed = parse(raw)
    assert parsed["From"] == ALICE
    assert parsed["To"] == "Bob <bob@example.org>"
    assert parsed["Cc"] == "carol@example.net"
    assert parsed["Bcc"] == "dave@example.com"  # for the envelope; stripped before it leaves
    assert parsed["Subject"] == "Grüße"
    assert parsed["Date"].datetime == NOW
    assert parsed["Message-ID"].startswith("<")
    assert parsed["Message-ID"].endswith("@example.com>")
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content().replace("\r\n", "\n") == "Hello Bob,\nsee you.\n"


def test_build_message_with_attachments_is_multipart_mixed() -> None:
    c = Composition(
        "local", to=(BOB,), subject="Files", body="Two files.",
        attachments=(
            AttachedFile("notes.txt", "text/plain", b"plain notes"),
            attachment_from_file("/tmp/x/report.pdf", b"%PDF-1.7 \x00\xff"),
        ),
    )  # fmt: skip
    parsed = parse(build_message(c, from_address=ALICE, now=NOW))
    assert parsed.get_content_type() == "multipart/mixed"
    body, first, second = parsed.iter_parts()
    assert body.get_content_type() == "text/plain"
    assert body.get_content().strip() == "Two files."
    assert first.get_filename() == "notes.txt"
    assert first.get_content().rstrip("\r\n") == "plain notes"
    assert second.get_filename() == "report.pdf"
    assert second.get_content_type() == "application/pdf"
    assert second.get_content() == b"%PDF-1.7 \x00\xff"


def test_build_message_reply_headers() -> None:
    c = Composition(
        "local", to=(BOB,), in_reply_to="<orig@example.org>", references=("<first@example.org>",)
    )
    parsed = parse(build_message(c, from_address=ALICE, now=NOW))
    assert parsed["In-Reply-To"] == "<orig@example.org>"
    assert parsed["References"] == "<first@example.org> <orig@example.org>"


def test_build_message_refuses_header_injection() -> None:
    c = Composition("local", to=("bob@example.org\r\nBcc: eve@example.net",), subject="x\nBcc: e")
    parsed = parse(build_message(c, from_address=ALICE, now=NOW))
    assert parsed["Bcc"] is None
    assert "\n" not in parsed["Subject"]


def test_split_addresses_keeps_quoted_commas() -> None:
    assert split_addresses('"Doe, John" <john@example.com>, bob@example.org; ,') == (
        '"Doe, John" <john@example.com>',
        "bob@example.org",
    )


def test_attachment_names_lose_their_directories() -> None:
    assert attachment_from_file("C:\\Users\\x\\a.txt", b"").filename == "a.txt"
    assert attachment_from_file("../../etc/passwd", b"").filename == "passwd"
    # The same rules as received attachments' names (services.attachments.safe_filename).
    name = attachment_from_file("/tmp/.hidden\u202egpj.exe", b"").filename
    assert "\u202e" not in name
    assert not name.startswith(".")


HOSTILE_CC = ".:ca@\\=?"  # the email package raises AttributeError on it


def test_an_invalid_recipient_is_left_out_of_the_message() -> None:
    c = Composition(
        "local", to=("Bob <bob@example.org>", "bob"), cc=(HOSTILE_CC, "<", "x\\y@example.com"),
        bcc=("é@example.com", "dave@example.com\nBcc: eve@example.net"),
    )  # fmt: skip
    parsed = parse(build_message(c, from_address=ALICE, now=NOW))
    assert parsed["To"] == "Bob <bob@example.org>"
    assert parsed["Cc"] is None
    assert parsed["Bcc"] == "dave@example.com"  # what follows the address is not a field


def test_a_header_the_email_package_refuses_is_a_compose_error() -> None:
    with pytest.raises(ComposeError, match=r"^a header cannot be written: ") as caught:
        build_message(Composition("local", to=(BOB,)), from_address=HOSTILE_CC, now=NOW)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("address", "valid"),
    [
        ("bob@example.org", True),
        ("o'brien+tag@mail.example-1.org", True),
        ("bob", False),
        ("bob@example.org\n", False),
        (".bob@example.org", False),
        ("b..ob@example.org", False),
        ("b\\ob@example.org", False),
        ("bö@example.org", False),
        ('"b o"@example.org', False),
        (HOSTILE_CC, False),
    ],
)
def test_valid_addresses_are_ascii_dot_atoms(address: str, valid: bool) -> None:
    assert is_valid_address(address) is valid


def test_a_surrogate_in_the_body_does_not_stop_the_message() -> None:
    raw = build_message(Composition("local", body="a\ud800b"), from_address=ALICE, now=NOW)
    assert parse(raw).get_content().startswith("a?b")


# -- replies -----------------------------------------------------------------------------


def opened(
    *,
    text: str | None = "Hi Alice,\n\nthe plan is ready.\n",
    html: str | None = None,
    encryption: EncryptionStatus = EncryptionStatus.NONE,
    subject: str = "Plan",
    to: str = ALICE,
    cc: str = "",
    attachments: tuple[Attachment, ...] = (),
) -> OpenedMessage:
    return OpenedMessage(
        report=Report(encryption=encryption),
        headers=MessageHeaders(
            from_="Bob <bob@example.org>",
            to=to,
            cc=cc,
            subject=subject,
            date=NOW,
            message_id="<plan-1@example.org>",
        ),
        text=text,
        html=html,
        attachments=attachments,
    )


def test_reply_quotes_the_text_with_an_attribution() -> None:
    reply = reply_to(opened(), account="local")
    assert reply.to == ("Bob <bob@example.org>",)
    assert reply.cc == ()
    assert reply.subject == "Re: Plan"
    assert reply.in_reply_to == "<plan-1@example.org>"
    assert reply.references == ("<plan-1@example.org>",)
    lines = reply.body.splitlines()
    assert "Bob <bob@example.org> wrote:" in lines[2]
    assert lines[3:] == ["> Hi Alice,", ">", "> the plan is ready."]
    assert not reply.encrypt


def test_reply_subject_is_not_doubled() -> None:
    assert reply_to(opened(subject="RE: Plan"), account="local").subject == "RE: Plan"
    assert reply_to(opened(subject="Re[2]: Plan"), account="local").subject == "Re[2]: Plan"


def test_reply_to_html_only_quotes_text_without_markup() -> None:
    html = (
        "<html><head><style>p{color:red}</style><title>T</title></head><body>"
        "<p>First &amp; <b>bold</b> paragraph</p><div>Second<br>line</div>"
        "<ul><li>one</li><li>two</li></ul><script>alert(1)</script>"
        '<a href="https://example.net/x">a link</a></body></html>'
    )
    reply = reply_to(opened(text=None, html=html), account="local")
    quoted = [line for line in reply.body.splitlines() if line.startswith(">")]
    assert quoted == [
        "> First & bold paragraph",
        ">",
        "> Second",
        "> line",
        ">",
        "> - one",
        "> - two",
        ">",
        "> a link",
    ]
    quoted_text = "\n".join(quoted)
    for leak in ("<", ">>", "color:red", "alert", "https://", "&amp;"):
        assert leak not in quoted_text


def test_reply_quotes_only_the_root_content() -> None:
    nested = Attachment(
        "forwarded.eml", "message/rfc822",
        b"Subject: inner\r\n\r\nNESTED SECRET\r\n", AttachmentKind.MESSAGE,
    )  # fmt: skip
    text_file = Attachment("notes.txt", "text/plain", b"ATTACHED TEXT")
    reply = reply_to(
        opened(html="<p>HTML ALTERNATIVE</p>", attachments=(nested, text_file)), account="local"
    )
    assert "the plan is ready." in reply.body
    for other in ("NESTED SECRET", "ATTACHED TEXT", "HTML ALTERNATIVE"):
        assert other not in reply.body


def test_reply_all_adds_everyone_but_yourself() -> None:
    rules = SecurityPolicy("local", ALICE)
    reply = reply_to(
        opened(to="Alice <ALICE@example.com>, carol@example.net, bob@example.org",
               cc="dave@example.com, Carol <carol@example.net>"),
        account="local", reply_all=True, policy=rules,
    )  # fmt: skip
    assert reply.to == ("Bob <bob@example.org>", "carol@example.net")
    assert reply.cc == ("dave@example.com",)


@pytest.mark.parametrize(
    "encryption",
    [EncryptionStatus.AEAD, EncryptionStatus.UNAUTHENTICATED, EncryptionStatus.WEAK],
)
def test_a_reply_to_encrypted_mail_is_encrypted_by_default(encryption: EncryptionStatus) -> None:
    rules = SecurityPolicy("local", ALICE, sign_default=True, encrypt_default=False)
    reply = reply_to(opened(encryption=encryption), account="local", policy=rules)
    assert reply.encrypt
    assert reply.sign


def test_a_reply_to_clear_mail_follows_the_policy() -> None:
    reply = reply_to(opened(), account="local", policy=SecurityPolicy("local", ALICE))
    assert not reply.encrypt
    assert not reply.sign
    locked = SecurityPolicy("local", ALICE, encrypt_default=True, encryption_switch_allowed=False)
    assert reply_to(opened(), account="local", policy=locked).encrypt


def test_reply_all_to_a_hostile_cc_saves_its_draft(services: InboxServices) -> None:
    reply = reply_to(opened(cc=f"{HOSTILE_CC}, carol@example.net"), account="local",
                     reply_all=True)  # fmt: skip
    saved = save_draft(services, reply, now=NOW)
    (stored,) = services.mailbox.store.drafts("local")
    assert stored.id == saved.draft_id
    assert parse(stored.raw)["Cc"] == "carol@example.net"


# -- forwards ----------------------------------------------------------------------------


def test_forward_has_a_header_block_and_the_text_unquoted() -> None:
    forward = forward_of(opened(cc="carol@example.net"), account="local")
    assert forward.subject == "Fwd: Plan"
    assert forward.to == forward.cc == forward.bcc == ()
    assert forward.in_reply_to is None
    assert forward.references == ()
    assert forward.attachments == ()
    assert forward.body.splitlines() == [
        "",
        "",
        "-------- Forwarded message --------",
        "From: Bob <bob@example.org>",
        f"Date: {email.utils.format_datetime(NOW)}",
        "Subject: Plan",
        f"To: {ALICE}",
        "Cc: carol@example.net",
        "",
        "Hi Alice,",
        "",
        "the plan is ready.",
    ]
    assert not forward.encrypt
    assert not forward.sign


def test_forward_subject_is_not_doubled() -> None:
    for subject in ("Fwd: Plan", "FW: Plan", "fwd[2]: Plan", "WG: Plan"):
        assert forward_of(opened(subject=subject), account="local").subject == subject
    assert forward_of(opened(subject="Re: Plan"), account="local").subject == "Fwd: Re: Plan"
    assert forward_of(opened(subject="a\r\nBcc: x"), account="local").subject == "Fwd: a  Bcc: x"


def test_forward_headers_are_one_line_each() -> None:
    hostile = dataclasses.replace(
        opened(to="alice@example.com\r\nFrom: forged@example.net"),
        headers=MessageHeaders(from_="Bob\n<bob@example.org>", to="a@example.com\r\nX: y",
                               subject="S\u2028ubject", date=None),
    )  # fmt: skip
    lines = forward_of(hostile, account="local").body.splitlines()
    assert lines[3:6] == [  # no Date: there was none
        "From: Bob <bob@example.org>",
        "Subject: S ubject",
        "To: a@example.com  X: y",
    ]


def test_forward_of_html_only_mail_is_text_and_leaves_attachments_out() -> None:
    nested = Attachment(
        "signed.eml", "message/rfc822",
        b"Subject: inner\r\n\r\nNESTED SECRET\r\n", AttachmentKind.MESSAGE,
    )  # fmt: skip
    forward = forward_of(
        opened(text=None, html="<p>First &amp; <b>bold</b></p><script>x()</script>",
               attachments=(nested, Attachment("a.txt", "text/plain", b"ATTACHED"))),
        account="local",
    )  # fmt: skip
    assert forward.body.endswith("\n\nFirst & bold\n")
    assert forward.attachments == ()
    for leak in ("NESTED SECRET", "ATTACHED", "<", "x()", "&amp;", "> First"):
        assert leak not in forward.body.partition("Subject: Plan")[2]


@pytest.mark.parametrize(
    ("encryption", "encrypted"),
    [
        (EncryptionStatus.AEAD, True),
        (EncryptionStatus.UNAUTHENTICATED, True),
        (EncryptionStatus.NONE, False),
        (EncryptionStatus.FAILED, False),
    ],
)
def test_forward_of_encrypted_mail_is_encrypted_and_signed_by_policy(
    encryption: EncryptionStatus, encrypted: bool
) -> None:
    rules = SecurityPolicy("local", ALICE, sign_default=True)
    forward = forward_of(opened(encryption=encryption), account="local", policy=rules)
    assert forward.encrypt is encrypted
    assert forward.sign
    locked = SecurityPolicy("local", ALICE, encrypt_default=True, encryption_switch_allowed=False)
    assert forward_of(opened(), account="local", policy=locked).encrypt


def test_html_to_text_keeps_preformatted_text() -> None:
    assert html_to_text("<pre>  a\n    b</pre><p>c   d</p>") == "  a\n    b\n\nc d"


# -- recipients' certificates ------------------------------------------------------------


def test_recipient_states(services: InboxServices, pki: StandardPKI) -> None:
    expired = make_leaf(
        pki.intermediate, "erin@example.com", cn="Erin", slot=30, key_usage="both",
        not_before=NOW - 400 * DAY, not_after=NOW - DAY,
    )  # fmt: skip
    self_signed = make_leaf(
        pki.intermediate, "mallory@example.com", cn="Mallory", slot=31, key_usage="both",
        self_signed=True,
    )  # fmt: skip
    services.contacts.import_file(expired.pem() + pki.intermediate.pem(), now=NOW)
    services.contacts.import_file(self_signed.pem(), now=NOW)
    statuses = recipient_statuses(
        services,
        ["Bob <bob@example.org>", "stranger@example.net", "erin@example.com",
         "mallory@example.com", "not-an-address", ALICE],
        now=NOW, sender=ALICE,
    )  # fmt: skip
    assert {address: status.state for address, status in statuses.items()} == {
        BOB: RecipientState.READY,
        "stranger@example.net": RecipientState.NO_CERTIFICATE,
        "erin@example.com": RecipientState.EXPIRED,
        "mallory@example.com": RecipientState.UNUSABLE,
        "not-an-address": RecipientState.INVALID_ADDRESS,
        ALICE: RecipientState.READY,  # her own certificate, from the keystore
    }
    assert "not trusted" in statuses["mallory@example.com"].detail
    # Bob's certificate expires in a year.
    later = recipient_states(services, [BOB], now=NOW + 400 * DAY)
    assert later == {BOB: RecipientState.EXPIRED}


def test_a_changed_key_awaits_confirmation(services: InboxServices, pki: StandardPKI) -> None:
    bob_again = make_leaf(pki.intermediate, BOB, cn="Bob 2", slot=32, key_usage="both")
    signed = smime_sign(message("Bob <bob@example.org>", to=ALICE), bob_again.identity, now=NOW)
    report = services.secure_mail.open(signed, now=NOW)  # harvests the new key
    assert report.signature is SignatureStatus.VALID
    assert recipient_states(services, [BOB], now=NOW) == {BOB: RecipientState.CHANGED_KEY}
    contact = services.contacts.find(BOB)
    assert contact is not None
    assert contact.changed is not None
    services.contacts.confirm(BOB, contact.changed.sha256)
    assert recipient_states(services, [BOB], now=NOW) == {BOB: RecipientState.READY}


# -- blocking ----------------------------------------------------------------------------


def test_blocking_reasons() -> None:
    rules = SecurityPolicy("local", ALICE)
    ready = {BOB: RecipientState.READY}
    assert blocking_reason(Composition("local"), {}, rules) == "add a recipient"
    assert blocking_reason(Composition("local", to=(BOB,)), ready, rules) is None
    assert blocking_reason(Composition("local", to=(BOB,), encrypt=True), ready, rules) is None
    assert blocking_reason(Composition("local", to=("bob",)), {}, rules) == (
        "bob is not a valid address"
    )
    stranger = Composition("local", to=(BOB,), bcc=("x@example.net",), encrypt=True)
    states = {**ready, "x@example.net": RecipientState.NO_CERTIFICATE}
    assert blocking_reason(stranger, states, rules) == (
        "cannot encrypt to x@example.net: no certificate"
    )
    assert blocking_reason(dataclasses.replace(stranger, encrypt=False), states, rules) is None
    assert "checking" in (blocking_reason(stranger, ready, rules) or "")
    for state, words in [
        (RecipientState.EXPIRED, "expired"),
        (RecipientState.CHANGED_KEY, "key changed"),
        (RecipientState.UNUSABLE, "cannot be used"),
    ]:
        reason = blocking_reason(stranger, {**ready, "x@example.net": state}, rules)
        assert reason is not None
        assert words in reason


def test_blocking_by_policy() -> None:
    required = SecurityPolicy("local", ALICE, encrypt_default=True, encryption_switch_allowed=False)
    clear = Composition("local", to=(BOB,), encrypt=False)
    reason = blocking_reason(clear, {BOB: RecipientState.READY}, required)
    assert reason is not None
    assert "requires encryption" in reason
    assert required.apply(clear).encrypt
    unable = SecurityPolicy("local", ALICE, can_sign=False)
    reason = blocking_reason(dataclasses.replace(clear, sign=True), {}, unable)
    assert reason == f"cannot sign: no signing certificate for {ALICE}"


def test_policy_comes_from_the_account(services: InboxServices) -> None:
    assert policy(services, "local") == SecurityPolicy("local", ALICE, can_sign=True)
    set_account(
        services, sign_by_default=True, encrypt_by_default=True, encryption_switch_allowed=False
    )
    rules = policy(services, "local")
    assert rules.sign_default
    assert rules.encrypt_default
    assert rules.encryption_required
    assert rules.new_composition() == Composition("local", sign=True, encrypt=True)
    services.accounts.add_local("other", "nobody@example.com")
    assert not policy(services, "other").can_sign


# -- sending and drafts ------------------------------------------------------------------


def test_send_signed_and_encrypted_to_yourself_on_a_local_account(
    services: InboxServices,
) -> None:
    draft = save_draft(services, Composition("local", to=(ALICE,), subject="Secret"), now=NOW)
    c = Composition(
        "local", to=(ALICE,), cc=(BOB,), subject="Secret", body="The code is 1234.",
        sign=True, encrypt=True, draft_id=draft.draft_id,
    )  # fmt: skip
    outcome = send(services, c, now=NOW)
    assert outcome.sent, outcome.detail
    assert services.mailbox.store.drafts("local") == []
    assert services.mailbox.store.outbox("local") == []
    services.mailbox.sync("local")
    (arrived,) = services.mailbox.messages("local")
    assert arrived.security == "encrypted"
    report = services.mailbox.show("local", arrived.uid, now=NOW)
    assert report.encryption is EncryptionStatus.AEAD
    assert report.signature is SignatureStatus.VALID
    assert report.sender_match is True
    assert report.protected_headers is not None
    assert report.protected_headers["subject"] == "Secret"
    assert report.inner is not None
    assert b"The code is 1234." in report.inner


def test_sign_off_is_respected_when_the_account_signs_by_default(
    services: InboxServices,
) -> None:
    set_account(services, sign_by_default=True)
    outcome = send(services, Composition("local", to=(ALICE,), subject="Clear"), now=NOW)
    assert outcome.sent
    services.mailbox.sync("local")
    (arrived,) = services.mailbox.messages("local")
    assert arrived.security == "none"


def test_required_encryption_is_applied_when_sending(services: InboxServices) -> None:
    set_account(services, encrypt_by_default=True, encryption_switch_allowed=False)
    outcome = send(services, Composition("local", to=(ALICE,), subject="Forced"), now=NOW)
    assert outcome.sent
    services.mailbox.sync("local")
    (arrived,) = services.mailbox.messages("local")
    assert arrived.security == "encrypted"


def test_encrypted_send_without_a_certificate_is_refused_and_nothing_queued(
    services: InboxServices,
) -> None:
    draft = save_draft(services, Composition("local", to=("stranger@example.net",)), now=NOW)
    c = Composition(
        "local", to=("stranger@example.net",), body="secret", encrypt=True,
        draft_id=draft.draft_id,
    )  # fmt: skip
    with pytest.raises(ComposeError, match=r"cannot encrypt to stranger@example\.net"):
        send(services, c, now=NOW)
    assert services.mailbox.store.outbox() == []
    assert len(services.mailbox.store.drafts("local")) == 1  # the draft is kept


def test_a_draft_that_cannot_be_deleted_does_not_fail_a_queued_send(
    services: InboxServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    draft = save_draft(services, Composition("local", to=(ALICE,), body="once"), now=NOW)

    def full_disk(draft_id: int) -> None:
        raise StorageError("the disk is full")

    monkeypatch.setattr(services.mailbox.store, "delete_draft", full_disk)
    c = Composition("local", to=(ALICE,), body="once", draft_id=draft.draft_id)
    outcome = send(services, c, now=NOW)  # no error: it must not be sent a second time
    assert outcome.sent
    assert outcome.detail.endswith("(its draft was not deleted: the disk is full)")


def test_drafts_are_saved_and_replaced(services: InboxServices) -> None:
    first = save_draft(services, Composition("local", subject="Draft", body="one"), now=NOW)
    assert first.detail == "Draft saved"
    c = Composition("local", to=(BOB,), subject="Draft", body="two", draft_id=first.draft_id)
    second = save_draft(services, c, now=NOW)
    assert second.draft_id == first.draft_id
    (stored,) = services.mailbox.store.drafts("local")
    assert b"two" in stored.raw
    assert stored.raw.startswith(b"From: alice@example.com\r\n")


MARKER = "zq-7f3a91-plaintext-marker"


def store_bytes(services: InboxServices) -> bytes:
    """Everything the local store holds on disk: the database and its write-ahead log."""
    files = [services.home / STORE_FILE, services.home / f"{STORE_FILE}-wal"]
    return b"".join(path.read_bytes() for path in files if path.exists())


def test_a_draft_of_an_encrypted_reply_is_stored_encrypted_to_the_sender(
    services: InboxServices,
) -> None:
    reply = reply_to(
        opened(text=f"The code is {MARKER}.\n", encryption=EncryptionStatus.AEAD),
        account="local",
    )
    assert reply.encrypt
    saved = save_draft(services, reply, now=NOW)
    assert saved.stored
    assert saved.detail == "Draft saved"
    saved = save_draft(services, dataclasses.replace(reply, draft_id=saved.draft_id), now=NOW)
    assert MARKER.encode() not in store_bytes(services)
    assert b"Plan" not in store_bytes(services)  # the Subject is protected too
    (draft,) = services.mailbox.store.drafts("local")
    assert draft.id == saved.draft_id
    report = services.secure_mail.open(draft.raw, now=NOW)  # with the keystore's keys
    assert report.encryption is EncryptionStatus.AEAD
    assert report.inner is not None
    assert f"> The code is {MARKER}.".encode() in report.inner
    # A draft of a message sent in the clear stays as it is.
    clear = save_draft(services, Composition("local", body=f"clear {MARKER}"), now=NOW)
    assert clear.stored
    assert f"clear {MARKER}".encode() in store_bytes(services)


def test_without_an_encryption_certificate_an_encrypted_draft_is_not_stored(
    services: InboxServices,
) -> None:
    services.accounts.add_local("other", "nobody@example.com")
    earlier = save_draft(services, Composition("other", body="before Encrypt"), now=NOW)
    c = Composition("other", body=f"secret {MARKER}", encrypt=True, draft_id=earlier.draft_id)
    saved = save_draft(services, c, now=NOW)
    assert saved == save_draft(services, dataclasses.replace(c, draft_id=None), now=NOW)
    assert not saved.stored
    assert saved.draft_id is None
    assert saved.detail == MEMORY_ONLY
    assert services.mailbox.store.drafts("other") == []  # the earlier copy went too
    assert MARKER.encode() not in store_bytes(services)


def test_a_draft_the_server_cannot_take_stays_local(services: InboxServices) -> None:
    services.accounts.add_server(
        "work", ALICE, imap="127.0.0.1:1", smtp="127.0.0.1:1", username="alice", password="pw"
    )
    saved = save_draft(services, Composition("work", to=(BOB,), body="x"), now=NOW)
    assert saved.detail.startswith("Draft saved on this computer only")
    assert [d.id for d in services.mailbox.store.drafts("work")] == [saved.draft_id]
    quiet = save_draft(
        services, Composition("work", draft_id=saved.draft_id), now=NOW, upload=False
    )
    assert quiet == dataclasses.replace(saved, detail="Draft saved")


# -- drafts read back --------------------------------------------------------------------


def written(
    services: InboxServices, *, encrypt: bool, sign: bool = True
) -> tuple[Composition, int]:
    """Everything a draft can hold, saved: returns it (with its draft id) and the id."""
    c = Composition(
        "local",
        to=('"Doe, John" <john@example.net>', f"Bob <{BOB}>"), cc=("carol@example.net",),
        bcc=("dave@example.com",), subject="Grüße zum Plan", body="Hello,\n\nthe plan.\n-- \nA",
        attachments=(
            AttachedFile("notes.txt", "text/plain", b"plain notes\n"),
            AttachedFile("data.bin", "application/octet-stream", bytes(range(256))),
        ),
        sign=sign, encrypt=encrypt, in_reply_to="<orig@example.org>",
        references=("<first@example.org>",),
    )  # fmt: skip
    saved = save_draft(services, c, now=NOW)
    assert saved.draft_id is not None
    return dataclasses.replace(c, draft_id=saved.draft_id), saved.draft_id


@pytest.mark.parametrize("encrypt", [False, True])
def test_a_draft_reopens_as_it_was_written(services: InboxServices, encrypt: bool) -> None:
    c, draft_id = written(services, encrypt=encrypt)
    reopened = composition_from_draft(services, "local", draft_id, now=NOW)
    assert reopened == c
    # Saved again from there, it replaces the same draft and reopens the same.
    again = save_draft(services, dataclasses.replace(reopened, body="changed"), now=NOW)
    assert again.draft_id == draft_id
    assert len(services.mailbox.store.drafts("local")) == 1
    reopened = composition_from_draft(services, "local", draft_id, now=NOW)
    assert reopened == dataclasses.replace(c, body="changed")


def test_a_reopened_draft_keeps_sign_off(services: InboxServices) -> None:
    _, draft_id = written(services, encrypt=True, sign=False)
    reopened = composition_from_draft(services, "local", draft_id, now=NOW)
    assert (reopened.sign, reopened.encrypt) == (False, True)


def test_drafts_are_listed_with_subjects_decrypted(services: InboxServices) -> None:
    _, clear = written(services, encrypt=False)
    _, secret = written(services, encrypt=True)
    empty = save_draft(services, Composition("local"), now=NOW).draft_id
    listed = drafts(services, "local", now=NOW)
    assert {info.id for info in listed} == {clear, secret, empty}
    by_id: dict[int | None, DraftInfo] = {info.id: info for info in listed}
    recipients = ("john@example.net", BOB, "carol@example.net", "dave@example.com")
    for draft_id, encrypted in ((clear, False), (secret, True)):
        info = by_id[draft_id]
        assert (info.subject, info.recipients) == ("Grüße zum Plan", recipients)
        assert info.encrypted is encrypted
        assert info.readable
        assert info.updated_at.tzinfo is not None
    assert by_id[empty].subject == ""
    assert by_id[empty].recipients == ()
    stored = {d.id: d.raw for d in services.mailbox.store.drafts("local")}
    assert b"Plan" in stored[clear]
    assert b"Plan" not in stored[secret]  # the subject is protected on disk
    assert drafts(services, "other", now=NOW) == []


def test_a_draft_that_cannot_be_read_is_listed_as_such(services: InboxServices) -> None:
    _, secret = written(services, encrypt=True)
    store = services.mailbox.store
    (stored,) = store.drafts("local")
    damaged = stored.raw[: len(stored.raw) // 2]  # the CMS cut short
    damaged_id = store.save_draft("local", damaged)
    hostile_id = store.save_draft(
        "local",
        b"To: 10<, =?x?q?\x00?=\r\nSubject: =?utf-8?b?<b>?=\r\nX-Inbox-Draft: \xff\r\n\r\nx",
    )
    by_id = {info.id: info for info in drafts(services, "local", now=NOW)}
    assert by_id[damaged_id].subject == UNREADABLE
    assert not by_id[damaged_id].readable
    assert by_id[damaged_id].encrypted
    assert by_id[damaged_id].recipients[:2] == ("john@example.net", BOB)  # outer copies
    assert by_id[secret].readable
    assert by_id[hostile_id].readable
    with pytest.raises(ComposeError, match=r"^this draft cannot be read: "):
        composition_from_draft(services, "local", damaged_id, now=NOW)
    hostile = composition_from_draft(services, "local", hostile_id, now=NOW)
    assert (hostile.body, hostile.sign, hostile.encrypt) == ("x", False, False)
    with pytest.raises(ComposeError, match="no longer exists"):
        composition_from_draft(services, "local", 999, now=NOW)
    # Another keyring (the key cannot be unwrapped): listed, unreadable, no crash.
    elsewhere = InboxServices(services.home, MemorySecretStore())
    by_id = {info.id: info for info in drafts(elsewhere, "local", now=NOW)}
    assert by_id[secret].subject == UNREADABLE
    assert by_id[secret].encrypted
    assert by_id[hostile_id].readable
    with pytest.raises(InboxError, match="keyring"):  # user-facing: it can be fixed
        composition_from_draft(elsewhere, "local", secret, now=NOW)


def test_a_huge_original_is_quoted_in_part() -> None:
    from inbox_app.services.compose_reply import QUOTE_LIMIT, original_text
    from inbox_app.services.reading import MessageHeaders, OpenedMessage
    from inbox_app.smime.report import Report

    opened = OpenedMessage(Report(), MessageHeaders(subject="big"), text="x" * (QUOTE_LIMIT * 3))
    text = original_text(opened)
    assert len(text) < QUOTE_LIMIT + 100
    assert text.endswith("more characters not quoted]")
