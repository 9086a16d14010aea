"""Mastodon's status HTML as plain text: what a reader sees, never markup.

Mastodon (and every ActivityPub server it federates with) sends `content` as HTML: paragraphs,
line breaks, links whose text is split into visible and "invisible" spans, mention and hashtag
links. The desk stores and matches plain text only, so this keeps the text of every element,
turns block boundaries into line breaks, decodes entities once, and drops what is never shown
(scripts, styles, templates). The result is text to be escaped wherever it is displayed, like any
stranger's text; the raw HTML stays in the mention's payload for whoever needs the original.

Built on the standard library's tolerant HTMLParser, so broken or hostile markup degrades to its
text instead of raising.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_DROPPED = {"script", "style", "template", "noscript", "iframe", "object"}
_BLOCKS = {"p", "div", "blockquote", "li", "ul", "ol", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}
_VOID = {"br", "img", "hr", "input", "meta", "link", "wbr", "source", "area", "col", "embed"}
_SPACES = re.compile(r"[ \t\f\v\r]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._dropped_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self._dropped_depth += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag == "img":
            # Custom emoji arrive as <img alt=":blobcat:">; their alt text is what they say.
            alt = dict(attrs).get("alt")
            if alt and self._dropped_depth == 0:
                self.parts.append(alt)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _DROPPED:  # <script/> opens nothing to close
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self._dropped_depth = max(self._dropped_depth - 1, 0)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._dropped_depth == 0:
            # Source line breaks inside HTML are only whitespace; <br> and blocks make lines.
            self.parts.append(data.replace("\n", " "))


def html_to_text(html: str) -> str:
    """The text a reader sees in `html`: paragraphs separated by a blank line, <br> as a newline."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    lines = [_SPACES.sub(" ", line).strip() for line in "".join(collector.parts).split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
