"""X API v2, as tweepy.Client 4.17 uses it (see ../shared/API-NOTES.md section 1).

Endpoints: GET /2/tweets/search/recent, GET /2/users/:id/mentions, GET /2/users/:id/tweets,
GET /2/users/by/username/:name, GET /2/users/me, POST /2/tweets. Faithful where a client can tell
the difference: only requested fields, millisecond timestamps, problem-JSON errors, x-rate-limit-*
headers on every answer (a 429 without a reset header sends tweepy into a tight retry loop), and
the 2026 reply rule.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sandbox.faults import MALFORMED_BODY, take_fault
from sandbox.state import Account, Fault, Post, SandboxState
from sandbox.x_query import Doc, QuerySyntaxError, parse_query, term_pattern

PROBLEMS = "https://api.x.com/2/problems/"
WINDOW_SECONDS = 15 * 60
# Real per-token limits per 15-minute window (docs.x.com rate-limits table).
LIMITS = {
    "search": 450,
    "mentions": 450,
    "user_tweets": 900,
    "create": 100,
    "me": 75,
    "user_lookup": 300,
}
SEARCH_WINDOW = timedelta(days=7)  # "recent" search sees the last seven days
MAX_QUERY_LENGTH = 512
MAX_TWEET_LENGTH = 280
FAULT_RETRY_SECONDS = 2  # an injected 429 resets soon, so tests can wait it out

REPLY_NOT_ALLOWED = (
    "Reply to this conversation is not allowed because you have not been mentioned or otherwise "
    "engaged by the author of the post you are replying to."
)
REPLY_TARGET_GONE = "You attempted to reply to a Tweet that is deleted or not visible to you."

TWEET_FIELDS = {
    "attachments", "author_id", "card_uri", "community_id", "context_annotations",
    "conversation_id", "created_at", "display_text_range", "edit_controls",
    "edit_history_tweet_ids", "entities", "geo", "id", "in_reply_to_user_id", "lang",
    "media_metadata", "non_public_metrics", "note_tweet", "organic_metrics", "possibly_sensitive",
    "promoted_metrics", "public_metrics", "referenced_tweets", "reply_settings", "scopes",
    "source", "text", "withheld",
}  # fmt: skip
USER_FIELDS = {
    "affiliation", "connection_status", "created_at", "description", "entities", "id",
    "location", "most_recent_tweet_id", "name", "pinned_tweet_id", "profile_banner_url",
    "profile_image_url", "protected", "public_metrics", "receives_your_dm", "subscription_type",
    "url", "username", "verified", "verified_type", "withheld",
}  # fmt: skip
EXPANSIONS = {
    "attachments.media_keys", "attachments.poll_ids", "author_id", "edit_history_tweet_ids",
    "entities.mentions.username", "geo.place_id", "in_reply_to_user_id", "referenced_tweets.id",
    "referenced_tweets.id.author_id", "pinned_tweet_id", "most_recent_tweet_id",
}  # fmt: skip

_HANDLE = re.compile(r"(?<![\w@#])@(\w{1,15})")
_HASHTAG = re.compile(r"(?<![\w@#])#(\w+)")
_OAUTH_PARAM = re.compile(r'(\w+)="([^"]*)"')


# Errors ---------------------------------------------------------------------------------------
class ApiError(Exception):
    """Raised inside a handler; rendered as X's problem JSON."""

    def __init__(
        self, status: int, title: str, detail: str, kind: str, errors: list[Any] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.kind, self.errors = (
            status,
            title,
            detail,
            kind,
            errors,
        )

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.errors:
            body["errors"] = self.errors
        body.update(
            title=self.title, detail=self.detail, type=PROBLEMS + self.kind, status=self.status
        )
        return body


def invalid_param(name: str, value: str, message: str) -> ApiError:
    return ApiError(
        400,
        "Invalid Request",
        "One or more parameters to your request was invalid.",
        "invalid-request",
        errors=[{"parameters": {name: [value]}, "message": message}],
    )


def _resource_not_found(parameter: str, value: str, resource_type: str) -> dict[str, Any]:
    return {
        "value": value,
        "detail": f"Could not find {resource_type} with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": resource_type,
        "parameter": parameter,
        "resource_id": value,
        "type": PROBLEMS + "resource-not-found",
    }


# Rate limits ----------------------------------------------------------------------------------
@dataclass
class _Window:
    started: float
    used: int = 0


class RateLimiter:
    """Fixed 15-minute windows per (token, endpoint), like X's per-user/per-app counters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], _Window] = {}

    def hit(self, token: str, endpoint: str) -> tuple[dict[str, str], bool]:
        """Count one request. Returns the x-rate-limit-* headers and whether it is allowed."""
        limit = LIMITS[endpoint]
        now = time.time()
        with self._lock:
            window = self._windows.get((token, endpoint))
            if window is None or now >= window.started + WINDOW_SECONDS:
                window = self._windows[(token, endpoint)] = _Window(started=now)
            allowed = window.used < limit
            if allowed:
                window.used += 1
            headers = {
                "x-rate-limit-limit": str(limit),
                "x-rate-limit-remaining": str(limit - window.used),
                "x-rate-limit-reset": str(int(window.started + WINDOW_SECONDS)),
            }
        return headers, allowed

    @staticmethod
    def untouched(endpoint: str) -> dict[str, str]:
        limit = LIMITS[endpoint]
        return {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(limit),
            "x-rate-limit-reset": str(int(time.time() + WINDOW_SECONDS)),
        }


# Request parsing ------------------------------------------------------------------------------
def _token_of(request: Request) -> str | None:
    """The caller's identity: a bearer token or an OAuth 1.0a access token (never verified)."""
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials and credentials != "invalid":
        return f"bearer:{credentials}"
    if scheme.lower() == "oauth":
        params = dict(_OAUTH_PARAM.findall(credentials))
        token, consumer = params.get("oauth_token"), params.get("oauth_consumer_key")
        if token and consumer and "invalid" not in (token, consumer):
            return f"oauth1:{token}"
    return None


def _csv(request: Request, name: str, allowed: set[str]) -> set[str]:
    raw = request.query_params.get(name)
    if not raw:
        return set()
    values = {v.strip() for v in raw.split(",") if v.strip()}
    if unknown := sorted(values - allowed):
        raise invalid_param(
            name,
            raw,
            f"The `{name}` query parameter value [{unknown[0]}] is not one of {sorted(allowed)}",
        )
    return values


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise invalid_param(
            name, raw, f"The `{name}` query parameter value [{raw}] is not between {low} and {high}"
        )
    return int(raw)


def _id_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isdigit():
        raise invalid_param(
            name, raw, f"The `{name}` query parameter value [{raw}] does not match ^[0-9]{{1,19}}$"
        )
    return int(raw)


def _time_param(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise invalid_param(
            name, raw, f"The `{name}` query parameter value [{raw}] is not a valid RFC 3339 time"
        )
    return parsed.astimezone(UTC)


def _encode_token(boundary_id: int) -> str:
    return base64.b32encode(f"xs1:{boundary_id}".encode()).decode().rstrip("=").lower()


def _page_token(request: Request) -> int | None:
    """The exclusive upper id of the next page; search sends next_token, timelines
    pagination_token, and both are accepted everywhere."""
    raw = request.query_params.get("next_token") or request.query_params.get("pagination_token")
    if raw is None:
        return None
    name = "next_token" if "next_token" in request.query_params else "pagination_token"
    try:
        padded = raw.upper() + "=" * (-len(raw) % 8)
        prefix, _, boundary = base64.b32decode(padded).decode().partition(":")
        if prefix == "xs1" and boundary.isdigit():
            return int(boundary)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise invalid_param(name, raw, f"The `{name}` query parameter value [{raw}] is not valid")


# Rendering ------------------------------------------------------------------------------------
def x_time(moment: datetime) -> str:
    """X's timestamp format: always milliseconds and a Z (tweepy rejects anything else)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _is_retweet(post: Post) -> bool:
    return bool(post.extra.get("retweeted_id")) or post.text.startswith("RT @")


def _references(post: Post) -> list[dict[str, str]]:
    refs = []
    if post.in_reply_to_id:
        refs.append({"type": "replied_to", "id": post.in_reply_to_id})
    if post.extra.get("quoted_id"):
        refs.append({"type": "quoted", "id": str(post.extra["quoted_id"])})
    if post.extra.get("retweeted_id"):
        refs.append({"type": "retweeted", "id": str(post.extra["retweeted_id"])})
    return refs


class Renderer:
    """Turns state into X's JSON, honouring tweet.fields, user.fields and expansions."""

    def __init__(self, state: SandboxState, request: Request) -> None:
        self.state = state
        self.tweet_fields = _csv(request, "tweet.fields", TWEET_FIELDS)
        self.user_fields = _csv(request, "user.fields", USER_FIELDS)
        self.expansions = _csv(request, "expansions", EXPANSIONS)

    def user(self, account: Account) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": account.id,
            "name": account.display_name,
            "username": account.handle,
        }
        if "public_metrics" in self.user_fields:
            tweets = sum(1 for p in self.state.list_posts("x") if p.author_id == account.id)
            data["public_metrics"] = {
                "followers_count": account.followers,
                "following_count": 0,
                "tweet_count": tweets,
                "listed_count": 0,
                "like_count": 0,
                "media_count": 0,
            }
        if "description" in self.user_fields:
            data["description"] = ""
        if "verified" in self.user_fields:
            data["verified"] = False
        if "protected" in self.user_fields:
            data["protected"] = False
        if "created_at" in self.user_fields:
            data["created_at"] = "2020-01-01T00:00:00.000Z"
        return data

    def tweet(self, post: Post) -> dict[str, Any]:
        fields = self.tweet_fields
        data: dict[str, Any] = {"id": post.id, "text": post.text}
        data["edit_history_tweet_ids"] = [post.id]  # X always sends it
        if "author_id" in fields:
            data["author_id"] = post.author_id
        if "created_at" in fields:
            data["created_at"] = x_time(post.created_at)
        if "conversation_id" in fields:
            data["conversation_id"] = post.conversation_id or post.id
        if "lang" in fields and post.lang:
            data["lang"] = post.lang
        if "in_reply_to_user_id" in fields and post.in_reply_to_id:
            parent = self.state.post("x", post.in_reply_to_id)
            if parent is not None:
                data["in_reply_to_user_id"] = parent.author_id
        if "referenced_tweets" in fields and (refs := _references(post)):
            data["referenced_tweets"] = refs
        if "public_metrics" in fields:
            replies = sum(1 for p in self.state.list_posts("x") if p.in_reply_to_id == post.id)
            data["public_metrics"] = {
                "retweet_count": 0,
                "reply_count": replies,
                "like_count": int(post.extra.get("likes", 0)),
                "quote_count": 0,
                "bookmark_count": 0,
                "impression_count": 0,
            }
        if "entities" in fields and (entities := self._entities(post.text)):
            data["entities"] = entities
        return data

    def _entities(self, text: str) -> dict[str, Any]:
        entities: dict[str, Any] = {}
        mentions = []
        for m in _HANDLE.finditer(text):
            mention: dict[str, Any] = {"start": m.start(), "end": m.end(), "username": m[1]}
            if account := self.state.account_by_handle("x", m[1]):
                mention["id"] = account.id
            mentions.append(mention)
        if mentions:
            entities["mentions"] = mentions
        if tags := [
            {"start": m.start(), "end": m.end(), "tag": m[1]} for m in _HASHTAG.finditer(text)
        ]:
            entities["hashtags"] = tags
        return entities

    def includes(self, posts: list[Post]) -> dict[str, Any]:
        user_ids: list[str] = []
        tweets: list[Post] = []
        for post in posts:
            if "author_id" in self.expansions:
                user_ids.append(post.author_id)
            parent = self.state.post("x", post.in_reply_to_id) if post.in_reply_to_id else None
            if "in_reply_to_user_id" in self.expansions and parent is not None:
                user_ids.append(parent.author_id)
            if "entities.mentions.username" in self.expansions:
                for m in _HANDLE.finditer(post.text):
                    if account := self.state.account_by_handle("x", m[1]):
                        user_ids.append(account.id)
            if "referenced_tweets.id" in self.expansions:
                for ref in _references(post):
                    referenced = self.state.post("x", ref["id"])
                    if referenced is not None and not referenced.deleted:
                        tweets.append(referenced)
        includes: dict[str, Any] = {}
        accounts = self.state.accounts["x"]
        users = [self.user(accounts[i]) for i in dict.fromkeys(user_ids) if i in accounts]
        if users:
            includes["users"] = users
        if tweets:
            includes["tweets"] = [self.tweet(t) for t in {t.id: t for t in tweets}.values()]
        return includes


def _break_one(tweets: list[dict[str, Any]]) -> None:
    """The malformed_item fault: one tweet in the page is unusable, the rest are fine."""
    if "created_at" in tweets[0]:
        tweets[0]["created_at"] = "not-a-date"
    else:
        del tweets[0]["text"]


# The router -----------------------------------------------------------------------------------
def build_router(state: SandboxState) -> APIRouter:
    router = APIRouter()
    limiter = RateLimiter()

    async def guarded(
        request: Request,
        endpoint: str,
        handle: Callable[[Fault | None], Response],
    ) -> Response:
        """Auth, rate limit, injected faults, then the handler; every answer carries the
        x-rate-limit-* headers and is logged."""
        token = _token_of(request)
        if token is None:
            headers = RateLimiter.untouched(endpoint)
            error = ApiError(401, "Unauthorized", "Unauthorized", "not-authorized")
            response: Response = JSONResponse(error.body(), 401, headers=headers)
        else:
            headers, allowed = limiter.hit(token, endpoint)
            fault = await take_fault(state, "x", request) if allowed else None
            if not allowed:
                response = _too_many_requests(headers)
            elif fault is not None and fault.kind == "rate_limit":
                reset = int(time.time()) + FAULT_RETRY_SECONDS
                response = _too_many_requests(
                    {**headers, "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}
                )
            elif fault is not None and fault.kind == "server_error":
                error = ApiError(
                    fault.status, "Service Unavailable", "Service Unavailable", "server-error"
                )
                response = JSONResponse(error.body(), fault.status, headers=headers)
            elif fault is not None and fault.kind == "malformed":
                response = Response(
                    MALFORMED_BODY, 200, headers=headers, media_type="application/json"
                )
            else:
                try:
                    response = handle(fault)
                except ApiError as error:
                    response = JSONResponse(error.body(), error.status)
                response.headers.update(headers)
        state.log_request("x", request.method, request.url.path, response.status_code)
        return response

    def _too_many_requests(headers: dict[str, str]) -> Response:
        error = ApiError(429, "Too Many Requests", "Too Many Requests", "usage-capped")
        return JSONResponse(error.body(), 429, headers=headers)

    def timeline(
        request: Request,
        fault: Fault | None,
        matches: Callable[[Post], bool],
        min_results: int,
        oldest_allowed: datetime | None,
    ) -> Response:
        renderer = Renderer(state, request)
        max_results = _int_param(request, "max_results", 10, min_results, 100)
        since_id, until_id = _id_param(request, "since_id"), _id_param(request, "until_id")
        start_time, end_time = _time_param(request, "start_time"), _time_param(request, "end_time")
        boundary = _page_token(request)
        if start_time is None or (oldest_allowed and start_time < oldest_allowed):
            start_time = oldest_allowed
        found = []
        for post in state.list_posts("x"):
            pid = int(post.id)
            if since_id is not None and pid <= since_id:
                continue
            if until_id is not None and pid >= until_id:
                continue
            if boundary is not None and pid >= boundary:
                continue
            if start_time is not None and post.created_at < start_time:
                continue
            if end_time is not None and post.created_at >= end_time:
                continue
            if matches(post):
                found.append(post)
        found.sort(key=lambda p: int(p.id), reverse=True)  # newest first
        page, more = found[:max_results], len(found) > max_results
        if not page:
            return JSONResponse({"meta": {"result_count": 0}})
        tweets = [renderer.tweet(p) for p in page]
        if fault is not None and fault.kind == "malformed_item":
            _break_one(tweets)
        body: dict[str, Any] = {"data": tweets}
        if includes := renderer.includes(page):
            body["includes"] = includes
        meta: dict[str, Any] = {
            "newest_id": page[0].id,
            "oldest_id": page[-1].id,
            "result_count": len(page),
        }
        if more:
            meta["next_token"] = _encode_token(int(page[-1].id))
        body["meta"] = meta
        return JSONResponse(body)

    def doc(post: Post) -> Doc:
        author = state.accounts["x"].get(post.author_id)
        return Doc(
            text=post.text,
            lang=post.lang,
            author_handle=author.handle if author else "",
            is_retweet=_is_retweet(post),
            is_reply=post.in_reply_to_id is not None,
            is_quote=bool(post.extra.get("quoted_id")),
        )

    @router.get("/2/tweets/search/recent")
    async def search_recent(request: Request) -> Response:
        def handle(fault: Fault | None) -> Response:
            query = request.query_params.get("query")
            if not query:
                raise invalid_param("query", "", "The `query` query parameter can not be empty")
            if len(query) > MAX_QUERY_LENGTH:
                raise invalid_param(
                    "query",
                    query,
                    f"The `query` query parameter value [{query}] is not valid: it is "
                    f"{len(query)} characters long, the maximum is {MAX_QUERY_LENGTH}",
                )
            try:
                node = parse_query(query)
            except QuerySyntaxError as exc:
                raise invalid_param(
                    "query", query, f"There were errors processing your request: {exc}"
                ) from None
            oldest = datetime.now(UTC) - SEARCH_WINDOW
            return timeline(request, fault, lambda p: node.matches(doc(p)), 10, oldest)

        return await guarded(request, "search", handle)

    @router.get("/2/users/{user_id}/mentions")
    async def mentions(request: Request, user_id: str) -> Response:
        def handle(fault: Fault | None) -> Response:
            account = state.accounts["x"].get(user_id)
            if account is None:
                return JSONResponse({"errors": [_resource_not_found("id", user_id, "user")]})
            pattern = term_pattern(f"@{account.handle}")
            return timeline(request, fault, lambda p: bool(pattern.search(p.text)), 5, None)

        return await guarded(request, "mentions", handle)

    @router.get("/2/users/{user_id}/tweets")
    async def user_tweets(request: Request, user_id: str) -> Response:
        """The account's own posts and replies, newest first (GET /2/users/:id/tweets)."""

        def handle(fault: Fault | None) -> Response:
            if user_id not in state.accounts["x"]:
                return JSONResponse({"errors": [_resource_not_found("id", user_id, "user")]})
            return timeline(request, fault, lambda p: p.author_id == user_id, 5, None)

        return await guarded(request, "user_tweets", handle)

    @router.get("/2/users/by/username/{username}")
    async def user_by_username(request: Request, username: str) -> Response:
        def handle(fault: Fault | None) -> Response:
            renderer = Renderer(state, request)
            account = state.account_by_handle("x", username)
            if account is None:
                return JSONResponse({"errors": [_resource_not_found("username", username, "user")]})
            return JSONResponse({"data": renderer.user(account)})

        return await guarded(request, "user_lookup", handle)

    @router.get("/2/users/me")
    async def users_me(request: Request) -> Response:
        def handle(fault: Fault | None) -> Response:
            return JSONResponse({"data": Renderer(state, request).user(_brand())})

        return await guarded(request, "me", handle)

    def _brand() -> Account:
        brand = state.brand_account("x")
        if brand is None:
            raise ApiError(
                403,
                "Forbidden",
                "The sandbox has no brand account on x: add one with is_brand=True.",
                "client-forbidden",
            )
        return brand

    @router.post("/2/tweets")
    async def create_tweet(request: Request) -> Response:
        raw_body = await request.body()

        def handle(fault: Fault | None) -> Response:
            try:
                body = json.loads(raw_body or b"null")
            except ValueError:
                body = None
            if not isinstance(body, dict):
                raise ApiError(
                    400, "Invalid Request", "The request body is not valid JSON.", "invalid-request"
                )
            text = body.get("text")
            if not isinstance(text, str) or not text.strip():
                raise ApiError(
                    400, "Invalid Request", "Post text must not be empty.", "invalid-request"
                )
            if len(text) > MAX_TWEET_LENGTH:
                raise ApiError(
                    400,
                    "Invalid Request",
                    f"Post text is {len(text)} characters; the limit is {MAX_TWEET_LENGTH}.",
                    "invalid-request",
                )
            brand = _brand()
            reply = body.get("reply") or {}
            target_id = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
            if target_id is not None:
                _check_reply_allowed(str(target_id), brand)
            post = state.publish(
                "x",
                brand.handle,
                text,
                in_reply_to_id=str(target_id) if target_id is not None else None,
                via_api=True,
            )
            return JSONResponse(
                {"data": {"id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id]}},
                201,
            )

        return await guarded(request, "create", handle)

    def _check_reply_allowed(target_id: str, brand: Account) -> None:
        """Since 23 Feb 2026 a self-serve app may reply only where the author summoned it."""
        target = state.post("x", target_id)
        if target is None or target.deleted:
            raise ApiError(403, "Forbidden", REPLY_TARGET_GONE, "resource-not-found")
        if target.author_id == brand.id:
            return  # replying in one's own thread
        if term_pattern(f"@{brand.handle}").search(target.text):
            return
        quoted = state.post("x", str(target.extra.get("quoted_id") or ""))
        if quoted is not None and quoted.author_id == brand.id:
            return
        raise ApiError(403, "Forbidden", REPLY_NOT_ALLOWED, "client-forbidden")

    return router
