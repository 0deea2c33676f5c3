"""HTML mail made safe to display: formatting kept, active and remote content removed.

The sanitising itself is done by nh3, the binding to Rust's ammonia (an HTML5 parser plus an
allow-list), not by hand-written filters; this module only chooses the allow-list and adds
a stricter rule for the few attributes that carry URLs or CSS:

- No remote reference survives. A mail client that loads a URL found in a message tells the
  sender that (and when, and from where) it was read, and EFAIL's direct exfiltration
  (Poddebniak et al., USENIX Security 2018) sends decrypted text to the attacker inside such
  a URL. So ``<img src>`` keeps only ``cid:`` references (RFC 2392: a part of this same
  message), and every ``style`` value that could hold a URL, an escape or a string is dropped.
- ``data:`` images are refused too. They leak nothing, but serving images from one place
  only (the message's own parts, through the reader's resource loader) keeps the rule
  "nothing renders that the reader did not hand over" simple and testable, and keeps large
  inline blobs out of the HTML the reader lays out.
- Links (``<a href>``) stay, as ``http``, ``https`` or ``mailto`` only: the reader shows
  them and never follows one by itself.
- Scripts, style sheets, forms, frames, objects, SVG and MathML are removed, the first ones
  with their content. ``<base>``, ``<meta>`` (refresh) and ``<link>`` never pass.
- No attribute that Qt turns into its own interface: ``title`` would become a rich-text tool
  tip, so a message could draw "<b>Signature valid</b>" (and a local image) in a bubble that
  looks like the application's.
- Links are ASCII only: a host in another script is given in its IDNA form, anything else
  non-ASCII is percent-encoded, and a link holding a control or bidi character (U+202E can
  make ``exe.pdf`` read ``fdp.exe``) is dropped; so the "Open link?" question shows what
  would really open. A ``mailto:`` link keeps only ``subject``, ``body`` and ``cc``: not
  ``attach=`` or anything else a mail program might act on.
- Nesting is bounded, because the reader lays the result out on the GUI thread.
  QTextDocument lays a table out again for every table around it, so layout time doubles
  with each nested level (20 levels take seconds, thousands crash it). Tables nested deeper
  than the document's size allows (five levels at most) are flattened, their cells becoming
  plain blocks, and any element nested deeper than 32 levels gives way to its content. A
  document with more tags than any real mail has is shown as text: html5ever's tree
  building is quadratic in the nesting depth, so even sanitising it would take seconds.
"""

from __future__ import annotations

import re
import string
import unicodedata
import urllib.parse
from collections import Counter
from dataclasses import dataclass
from html import escape, unescape
from html.parser import HTMLParser

import nh3

# Formatting that QTextBrowser can render and that mail actually uses.
_TAGS = frozenset(
    {
        "a", "abbr", "b", "big", "blockquote", "br", "caption", "center", "cite", "code",
        "col", "colgroup", "dd", "del", "dfn", "div", "dl", "dt", "em", "font",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark",
        "ol", "p", "pre", "q", "s", "samp", "small", "span", "strike", "strong", "sub",
        "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul", "var",
    }
)  # fmt: skip
# Removed together with everything inside them: their text is not meant to be read.
_CLEAN_CONTENT = frozenset(
    {
        "script", "style", "title", "noscript", "template", "iframe", "frame", "frameset",
        "noframes", "object", "embed", "applet", "svg", "math", "textarea", "select",
    }
)  # fmt: skip
_CELL = frozenset({"align", "valign", "width", "colspan", "rowspan", "bgcolor", "nowrap"})
# No "title" anywhere: Qt shows it as a tool tip, and renders that tip as rich text.
_ATTRIBUTES = {
    "*": {"dir", "lang", "style"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "font": {"color", "face", "size"},
    "table": {"align", "width", "border", "cellpadding", "cellspacing", "bgcolor"},
    "td": set(_CELL),
    "th": set(_CELL),
    "tr": {"align", "valign", "bgcolor"},
    "col": {"span", "width", "align"},
    "colgroup": {"span", "width", "align"},
    "p": {"align"},
    "div": {"align"},
    "h1": {"align"},
    "h2": {"align"},
    "h3": {"align"},
    "h4": {"align"},
    "h5": {"align"},
    "h6": {"align"},
    "ol": {"start", "type"},
    "ul": {"type"},
    "li": {"value"},
}
# ammonia checks schemes on href and src alike; _filter then narrows each attribute.
_URL_SCHEMES = frozenset({"http", "https", "mailto", "cid"})
# What a link is once _safe_link has made it ASCII: printable characters only, no space.
_LINK = re.compile(r"(?:https?://|mailto:)[!-~]+", re.IGNORECASE | re.ASCII)
_CID = re.compile(r"cid:[^\s\x00-\x1f\x7f]+", re.IGNORECASE | re.ASCII)
# Characters a link must not hold at all: controls, bidi and other format characters
# (U+202E, U+200E...), separators (spaces in any script) and unassigned code points.
_NOT_IN_LINKS = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})
# RFC 6068 hfields a mailto: link may set; "attach", "to", "bcc", "in-reply-to"... may not.
_MAILTO_FIELDS = frozenset({"subject", "body", "cc"})
# The style properties kept: colours, emphasis and alignment, none of which takes a URL.
_STYLE_PROPERTIES = frozenset(
    {
        "color", "background-color", "font-weight", "font-style", "font-size",
        "text-decoration", "text-align", "vertical-align",
    }
)  # fmt: skip
# A style value made only of words, numbers, #colours and rgb()/hsl() colours: no url(),
# no image-set(), no quotes and no backslash (a CSS escape can spell "url" in disguise).
_STYLE_VALUE = re.compile(
    r"(?:[#\w.%-]+|\b(?:rgba?|hsla?)\([\d\s.,%]*\)|[\s,])+", re.ASCII | re.IGNORECASE
)
_SIMPLE_VALUE = re.compile(r"[#\w.%,+ -]{0,64}", re.ASCII)

# Nesting bounds. Layout cost is estimated in units (a tag, or _CHARS_PER_UNIT characters of
# text), each counting double per kept table around it; tables are kept as deep as
# _LAYOUT_BUDGET allows, at most _MAX_TABLE_DEPTH levels (newsletters use four or five).
# The budget is about half a second of QTextDocument layout on a slow machine.
_MAX_DEPTH = 32
_MAX_TABLE_DEPTH = 5
_LAYOUT_BUDGET = 150_000
_CHARS_PER_UNIT = 20
# html5ever's "has an element in scope" walks make its tree building quadratic in the depth:
# 30,000 nested tags take seconds. Real mail stays far below this many tags.
_MAX_TAGS = 20_000
_TAG_START = re.compile(r"</?[A-Za-z]")
_VOID = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta",
        "param", "source", "track", "wbr",
    }
)  # fmt: skip
# Block elements: when one gives way to its content, a line break keeps the text apart.
_BLOCKS = frozenset(
    {
        "blockquote", "caption", "center", "dd", "div", "dl", "dt", "h1", "h2", "h3", "h4",
        "h5", "h6", "li", "ol", "p", "pre", "table", "tbody", "td", "tfoot", "th", "thead",
        "tr", "ul",
    }
)  # fmt: skip
_TABLE_PARTS = frozenset({"caption", "colgroup", "tbody", "td", "tfoot", "th", "thead", "tr"})
_CELLS = frozenset({"caption", "td", "th"})  # a flattened table's cells become <div>s
# The levels a container needs for its own parts (table > tbody > tr > td, ul > li).
_ROOM = {"table": 4, "ul": 2, "ol": 2, "dl": 2}
_ITEM_OF = {"li": ("ul", "ol"), "dd": ("dl",), "dt": ("dl",)}
# For the text of a document too complex to lay out: what is not text, and what ends a line.
_TEXT_TOKEN = re.compile(r"<!--|<(/?)([A-Za-z][^\t\n\f\r />]*)[^<>]*>?")
_NOT_TEXT = frozenset({"head", "script", "style", "title", "template", "textarea", "svg"})
_LINE_ENDS = frozenset({*_BLOCKS, "br", "hr"})


def sanitize_html(html: str, *, text_alternative: str | None = None) -> str:
    """Return ``html`` with only formatting left: safe to hand to a rich-text viewer.

    Args:
        html: the text of a text/html part, as decoded from the message.
        text_alternative: the message's plain-text body, shown instead when ``html`` is too
            complex to lay out (else the text of ``html`` itself is shown).

    Returns:
        An HTML fragment without scripts, styles, forms, frames or objects, whose only
        resource references are ``cid:`` images, whose links are ASCII http(s) or mailto,
        and whose nesting a rich-text viewer lays out quickly.
    """
    if sum(1 for _ in _TAG_START.finditer(html)) > _MAX_TAGS:
        return _as_text(text_alternative if text_alternative else _text_of(html))
    cleaned = nh3.clean(
        html,
        tags=set(_TAGS),
        clean_content_tags=set(_CLEAN_CONTENT),
        attributes={tag: set(names) for tag, names in _ATTRIBUTES.items()},
        attribute_filter=_filter,
        url_schemes=set(_URL_SCHEMES),
        strip_comments=True,
    )
    return _bound_nesting(cleaned)


# ---------------------------------------------------------------------------- attributes


def _filter(tag: str, attribute: str, value: str) -> str | None:
    """The per-attribute rule on top of ammonia's allow-list; None drops the attribute."""
    value = value.strip()
    if attribute == "src":
        return value if _CID.fullmatch(value) else None
    if attribute == "href":
        return _safe_link(value)
    if attribute == "style":
        return _clean_style(value)
    if attribute == "rel":
        return value  # ammonia's own noopener noreferrer
    # Every other allowed attribute is a colour, a size, a name or a short text.
    if attribute == "alt":
        return value
    return value if _SIMPLE_VALUE.fullmatch(value) else None


def _clean_style(value: str) -> str | None:
    kept: list[str] = []
    for declaration in value.split(";"):
        name, colon, declared = declaration.partition(":")
        name = name.strip().lower()
        declared = declared.strip()
        if colon and name in _STYLE_PROPERTIES and _STYLE_VALUE.fullmatch(declared):
            kept.append(f"{name}: {declared}")
    return "; ".join(kept) or None


def _safe_link(value: str) -> str | None:
    """An http(s) or mailto link made ASCII, or None when it cannot be shown faithfully."""
    if any(unicodedata.category(ch) in _NOT_IN_LINKS for ch in value):
        return None
    scheme, colon, rest = value.partition(":")
    scheme = scheme.lower()
    link: str | None = None
    if colon and scheme in ("http", "https"):
        link = _web_link(scheme, rest)
    elif colon and scheme == "mailto":
        link = _mailto_link(rest)
    return link if link is not None and _LINK.fullmatch(link) else None


def _web_link(scheme: str, rest: str) -> str | None:
    if not rest.startswith("//"):
        return None  # "http:host" means different things to different programs
    try:
        parts = urllib.parse.urlsplit(f"{scheme}:{rest}")
    except ValueError:
        return None
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if hostport.startswith("["):
        host, port = hostport, ""  # an IPv6 literal: urlsplit checked its brackets
        if not host.isascii():
            return None
    else:
        host, _colon, port = hostport.partition(":")
        if port and not (port.isascii() and port.isdigit()):
            return None
        try:
            # IDNA 2003 (Python's codec): "bücher.example" -> "xn--bcher-kva.example".
            host = host if host.isascii() else host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if not host:
        return None
    netloc = (_ascii(userinfo) + "@" if at else "") + host + (":" + port if port else "")
    return urllib.parse.urlunsplit(
        (scheme, netloc, _ascii(parts.path), _ascii(parts.query), _ascii(parts.fragment))
    )


def _mailto_link(rest: str) -> str:
    """RFC 6068: the addresses, then only the header fields in _MAILTO_FIELDS."""
    addresses, _question, query = rest.partition("#")[0].partition("?")
    kept = [
        field
        for field in query.split("&")
        if urllib.parse.unquote(field.partition("=")[0]).strip().lower() in _MAILTO_FIELDS
    ]
    return "mailto:" + _ascii(addresses) + ("?" + "&".join(map(_ascii, kept)) if kept else "")


def _ascii(text: str) -> str:
    """``text`` with every non-ASCII character percent-encoded (as UTF-8, RFC 3986)."""
    return urllib.parse.quote(text, safe=string.punctuation)


# ---------------------------------------------------------------------------- nesting


def _bound_nesting(cleaned: str) -> str:
    """``cleaned`` (ammonia's well-formed output) with its nesting bounded.

    A document within the bounds is returned as it is, so ordinary mail looks exactly as
    ammonia left it.
    """
    shape = _Shape()
    shape.feed(cleaned)
    shape.close()
    allowed = _table_depth_allowed(shape.units)
    if shape.max_depth <= _MAX_DEPTH and shape.max_tables <= allowed:
        return cleaned
    flattener = _Flattener(allowed)
    flattener.feed(cleaned)
    flattener.close()
    return flattener.result()


def _table_depth_allowed(units: Counter[int]) -> int:
    """The deepest table nesting whose estimated layout cost fits the budget (at least 1)."""
    for allowed in range(_MAX_TABLE_DEPTH, 1, -1):
        cost = sum(count << min(depth, allowed) for depth, count in units.items())
        if cost <= _LAYOUT_BUDGET:
            return allowed
    return 1


class _Shape(HTMLParser):
    """How deep a sanitised fragment nests, and how much it holds at each table depth."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._open: list[str] = []
        self._open_names: Counter[str] = Counter()
        self._tables = 0
        self.max_depth = 0
        self.max_tables = 0
        self.units: Counter[int] = Counter()  # layout units by the number of tables around

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.units[self._tables] += 1
        if tag in _VOID:
            return
        self._open.append(tag)
        self._open_names[tag] += 1
        self.max_depth = max(self.max_depth, len(self._open))
        if tag == "table":
            self._tables += 1
            self.max_tables = max(self.max_tables, self._tables)

    def handle_endtag(self, tag: str) -> None:
        if not self._open_names[tag]:
            return
        while True:
            top = self._open.pop()
            self._open_names[top] -= 1
            self._tables -= top == "table"
            if top == tag:
                return

    def handle_data(self, data: str) -> None:
        self.units[self._tables] += len(data) // _CHARS_PER_UNIT


@dataclass(frozen=True)
class _Open:
    tag: str  # as in the document
    written: str | None  # what was written for it: the tag, "div" for a cell, None: dropped


class _Flattener(HTMLParser):
    """Re-writes a sanitised fragment with tables and nesting within bounds.

    A table deeper than ``allowed_tables`` (or too deep for its parts to fit in _MAX_DEPTH)
    loses its table, section and row tags, and its cells become ``<div>``s. Any other element
    that would nest deeper than _MAX_DEPTH gives way to its content; a block that does leaves
    a line break behind, so its text does not run into the next block's.

    Only ammonia's output is fed in (every element closed, every attribute allowed): this
    drops and renames tags, it never lets one through that ammonia did not.
    """

    def __init__(self, allowed_tables: int) -> None:
        super().__init__(convert_charrefs=True)
        self._allowed_tables = allowed_tables
        self._out: list[str] = []
        self._stack: list[_Open] = []
        self._open_names: Counter[str] = Counter()
        self._table_stack: list[_Open] = []  # every <table> open, written or not
        self._depth = 0  # elements written and still open
        self._tables = 0  # tables written and still open
        self._text_since_break = False

    def result(self) -> str:
        while self._stack:  # ammonia closes everything; this only keeps the output balanced
            self._pop()
        return "".join(self._out)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            parent = self._stack[-1].written if self._stack else None
            if tag == "col" and parent not in ("colgroup", "table"):
                return  # the column of a flattened table
            self._write_tag(tag, attrs)
            self._text_since_break = tag == "img"
            return
        written = self._placed(tag)
        entry = _Open(tag, written)
        self._stack.append(entry)
        self._open_names[tag] += 1
        if tag == "table":
            self._table_stack.append(entry)
        if written is None:
            if tag in _BLOCKS:
                self._line_break()
            return
        self._write_tag(written, attrs if written == tag else [])
        self._depth += 1
        self._tables += written == "table"
        if tag in _BLOCKS:
            self._text_since_break = False

    def handle_endtag(self, tag: str) -> None:
        if not self._open_names[tag]:
            return
        while self._pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        self._out.append(escape(data, quote=False))
        if data.strip():
            self._text_since_break = True

    def _placed(self, tag: str) -> str | None:
        """What to write for a start tag here: itself, "div" (a cell), or None (dropped)."""
        if tag in _TABLE_PARTS:
            table = self._table_stack[-1] if self._table_stack else None
            if table is not None and table.written is not None:
                return tag  # a kept table keeps all its parts: _ROOM made space for them
            return "div" if tag in _CELLS and self._depth < _MAX_DEPTH else None
        if tag == "table" and self._tables >= self._allowed_tables:
            return None
        parent = self._stack[-1].written if self._stack else None
        if parent is not None and parent in _ITEM_OF.get(tag, ()):
            return tag  # the item of a kept list
        return tag if self._depth + _ROOM.get(tag, 1) <= _MAX_DEPTH else None

    def _pop(self) -> str:
        entry = self._stack.pop()
        self._open_names[entry.tag] -= 1
        if entry.tag == "table":
            self._table_stack.pop()
        if entry.written is not None:
            self._out.append(f"</{entry.written}>")
            self._depth -= 1
            self._tables -= entry.written == "table"
            if entry.tag in _BLOCKS:
                self._text_since_break = False
        elif entry.tag in _BLOCKS:
            self._line_break()
        return entry.tag

    def _write_tag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        written = "".join(f' {name}="{escape(value or "")}"' for name, value in attrs)
        self._out.append(f"<{tag}{written}>")

    def _line_break(self) -> None:
        if self._text_since_break:
            self._out.append("<br>")
            self._text_since_break = False


# ---------------------------------------------------------------------------- as text


def _text_of(html: str) -> str:
    """The text of an HTML document, in one linear pass and without building a tree.

    For documents too large to parse as HTML: tags go, block ends become line breaks, the
    content of scripts, styles and the head goes, and character references are decoded.
    """
    out: list[str] = []
    position = 0
    skipping: str | None = None  # inside <script> etc. until its end tag
    while (token := _TEXT_TOKEN.search(html, position)) is not None:
        if skipping is None:
            out.append(html[position : token.start()])
        position = token.end()
        if token.group(0) == "<!--":
            end = html.find("-->", position)
            position = len(html) if end < 0 else end + 3
            continue
        closing, name = token.group(1), token.group(2).lower()
        if skipping is not None:
            if closing and name == skipping:
                skipping = None
        elif not closing and name in _NOT_TEXT:
            skipping = name
        elif name in _LINE_ENDS:
            out.append("\n")
    if skipping is None:
        out.append(html[position:])
    return unescape("".join(out))


def _as_text(text: str) -> str:
    """Plain text as a fragment that shows it literally, one line per line."""
    lines = (" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n"))
    paragraphs = re.split(r"\n{2,}", "\n".join(lines).strip("\n"))
    notice = "<p><i>This message's formatting is too complex to show; here is its text.</i></p>"
    return notice + "".join(
        "<p>" + "<br>".join(escape(line, quote=False) for line in p.split("\n")) + "</p>"
        for p in paragraphs
        if p
    )
