"""Text from messages, certificates and servers, shown by Qt as text, never as markup.

Qt guesses: a label, message box or tool tip whose text looks like HTML is rendered as
rich text. A subject such as ``<h1>Signature valid</h1>`` must not draw a heading, so
every such string goes through these helpers (or a widget set to PlainText).
"""

from __future__ import annotations

import html


def plain_tooltip(text: str) -> str:
    """A tool tip that shows ``text`` literally, even if it looks like markup."""
    return "<qt>" + html.escape(text).replace("\n", "<br>") + "</qt>"
