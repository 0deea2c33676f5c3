"""The demo: a fresh, isolated Inbox home that needs no server and no network.

``inbox-app --demo`` starts on one. It holds a generated PKI (:mod:`.demo_pki`) whose root
the home trusts, your current and historic identities in the keystore, Alice's certificate
among the contacts, and a local account "Demo" whose INBOX shows every security state the
reader must get right (:mod:`.demo_messages`). Sending from it to your own address
delivers to that INBOX (see :mod:`.sending`); the next sync shows the message.

Nothing is cached outside the home: every demo is generated afresh (in well under a
second), so two demos never share a key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

from inbox_app.credentials.anchors import ANCHORS_DIR
from inbox_app.credentials.keystore import ENCRYPT, USES, NewIdentity
from inbox_app.credentials.profiles import SIGNERS_DIR
from inbox_app.credentials.secrets import SecretStore
from inbox_app.fileio import StorageError, atomic_write
from inbox_app.mail.accounts import Account
from inbox_app.mail.maildir import MaildirFolder
from inbox_app.paths import ensure_private_dir
from inbox_app.services.app import InboxServices
from inbox_app.services.demo_messages import P12_PASSWORD, DemoMessage, demo_messages, message_id
from inbox_app.services.demo_pki import ALICE, YOU, build_demo_pki
from inbox_app.services.demo_profile import PROFILE_IDENTIFIER
from inbox_app.smime.certificates import fingerprint

ACCOUNT = "Demo"
SOURCE = "demo"  # the keystore's "source" of the demo's own identities
_ROOT_FILE = "inbox-demo-root.pem"


@dataclass(frozen=True)
class DemoHome:
    """What :func:`build_demo` made.

    Attributes:
        home: the data directory (0700).
        account: the local account's name.
        address: your address (the account's).
        correspondent: Alice's address (her certificate is a known contact).
        p12_password: the password of the ``.p12`` attached to the "p12" message.
        profile_identifier: the ``PayloadIdentifier`` of the attached sample profile.
        identity_sha256: your current identity's certificate fingerprint.
        historic_sha256: your renewed (historic) encryption certificate's fingerprint.
        correspondent_sha256: Alice's certificate fingerprint.
        uids: INBOX UID of each demo message by key: "signed", "tampered", "encrypted",
            "historic", "p12", "profile", "newsletter", "note".
    """

    home: Path
    account: str
    address: str
    correspondent: str
    p12_password: str
    profile_identifier: str
    identity_sha256: str
    historic_sha256: str
    correspondent_sha256: str
    uids: Mapping[str, int]


def build_demo(home: Path, secrets: SecretStore, *, now: datetime) -> DemoHome:
    """Create a demo home in ``home`` (a new or empty directory), valid at ``now``.

    Messages are dated relative to ``now`` (timezone-aware), and so are the certificates:
    open the messages with a ``now`` near it. The same ``secrets`` store must be handed to
    the :class:`InboxServices` that later opens the home: the keystore's key-encryption
    key lives there.

    Raises:
        StorageError: ``home`` is not empty, or cannot be written.
        KeyringUnavailableError: ``secrets`` cannot keep the keystore's key.
    """
    if home.exists() and (not home.is_dir() or any(home.iterdir())):
        raise StorageError(f"cannot create the demo in {home}: it is not an empty directory")
    ensure_private_dir(home)
    pki = build_demo_pki(now)
    services = InboxServices(home, secrets)

    # The demo root is this home's trust anchor for mail and for profile signers.
    for directory in (ANCHORS_DIR, SIGNERS_DIR):
        atomic_write(ensure_private_dir(home / directory) / _ROOT_FILE, pki.root.pem())

    # Your old encryption identity first, then its renewal: the old one becomes historic
    # (kept to decrypt old mail), exactly as when a renewed certificate is imported.
    services.keystore.install(
        [
            NewIdentity(pki.you_old.identity, frozenset({ENCRYPT}), SOURCE, exportable=True),
            NewIdentity(pki.you.identity, USES["both"], SOURCE, exportable=True),
        ]
    )
    services.contacts.import_file(pki.alice.pem() + pki.mail_ca.pem(), now=now)
    services.accounts.add(Account(name=ACCOUNT, email=YOU, local=True, sign_by_default=True), None)
    messages = demo_messages(pki, now=now)
    _deliver(services.accounts.store.maildir(ACCOUNT), messages)

    mailbox = services.mailbox
    try:
        mailbox.sync(ACCOUNT)
        by_id = {
            (summary.message_id or "").strip("<>"): summary.uid
            for summary in mailbox.messages(ACCOUNT)
        }
    finally:
        mailbox.store.close()
    return DemoHome(
        home=home,
        account=ACCOUNT,
        address=YOU,
        correspondent=ALICE,
        p12_password=P12_PASSWORD,
        profile_identifier=PROFILE_IDENTIFIER,
        identity_sha256=fingerprint(pki.you.certificate),
        historic_sha256=fingerprint(pki.you_old.certificate),
        correspondent_sha256=fingerprint(pki.alice.certificate),
        uids=MappingProxyType({m.key: by_id[message_id(m.key)] for m in messages}),
    )


def _deliver(root: Path, messages: list[DemoMessage]) -> None:
    """Deliver to the Maildir INBOX, oldest first, so that UIDs follow the dates.

    UIDs are assigned (and remembered) while every message is still in ``new/``; only
    then are the read ones moved to ``cur/`` with the Seen flag (Maildir's ``:2,S``).
    Each file's time is the message's date: a local folder's INTERNALDATE.
    """
    folder = MaildirFolder(root)
    delivered = [(message, folder.deliver(message.raw)) for message in messages]
    folder.messages()
    for message, path in delivered:
        stamp = message.date.timestamp()
        if message.seen:
            target = root / "cur" / f"{path.name}:2,S"
            os.replace(path, target)
            path = target
        os.utime(path, (stamp, stamp))
