"""html_to_text: Mastodon's status HTML as the plain text a reader sees."""

from __future__ import annotations

import pytest

from listener.sources.html_text import html_to_text
from sandbox.mastodon_api import render_html


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Hello</p><p>world</p>", "Hello\n\nworld"),
        ("<p>one<br>two<br />three</p>", "one\ntwo\nthree"),
        (
            "a &amp; b &lt;script&gt;alert(1)&lt;/script&gt; &quot;q&quot;",
            'a & b <script>alert(1)</script> "q"',
        ),
        ("&amp;lt;b&amp;gt;", "&lt;b&gt;"),  # entities are decoded once, never twice
        ("<script>alert(1)</script>visible<style>p{}</style>", "visible"),
        ('<img src=x onerror="alert(1)">text', "text"),
        ('hi <img alt=":blobcat:" src="x.png"> there', "hi :blobcat: there"),
        ("<p>unclosed <b>bold", "unclosed bold"),
        ("  spaced \n  out  ", "spaced out"),
        ("", ""),
    ],
)
def test_markup_becomes_plain_text(html, text):
    assert html_to_text(html) == text


def test_mastodon_links_keep_their_whole_url_and_mentions_their_handle():
    html = (
        '<p><span class="h-card" translate="no"><a href="https://m.example/@northwindair" '
        'class="u-url mention">@<span>northwindair</span></a></span> see '
        '<a href="https://example.com/a/very/long/path" rel="nofollow noopener"><span '
        'class="invisible">https://</span><span class="ellipsis">example.com/a/very/lo</span>'
        '<span class="invisible">ng/path</span></a> <a href="https://m.example/tags/x" '
        'class="mention hashtag" rel="tag">#<span>FlyNorthwind</span></a></p>'
    )
    assert html_to_text(html) == (
        "@northwindair see https://example.com/a/very/long/path #FlyNorthwind"
    )


@pytest.mark.parametrize(
    "text",
    [
        "@northwindair lost my bag <b>help</b> & more",
        "<script>alert('pwned')</script> checkout is broken",
        "line one\nline two\n\nnew paragraph https://example.com/x?a=1&b=2 #tag",
        "\u202eriA dniwhtroN\u202c mixed \u200b invisible",
    ],
)
def test_what_the_sandbox_renders_reads_back_as_written(text):
    assert html_to_text(render_html(text, "https://m.example")) == text
