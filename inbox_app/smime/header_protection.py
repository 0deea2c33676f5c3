"""Header protection for S/MIME mail, RFC 9788, as pure functions over raw message bytes.

What is implemented, section by section:

- §2.1 the ``hp`` Content-Type parameter on the Cryptographic Payload: ``hp="clear"`` for
  signed-only mail, ``hp="cipher"`` for encrypted mail.
- §2.2 the ``HP-Outer`` header field: inside an encrypted payload, one line per header field
  left on the outer message, recording its outer value; a protected field without one was
  removed from the outside altogether.
- §3.2.1 the baseline Header Confidentiality Policy ``hcp_baseline``: the Subject is replaced
  by ``[...]``, Comments and Keywords are removed, every other field is left as it is.
- §5.2.1 composing: the message's non-structural header fields are copied into the payload's
  header section, the Content-* fields move there too (MIME-Version is the caller's to add to
  the outer message), and for encryption the outer header section is what the HCP makes of
  them. Header fields added in transit (§7: Received, DKIM-Signature, ARC-*, ...) are never
  copied inside; nor is Bcc, whose protected copy would show every recipient who was
  blind-copied (§11.4 leaves the choice open; it stays on the outer fields for the submission
  agent to strip, as without header protection).
- §5.2.2 and §5.2.3 the Legacy Display Element: for an encrypted message whose user-facing
  fields the HCP obscured, the main body parts (a text/plain or text/html part; the first part
  of a multipart/mixed or multipart/related; every part of a multipart/alternative) begin with
  those fields, marked ``hp-legacy-display="1"``.
- §4 receiving: a payload that carries ``hp`` is rendered with its protected header fields;
  ``hp="cipher"`` only counts behind an encryption layer (§10.2: anything else could add it to
  signed-only mail to claim confidentiality); §4.2.1 ``HP-Outer`` records are split at their
  first colon, and in signed-only mail they are informational only; §4.5.3 the Legacy Display
  Element is removed when the protected fields are shown (text: everything up to the first
  blank line; HTML: the ``header-protection-legacy-display`` div); §10.1 a protected From whose
  addresses differ from the outer From is reported.

Not implemented: other policies than ``hcp_baseline`` (``hcp_shy``, ``hcp_no_confidentiality``);
reading RFC 8551's wrapped ``message/rfc822`` payloads and Autocrypt's ``protected-headers="v1"``
(§4.10); working out which fields were confidential for replies (§4.3.1, §6).

Nothing here decides a security status: the cryptographic layers do that. Header protection
only decides what to display. Bodies are never re-serialised, except the one text part a
Legacy Display Element is added to or removed from.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email.errors
import email.header
import email.utils
import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from inbox_app.smime import mime
from inbox_app.smime.errors import MalformedError

HP_PARAM = "hp"
HP_CIPHER = "cipher"
HP_CLEAR = "clear"
HP_OUTER = "hp-outer"
LEGACY_DISPLAY_PARAM = "hp-legacy-display"
LEGACY_DISPLAY_CLASS = "header-protection-legacy-display"
OBSCURED_SUBJECT = "[...]"

# §7: fields that transport adds; they describe the delivery, not what the author wrote.
_TRANSIT = frozenset(
    {
        "received",
        "return-path",
        "delivered-to",
        "dkim-signature",
        "authentication-results",
        "arc-seal",
        "arc-message-signature",
        "arc-authentication-results",
    }
)
# Never copied inside: a protected copy would reach every recipient.
_BLIND = frozenset({"bcc", "resent-bcc"})
# RFC 9788 §1.1 (RFC 9787 §1.1.2): the fields a reader sees as "the header".
_USER_FACING = frozenset(
    {
        "subject",
        "from",
        "to",
        "cc",
        "date",
        "reply-to",
        "followup-to",
        "sender",
        "resent-from",
        "resent-to",
        "resent-cc",
        "resent-date",
        "resent-sender",
    }
)
_MAX_DEPTH = 16
_MAX_LINE = 998
_HTML_BODY = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
_HTML_DIV_OPEN = re.compile(r"<div\b([^>]*)>", re.IGNORECASE)
_HTML_DIV_ANY = re.compile(r"<(/?)div\b[^>]*>", re.IGNORECASE)
_HTML_CLASS = re.compile(r"""\bclass\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


@dataclass(frozen=True)
class WrappedMessage:
    """A message split for a cryptographic layer.

    Attributes:
        outer_fields: header fields for the outer message, each line CRLF-terminated, with no
            MIME-Version or Content-* field.
        payload: the Cryptographic Payload entity: its header section (Content-* fields with
            ``hp=...``, the protected fields, HP-Outer fields), an empty line, and the body,
            all with CRLF line ends.
    """

    outer_fields: bytes
    payload: bytes


@dataclass(frozen=True)
class ProtectedView:
    """What to display of a payload that a cryptographic layer protected.

    Attributes:
        fields: the protected header fields to display, lower-case names and unfolded values,
            in order; ``()`` when the payload carries no header protection that counts.
        hp: ``"cipher"``, ``"clear"``, or ``None`` when there is no header protection.
        outer: the HP-Outer records found, as (lower-case name, value).
        warnings: one line each, e.g. the protected From differing from the outer From.
        display_entity: the payload entity to display; its Legacy Display Elements are removed
            when the protected fields are shown.
    """

    fields: tuple[tuple[str, str], ...]
    hp: str | None
    outer: tuple[tuple[str, str], ...]
    warnings: tuple[str, ...]
    display_entity: bytes


@dataclass(frozen=True)
class _Field:
    name: str  # lower case
    raw: bytes  # the field's lines as written, CRLF-terminated
    value: str  # unfolded

    @property
    def display_name(self) -> str:
        """The field name as the author spelled it."""
        return self.raw.partition(b":")[0].strip().decode("ascii", "replace")


# --------------------------------------------------------------------------------------------
# Composing (§5.2)


def wrap_for_signing(message: bytes) -> WrappedMessage:
    """Split a message for a signed-only layer with header protection (RFC 9788 §5.2.1).

    The payload carries copies of the message's header fields and its Content-* fields, with
    ``hp="clear"`` on its Content-Type. The outer fields are the message's own, unchanged:
    nothing is confidential, so there is no HCP and no HP-Outer (§2.2).

    Args:
        message: a whole RFC 5322 message.

    Returns:
        The outer header fields and the Cryptographic Payload.

    Raises:
        MalformedError: the header section or the Content-Type cannot be parsed.
    """
    fields, body = _split_message(message)
    outer: list[bytes] = []
    protected: list[bytes] = []
    content: list[_Field] = []
    for field in fields:
        if _is_structural(field.name):
            content.append(field)
        elif field.name == HP_OUTER:
            continue  # a claim only a composer may make, and only inside
        else:
            outer.append(field.raw)
            if _is_protected(field.name):
                protected.append(field.raw)
    body = mime.canonicalize_line_endings(body)
    header = b"".join(protected) + _content_fields(content, body, HP_CLEAR)
    return WrappedMessage(b"".join(outer), header + b"\r\n" + body)


def wrap_for_encryption(message: bytes, *, legacy_display: bool = True) -> WrappedMessage:
    """Split a message for an encryption layer with header protection (RFC 9788 §5.2.1).

    The payload carries the message's header fields as written, ``hp="cipher"``, and one
    HP-Outer field for every field left on the outer message. The outer fields are what
    ``hcp_baseline`` (§3.2.1) makes of the protected ones: the Subject becomes ``[...]``,
    Comments and Keywords are dropped. Fields added in transit and Bcc stay outside only.

    Args:
        message: a whole RFC 5322 message.
        legacy_display: add a Legacy Display Element (§5.2.2) to the main body parts, for
            readers that decrypt but do not know header protection. Skipped when no
            user-facing field was obscured, or when the body has no text part that can take
            one (a non-text body, an attachment, an unknown charset).

    Returns:
        The outer header fields and the Cryptographic Payload.

    Raises:
        MalformedError: the header section, the Content-Type, the MIME structure of the main
            body parts or a transfer encoding cannot be parsed.
    """
    fields, body = _split_message(message)
    outer: list[bytes] = []
    protected: list[bytes] = []
    recorded: list[bytes] = []
    content: list[_Field] = []
    display: list[str] = []
    for field in fields:
        if _is_structural(field.name):
            content.append(field)
            continue
        if field.name == HP_OUTER:
            continue
        if not _is_protected(field.name):
            outer.append(field.raw)
            continue
        protected.append(field.raw)
        obscured = _hcp_baseline(field.name, field.value)
        if obscured is not None:
            line = (
                field.raw
                if obscured == field.value
                else field.display_name.encode("ascii") + b": " + obscured.encode() + b"\r\n"
            )
            outer.append(line)
            recorded.append(b"HP-Outer: " + line)
        if obscured != field.value and field.name in _USER_FACING:
            display.append(f"{field.display_name}: {_decoded_value(field.value)}")
    body = mime.canonicalize_line_endings(body)
    if legacy_display and display:
        content, body = _with_legacy_display(content, body, display)
    header = b"".join(protected) + b"".join(recorded) + _content_fields(content, body, HP_CIPHER)
    return WrappedMessage(b"".join(outer), header + b"\r\n" + body)


def _hcp_baseline(name: str, value: str) -> str | None:
    """RFC 9788 §3.2.1 ``hcp_baseline``: the outer value of a field, None to remove it."""
    if name == "subject":
        return OBSCURED_SUBJECT
    if name in ("comments", "keywords"):
        return None
    return value


def _is_structural(name: str) -> bool:
    return name.startswith("content-") or name == "mime-version"


def _is_protected(name: str) -> bool:
    return not (name in _TRANSIT or name in _BLIND or name.startswith("arc-") or name == HP_OUTER)


def _split_message(message: bytes) -> tuple[list[_Field], bytes]:
    """The header fields of a message (raw lines and values, aligned) and its body."""
    header_block, body = mime.split_header_body(message)
    if header_block.startswith(b"From "):  # an mbox separator line, not a field
        header_block = header_block.partition(b"\n")[2]
    return _parse_fields(header_block), body


def _parse_fields(header_block: bytes) -> list[_Field]:
    """Each header field's name, raw lines and unfolded value, in order."""
    values = mime.parse_header_block(header_block)
    lines = mime.field_lines(header_block)
    if len(values) != len(lines):
        raise MalformedError("the header section cannot be parsed")
    return [_Field(name, raw, value) for (name, value), (_, raw) in zip(values, lines, strict=True)]


def _content_fields(content: list[_Field], body: bytes, hp: str) -> bytes:
    """The payload's Content-* fields, its Content-Type carrying ``hp``."""
    result: list[bytes] = []
    typed = False
    for field in content:
        if field.name == "mime-version":
            continue  # the caller puts it on the outer message
        if field.name == "content-type":
            if typed:
                raise MalformedError("the content-type field occurs more than once")
            typed = True
            result.append(
                _set_params(field.raw, mime.parse_content_type(field.value), {HP_PARAM: hp})
            )
        else:
            result.append(field.raw)
    if not typed:
        charset = "us-ascii" if body.isascii() else "utf-8"
        line = f'Content-Type: text/plain; charset={charset}; {HP_PARAM}="{hp}"\r\n'
        result.insert(0, line.encode("ascii"))
    return b"".join(result)


def _set_params(
    raw: bytes,
    ctype: mime.ContentType,
    params: dict[str, str | None],
) -> bytes:
    """A Content-Type field with ``params`` set (or removed, for None values).

    When only new parameters are added, the field is kept as written and they are appended;
    otherwise it is written afresh from its parsed form.
    """
    if all(ctype.param(name) is None for name in params):
        added = b"".join(
            b";\r\n " + _format_param(name, value).encode("ascii")
            for name, value in params.items()
            if value is not None
        )
        return raw.rstrip(b"\r\n").rstrip(b" \t;") + added + b"\r\n"
    merged = dict(ctype.params)
    for name, value in params.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    field_name = raw.partition(b":")[0].strip() or b"Content-Type"
    return (
        field_name
        + b": "
        + ctype.value.encode("utf-8", "surrogateescape")
        + b"".join(
            b";\r\n " + _format_param(key, value).encode("utf-8", "surrogateescape")
            for key, value in merged.items()
        )
        + b"\r\n"
    )


def _format_param(name: str, value: str) -> str:
    if not value.isascii():  # RFC 2231 §4
        encoded = value.encode("utf-8", "surrogateescape")
        return f"{name}*=utf-8''" + "".join(
            chr(byte) if chr(byte).isalnum() or chr(byte) in "-._~" else f"%{byte:02X}"
            for byte in encoded
        )
    if name in (HP_PARAM, LEGACY_DISPLAY_PARAM) or not _TOKEN.match(value):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{name}="{escaped}"'
    return f"{name}={value}"


def _decoded_value(value: str) -> str:
    """A header value for a reader: RFC 2047 encoded words decoded, invalid bytes replaced."""
    text = _plain(value)
    if "=?" not in text:
        return text
    try:
        return str(email.header.make_header(email.header.decode_header(text)))
    except (email.errors.HeaderParseError, ValueError, LookupError, UnicodeError):
        return text


def _plain(value: str) -> str:
    """A str without surrogate escapes (undecodable bytes become U+FFFD)."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


# --------------------------------------------------------------------------------------------
# The Legacy Display Element (§5.2.2, §5.2.3; removal §4.5.3)

_LeafEdit = Callable[[str, str], str | None]  # (text, subtype) -> new text, or None


def _with_legacy_display(
    content: list[_Field], body: bytes, lines: list[str]
) -> tuple[list[_Field], bytes]:
    """Add a Legacy Display Element to the main body parts, when the body can take one."""
    header = b"".join(field.raw for field in content if field.name != "mime-version")
    edited = _edit_main_parts(
        header + b"\r\n" + body, _adder(lines), {LEGACY_DISPLAY_PARAM: "1"}, depth=0
    )
    if edited is None:
        return content, body
    new_header, new_body = mime.split_header_body(edited)
    return _parse_fields(new_header), new_body


def _adder(lines: list[str]) -> _LeafEdit:
    def add(text: str, subtype: str) -> str | None:
        if subtype == "plain":
            return "".join(line + "\r\n" for line in lines) + "\r\n" + text
        element = (
            f'<div class="{LEGACY_DISPLAY_CLASS}">\r\n<pre>'
            + html.escape("\r\n".join(lines), quote=False)
            + "</pre>\r\n</div>\r\n"
        )
        match = _HTML_BODY.search(text)
        if match is None:
            return element + text
        end = match.end()
        return text[:end] + "\r\n" + element + text[end:].removeprefix("\r\n")

    return add


def _remove_legacy_display(text: str, subtype: str) -> str | None:
    if subtype == "plain":
        # §4.5.3.2: everything up to and including the first blank line.
        position = 0
        for line in text.splitlines(keepends=True):
            position += len(line)
            if not line.strip("\r\n"):
                return text[position:]
        return None
    result = text
    changed = False
    while True:
        span = _legacy_div(result)
        if span is None:
            break
        start, end = span
        rest = result[end:]
        rest = rest[2:] if rest.startswith("\r\n") else rest.removeprefix("\n")
        result = result[:start] + rest
        changed = True
    return result if changed else None


def _legacy_div(text: str) -> tuple[int, int] | None:
    """The span of the first ``div`` of the legacy display class, closing tag included."""
    for opening in _HTML_DIV_OPEN.finditer(text):
        classes = _HTML_CLASS.search(opening.group(1))
        if classes is None:
            continue
        tokens = next(group for group in classes.groups() if group is not None).split()
        if LEGACY_DISPLAY_CLASS not in tokens:
            continue
        depth = 1
        for tag in _HTML_DIV_ANY.finditer(text, opening.end()):
            depth += -1 if tag.group(1) else 1
            if depth == 0:
                return opening.start(), tag.end()
        return None
    return None


def _edit_main_parts(
    entity: bytes,
    edit: _LeafEdit,
    params: dict[str, str | None],
    *,
    depth: int,
    marked_only: bool = False,
) -> bytes | None:
    """``entity`` with ``edit`` applied to its main body parts, or None when none changed.

    Main body parts: a text/plain or text/html entity that is not an attachment; the first
    part of a multipart/mixed or multipart/related; every part of a multipart/alternative.
    """
    if depth > _MAX_DEPTH:
        return None
    parsed = mime.parse_entity(entity)
    ctype = parsed.content_type
    disposition = parsed.get_one("content-disposition") or ""
    if disposition.strip().lower().startswith("attachment"):
        return None
    if ctype.value in ("text/plain", "text/html"):
        if marked_only and (ctype.param(LEGACY_DISPLAY_PARAM) or "").strip() != "1":
            return None
        return _edit_leaf(parsed, ctype, edit, params)
    if ctype.maintype != "multipart":
        return None
    if ctype.value == "multipart/alternative":
        targets: Sequence[int] | None = None
    elif ctype.value in ("multipart/mixed", "multipart/related"):
        targets = (0,)
    else:
        return None  # signed, encrypted, report...: not ours to touch
    boundary = ctype.param("boundary")
    if not boundary:
        raise MalformedError("multipart entity without a boundary")
    body = parsed.body
    spans = _part_spans(body, boundary)
    chosen = range(len(spans)) if targets is None else [i for i in targets if i < len(spans)]
    changed = False
    for index in sorted(chosen, reverse=True):
        start, end = spans[index]
        new_part = _edit_main_parts(
            body[start:end], edit, params, depth=depth + 1, marked_only=marked_only
        )
        if new_part is not None:
            body = body[:start] + new_part + body[end:]
            changed = True
    return parsed.header_block + _blank_line(entity, parsed) + body if changed else None


def _blank_line(entity: bytes, parsed: mime.Entity) -> bytes:
    """The empty line that separated the header block from the body, as written."""
    return entity[len(parsed.header_block) : len(entity) - len(parsed.body)]


def _part_spans(body: bytes, boundary: str) -> list[tuple[int, int]]:
    """Where each body part of a multipart body lies (RFC 2046 §5.1.1)."""
    parts = mime.split_multipart(body, boundary)  # validates the structure
    marker = b"--" + boundary.encode("ascii")
    spans: list[tuple[int, int]] = []
    cursor = 0
    for part in parts:
        while True:
            found = body.find(marker, cursor)
            if found < 0:
                raise MalformedError("the multipart body cannot be parsed")
            cursor = found + 1
            line_end = body.find(b"\n", found)
            if line_end < 0:
                raise MalformedError("the multipart body cannot be parsed")
            at_line_start = found == 0 or body[found - 1] == 0x0A
            rest_of_line = body[found + len(marker) : line_end].strip(b" \t\r")
            start = line_end + 1
            if at_line_start and not rest_of_line and body.startswith(part, start):
                spans.append((start, start + len(part)))
                cursor = start + len(part)
                break
    return spans


def _edit_leaf(
    parsed: mime.Entity,
    ctype: mime.ContentType,
    edit: _LeafEdit,
    params: dict[str, str | None],
) -> bytes | None:
    charset = (ctype.param("charset") or "us-ascii").strip().lower()
    try:
        codec = codecs.lookup(charset).name
        text = parsed.decoded_body().decode(codec)
    except (LookupError, UnicodeError):
        return None  # a charset we cannot read: leave the part alone
    new_text = edit(text, ctype.value.partition("/")[2])
    if new_text is None:
        return None
    new_params = dict(params)
    try:
        data = new_text.encode(codec)
    except (LookupError, UnicodeError):
        data = new_text.encode("utf-8")
        new_params["charset"] = "utf-8"
    encoding = parsed.transfer_encoding
    if encoding == "base64":
        encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
    elif encoding == "quoted-printable" or (encoding == "7bit" and not _is_seven_bit(data)):
        encoding = "quoted-printable"
        text_lf = data.replace(b"\r\n", b"\n")
        encoded = binascii.b2a_qp(text_lf, istext=True).replace(b"\n", b"\r\n")
    else:
        encoded = data
    header: list[bytes] = []
    typed = False
    for name, raw in mime.field_lines(parsed.header_block):
        if name == "content-type":
            typed = True
            raw = _set_params(raw, ctype, new_params)
        elif name == "content-transfer-encoding" and encoding != parsed.transfer_encoding:
            raw = b"Content-Transfer-Encoding: " + encoding.encode("ascii") + b"\r\n"
        header.append(raw)
    if not typed:
        header.insert(
            0,
            _set_params(
                b"Content-Type: " + ctype.value.encode("ascii") + b"\r\n",
                mime.ContentType(ctype.value, {}),
                {"charset": charset, **new_params},
            ),
        )
    if encoding != parsed.transfer_encoding and parsed.get_one("content-transfer-encoding") is None:
        header.append(b"Content-Transfer-Encoding: " + encoding.encode("ascii") + b"\r\n")
    return b"".join(header) + b"\r\n" + encoded


def _is_seven_bit(data: bytes) -> bool:
    return (
        data.isascii()
        and b"\x00" not in data
        and data.count(b"\r") == data.count(b"\r\n")
        and max(map(len, data.split(b"\n"))) <= _MAX_LINE + 1
    )


# --------------------------------------------------------------------------------------------
# Receiving (§4)


def read_protected_headers(
    payload: bytes,
    outer_fields: list[tuple[str, str]],
    *,
    encrypted: bool,
    parsed: mime.Entity | None = None,
) -> ProtectedView:
    """Decide what to display of a payload that a cryptographic layer protected (RFC 9788 §4).

    ``hp="cipher"`` counts only when ``encrypted`` is true (§10.2: on signed-only mail it
    would be a false claim of confidentiality); ``hp="clear"`` counts either way. When ``hp``
    counts, the protected fields are returned for display, the HP-Outer records alongside,
    and the Legacy Display Element is removed from the entity to display (§4.5.3).

    Args:
        payload: the entity a cryptographic layer protected, after decryption or verification.
        outer_fields: the outer message's fields, as ``mime.parse_header_block`` returns them.
        encrypted: whether an encryption layer was removed to reach ``payload``.
        parsed: ``payload`` already parsed, when the caller has it.

    Returns:
        The view to display. Without header protection, ``fields`` is empty and
        ``display_entity`` is ``payload`` unchanged.

    Raises:
        MalformedError: the payload's header section, Content-Type or MIME structure cannot be
            parsed.
    """
    if parsed is None:
        parsed = mime.parse_entity(payload)
    stated = (parsed.content_type.param(HP_PARAM) or "").strip().lower()
    if stated == HP_CIPHER and not encrypted:
        warning = 'hp="cipher" on a payload that was not encrypted: header protection ignored'
        return ProtectedView((), None, (), (warning,), payload)
    if stated not in (HP_CIPHER, HP_CLEAR):
        return ProtectedView((), None, (), (), payload)
    fields: list[tuple[str, str]] = []
    outer: list[tuple[str, str]] = []
    warnings: list[str] = []
    for name, value in parsed.fields:
        if _is_structural(name):
            continue
        if name != HP_OUTER:
            fields.append((name, _plain(value)))
            continue
        recorded_name, colon, recorded_value = value.partition(":")
        recorded_name = recorded_name.strip()
        if not colon or not recorded_name:
            warnings.append("an HP-Outer field without a field name was ignored")
            continue
        outer.append((recorded_name.lower(), _plain(recorded_value.strip())))
    mismatch = _from_mismatch(fields, outer_fields)
    if mismatch:
        warnings.append(mismatch)
    edited = None
    if LEGACY_DISPLAY_PARAM.encode() in payload:  # most payloads have no element to remove
        edited = _edit_main_parts(
            payload,
            _remove_legacy_display,
            {LEGACY_DISPLAY_PARAM: None},
            depth=0,
            marked_only=True,
        )
    return ProtectedView(
        tuple(fields),
        stated,
        tuple(outer),
        tuple(warnings),
        payload if edited is None else edited,
    )


def _from_mismatch(
    fields: list[tuple[str, str]], outer_fields: list[tuple[str, str]]
) -> str | None:
    """§10.1: the warning when the protected From names other addresses than the outer one."""
    inner_values = [value for name, value in fields if name == "from"]
    if not inner_values:
        return None
    if inner_values == [_plain(value) for name, value in outer_fields if name.lower() == "from"]:
        return None  # the same text: no need to parse addresses
    inner = _addresses(inner_values)
    if not inner:
        return None
    outside = _addresses(value for name, value in outer_fields if name.lower() == "from")
    if inner == outside:
        return None
    return "the protected From differs from the outer From"


def _addresses(values: Iterable[str]) -> frozenset[str]:
    """The addr-specs of address-list values, lower case (domains compare case-blind)."""
    found: set[str] = set()
    for value in values:
        for _, address in email.utils.getaddresses([_plain(value)]):
            if address:
                found.add(address.strip().lower())
    return frozenset(found)


def protected_header_json(view: ProtectedView) -> dict[str, str]:
    """The protected fields as the CLI's ``protected_headers`` JSON object.

    Args:
        view: what :func:`read_protected_headers` returned.

    Returns:
        Lower-case field names to values; a repeated field's values joined with ``", "``.
    """
    result: dict[str, str] = {}
    for name, value in view.fields:
        result[name] = f"{result[name]}, {value}" if name in result else value
    return result
