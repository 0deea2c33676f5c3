"""The demo INBOX: one message for each thing the reader must get right.

Every message is built, signed and encrypted here with the engine's own recipes, dated
relative to ``now``, and identified by a fixed Message-ID (``<demo-KEY@demo.inbox.example>``)
so that tests and screenshots can find each one.
"""

from __future__ import annotations

import email.policy
import email.utils
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage

from inbox_app.services.demo_pki import ALICE, DEMO_DOMAIN, YOU, DemoPki
from inbox_app.services.demo_profile import demo_profile
from inbox_app.smime import encrypt_message, sign_message

P12_PASSWORD = "demo"  # noqa: S105 - stated in the demo message's body, on purpose
IT_DESK = f"it@{DEMO_DOMAIN}"
NEWSLETTER = "news@newsletter.inbox.example"
REMOTE_IMAGE = "https://newsletter.inbox.example/pixel.png?u=you"
LOGO_CID = f"logo@{DEMO_DOMAIN}"
_IT_NAME = f"Demo IT desk <{IT_DESK}>"
_ALICE_NAME = f"Alice Demo <{ALICE}>"

# The keys of DemoMessage, in the order they arrive (oldest first).
HISTORIC = "historic"
P12 = "p12"
PROFILE = "profile"
TAMPERED = "tampered"
NEWSLETTER_KEY = "newsletter"
NOTE = "note"
ENCRYPTED = "encrypted"
SIGNED = "signed"

_POLICY = email.policy.SMTP  # CRLF line ends, as on the wire
# The tampered message: what Alice signed, and what an attacker made of it.
_SIGNED_IBAN = b"DE44 5001 0517 5407 3249 31"
_FORGED_IBAN = b"DE89 3704 0044 0532 0130 00"


@dataclass(frozen=True)
class DemoMessage:
    """One message for the demo INBOX."""

    key: str
    raw: bytes = field(repr=False)
    date: datetime
    seen: bool

    @property
    def message_id(self) -> str:
        return message_id(self.key)


def message_id(key: str) -> str:
    """The Message-ID of a demo message, without angle brackets."""
    return f"demo-{key}@{DEMO_DOMAIN}"


def demo_messages(pki: DemoPki, *, now: datetime) -> list[DemoMessage]:
    """The demo INBOX's messages, oldest first."""
    plan: list[tuple[str, Callable[[DemoPki, datetime], bytes], timedelta, bool]] = [
        (HISTORIC, _historic, timedelta(days=200, hours=3), True),
        (P12, _p12_message, timedelta(days=3, hours=2), True),
        (PROFILE, _profile_message, timedelta(days=3, hours=1), True),
        (TAMPERED, _tampered, timedelta(days=1, hours=5), False),
        (NEWSLETTER_KEY, _newsletter, timedelta(hours=20), False),
        (NOTE, _note, timedelta(hours=6), False),
        (ENCRYPTED, _encrypted, timedelta(hours=4, minutes=30), False),
        (SIGNED, _signed, timedelta(hours=1, minutes=15), False),
    ]
    return [
        DemoMessage(key, build(pki, now - age), now - age, seen) for key, build, age, seen in plan
    ]


def _signed(pki: DemoPki, date: datetime) -> bytes:
    message = _text_message(
        SIGNED,
        sender=_ALICE_NAME,
        subject="Lunch on Thursday?",
        date=date,
        body="Hi,\n\nshall we have lunch on Thursday at noon? The new place by the\n"
        "station has a terrace.\n\nThis message is signed: Inbox checked that it "
        "comes from me\nand that nobody changed it on the way.\n\nAlice\n",
    )
    return sign_message(message, pki.alice.identity, now=date)


def _tampered(pki: DemoPki, date: datetime) -> bytes:
    message = _text_message(
        TAMPERED,
        sender=_ALICE_NAME,
        subject="Updated bank details for the conference fee",
        date=date,
        body="Hi,\n\nthe conference fee (120 EUR) now goes to our new account:\n\n"
        f"  IBAN {_SIGNED_IBAN.decode()}\n\n"
        "Thanks!\nAlice\n",
    )
    signed = sign_message(message, pki.alice.identity, now=date)
    if _SIGNED_IBAN not in signed:  # pragma: no cover - the recipe re-encoded the text
        raise AssertionError("the demo's tampered message lost its IBAN")
    # An attacker on the way swapped the IBAN: the signature no longer matches.
    return signed.replace(_SIGNED_IBAN, _FORGED_IBAN)


def _encrypted(pki: DemoPki, date: datetime) -> bytes:
    message = _text_message(
        ENCRYPTED,
        sender=_ALICE_NAME,
        subject="The launch plan (confidential)",
        date=date,
        body="Hi,\n\nthe launch moves to the 14th. Only the two of us know so far,\n"
        "so this is encrypted to you and signed by me. Even the subject line\n"
        "travels inside the encryption.\n\nReplying keeps it encrypted.\n\nAlice\n",
    )
    # Alice is a recipient too, as her client would make her (sent mail stays readable).
    recipients = [pki.you.certificate, pki.alice.certificate]
    return encrypt_message(message, recipients, now=date, sign_with=pki.alice.identity)


def _historic(pki: DemoPki, date: datetime) -> bytes:
    message = _text_message(
        HISTORIC,
        sender=_ALICE_NAME,
        subject="Last year's budget figures",
        date=date,
        body="Hi,\n\nhere are the figures we agreed to keep between us:\n\n"
        "  Q1  41,200 EUR\n  Q2  39,850 EUR\n  Q3  44,100 EUR\n  Q4  47,300 EUR\n\n"
        "This went to your old encryption certificate, which has been renewed since;\n"
        "Inbox keeps the old key so that mail like this stays readable.\n\nAlice\n",
    )
    recipients = [pki.you_old.certificate, pki.alice.certificate]
    return encrypt_message(message, recipients, now=date, sign_with=pki.alice.identity)


def _note(pki: DemoPki, date: datetime) -> bytes:
    del pki  # a plain note involves no certificate
    return _text_message(
        NOTE,
        sender=f"Bob Demo <bob@{DEMO_DOMAIN}>",
        subject="Parking this week",
        date=date,
        body="Hi,\n\nthe car park is closed on Wednesday and Thursday for painting.\n"
        "The garage on Mill Street has space; keep the receipt.\n\nBob\n",
    )


def _headers(message: EmailMessage, key: str, *, sender: str, subject: str, date: datetime) -> None:
    message["From"] = sender
    message["To"] = f"You <{YOU}>"
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(date)
    message["Message-ID"] = f"<{message_id(key)}>"


def _text_message(key: str, *, sender: str, subject: str, date: datetime, body: str) -> bytes:
    message = EmailMessage(policy=_POLICY)
    _headers(message, key, sender=sender, subject=subject, date=date)
    message.set_content(body, cte="7bit")
    return message.as_bytes()


def _p12_message(pki: DemoPki, date: datetime) -> bytes:
    message = EmailMessage(policy=_POLICY)
    _headers(message, P12, sender=_IT_NAME, subject="Your new certificate", date=date)
    message.set_content(
        "Hello,\n\nattached is a new S/MIME certificate for you@demo.inbox.example.\n"
        f'Its password is "{P12_PASSWORD}".\n\n'
        'Open the attachment and choose "Install certificate..." to add it to Inbox.\n'
        "(In real life, never accept keys and passwords by mail: this is a demo.)\n\n"
        "Demo IT desk\n",
        cte="7bit",
    )
    message.add_attachment(
        pki.you_attached.p12(P12_PASSWORD.encode()),
        maintype="application",
        subtype="x-pkcs12",
        filename="you-demo.p12",
    )
    return message.as_bytes()


def _profile_message(pki: DemoPki, date: datetime) -> bytes:
    message = EmailMessage(policy=_POLICY)
    _headers(
        message, PROFILE, sender=_IT_NAME, subject="Set up secure mail on this computer", date=date
    )
    message.set_content(
        "Hello,\n\nthe attached configuration profile sets up secure mail: it holds your\n"
        "S/MIME certificate and our certificate authority. It is signed by\n"
        f"mdm.{DEMO_DOMAIN}, which Inbox shows before anything is installed.\n\n"
        "Demo IT desk\n",
        cte="7bit",
    )
    message.add_attachment(
        demo_profile(pki),
        maintype="application",
        subtype="x-apple-aspen-config",
        filename="inbox-demo.mobileconfig",
    )
    return message.as_bytes()


def _newsletter(pki: DemoPki, date: datetime) -> bytes:
    del pki  # no certificate either
    message = EmailMessage(policy=_POLICY)
    _headers(
        message,
        NEWSLETTER_KEY,
        sender=f"Inbox Weekly <{NEWSLETTER}>",
        subject="Inbox Weekly: five habits of safe mail",
        date=date,
    )
    message.set_content(
        "Inbox Weekly\n\nFive habits of safe mail:\n"
        "1. Look at the security banner, not at the message.\n"
        "2. Expect signed mail from people you work with.\n"
        "3. Never open keys sent by mail.\n"
        "4. Remote images tell the sender you read their mail: Inbox never loads them.\n"
        "5. Keep old keys: old encrypted mail needs them.\n",
        cte="7bit",
    )
    html = (
        "<html><body>"
        f'<p><img src="cid:{LOGO_CID}" alt="Inbox logo" width="32" height="32"></p>'
        "<h1>Inbox Weekly</h1>"
        "<p>Five habits of safe mail:</p>"
        "<ol><li>Look at the <b>security banner</b>, not at the message.</li>"
        "<li>Expect signed mail from people you work with.</li>"
        "<li>Never open keys sent by mail.</li>"
        "<li>Remote images tell the sender you read their mail: Inbox never loads them.</li>"
        "<li>Keep old keys: old encrypted mail needs them.</li></ol>"
        f'<p><img src="{REMOTE_IMAGE}" alt="" width="1" height="1"></p>'
        "</body></html>"
    )
    message.add_alternative(html, subtype="html", cte="7bit")
    html_part = message.get_payload()[1]  # type: ignore[index]
    assert isinstance(html_part, EmailMessage)  # noqa: S101 - add_alternative made it
    html_part.add_related(
        logo_png(),
        maintype="image",
        subtype="png",
        cid=f"<{LOGO_CID}>",
        filename="logo.png",
        disposition="inline",
    )
    return message.as_bytes()


def logo_png(size: int = 32) -> bytes:
    """A small PNG (a blue envelope on white), built byte by byte: no image library."""
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter type 0 (None) for each scanline
        for x in range(size):
            inside = 4 <= x < size - 4 and 8 <= y < size - 8
            # The flap: two diagonals from the top corners towards the middle.
            left, right = (x - 4) // 2, (size - 5 - x) // 2
            flap = inside and y - 8 == (left if x < size // 2 else right)
            edge = inside and (x in (4, size - 5) or y in (8, size - 9))
            row += bytes((40, 90, 200) if edge or flap else (255, 255, 255))
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
