"""Which posts the model can judge: empty, non-text, very long and foreign posts get flags.

Flagged posts still get a verdict, so they never block the queue; the flags tell people why to look.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from listener.classifying.labels import (
    FLAG_EMPTY,
    FLAG_NON_TEXT,
    FLAG_TOO_LONG,
    FLAG_UNSUPPORTED_LANGUAGE,
)

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"[@#]\w+")
# Language tags networks send for "no language" or "could not tell".
_UNKNOWN_LANGUAGES = {"und", "zxx", "qme", "qam", "qht", "qst", "art"}


@dataclass(frozen=True)
class ScreeningRules:
    max_chars: int = 2000
    supported_languages: tuple[str, ...] = ("en",)


@dataclass(frozen=True)
class Screened:
    text_for_model: str | None  # None: nothing the model can judge
    flags: tuple[str, ...] = field(default_factory=tuple)


def _letters(text: str) -> list[str]:
    return [ch for ch in text if ch.isalpha()]


def _mostly_latin(letters: list[str]) -> bool:
    latin = sum(1 for ch in letters if "LATIN" in unicodedata.name(ch, ""))
    return latin >= 0.5 * len(letters)


def screen(text: object, language: str | None, rules: ScreeningRules) -> Screened:
    if text is None or (isinstance(text, str) and not text.strip()):
        return Screened(None, (FLAG_EMPTY,))
    if not isinstance(text, str):
        return Screened(None, (FLAG_NON_TEXT,))
    letters = _letters(_HANDLE.sub(" ", _URL.sub(" ", text)))
    if not letters:  # only links, handles, emoji, digits or punctuation
        return Screened(None, (FLAG_NON_TEXT,))
    flags: list[str] = []
    if len(text) > rules.max_chars:
        flags.append(FLAG_TOO_LONG)
        text = text[: rules.max_chars]
    base = (language or "").split("-")[0].lower()
    declared_foreign = bool(base) and base not in _UNKNOWN_LANGUAGES
    if declared_foreign and base not in rules.supported_languages:
        flags.append(FLAG_UNSUPPORTED_LANGUAGE)
    elif not _mostly_latin(letters) and "en" in rules.supported_languages and base != "en":
        # Untagged posts in another script: the English model would mostly see unknown tokens.
        flags.append(FLAG_UNSUPPORTED_LANGUAGE)
    return Screened(text, tuple(flags))
