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
"""

from __future__ import annotations

import re

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
_ATTRIBUTES = {
    "*": {"title", "dir", "lang", "style"},
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
_LINK = re.compile(r"(?:https?|mailto):[^\s\x00-\x1f\x7f]+", re.IGNORECASE | re.ASCII)
_CID = re.compile(r"cid:[^\s\x00-\x1f\x7f]+", re.IGNORECASE | re.ASCII)
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


def sanitize_html(html: str) -> str:
    """Return ``html`` with only formatting left: safe to hand to a rich-text viewer.

    Args:
        html: the text of a text/html part, as decoded from the message.

    Returns:
        An HTML fragment without scripts, styles, forms, frames or objects, whose only
        resource references are ``cid:`` images and whose links are http(s) or mailto.
    """
    return nh3.clean(
        html,
        tags=set(_TAGS),
        clean_content_tags=set(_CLEAN_CONTENT),
        attributes={tag: set(names) for tag, names in _ATTRIBUTES.items()},
        attribute_filter=_filter,
        url_schemes=set(_URL_SCHEMES),
        strip_comments=True,
    )


def _filter(tag: str, attribute: str, value: str) -> str | None:
    """The per-attribute rule on top of ammonia's allow-list; None drops the attribute."""
    value = value.strip()
    if attribute == "src":
        return value if _CID.fullmatch(value) else None
    if attribute == "href":
        return value if _LINK.fullmatch(value) else None
    if attribute == "style":
        return _clean_style(value)
    if attribute == "rel":
        return value  # ammonia's own noopener noreferrer
    # Every other allowed attribute is a colour, a size, a name or a short text.
    if attribute in ("title", "alt"):
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
