"""Reddit's OAuth API as praw 8 / prawcore 4 use it, served under /reddit.

Point praw at it with reddit_url="http://HOST:PORT/reddit" (token URL = reddit_url +
"/api/v1/access_token", string concatenation) and oauth_url="http://HOST:PORT/reddit/" (API paths
are relative and urljoin'ed, so the prefix needs its trailing slash).

Credentials: any client id works; a client secret of "invalid" is refused with 401 (a wrong
client) and a password of "invalid" with 200 {"error": "invalid_grant"} (Reddit's way), so both of
prawcore's failure paths are reachable. The logged-in user is the `username` of the password grant.

Rate limit: Reddit's free tier, 100 requests a minute averaged over clock-aligned 10-minute windows
(1000 per 600 s) per client id, announced on every API response as x-ratelimit-used / -remaining /
-reset (seconds until the window ends). Over the limit the answer is 429. POST
/reddit/_sandbox/rate_limit {"requests_per_window": n, "window_seconds": s} changes the policy
(tests raise it so prawcore's proactive pacing does not slow them down).

Both "path" and "path/" are routed explicitly: prawcore sends redirects back as errors, so FastAPI's
slash redirects must never happen.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, Response

from sandbox.faults import MALFORMED_BODY, take_fault
from sandbox.state import Fault, Post, SandboxState
from sandbox.windows import FixedWindows

NETWORK = "reddit"
REQUESTS_PER_WINDOW = 1000
WINDOW_SECONDS = 600
MAX_COMMENT_LENGTH = 10_000
TOKEN_LIFETIME_SECONDS = 86_400
MAX_LIMIT = 100
DEFAULT_LIMIT = 25
INVALID_SECRET = "invalid"  # noqa: S105 - the client secret / password this sandbox refuses

_TIME_FILTERS = {
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
    "month": timedelta(days=31),
    "year": timedelta(days=366),
}
_INVALID_TOKEN = 'Bearer realm="reddit", error="invalid_token"'  # noqa: S105 - a header value
_WORD = re.compile(r"[\w']+")


@dataclass
class _Client:
    client_id: str
    username: str | None  # None for an application-only (client_credentials) token


@dataclass
class _RateWindows(FixedWindows):
    """Request counts per client id in clock-aligned windows, as Reddit counts them."""

    requests_per_window: int = REQUESTS_PER_WINDOW
    window_seconds: int = WINDOW_SECONDS

    def count(self, client_id: str) -> dict[str, str]:
        """Count one request and return the headers announcing what is left."""
        return self._headers(*self.add(client_id))

    def exhausted_headers(self, client_id: str) -> dict[str, str]:
        used, end = self.peek(client_id)
        return self._headers(max(used, self.requests_per_window), end)

    def over_limit(self, headers: dict[str, str]) -> bool:
        return int(headers["x-ratelimit-used"]) > self.requests_per_window

    def _headers(self, used: int, end: float) -> dict[str, str]:
        remaining = max(self.requests_per_window - used, 0)
        return {
            "x-ratelimit-used": str(used),
            "x-ratelimit-remaining": f"{float(remaining):.1f}",
            "x-ratelimit-reset": str(max(1, math.ceil(end - time.time()))),  # seconds from now
        }


def _routes(router: APIRouter, path: str, methods: list[str]) -> Callable[[Any], Any]:
    """Register a handler for `path` with and without its trailing slash."""
    bare = path.rstrip("/")

    def register(handler: Any) -> Any:
        router.add_api_route(bare, handler, methods=methods, include_in_schema=False)
        router.add_api_route(bare + "/", handler, methods=methods, include_in_schema=False)
        return handler

    return register


def _int36(post_id: str) -> int:
    return int(post_id, 36)


def _account_fullname(account_id: str) -> str:
    return "t2_" + (_base36(int(account_id)) if account_id.isdigit() else account_id)


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def _slug(title: str) -> str:
    words = _WORD.findall(title.lower())
    return "_".join(words)[:50].strip("_") or "post"


class _Things:
    """Turns sandbox posts into Reddit's t1/t3 JSON."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    @staticmethod
    def is_submission(post: Post) -> bool:
        return post.in_reply_to_id is None

    def fullname(self, post: Post) -> str:
        return ("t3_" if self.is_submission(post) else "t1_") + post.id

    def root(self, post: Post) -> Post:
        return self.state.post(NETWORK, post.conversation_id or post.id) or post

    def subreddit(self, post: Post) -> str:
        return str(post.extra.get("subreddit") or self.root(post).extra.get("subreddit") or "all")

    def title(self, post: Post) -> str:
        return str(self.root(post).extra.get("title") or "")

    def _author(self, post: Post) -> dict[str, Any]:
        account = self.state.accounts[NETWORK].get(post.author_id)
        if account is None:
            return {"author": "[deleted]"}
        return {"author": account.handle, "author_fullname": _account_fullname(account.id)}

    def _permalink(self, post: Post) -> str:
        root = self.root(post)
        base = f"/r/{self.subreddit(post)}/comments/{root.id}/{_slug(self.title(post))}/"
        return base if post is root or post.id == root.id else f"{base}{post.id}/"

    def thing(self, post: Post) -> dict[str, Any]:
        common = {
            "id": post.id,
            "name": self.fullname(post),
            "subreddit": self.subreddit(post),
            "subreddit_name_prefixed": f"r/{self.subreddit(post)}",
            "created_utc": post.created_at.timestamp(),
            "created": post.created_at.timestamp(),
            "permalink": self._permalink(post),
            "score": int(post.extra.get("score", 1)),
            **self._author(post),
        }
        if self.is_submission(post):
            replies = sum(
                1
                for p in self.state.list_posts(NETWORK)
                if p.conversation_id == post.id and p.id != post.id
            )
            permalink = common["permalink"]
            # A link post (extra "url") points elsewhere; a self post's url is its own page.
            link = post.extra.get("url")
            return {
                "kind": "t3",
                "data": {
                    **common,
                    "title": self.title(post),
                    "selftext": post.text,
                    "is_self": not link,
                    "url": link or f"https://www.reddit.com{permalink}",
                    "num_comments": replies,
                },
            }
        parent = self.state.post(NETWORK, post.in_reply_to_id or "")
        return {
            "kind": "t1",
            "data": {
                **common,
                "body": post.text,
                "link_id": "t3_" + self.root(post).id,
                "parent_id": self.fullname(parent) if parent else f"t3_{post.in_reply_to_id}",
                "link_title": self.title(post),
            },
        }

    def mention(self, post: Post, username: str) -> dict[str, Any]:
        """An inbox item: a t1 with message fields and no permalink or link_id, like Reddit's."""
        thing = self.thing(post)["data"]
        return {
            "kind": "t1",
            "data": {
                "id": thing["id"],
                "name": thing["name"],
                "body": thing["body"],
                "author": thing["author"],
                **(
                    {"author_fullname": thing["author_fullname"]}
                    if "author_fullname" in thing
                    else {}
                ),
                "subreddit": thing["subreddit"],
                "subreddit_name_prefixed": thing["subreddit_name_prefixed"],
                "parent_id": thing["parent_id"],
                "created_utc": thing["created_utc"],
                "created": thing["created"],
                "context": thing["permalink"] + "?context=3",
                "subject": "username mention",
                "type": "username_mention",
                "new": True,
                "was_comment": True,
                "link_title": thing["link_title"],
                "dest": username,
                "first_message": None,
                "first_message_name": None,
                "replies": "",
                "likes": None,
                "score": 1,
                "distinguished": None,
            },
        }


def _limit(params: Any) -> int:
    try:
        return min(max(int(params.get("limit", DEFAULT_LIMIT)), 1), MAX_LIMIT)
    except ValueError:
        return DEFAULT_LIMIT


def _fullname_id(fullname: str | None) -> int | None:
    if not fullname or "_" not in fullname:
        return None
    try:
        return _int36(fullname.split("_", 1)[1])
    except ValueError:
        return None


def _listing(
    posts_newest_first: list[Post],
    params: Any,
    render: Callable[[Post], dict[str, Any]],
) -> dict[str, Any]:
    """One page, Reddit style: `after` = older than that item, `before` = the items just newer."""
    limit = _limit(params)
    after, before = _fullname_id(params.get("after")), _fullname_id(params.get("before"))
    if before is not None:
        newer = [p for p in posts_newest_first if _int36(p.id) > before]
        page = newer[-limit:]  # the ones closest to `before`, still newest first
    elif after is not None:
        page = [p for p in posts_newest_first if _int36(p.id) < after][:limit]
    else:
        page = posts_newest_first[:limit]
    children = [render(p) for p in page]
    has_older = bool(page) and any(_int36(p.id) < _int36(page[-1].id) for p in posts_newest_first)
    has_newer = bool(page) and any(_int36(p.id) > _int36(page[0].id) for p in posts_newest_first)
    return {
        "kind": "Listing",
        "data": {
            "after": children[-1]["data"]["name"] if has_older else None,
            "before": children[0]["data"]["name"] if has_newer else None,
            "dist": len(children),
            "modhash": None,
            "geo_filter": None,
            "children": children,
        },
    }


def _search_matches(query: str, text: str) -> bool:
    """Reddit search is fuzzy: an OR clause matches when all its words appear anywhere."""
    haystack = text.lower()
    for clause in re.split(r"\s+OR\s+", query):
        words = [w.lower() for w in _WORD.findall(clause) if w not in ("AND",)]
        if words and all(w in haystack for w in words):
            return True
    return False


def _subreddit_filter(name: str) -> Callable[[str], bool]:
    wanted = {s.lower() for s in name.split("+")}
    if "all" in wanted:
        return lambda _sub: True
    return lambda sub: sub.lower() in wanted


def _break_one_child(listing: dict[str, Any]) -> None:
    """The malformed_item fault: one child whose timestamp is not a number."""
    children = listing["data"]["children"]
    if children:
        children[len(children) // 2]["data"]["created_utc"] = "yesterday"


def _form(body: bytes) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}


def build_router(state: SandboxState) -> APIRouter:
    router = APIRouter()
    things = _Things(state)
    windows = _RateWindows()
    tokens: dict[str, _Client] = {}
    tokens_lock = threading.Lock()

    def newest_first(keep: Callable[[Post], bool]) -> list[Post]:
        return [p for p in reversed(state.list_posts(NETWORK)) if keep(p)]

    def fault_response(fault: Fault, headers: dict[str, str], client: _Client) -> Response | None:
        if fault.kind == "rate_limit":
            # An injected limit is a short burst (2 s), not the rest of the 10-minute window:
            # prawcore sleeps until the announced reset before its next request.
            exhausted = {**windows.exhausted_headers(client.client_id), "x-ratelimit-reset": "2"}
            return JSONResponse(
                {"message": "Too Many Requests", "error": 429},
                status_code=429,
                headers={**exhausted, "retry-after": exhausted["x-ratelimit-reset"]},
            )
        if fault.kind == "server_error":
            return JSONResponse(
                {"message": "Service Unavailable", "error": fault.status},
                status_code=fault.status,
                headers=headers,
            )
        if fault.kind == "malformed":
            return Response(MALFORMED_BODY, media_type="application/json", headers=headers)
        return None

    async def serve(
        request: Request, produce: Callable[[_Client, Any], dict[str, Any]], *, listing: bool
    ) -> Response:
        """Authenticate, count, apply faults, then answer with `produce(client, params)`."""
        return await logged(request, await answer(request, produce, listing=listing))

    async def answer(
        request: Request, produce: Callable[[_Client, Any], dict[str, Any]], *, listing: bool
    ) -> Response:
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        with tokens_lock:
            client = tokens.get(token)
        if client is None:
            return JSONResponse(
                {"message": "Unauthorized", "error": 401},
                status_code=401,
                headers={"www-authenticate": _INVALID_TOKEN},
            )
        headers = windows.count(client.client_id)
        if windows.over_limit(headers):
            return JSONResponse(
                {"message": "Too Many Requests", "error": 429},
                status_code=429,
                headers={**headers, "retry-after": headers["x-ratelimit-reset"]},
            )
        fault = await take_fault(state, NETWORK, request)
        if fault is not None and (answer := fault_response(fault, headers, client)):
            return answer
        if request.method == "POST":
            params: Any = _form(await request.body())
        else:
            params = request.query_params
        body = produce(client, params)
        if fault is not None and fault.kind == "malformed_item" and listing:
            _break_one_child(body)
        return JSONResponse(body, headers=headers)

    async def logged(request: Request, answer: Response) -> Response:
        state.log_request(NETWORK, request.method, request.url.path, answer.status_code)
        return answer

    # --- OAuth -------------------------------------------------------------------------------
    @_routes(router, "/api/v1/access_token", ["POST"])
    async def access_token(request: Request) -> Response:
        return await logged(request, await grant(request))

    async def grant(request: Request) -> Response:
        client_id, secret = _basic_auth(request.headers.get("authorization", ""))
        if client_id is None or secret == INVALID_SECRET:
            return JSONResponse({"message": "Unauthorized", "error": 401}, status_code=401)
        form = _form(await request.body())
        grant = form.get("grant_type")
        if grant == "password":
            username = form.get("username", "")
            if not username or form.get("password") == INVALID_SECRET:
                return JSONResponse({"error": "invalid_grant"})
            account = state.account_by_handle(NETWORK, username) or state.add_account(
                NETWORK, username
            )
            client = _Client(client_id, account.handle)
        elif grant == "client_credentials":
            client = _Client(client_id, None)
        else:
            return JSONResponse({"error": "unsupported_grant_type"})
        token = secrets.token_urlsafe(24)
        with tokens_lock:
            tokens[token] = client
        return JSONResponse(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": TOKEN_LIFETIME_SECONDS,
                "scope": "*",
            }
        )

    # --- listings ----------------------------------------------------------------------------
    @_routes(router, "/r/{subreddit}/search", ["GET"])
    async def search(request: Request, subreddit: str) -> Response:
        def produce(_client: _Client, params: Any) -> dict[str, Any]:
            restrict = str(params.get("restrict_sr", "False")).lower() in ("true", "1", "on")
            in_subreddit = _subreddit_filter(subreddit if restrict else "all")
            query = params.get("q", "")
            since = _TIME_FILTERS.get(params.get("t", "all"))
            oldest = datetime.now(UTC) - since if since else None

            def keep(p: Post) -> bool:
                return (
                    things.is_submission(p)
                    and in_subreddit(things.subreddit(p))
                    and (oldest is None or p.created_at >= oldest)
                    and _search_matches(
                        query, f"{things.title(p)}\n{p.text}\n{p.extra.get('url', '')}"
                    )
                )

            return _listing(newest_first(keep), params, things.thing)

        return await serve(request, produce, listing=True)

    def subreddit_listing(submissions: bool) -> Callable[[Request, str], Any]:
        async def handler(request: Request, subreddit: str) -> Response:
            in_subreddit = _subreddit_filter(subreddit)

            def produce(_client: _Client, params: Any) -> dict[str, Any]:
                def keep(p: Post) -> bool:
                    return things.is_submission(p) == submissions and in_subreddit(
                        things.subreddit(p)
                    )

                return _listing(newest_first(keep), params, things.thing)

            return await serve(request, produce, listing=True)

        return handler

    _routes(router, "/r/{subreddit}/comments", ["GET"])(subreddit_listing(submissions=False))
    _routes(router, "/r/{subreddit}/new", ["GET"])(subreddit_listing(submissions=True))

    @_routes(router, "/message/mentions", ["GET"])
    async def mentions(request: Request) -> Response:
        def produce(client: _Client, params: Any) -> dict[str, Any]:
            if client.username is None:
                return _empty_listing()
            me = state.account_by_handle(NETWORK, client.username)
            pattern = re.compile(rf"(?<![\w/])/?u/{re.escape(client.username)}(?!\w)", re.I)

            def keep(p: Post) -> bool:
                return (
                    not things.is_submission(p)
                    and (me is None or p.author_id != me.id)
                    and pattern.search(p.text) is not None
                )

            username = client.username
            return _listing(newest_first(keep), params, lambda p: things.mention(p, username))

        return await serve(request, produce, listing=True)

    @_routes(router, "/user/{username}/comments", ["GET"])
    async def user_comments(request: Request, username: str) -> Response:
        """A user's comments, newest first (praw: redditor.comments.new())."""

        def produce(_client: _Client, params: Any) -> dict[str, Any]:
            account = state.account_by_handle(NETWORK, username)
            if account is None:
                return _empty_listing()

            def keep(p: Post) -> bool:
                return not things.is_submission(p) and p.author_id == account.id

            return _listing(newest_first(keep), params, things.thing)

        return await serve(request, produce, listing=True)

    @_routes(router, "/api/info", ["GET"])
    async def info(request: Request) -> Response:
        def produce(_client: _Client, params: Any) -> dict[str, Any]:
            wanted = [n for n in str(params.get("id", "")).split(",") if n]
            found = [p for p in (_lookup(state, n) for n in wanted) if p is not None]
            children = [things.thing(p) for p in found]
            return {
                "kind": "Listing",
                "data": {
                    "after": None,
                    "before": None,
                    "dist": len(children),
                    "children": children,
                },
            }

        return await serve(request, produce, listing=True)

    @_routes(router, "/api/v1/me", ["GET"])
    async def me(request: Request) -> Response:
        def produce(client: _Client, _params: Any) -> dict[str, Any]:
            account = state.account_by_handle(NETWORK, client.username or "")
            if account is None:
                return {"name": None, "id": None}
            return {
                "name": account.handle,
                "id": _account_fullname(account.id)[3:],
                "created_utc": 1_500_000_000.0,
                "link_karma": 1,
                "comment_karma": account.followers,
                "has_verified_email": True,
            }

        return await serve(request, produce, listing=False)

    # --- writing -----------------------------------------------------------------------------
    @_routes(router, "/api/comment", ["POST"])
    async def comment(request: Request) -> Response:
        def produce(client: _Client, form: Any) -> dict[str, Any]:
            text = form.get("text", "")
            parent = _lookup(state, form.get("thing_id", ""))
            if client.username is None:
                return _json_errors(["USER_REQUIRED", "Please log in to do that.", None])
            if parent is None:
                return _json_errors(["NO_THING_ID", "that item does not exist", "parent"])
            if not text.strip():
                return _json_errors(["NO_TEXT", "we need something here", "text"])
            if len(text) > MAX_COMMENT_LENGTH:
                return _json_errors(
                    ["TOO_LONG", f"this is too long (max: {MAX_COMMENT_LENGTH})", "text"]
                )
            reply = state.publish(
                NETWORK,
                client.username,
                text,
                in_reply_to_id=parent.id,
                via_api=True,
                subreddit=things.subreddit(parent),
            )
            return {"json": {"errors": [], "data": {"things": [things.thing(reply)]}}}

        return await serve(request, produce, listing=False)

    # --- sandbox control (not part of Reddit) --------------------------------------------------
    @router.post("/_sandbox/rate_limit", include_in_schema=False)
    def set_rate_limit(policy: dict[str, int] = Body(...)) -> dict[str, int]:
        return windows.configure(policy)

    return router


def _basic_auth(header: str) -> tuple[str | None, str | None]:
    if not header.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    client_id, _, secret = decoded.partition(":")
    return (client_id or None), secret


def _lookup(state: SandboxState, fullname: str) -> Post | None:
    kind, _, post_id = fullname.partition("_")
    post = state.post(NETWORK, post_id) if post_id else None
    if post is None or post.deleted:
        return None
    is_submission = post.in_reply_to_id is None
    return post if (kind == "t3") == is_submission and kind in ("t1", "t3") else None


def _json_errors(*errors: Iterable[Any]) -> dict[str, Any]:
    return {"json": {"errors": [list(e) for e in errors]}}


def _empty_listing() -> dict[str, Any]:
    return {"kind": "Listing", "data": {"after": None, "before": None, "dist": 0, "children": []}}
