"""Sending: through the outbox, so that no message is lost or sent twice.

1. The finished message (signed and/or encrypted here) is stored in the outbox first,
   durably (the store commits with synchronous=FULL).
2. It is marked "sending" and handed to the SMTP server.
3. Once the server accepted it: marked "sent", copied to the Sent folder, removed.

A failure at any step leaves it in the outbox with the reason. When the connection was
lost after the whole message had gone out (``maybe_delivered``), the item says so: a
retry must first look for its Message-ID in the Sent folder rather than resend blindly.
"""

from __future__ import annotations

import asyncio
import email.utils
import secrets
from dataclasses import dataclass
from datetime import datetime

from inbox_app.credentials.errors import CredentialsError
from inbox_app.errors import InboxError
from inbox_app.mail.accounts import Account, AccountStore
from inbox_app.mail.maildir import MaildirFolder
from inbox_app.services.accounts import AccountService
from inbox_app.services.mailbox import Mailbox
from inbox_app.services.secure_mail import EncryptOptions, SecureMail, SignOptions
from inbox_app.smime import mime
from inbox_app.transport import ConnectionLostError, TransportError
from inbox_app.transport.smtp import envelope, send, strip_bcc


@dataclass(frozen=True)
class SendOutcome:
    """What happened to one message: sent (with the server's reply) or still queued."""

    outbox_id: int
    sent: bool
    detail: str


class MailSender:
    """Compose-side use cases: prepare, queue and deliver messages."""

    def __init__(self, accounts: AccountService, secure_mail: SecureMail, mailbox: Mailbox) -> None:
        self._accounts = accounts
        self._secure_mail = secure_mail
        self._mailbox = mailbox

    def send(
        self,
        name: str,
        raw: bytes,
        *,
        sign: bool = False,
        encrypt: bool = False,
        now: datetime,
        apply_defaults: bool = True,
    ) -> SendOutcome:
        """Prepare ``raw`` for ``name``'s account and send it through the outbox.

        With ``apply_defaults`` the account's defaults add to ``sign``/``encrypt`` (the
        command line's flags); without, they are taken as chosen (the composer's toggles,
        which started from the defaults), except that encryption the account's policy
        requires is never dropped.

        Raises:
            AccountError: unknown account.
            CredentialsError: signing or encryption was asked for and is impossible (no
                signing identity; a recipient without a usable certificate), so nothing
                is sent in the clear instead.
        """
        account = self._accounts.get(name)
        prepared = _with_own_header(raw, account, now)
        if apply_defaults:
            sign = sign or account.sign_by_default
            encrypt = encrypt or account.encrypt_by_default
        elif account.encrypt_by_default and not account.encryption_switch_allowed:
            encrypt = True
        sender, recipients = envelope(prepared)
        if encrypt:
            prepared = self._encrypt(prepared, recipients, sign=sign, now=now)
        elif sign:
            identity = self._secure_mail.signing_identity(prepared)
            prepared = self._secure_mail.sign(prepared, identity, now=now, options=SignOptions())
        message_id = _message_id(prepared)
        store = self._mailbox.store
        item_id = store.enqueue(name, message_id, prepared)
        return self.deliver(account, item_id, sender, recipients)

    def deliver(
        self, account: Account, item_id: int, sender: str, recipients: list[str]
    ) -> SendOutcome:
        """Hand one outbox item to the server (or, for a local account, to its Maildir)."""
        store = self._mailbox.store
        item = store.outbox_item(item_id)
        if item is None or not store.mark_sending(item_id):
            return SendOutcome(item_id, False, "the message is not waiting in the outbox")
        raw = item.raw
        try:
            if account.local:
                # The demo's "server": deliver to the local INBOX when it is for us.
                root = AccountStore(self._mailbox.home).maildir(account.name)
                if account.email.lower() in (r.lower() for r in recipients):
                    MaildirFolder(root).deliver(strip_bcc(raw))
                response = "delivered locally"
            else:
                response = self._smtp(account, raw, sender, recipients)
        except ConnectionLostError as exc:
            note = " (it may have been delivered: check Sent before resending)"
            detail = f"{exc}{note if exc.maybe_delivered else ''}"
            store.mark_failed(item_id, detail, maybe_delivered=exc.maybe_delivered)
            return SendOutcome(item_id, False, detail)
        except InboxError as exc:
            # Nothing went out (no password, a refused login, a full disk...): the item
            # waits, failed, instead of being left "sending" as if we had crashed.
            store.mark_failed(item_id, str(exc))
            return SendOutcome(item_id, False, str(exc))
        store.mark_sent(item_id, response)
        try:
            self._copy_to_sent(account, raw)
        except InboxError as exc:
            # Sent is sent: a missing copy must not leave the message to be sent again.
            response = f"{response} (not copied to Sent: {exc})"
        store.remove_outbox(item_id)
        return SendOutcome(item_id, True, response)

    def prepare_draft(
        self, name: str, raw: bytes, *, encrypted: bool = False, now: datetime
    ) -> bytes | None:
        """A draft as it may be kept, on this computer or in the server's Drafts folder.

        ``raw`` with the account's From (and a Date and Message-ID); when the message will
        be encrypted (``encrypted``), encrypted to the sender alone: a draft must not leak
        what the message will protect, and a reply quotes decrypted text. None when it
        will be encrypted and the sender has no encryption certificate: then it must not
        be kept anywhere.

        Raises:
            AccountError: unknown account.
            SmimeError: the draft could not be encrypted.
        """
        account = self._accounts.get(name)
        copy = _with_own_header(raw, account, now)
        if not encrypted:
            return copy
        own = self._secure_mail.own_encryption_certificate(copy)
        if own is None:
            return None
        return self._secure_mail.encrypt(copy, [own], now=now, options=EncryptOptions())

    def upload_draft(self, name: str, prepared: bytes) -> None:
        """Put a draft made by :meth:`prepare_draft` in a server account's Drafts folder.

        Nothing happens for a local account (its drafts stay in the local store).

        Raises:
            AccountError: unknown account.
            TransportError: the server could not be reached or refused it.
        """
        account = self._accounts.get(name)
        if not account.local:
            self._mailbox.append_to_role(account, "drafts", prepared, flags=("\\Draft", "\\Seen"))

    def save_draft(
        self,
        name: str,
        raw: bytes,
        *,
        draft_id: int | None = None,
        encrypted: bool = False,
        now: datetime,
    ) -> int:
        """Keep a draft locally and, for a server account, in its Drafts folder; both
        encrypted to the sender alone when the message will be encrypted
        (:meth:`prepare_draft`).

        Returns the local draft's id.

        Raises:
            CredentialsError: the message will be encrypted and there is no encryption
                certificate for the sender: nothing was kept.
        """
        prepared = self.prepare_draft(name, raw, encrypted=encrypted, now=now)
        if prepared is None:
            address = self._accounts.get(name).email
            raise CredentialsError(
                f"no encryption certificate for {address}: the draft cannot be kept encrypted"
            )
        draft_id = self._mailbox.store.save_draft(name, prepared, draft_id)
        self.upload_draft(name, prepared)
        return draft_id

    def retry(self, name: str, *, force: bool = False) -> list[SendOutcome]:
        """Send again what is waiting in ``name``'s outbox, never anything twice.

        An item that may already have been delivered (the connection was lost after the
        whole message went out, or the process died while sending) is first looked for
        by Message-ID on the server; if found it counts as sent, otherwise it is resent
        only with ``force``.
        """
        account = self._accounts.get(name)
        store = self._mailbox.store
        outcomes = []
        for item in store.outbox(name):
            if item.state == "sending":
                # Left behind by a process that died mid-send: as uncertain as a cut.
                store.mark_failed(item.id, "interrupted while sending", maybe_delivered=True)
                item = store.outbox_item(item.id) or item
            if item.state not in ("queued", "failed"):
                continue
            if item.maybe_delivered:
                if not account.local and self._mailbox.holds_message_id(account, item.message_id):
                    store.mark_sending(item.id)
                    store.mark_sent(item.id, "found on the server: it had been delivered")
                    store.remove_outbox(item.id)
                    outcomes.append(SendOutcome(item.id, True, "it had been delivered"))
                    continue
                if not force:
                    outcomes.append(
                        SendOutcome(
                            item.id, False, "it may have been delivered already; --force resends"
                        )
                    )
                    continue
            sender, recipients = envelope(item.raw)
            outcomes.append(self.deliver(account, item.id, sender, recipients))
        return outcomes

    def _smtp(self, account: Account, raw: bytes, sender: str, recipients: list[str]) -> str:
        server = account.smtp
        if server is None:
            raise TransportError(f"the account {account.name!r} has no SMTP server")
        result = asyncio.run(
            send(
                strip_bcc(raw),
                host=server.host,
                port=server.port,
                tls=server.tls,
                ca_file=server.ca_file,
                username=account.username,
                password=self._accounts.password(account.name),
                sender=sender,
                recipients=recipients,
            )
        )
        return result.server_response

    def _encrypt(self, raw: bytes, recipients: list[str], *, sign: bool, now: datetime) -> bytes:
        certificates = []
        oaep = []
        own = self._secure_mail.own_encryption_certificate(raw)
        for address in recipients:
            if own is not None and _same_address(address, _from_address(raw)):
                continue  # our own certificate is always added (sent mail stays readable)
            try:
                cert, wants_oaep = self._secure_mail.recipient_certificate(address, now=now)
            except CredentialsError as exc:
                # Never fall back to sending in the clear when encryption is required.
                raise CredentialsError(f"not sent: cannot encrypt to {address}: {exc}") from exc
            certificates.append(cert)
            if wants_oaep:
                oaep.append(cert)
        identity = self._secure_mail.signing_identity(raw) if sign else None
        options = EncryptOptions(sign_with=identity, oaep_recipients=tuple(oaep))
        return self._secure_mail.encrypt(raw, certificates, now=now, options=options)

    def _copy_to_sent(self, account: Account, raw: bytes) -> None:
        if account.local:
            root = AccountStore(self._mailbox.home).maildir(account.name)
            MaildirFolder(root / ".Sent").deliver(strip_bcc(raw))
            return
        # IMAP: appended to the folder the server calls Sent (RFC 6154), if it has one.
        self._mailbox.append_to_role(account, "sent", strip_bcc(raw))


def _with_own_header(raw: bytes, account: Account, now: datetime) -> bytes:
    """From is the account's address; Date and Message-ID are added when missing."""
    header_block, body = mime.split_header_body(raw)
    fields = mime.field_lines(header_block)
    kept = [line for name, line in fields if name != "from"]
    names = {name for name, _ in fields}
    own = [f"From: {account.email}\r\n".encode()]
    if "date" not in names:
        own.append(f"Date: {email.utils.format_datetime(now)}\r\n".encode())
    if "message-id" not in names:
        domain = account.email.rpartition("@")[2] or "localhost"
        own.append(f"Message-ID: <{secrets.token_hex(12)}@{domain}>\r\n".encode())
    return b"".join(own + kept) + b"\r\n" + body


def _from_address(raw: bytes) -> str:
    header_block, _ = mime.split_header_body(raw)
    for name, value in mime.parse_header_block(header_block):
        if name == "from":
            return email.utils.parseaddr(value)[1]
    return ""


def _same_address(a: str, b: str) -> bool:
    local_a, _, domain_a = a.rpartition("@")
    local_b, _, domain_b = b.rpartition("@")
    return local_a == local_b and domain_a.lower() == domain_b.lower()


def _message_id(raw: bytes) -> str:
    header_block, _ = mime.split_header_body(raw)
    for name, value in mime.parse_header_block(header_block):
        if name == "message-id":
            return value
    return ""
