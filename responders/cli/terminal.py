"""Text written by strangers, made safe to print on a terminal line.

A mention may carry escape sequences (ESC [ 2 J clears the screen; ESC ] sets the window title
and, in some terminals, more) or bidi overrides that reorder what follows on the line. Printed as
they are, they act on the reader's terminal; here they are shown escaped instead, e.g. \\x1b.
"""

from __future__ import annotations

import unicodedata

# Bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069).
_BIDI_CONTROLS = frozenset(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))
_LINE_BREAKS = frozenset("\n\r\t\v\f\x85\u2028\u2029")


def one_line(text: str) -> str:
    """`text` for one terminal line: breaks become spaces, control characters are escaped."""
    return "".join(_shown(ch) for ch in text)


def _shown(ch: str) -> str:
    if ch in _LINE_BREAKS:
        return " "
    if ch in _BIDI_CONTROLS or unicodedata.category(ch) == "Cc":
        return ch.encode("unicode_escape").decode("ascii")
    return ch
