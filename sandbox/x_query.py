"""A small subset of X's search query language, enough for the queries mentiondesk builds.

Supported: bare words, "quoted phrases", @handles, #hashtags, implicit AND, OR, parentheses,
leading "-" negation, and the operators is:retweet, is:reply, is:quote, lang:xx, from:handle.
Terms match whole words, case-insensitively. Anything else is a syntax error, as on X (400).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol


class QuerySyntaxError(ValueError):
    """The query cannot be parsed; the API answers 400 with this message."""


@dataclass(frozen=True, slots=True)
class Doc:
    """What a query is matched against: one post, flattened."""

    text: str
    lang: str | None
    author_handle: str
    is_retweet: bool
    is_reply: bool
    is_quote: bool


class Node(Protocol):
    def matches(self, doc: Doc) -> bool: ...


@dataclass(frozen=True, slots=True)
class Term:
    pattern: re.Pattern[str]

    def matches(self, doc: Doc) -> bool:
        return self.pattern.search(doc.text) is not None


@dataclass(frozen=True, slots=True)
class Operator:
    name: str
    value: str

    def matches(self, doc: Doc) -> bool:
        if self.name == "is":
            return {
                "retweet": doc.is_retweet,
                "reply": doc.is_reply,
                "quote": doc.is_quote,
            }[self.value]
        if self.name == "lang":
            return (doc.lang or "").lower() == self.value.lower()
        # from:
        return doc.author_handle.lower() == self.value.lstrip("@").lower()


@dataclass(frozen=True, slots=True)
class Not:
    inner: Node

    def matches(self, doc: Doc) -> bool:
        return not self.inner.matches(doc)


@dataclass(frozen=True, slots=True)
class And:
    parts: tuple[Node, ...]

    def matches(self, doc: Doc) -> bool:
        return all(p.matches(doc) for p in self.parts)


@dataclass(frozen=True, slots=True)
class Or:
    parts: tuple[Node, ...]

    def matches(self, doc: Doc) -> bool:
        return any(p.matches(doc) for p in self.parts)


_IS_VALUES = ("retweet", "reply", "quote")
# "(", ")", a quoted phrase (optionally negated), or a run of anything else.
_PIECE = re.compile(r'\s*(?:(\()|(\))|(-?"[^"]*")|([^\s()"]+))')


def term_pattern(term: str) -> re.Pattern[str]:
    """Whole-word, case-insensitive; phrase words may be separated by any whitespace."""
    body = r"\s+".join(re.escape(w) for w in term.split())
    return re.compile(rf"(?<![\w@#]){body}(?!\w)", re.IGNORECASE)


def _split(query: str) -> list[str]:
    pieces: list[str] = []
    pos = 0
    query = query.rstrip()
    while pos < len(query):
        m = _PIECE.match(query, pos)
        if m is None or m.end() == pos:
            raise QuerySyntaxError(f"unterminated quote at position {pos}")
        pieces.append(next(g for g in m.groups() if g is not None))
        pos = m.end()
    return pieces


class _Parser:
    def __init__(self, pieces: list[str]) -> None:
        self.pieces = pieces
        self.pos = 0

    def peek(self) -> str | None:
        return self.pieces[self.pos] if self.pos < len(self.pieces) else None

    def take(self) -> str:
        piece = self.pieces[self.pos]
        self.pos += 1
        return piece

    def parse_or(self) -> Node:
        parts = [self.parse_and()]
        while self.peek() == "OR":
            self.take()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def parse_and(self) -> Node:
        parts: list[Node] = []
        while (piece := self.peek()) is not None and piece not in (")", "OR"):
            parts.append(self.parse_unary())
        if not parts:
            raise QuerySyntaxError("empty expression (check OR and parentheses)")
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def parse_unary(self) -> Node:
        piece = self.take()
        if piece == "-":
            # "-(" : the negation sign stood alone before a group
            if self.peek() != "(":
                raise QuerySyntaxError("a lone '-' must be followed by a term")
            return Not(self.parse_unary())
        if piece == "(":
            inner = self.parse_or()
            if self.peek() != ")":
                raise QuerySyntaxError("missing closing parenthesis")
            self.take()
            return inner
        if piece == ")":
            raise QuerySyntaxError("unexpected ')'")
        if piece.startswith("-") and len(piece) > 1:
            return Not(self._atom(piece[1:]))
        return self._atom(piece)

    def _atom(self, piece: str) -> Node:
        if piece.startswith('"'):
            phrase = piece.strip('"').strip()
            if not phrase:
                raise QuerySyntaxError("empty quoted phrase")
            return Term(term_pattern(phrase))
        name, sep, value = piece.partition(":")
        if sep and name.isalpha() and not piece.startswith(("@", "#")):
            if name == "is" and value in _IS_VALUES:
                return Operator("is", value)
            if name in ("lang", "from") and value:
                return Operator(name, value)
            raise QuerySyntaxError(f"Reference to invalid operator '{name}'")
        return Term(term_pattern(piece))


def parse_query(query: str) -> Node:
    pieces = _split(query)
    if not pieces:
        raise QuerySyntaxError("empty query")
    parser = _Parser(pieces)
    node = parser.parse_or()
    if parser.peek() is not None:
        raise QuerySyntaxError(f"unexpected '{parser.peek()}'")
    return node
