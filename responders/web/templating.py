"""Jinja2 rendering with the layout's context: who is logged in, the nav, the CSRF field.

Autoescape is on for everything. Text from strangers (mention text, author names, links) goes
through the filters here, never `|safe`: `linkify` and `external_link` only ever make http(s)
links, with rel="noopener nofollow".
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape

from config.classifier import UNSURE_BELOW
from listener.classifying.labels import (
    FLAG_EMPTY,
    FLAG_NON_TEXT,
    FLAG_SECOND_OPINION_COMPLAINT,
    FLAG_SECOND_OPINION_SENTIMENT,
    FLAG_TOO_LONG,
    FLAG_UNSUPPORTED_LANGUAGE,
)
from responders.web.auth import CSRF_FIELD, CurrentUser
from responders.web.routes import visible_nav

TEMPLATES_DIR = Path(__file__).parent / "templates"
_URL = re.compile(r"https?://[^\s<>\"']+")
_TRAILING = ".,;:!?)]}'\""  # punctuation that ends a sentence rather than the link


def safe_http_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) link; None for javascript:, data:, relative..."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def external_link(url: str | None, label: str | None = None) -> Markup:
    """An <a> to someone else's site, or just the escaped text when the URL is not http(s)."""
    text = label if label is not None else (url or "")
    safe = safe_http_url(url)
    if safe is None:
        return Markup("<span>{}</span>").format(text)
    return Markup('<a href="{}" rel="noopener nofollow noreferrer" target="_blank">{}</a>').format(
        safe, text
    )


def linkify(text: str | None) -> Markup:
    """Escaped text with its http(s) URLs as links."""
    if not text:
        return Markup("")
    out: list[Markup] = []
    position = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        end = match.start() + len(url)
        out.append(escape(text[position : match.start()]))
        out.append(external_link(url))
        position = end
    out.append(escape(text[position:]))
    return Markup("").join(out)


def iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def short_time(value: datetime | str | None) -> str:
    """'2026-06-01 10:00 UTC' from a datetime or an ISO string (as listener.stats gives)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def time_left(due: datetime | None, now: datetime) -> str:
    """'12m left', '1h 5m left', 'overdue 3m': the same words app.js keeps counting down."""
    if due is None:
        return ""
    seconds = int((due - now).total_seconds())
    span = abs(seconds)
    hours, minutes = divmod(span // 60, 60)
    days, hours = divmod(hours, 24)
    if days:
        text = f"{days}d {hours}h"
    elif hours:
        text = f"{hours}h {minutes}m"
    elif minutes:
        text = f"{minutes}m"
    else:
        text = f"{span}s"
    return f"{text} left" if seconds >= 0 else f"overdue {text}"


def ago(value: datetime | None, now: datetime) -> str:
    """'just now', '12 min ago', '3 h ago', '2 days ago'."""
    if value is None:
        return ""
    seconds = (now - value).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    return f"{days} day{'s' if days > 1 else ''} ago"


# What each verdict flag tells the person reading the mention; an unknown flag shows as it is.
FLAG_WORDS = {
    FLAG_EMPTY: "empty: not judged",
    FLAG_NON_TEXT: "no words to judge",
    FLAG_TOO_LONG: "too long: judged on its beginning",
    FLAG_UNSUPPORTED_LANGUAGE: "language the model does not know: judged poorly",
    FLAG_SECOND_OPINION_SENTIMENT: "sentiment from the second opinion",
    FLAG_SECOND_OPINION_COMPLAINT: "complaint flag from the second opinion",
}


def flag_words(flag: str) -> str:
    return FLAG_WORDS.get(flag, flag)


# Flags that make a verdict's tags untrustworthy, as a queue row says so in a word or two.
CAUTION_TAGS = {
    FLAG_UNSUPPORTED_LANGUAGE: "other language",
    FLAG_TOO_LONG: "read in part",
    FLAG_NON_TEXT: "no words",
    FLAG_EMPTY: "empty",
}


def caution_tags(flags: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    """(short tag, the flag's full words) for each flag a queue row should warn about."""
    return [(CAUTION_TAGS[flag], flag_words(flag)) for flag in flags if flag in CAUTION_TAGS]


def sureness(percent: int | None) -> Markup:
    """ " · 92 %" after a verdict's tag: how sure the model was; marked where it was unsure."""
    if percent is None:
        return Markup("")
    unsure = percent < round(100 * UNSURE_BELOW)
    title = "the model was unsure: read the post" if unsure else "how sure the model was"
    kind = "sure unsure" if unsure else "sure"
    return Markup(' · <span class="{}" title="{}">{} %</span>').format(kind, title, percent)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every template, whatever its extension
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        linkify=linkify,
        external_link=external_link,
        iso=iso,
        short_time=short_time,
        time_left=time_left,
        ago=ago,
        flag_words=flag_words,
        caution_tags=caution_tags,
        sureness=sureness,
    )
    return env


templates = Jinja2Templates(env=_environment())


def csrf_field(token: str | None) -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token or "")


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    active: str | None = None,
) -> HTMLResponse:
    """A page in the layout. `active` is the nav key to highlight (defaults to the path's first
    segment). Context keys every template gets: user, csrf_token, csrf_field, nav, active."""
    user: CurrentUser | None = getattr(request.state, "user", None)
    token = user.csrf_token if user else getattr(request.state, "login_csrf", None)
    full = {
        "user": user,
        "csrf_token": token or "",
        "csrf_field": csrf_field(token),
        "nav": visible_nav(user),
        "active": active or request.url.path.strip("/").split("/", 1)[0],
        "poll_seconds": request.app.state.web.poll_seconds,
        **(context or {}),
    }
    return templates.TemplateResponse(request, template, full, status_code=status_code)
