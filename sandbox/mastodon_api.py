"""A Mastodon 4.3 instance as Mastodon.py 2.3 uses it, served under /mastodon (API-NOTES.md §3).

Point the client at it with Mastodon(access_token=..., api_base_url="http://HOST:PORT/mastodon").

Endpoints: the two instance documents (with and without the trailing slash Mastodon.py sends),
verify_credentials, notifications, the hashtag timeline, v2 search, a status, its context, and
posting a status (form-encoded, as Mastodon.py sends it, or JSON; Idempotency-Key honoured).

Faithful where a client can tell: ids are strings; lists are newest first; `max_id` is an
exclusive upper bound, `since_id` gives the newest results above a bound and `min_id` the results
*immediately* above it (so a client can walk forward without gaps); list answers carry a Link
header (rel="next" with max_id only when the page is full, rel="prev" with min_id whenever there
are results), search does not (Mastodon paginates search by offset); `content` is HTML; every
/api answer carries X-RateLimit-Limit/-Remaining/-Reset (an ISO time at the end of a clock-aligned
5-minute window) and the server's Date; 300 requests per window per token, then 429.

Tokens: any bearer token acts as the instance's brand account (the account the desk posts as;
the story's @northwindair is made if the instance has none yet), "acct:<username>" acts as that
user, and "invalid" is refused with 401. Status search is
Mastodon's opt-in full-text search: every word and "quoted phrase" must appear. A status URL or
URI as the query resolves to that status.

POST /mastodon/_sandbox/rate_limit {"requests_per_window": n, "window_seconds": s} changes the
policy (not part of Mastodon; tests use it).
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, Response

from sandbox import story
from sandbox.faults import MALFORMED_BODY, take_fault
from sandbox.state import Account, Fault, Post, SandboxState
from sandbox.windows import FixedWindows

NETWORK = "mastodon"
VERSION = "4.3.0"
REQUESTS_PER_WINDOW = 300
WINDOW_SECONDS = 300
MAX_STATUS_LENGTH = 500
URL_WEIGHT = 23  # Mastodon counts every link as 23 characters
FAULT_RETRY_SECONDS = 2  # an injected 429 resets soon, so tests can wait it out
IDEMPOTENCY_SECONDS = 3600
INVALID_TOKEN = "invalid"  # noqa: S105 - the token this sandbox refuses

_MENTION = re.compile(r"(?<![\w@/])@(\w+)(?:@([\w.-]+\.\w+))?")
HASHTAG = re.compile(r"(?<![\w#&/])#(\w+)")
_URL = re.compile(r"https?://[^\s<>\"]+")
_TOKEN = re.compile(r'"([^"]+)"|(\S+)')


# --- rate limiting ------------------------------------------------------------------------------
@dataclass
class _RateWindows(FixedWindows):
    requests_per_window: int = REQUESTS_PER_WINDOW
    window_seconds: int = WINDOW_SECONDS

    def count(self, key: str) -> tuple[dict[str, str], bool]:
        """Count one request; the X-RateLimit-* headers and whether it is within the limit."""
        used, reset = self.add(key)
        limit = self.requests_per_window
        return self._headers(max(limit - used, 0), reset), used <= limit

    def _headers(self, remaining: int, reset_epoch: float) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.requests_per_window),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": _iso(datetime.fromtimestamp(reset_epoch, UTC)),
        }

    def soon(self, seconds: float) -> dict[str, str]:
        return self._headers(0, time.time() + seconds)


def _iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# --- rendering ---------------------------------------------------------------------------------
def status_length(text: str) -> int:
    """Mastodon's count: links weigh 23, a remote mention counts only its @username."""
    counted = _URL.sub("x" * URL_WEIGHT, text)
    counted = _MENTION.sub(lambda m: "@" + m.group(1), counted)
    return len(counted)


def render_html(text: str, base: str) -> str:
    """Text as Mastodon renders a local status: paragraphs, <br>, linked mentions, tags, urls."""

    def linkify(line: str) -> str:
        out, pos = [], 0
        spans = sorted(
            [(m.start(), m.end(), "url", m) for m in _URL.finditer(line)]
            + [(m.start(), m.end(), "mention", m) for m in _MENTION.finditer(line)]
            + [(m.start(), m.end(), "tag", m) for m in HASHTAG.finditer(line)],
            key=lambda s: s[0],
        )
        for start, end, kind, match in spans:
            if start < pos:
                continue  # a mention or tag inside a link
            out.append(html.escape(line[pos:start], quote=False))
            if kind == "url":
                url = match.group(0)
                scheme, _, rest = url.partition("://")
                out.append(
                    f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener" '
                    f'translate="no"><span class="invisible">{html.escape(scheme)}://</span>'
                    f'<span class="ellipsis">{html.escape(rest[:30])}</span>'
                    f'<span class="invisible">{html.escape(rest[30:])}</span></a>'
                )
            elif kind == "mention":
                username = match.group(1)
                out.append(
                    f'<span class="h-card" translate="no"><a href="{base}/@{username}" '
                    f'class="u-url mention">@<span>{html.escape(username)}</span></a></span>'
                )
            else:
                tag = match.group(1)
                out.append(
                    f'<a href="{base}/tags/{tag.lower()}" class="mention hashtag" rel="tag">'
                    f"#<span>{html.escape(tag)}</span></a>"
                )
            pos = end
        out.append(html.escape(line[pos:], quote=False))
        return "".join(out)

    paragraphs = [p for p in re.split(r"(?:\r?\n){2,}", text) if p.strip()]
    return "".join(
        "<p>" + "<br />".join(linkify(line) for line in p.splitlines()) + "</p>" for p in paragraphs
    )


class _Renderer:
    """Sandbox state as Mastodon entities, with URLs under this instance's base URL."""

    def __init__(self, state: SandboxState, base: str) -> None:
        self.state = state
        self.base = base  # e.g. http://127.0.0.1:8401/mastodon
        self._counts: tuple[Counter[str], Counter[str]] | None = None

    def counts(self) -> tuple[Counter[str], Counter[str]]:
        """Statuses per account and replies per status, counted once per request."""
        if self._counts is None:
            posts = self.state.list_posts(NETWORK)
            self._counts = (
                Counter(p.author_id for p in posts),
                Counter(p.in_reply_to_id for p in posts if p.in_reply_to_id),
            )
        return self._counts

    def account(self, account: Account) -> dict[str, Any]:
        statuses = self.counts()[0][account.id]
        return {
            "id": account.id,
            "username": account.handle,
            "acct": account.handle,
            "display_name": account.display_name,
            "locked": False,
            "bot": False,
            "discoverable": True,
            "indexable": True,
            "group": False,
            "created_at": "2022-11-01T00:00:00.000Z",
            "note": "",
            "url": f"{self.base}/@{account.handle}",
            "uri": f"{self.base}/users/{account.handle}",
            "avatar": f"{self.base}/avatars/original/missing.png",
            "avatar_static": f"{self.base}/avatars/original/missing.png",
            "header": f"{self.base}/headers/original/missing.png",
            "header_static": f"{self.base}/headers/original/missing.png",
            "followers_count": account.followers,
            "following_count": 0,
            "statuses_count": statuses,
            "last_status_at": None,
            "emojis": [],
            "fields": [],
        }

    def status(self, post: Post) -> dict[str, Any]:
        author = self.state.accounts[NETWORK].get(post.author_id)
        handle = author.handle if author else "deleted"
        parent = self.state.post(NETWORK, post.in_reply_to_id) if post.in_reply_to_id else None
        mentions = []
        for m in _MENTION.finditer(post.text):
            if mentioned := self.state.account_by_handle(NETWORK, m.group(1)):
                mentions.append(
                    {
                        "id": mentioned.id,
                        "username": mentioned.handle,
                        "acct": mentioned.handle,
                        "url": f"{self.base}/@{mentioned.handle}",
                    }
                )
        tags = [
            {"name": t.lower(), "url": f"{self.base}/tags/{t.lower()}"}
            for t in dict.fromkeys(m.group(1) for m in HASHTAG.finditer(post.text))
        ]
        replies = self.counts()[1][post.id]
        return {
            "id": post.id,
            "created_at": _iso(post.created_at),
            "in_reply_to_id": post.in_reply_to_id,
            "in_reply_to_account_id": parent.author_id if parent else None,
            "sensitive": bool(post.extra.get("spoiler_text")),
            "spoiler_text": str(post.extra.get("spoiler_text", "")),
            "visibility": str(post.extra.get("visibility", "public")),
            "language": post.lang,
            "uri": str(post.extra.get("uri") or f"{self.base}/users/{handle}/statuses/{post.id}"),
            "url": str(post.extra.get("url") or f"{self.base}/@{handle}/{post.id}"),
            "replies_count": replies,
            "reblogs_count": 0,
            "favourites_count": 0,
            "edited_at": None,
            "favourited": False,
            "reblogged": False,
            "muted": False,
            "bookmarked": False,
            "content": str(post.extra.get("html") or render_html(post.text, self.base)),
            "filtered": [],
            "reblog": None,
            "application": None,
            "account": self.account(author) if author else None,
            "media_attachments": [],
            "mentions": mentions,
            "tags": tags,
            "emojis": [],
            "card": None,
            "poll": None,
        }

    def notification(self, post: Post) -> dict[str, Any]:
        status = self.status(post)
        return {
            "id": notification_id(post),
            "type": "mention",
            "group_key": f"ungrouped-{notification_id(post)}",
            "created_at": status["created_at"],
            "account": status["account"],
            "status": status,
        }

    def instance_v1(self) -> dict[str, Any]:
        return {
            "uri": self.base.split("://", 1)[-1],
            "title": "Sandbox Mastodon",
            "short_description": "A local stand-in for a Mastodon server.",
            "description": "",
            "email": "admin@example.invalid",
            "version": VERSION,
            "languages": ["en"],
            "registrations": False,
            "approval_required": False,
            "invites_enabled": False,
            "configuration": {"statuses": {"max_characters": MAX_STATUS_LENGTH}},
            "urls": {},
            "stats": {"user_count": 0, "status_count": 0, "domain_count": 1},
        }

    def instance_v2(self) -> dict[str, Any]:
        return {
            "domain": self.base.split("://", 1)[-1],
            "title": "Sandbox Mastodon",
            "version": VERSION,
            "source_url": "https://github.com/mastodon/mastodon",
            "description": "A local stand-in for a Mastodon server.",
            "api_versions": {"mastodon": 2},
            "configuration": {
                "statuses": {
                    "max_characters": MAX_STATUS_LENGTH,
                    "characters_reserved_per_url": URL_WEIGHT,
                },
                "timelines_access": {
                    "live_feeds": {"local": "public", "remote": "public"},
                    "hashtag_feeds": {"local": "public", "remote": "public"},
                    "trending_link_feeds": {"local": "public", "remote": "public"},
                },
            },
            "registrations": {"enabled": False, "approval_required": False},
        }


def notification_id(post: Post) -> str:
    # Created with the status, so it sorts with it; status ids step by 1000, so +1 never collides.
    return str(int(post.id) + 1)


# --- pagination --------------------------------------------------------------------------------
def _id_param(params: Any, name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        return None  # Mastodon ignores ids it cannot read


def _limit(params: Any, default: int, maximum: int) -> int:
    try:
        return min(max(int(params.get("limit", default)), 1), maximum)
    except ValueError:
        return default


def page_of(
    items: list[tuple[int, Any]], params: Any, *, default: int, maximum: int
) -> list[tuple[int, Any]]:
    """One page of (id, item), newest first, by max_id / since_id / min_id as Mastodon does."""
    limit = _limit(params, default, maximum)
    max_id, since_id, min_id = (_id_param(params, n) for n in ("max_id", "since_id", "min_id"))
    chosen = [(i, it) for i, it in items if max_id is None or i < max_id]
    if since_id is not None:
        chosen = [(i, it) for i, it in chosen if i > since_id]
    if min_id is not None:
        ascending = sorted((x for x in chosen if x[0] > min_id), key=lambda x: x[0])
        return sorted(ascending[:limit], key=lambda x: x[0], reverse=True)
    return sorted(chosen, key=lambda x: x[0], reverse=True)[:limit]


def link_header(
    request: Request, page: list[tuple[int, Any]], *, default: int, maximum: int
) -> str:
    if not page:
        return ""
    kept = [
        (k, v) for k, v in parse_qsl(request.url.query) if k not in ("max_id", "min_id", "since_id")
    ]
    url = str(request.url.replace(query=""))
    links = []
    if len(page) == _limit(request.query_params, default, maximum):
        links.append(f'<{url}?{urlencode([*kept, ("max_id", page[-1][0])])}>; rel="next"')
    links.append(f'<{url}?{urlencode([*kept, ("min_id", page[0][0])])}>; rel="prev"')
    return ", ".join(links)


# --- search ------------------------------------------------------------------------------------
def search_terms(query: str) -> list[str]:
    terms = []
    for phrase, word in _TOKEN.findall(query):
        term = (phrase or word).strip().lower()
        if term and ":" not in term.strip('"'):  # operators (from:, has:...) are not modelled
            terms.append(term)
    return terms


def matches_search(terms: list[str], text: str) -> bool:
    haystack = text.lower()
    return bool(terms) and all(
        re.search(rf"(?<!\w){re.escape(t)}(?!\w)", haystack) is not None for t in terms
    )


def _break_one(statuses: list[dict[str, Any]]) -> None:
    """The malformed_item fault: one status whose date nobody can read."""
    target = statuses[len(statuses) // 2]
    target = target.get("status", target) if "type" in target else target
    target["created_at"] = "not-a-date"


def _form(body: bytes, content_type: str) -> dict[str, Any]:
    if "application/json" in content_type:
        try:
            parsed = json.loads(body or b"{}")
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


# --- the router --------------------------------------------------------------------------------
def build_router(state: SandboxState) -> APIRouter:
    router = APIRouter()
    windows = _RateWindows()
    idempotency: dict[tuple[str, str], tuple[float, str]] = {}
    idempotency_lock = threading.Lock()

    def base_of(request: Request) -> str:
        return str(request.base_url).rstrip("/") + "/" + NETWORK

    def caller(request: Request) -> tuple[str | None, Account | None]:
        """(rate-limit key, account) for the bearer token; (None, None) for an invalid token."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if not token:
            return f"ip:{request.client.host if request.client else '?'}", None
        if scheme.lower() != "bearer" or token == INVALID_TOKEN:
            return None, None
        if token.startswith("acct:"):
            handle = token.removeprefix("acct:")
            account = state.account_by_handle(NETWORK, handle) or state.add_account(NETWORK, handle)
        else:
            # A token always belongs to an account: the story's brand account, made if missing.
            account = state.brand_account(NETWORK) or state.add_account(
                NETWORK, story.brand_handle(NETWORK), story.BRAND_NAME, is_brand=True, kind="brand"
            )
        return f"token:{token}", account

    async def serve(
        request: Request,
        produce: Callable[[Account | None, Fault | None], Response],
        *,
        needs_account: bool,
    ) -> Response:
        key, account = caller(request)
        if key is None or (needs_account and account is None):
            response: Response = _error(401, "The access token is invalid")
        else:
            headers, allowed = windows.count(key)
            fault = await take_fault(state, NETWORK, request) if allowed else None
            if not allowed:
                response = _error(429, "Too many requests", headers)
            elif fault is not None and fault.kind == "rate_limit":
                response = _error(429, "Too many requests", windows.soon(FAULT_RETRY_SECONDS))
            elif fault is not None and fault.kind == "server_error":
                message = "Internal Server Error" if fault.status >= 500 else "Unprocessable"
                response = _error(fault.status, message, headers)
            elif fault is not None and fault.kind == "malformed":
                response = Response(MALFORMED_BODY, 200, headers, media_type="application/json")
            else:
                response = produce(account, fault)
                response.headers.update(headers)
        state.log_request(NETWORK, request.method, request.url.path, response.status_code)
        return response

    def listing(
        request: Request,
        items: list[tuple[int, Any]],
        render: Callable[[Any], dict[str, Any]],
        fault: Fault | None,
        *,
        default: int,
        maximum: int,
    ) -> Response:
        page = page_of(items, request.query_params, default=default, maximum=maximum)
        body = [render(item) for _, item in page]
        if body and fault is not None and fault.kind == "malformed_item":
            _break_one(body)
        link = link_header(request, page, default=default, maximum=maximum)
        return JSONResponse(body, headers={"Link": link} if link else None)

    def visible(post: Post) -> bool:
        return not post.deleted and post.extra.get("visibility", "public") in ("public", "unlisted")

    def public_posts() -> list[tuple[int, Post]]:
        return [(int(p.id), p) for p in state.list_posts(NETWORK) if visible(p)]

    # --- instance ------------------------------------------------------------------------------
    for path in ("/api/v1/instance", "/api/v1/instance/"):

        @router.get(path, include_in_schema=False)
        async def instance_v1(request: Request) -> Response:
            renderer = _Renderer(state, base_of(request))
            return await serve(
                request, lambda _a, _f: JSONResponse(renderer.instance_v1()), needs_account=False
            )

    for path in ("/api/v2/instance", "/api/v2/instance/"):

        @router.get(path, include_in_schema=False)
        async def instance_v2(request: Request) -> Response:
            renderer = _Renderer(state, base_of(request))
            return await serve(
                request, lambda _a, _f: JSONResponse(renderer.instance_v2()), needs_account=False
            )

    @router.get("/api/v1/accounts/verify_credentials")
    async def verify_credentials(request: Request) -> Response:
        def produce(account: Account | None, _fault: Fault | None) -> Response:
            assert account is not None
            body = _Renderer(state, base_of(request)).account(account)
            body["source"] = {"privacy": "public", "sensitive": False, "language": "en", "note": ""}
            return JSONResponse(body)

        return await serve(request, produce, needs_account=True)

    # --- reading -------------------------------------------------------------------------------
    @router.get("/api/v1/notifications")
    async def notifications(request: Request) -> Response:
        def produce(account: Account | None, fault: Fault | None) -> Response:
            assert account is not None
            types = request.query_params.getlist("types[]")
            excluded = request.query_params.getlist("exclude_types[]")
            wanted = (not types or "mention" in types) and "mention" not in excluded
            pattern = re.compile(rf"(?<![\w@/])@{re.escape(account.handle)}(?!\w)", re.I)
            items = [
                (int(notification_id(p)), p)
                for p in state.list_posts(NETWORK)
                if wanted and p.author_id != account.id and pattern.search(p.text)
            ]
            renderer = _Renderer(state, base_of(request))
            return listing(request, items, renderer.notification, fault, default=40, maximum=80)

        return await serve(request, produce, needs_account=True)

    @router.get("/api/v1/timelines/tag/{hashtag}")
    async def hashtag_timeline(request: Request, hashtag: str) -> Response:
        def produce(_account: Account | None, fault: Fault | None) -> Response:
            tag = hashtag.lower()
            items = [
                (i, p)
                for i, p in public_posts()
                if p.extra.get("visibility", "public") == "public"
                and tag in (m.group(1).lower() for m in HASHTAG.finditer(p.text))
            ]
            renderer = _Renderer(state, base_of(request))
            return listing(request, items, renderer.status, fault, default=20, maximum=40)

        return await serve(request, produce, needs_account=False)

    @router.get("/api/v2/search")
    async def search(request: Request) -> Response:
        def produce(account: Account | None, fault: Fault | None) -> Response:
            params = request.query_params
            query = params.get("q", "").strip()
            kind = params.get("type")
            if not query:
                return _error(400, "Validation failed: q can't be blank")
            if account is None and (params.get("resolve") in ("1", "true") or "offset" in params):
                return _error(401, "Search queries that resolve remote resources need a token")
            renderer = _Renderer(state, base_of(request))
            if _URL.fullmatch(query):  # resolving a link to a status
                rendered = [renderer.status(p) for _, p in public_posts()]
                statuses = [s for s in rendered if query in (s["uri"], s["url"])]
            else:
                terms = search_terms(query)
                items = [(i, p) for i, p in public_posts() if matches_search(terms, p.text)]
                page = page_of(items, params, default=20, maximum=40)
                try:
                    offset = max(int(params.get("offset", 0)), 0)
                except ValueError:
                    offset = 0
                if offset:  # offset pages within what min_id/max_id selected
                    wider = {**dict(params), "limit": "40"}
                    page = page_of(items, wider, default=20, maximum=40)[offset:][
                        : _limit(params, 20, 40)
                    ]
                statuses = [renderer.status(p) for _, p in page]
            if statuses and fault is not None and fault.kind == "malformed_item":
                _break_one(statuses)
            body = {
                "accounts": [],
                "statuses": statuses if kind in (None, "statuses") else [],
                "hashtags": [],
            }
            return JSONResponse(body)

        return await serve(request, produce, needs_account=False)

    @router.get("/api/v1/statuses/{status_id}")
    async def get_status(request: Request, status_id: str) -> Response:
        def produce(_account: Account | None, _fault: Fault | None) -> Response:
            post = state.post(NETWORK, status_id)
            if post is None or post.deleted:
                return _error(404, "Record not found")
            return JSONResponse(_Renderer(state, base_of(request)).status(post))

        return await serve(request, produce, needs_account=False)

    @router.get("/api/v1/statuses/{status_id}/context")
    async def context(request: Request, status_id: str) -> Response:
        def produce(_account: Account | None, _fault: Fault | None) -> Response:
            post = state.post(NETWORK, status_id)
            if post is None or post.deleted:
                return _error(404, "Record not found")
            renderer = _Renderer(state, base_of(request))
            ancestors = []
            parent = state.post(NETWORK, post.in_reply_to_id) if post.in_reply_to_id else None
            while parent is not None:
                if not parent.deleted:
                    ancestors.insert(0, renderer.status(parent))
                parent = (
                    state.post(NETWORK, parent.in_reply_to_id) if parent.in_reply_to_id else None
                )
            descendants: list[dict[str, Any]] = []
            frontier = [post.id]
            while frontier:
                children = [
                    p for p in state.list_posts(NETWORK) if p.in_reply_to_id in set(frontier)
                ]
                descendants += [renderer.status(c) for c in children]
                frontier = [c.id for c in children]
            return JSONResponse({"ancestors": ancestors, "descendants": descendants})

        return await serve(request, produce, needs_account=False)

    # --- writing -------------------------------------------------------------------------------
    @router.post("/api/v1/statuses")
    async def post_status(request: Request) -> Response:
        raw = await request.body()
        form = _form(raw, request.headers.get("content-type", ""))
        key = request.headers.get("idempotency-key")

        def produce(account: Account | None, _fault: Fault | None) -> Response:
            assert account is not None
            renderer = _Renderer(state, base_of(request))
            if key:
                with idempotency_lock:
                    earlier = idempotency.get((account.id, key))
                if earlier and time.time() - earlier[0] < IDEMPOTENCY_SECONDS:
                    post = state.post(NETWORK, earlier[1])
                    if post is not None:
                        return JSONResponse(renderer.status(post))
            text = str(form.get("status") or "")
            if not text.strip():
                return _error(422, "Validation failed: Text can't be blank")
            if status_length(text) > MAX_STATUS_LENGTH:
                return _error(
                    422,
                    f"Validation failed: Text character limit of {MAX_STATUS_LENGTH} exceeded",
                )
            visibility = str(form.get("visibility") or "public")
            if visibility not in ("public", "unlisted", "private", "direct"):
                return _error(422, "Validation failed: Visibility is not included in the list")
            parent_id = form.get("in_reply_to_id") or None
            if parent_id is not None:
                parent = state.post(NETWORK, str(parent_id))
                if parent is None or parent.deleted:
                    return _error(404, "Record not found")
            extra: dict[str, Any] = {"visibility": visibility}
            if form.get("spoiler_text"):
                extra["spoiler_text"] = str(form["spoiler_text"])
            post = state.publish(
                NETWORK,
                account.handle,
                text,
                in_reply_to_id=str(parent_id) if parent_id is not None else None,
                lang=str(form.get("language") or "en"),
                via_api=True,
                **extra,
            )
            if key:
                with idempotency_lock:
                    idempotency[(account.id, key)] = (time.time(), post.id)
            return JSONResponse(renderer.status(post))

        return await serve(request, produce, needs_account=True)

    # --- sandbox control (not part of Mastodon) --------------------------------------------------
    @router.post("/_sandbox/rate_limit", include_in_schema=False)
    def set_rate_limit(policy: dict[str, int] = Body(...)) -> dict[str, int]:
        return windows.configure(policy)

    return router
