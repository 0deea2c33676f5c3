"""Replies and forwards: the original's root content as plain text, its security carried on.

Only what the reader displayed as the message's own content is taken (the
``OpenedMessage`` text, or its HTML turned into text): never attachments, attached
messages or markup. A reply to, or a forward of, encrypted mail starts encrypted.
"""

from __future__ import annotations

import email.utils
import re
from html.parser import HTMLParser

from inbox_app.errors import one_line
from inbox_app.services.compose_message import Composition, bare_address, split_addresses
from inbox_app.services.compose_security import SecurityPolicy
from inbox_app.services.reading import OpenedMessage
from inbox_app.smime.report import EncryptionStatus

_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv)\s*(\[\d+\])?\s*:", re.IGNORECASE)
_FORWARD_PREFIX = re.compile(r"^\s*(fwd?|wg|tr|rv)\s*(\[\d+\])?\s*:", re.IGNORECASE)
FORWARD_SEPARATOR = "-------- Forwarded message --------"
# Paragraphs stand apart (an empty line around them); other blocks start a new line.
_PARAGRAPH_TAGS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol"}
)
_LINE_TAGS = frozenset(
    {"div", "li", "tr", "dt", "dd", "hr", "section", "article", "header", "footer"}
)
_HIDDEN_TAGS = frozenset({"script", "style", "head", "title", "template"})
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")


def reply_to(
    opened: OpenedMessage,
    *,
    account: str,
    reply_all: bool = False,
    policy: SecurityPolicy | None = None,
) -> Composition:
    """A reply to ``opened``, sent from ``account``.

    To is the original From; ``reply_all`` adds the original To and Cc, without the
    account's own address (``policy.address``) and without duplicates. The reply is
    encrypted when the original was (whatever the policy's default), and signed as the
    policy says.
    """
    headers = opened.headers
    own = policy.address.casefold() if policy is not None else None
    sender = split_addresses(headers.from_)
    to = list(sender)
    cc: list[str] = []
    if reply_all:
        to += split_addresses(headers.to)
        cc += split_addresses(headers.cc)
    seen: set[str] = set()
    to = _without(to, seen, own)
    cc = _without(cc, seen, own)
    if not to and sender:
        to = list(sender)  # replying to one's own message: back to oneself
    message_id = _angle(headers.message_id)
    composition = Composition(
        account=account,
        to=tuple(to),
        cc=tuple(cc),
        subject=reply_subject(headers.subject),
        body="\n\n" + quote(original_text(opened), attribution(opened)),
        sign=policy.sign_default if policy is not None else False,
        encrypt=was_encrypted(opened) or (policy.encrypt_default if policy is not None else False),
        in_reply_to=message_id,
        references=(message_id,) if message_id else (),
    )
    return policy.apply(composition) if policy is not None else composition


def forward_of(
    opened: OpenedMessage, *, account: str, policy: SecurityPolicy | None = None
) -> Composition:
    """A forward of ``opened``, sent from ``account``, to recipients yet to be chosen.

    The body is a short header block (From, Date, Subject, To and Cc, those that were set)
    and then the original's root content as plain text, unquoted. The original's
    attachments are not forwarded: an attachment may be a nested signed or encrypted
    message, and re-sending its bytes under a new signature would vouch for what was
    never checked, so the user attaches what they mean to pass on. The forward is
    encrypted when the original was decrypted (whatever the policy's default), and signed
    as the policy says.
    """
    composition = Composition(
        account=account,
        subject=forward_subject(opened.headers.subject),
        body="\n\n" + forwarded(opened),
        sign=policy.sign_default if policy is not None else False,
        encrypt=was_encrypted(opened) or (policy.encrypt_default if policy is not None else False),
    )
    return policy.apply(composition) if policy is not None else composition


def was_encrypted(opened: OpenedMessage) -> bool:
    """The original was encrypted and decrypted: what answers or passes it on stays so."""
    return opened.report.encryption not in (EncryptionStatus.NONE, EncryptionStatus.FAILED)


def reply_subject(subject: str) -> str:
    """``Re: subject``, not doubled when it already is a reply."""
    subject = one_line(subject).strip()
    return subject if _REPLY_PREFIX.match(subject) else f"Re: {subject}"


def forward_subject(subject: str) -> str:
    """``Fwd: subject``, not doubled when it already is a forward."""
    subject = one_line(subject).strip()
    return subject if _FORWARD_PREFIX.match(subject) else f"Fwd: {subject}"


def forwarded(opened: OpenedMessage) -> str:
    """The forwarded part of a forward's body: the header block, then the root text."""
    headers = opened.headers
    fields = [
        ("From", headers.from_),
        ("Date", email.utils.format_datetime(headers.date) if headers.date else ""),
        ("Subject", headers.subject),
        ("To", headers.to),
    ]
    if headers.cc.strip():
        fields.append(("Cc", headers.cc))
    block = [f"{name}: {one_line(value).strip()}" for name, value in fields if value.strip()]
    text = original_text(opened).replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
    return "\n".join([FORWARD_SEPARATOR, *block, "", text]) + "\n"


# Characters of the original a reply or forward quotes: the composer lays its body out on
# the GUI thread, and nobody edits a 20 MB quote.
QUOTE_LIMIT = 500_000


def original_text(opened: OpenedMessage) -> str:
    """The root content as plain text: the text body, else the HTML body as text; cut
    (with a note) past :data:`QUOTE_LIMIT` characters."""
    if opened.text is not None and opened.text.strip():
        text = opened.text
    elif opened.html:
        text = html_to_text(opened.html)
    else:
        text = opened.text or ""
    if len(text) <= QUOTE_LIMIT:
        return text
    return text[:QUOTE_LIMIT] + f"\n[… {len(text) - QUOTE_LIMIT:,} more characters not quoted]"


def attribution(opened: OpenedMessage) -> str:
    """``On <date>, <sender> wrote:`` (one line of plain text)."""
    sender = one_line(opened.headers.from_).strip() or "someone"
    date = opened.headers.date
    if date is None:
        return f"{sender} wrote:"
    return f"On {email.utils.format_datetime(date)}, {sender} wrote:"


def quote(text: str, heading: str) -> str:
    """``heading`` then every line of ``text`` prefixed with ``> `` (``>`` when empty)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n").split("\n")
    quoted = [f"> {line}" if line else ">" for line in lines]
    return "\n".join([heading, *quoted]) + "\n"


def html_to_text(html: str) -> str:
    """The text of an HTML body: tags dropped, entities decoded, blocks on their own lines.

    The reader's HTML is already sanitised; this only ever produces plain text, so nothing
    of the markup can reach a reply.
    """
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return extractor.text()


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._hidden = 0
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        elif tag == "pre":
            self._pre += 1
        self._block(tag)
        if tag == "li":
            self._parts.append("- ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._block(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden = max(0, self._hidden - 1)
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)
        if tag != "br":
            self._block(tag)

    def _block(self, tag: str) -> None:
        if tag == "br":
            self._parts.append("\n")
        elif tag in _PARAGRAPH_TAGS:
            self._parts.append("\n\n")
        elif tag in _LINE_TAGS and self._parts and not self._parts[-1].endswith("\n"):
            self._parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if self._pre:
            self._parts.append(data.replace("\r\n", "\n"))
            return
        text = _SPACES.sub(" ", data.replace("\r", " ").replace("\n", " "))
        if not self._parts or self._parts[-1].endswith("\n"):
            text = text.lstrip(" ")  # no indent from the source's line breaks
        self._parts.append(text)

    def text(self) -> str:
        lines = [line.rstrip() for line in "".join(self._parts).split("\n")]
        # At most one empty line between blocks.
        kept: list[str] = []
        for line in lines:
            if line or (kept and kept[-1]):
                kept.append(line)
        return "\n".join(kept).strip("\n")


def _without(entries: list[str], seen: set[str], own: str | None) -> list[str]:
    kept = []
    for entry in entries:
        key = bare_address(entry).casefold()
        if not key or key in seen or key == own:
            continue
        seen.add(key)
        kept.append(one_line(entry))
    return kept


def _angle(message_id: str | None) -> str | None:
    if not message_id or not message_id.strip():
        return None
    value = one_line(message_id).strip()
    return value if value.startswith("<") else f"<{value}>"
