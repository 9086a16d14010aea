"""A Bluesky PDS (with the AppView's read endpoints) as the atproto SDK 0.0.73 uses it, under
/bluesky (API-NOTES.md §4). Point the SDK at it with Client(base_url="http://HOST:PORT/bluesky");
the SDK appends /xrpc.

XRPC methods: com.atproto.server.createSession / refreshSession, com.atproto.identity.resolveHandle,
com.atproto.repo.createRecord, app.bsky.actor.getProfile / getProfiles, app.bsky.feed.searchPosts /
getPosts / getPostThread, app.bsky.notification.listNotifications.

Faithful where the SDK can tell: sessions are JWT-shaped (three base64url parts, an integer `exp`
two hours ahead; the signature is never checked) and the createSession answer has no didDoc, so
the SDK keeps talking to this base URL; JSON bodies with camelCase fields, strict types (bools,
ints) and Content-Type application/json; errors as {"error", "message"}; an expired access token
is 400 ExpiredToken; every answer carries RateLimit-Limit/-Remaining/-Reset (epoch seconds)/
-Policy, 3000 requests per 5 minutes per client address, and createSession has its own limit of
30 per 5 minutes per account (logins are expensive: clients must reuse their session).

Posts are the sandbox's "bluesky" posts: the record key is the post id, the URI
at://<author did>/app.bsky.feed.post/<rkey>, the CID derived from the content. Replies carry
record.reply {root, parent}; createRecord keeps the refs it was sent (post.extra["reply"]) so tests
can check them. A post with extra["replies_disabled"] has a thread gate: viewer.replyDisabled.
Notifications for the logged-in account: posts that @mention its handle (reason "mention") and
replies to its posts (reason "reply"). searchPosts matches every word and "quoted phrase"
(sort=latest, newest first) and pages by offset, like the AppView's cursor.

Control (not part of Bluesky): POST /bluesky/_sandbox/rate_limit {"requests_per_window",
"window_seconds", "logins_per_window"}; POST /bluesky/_sandbox/expire_sessions.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import regex
from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, Response

from sandbox.faults import MALFORMED_BODY, take_fault
from sandbox.state import Account, Fault, Post, SandboxState
from sandbox.windows import FixedWindows

NETWORK = "bluesky"
POST_COLLECTION = "app.bsky.feed.post"
REQUESTS_PER_WINDOW = 3000
LOGINS_PER_WINDOW = 30
WINDOW_SECONDS = 300
ACCESS_LIFETIME = 2 * 3600
REFRESH_LIFETIME = 90 * 86_400
MAX_GRAPHEMES = 300
MAX_TEXT_BYTES = 3000
FAULT_RETRY_SECONDS = 2
INVALID_PASSWORD = "invalid"  # noqa: S105 - the app password this sandbox refuses
SERVICE_DID = "did:web:sandbox.bsky.example"

_HANDLE_MENTION = re.compile(r"(?<![\w@/])@([a-z0-9][a-z0-9.-]*\.[a-z]{2,})(?![\w-])", re.I)
_TERM = re.compile(r'"([^"]+)"|(\S+)')


# --- tokens ------------------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(payload: dict[str, Any]) -> str:
    header = {"typ": "at+jwt", "alg": "ES256K"}
    return ".".join(
        [
            _b64(json.dumps(header).encode()),
            _b64(json.dumps(payload).encode()),
            _b64(secrets.token_bytes(64)),  # never checked, by anyone
        ]
    )


@dataclass
class _Session:
    did: str
    refresh: bool
    expires: float


# --- rate limiting ------------------------------------------------------------------------------
@dataclass
class _Limits(FixedWindows):
    requests_per_window: int = REQUESTS_PER_WINDOW
    window_seconds: int = WINDOW_SECONDS
    logins_per_window: int = LOGINS_PER_WINDOW

    SETTINGS: ClassVar[tuple[str, ...]] = (
        "requests_per_window",
        "logins_per_window",
        "window_seconds",
    )

    def count(self, key: str, limit: int) -> tuple[dict[str, str], bool]:
        used, reset = self.add(key)
        return self.headers(limit, max(limit - used, 0), reset), used <= limit

    def headers(self, limit: int, remaining: int, reset: float) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(int(reset)),
            "RateLimit-Policy": f"{limit};w={self.window_seconds}",
        }


def _iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse_time(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw if "T" in raw else raw + "T00:00:00+00:00")
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _error(
    status: int, error: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse({"error": error, "message": message}, status_code=status, headers=headers)


def graphemes(text: str) -> int:
    return len(regex.findall(r"\X", text))


# --- rendering ----------------------------------------------------------------------------------
class _Views:
    """State as Bluesky's views; one per request (it counts posts and replies once)."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._counts: tuple[Counter[str], Counter[str]] | None = None

    def counts(self) -> tuple[Counter[str], Counter[str]]:
        if self._counts is None:
            posts = self.state.list_posts(NETWORK)
            self._counts = (
                Counter(p.author_id for p in posts),
                Counter(p.in_reply_to_id for p in posts if p.in_reply_to_id),
            )
        return self._counts

    def account(self, did: str) -> Account | None:
        return self.state.accounts[NETWORK].get(did)

    def uri(self, post: Post) -> str:
        return f"at://{post.author_id}/{POST_COLLECTION}/{post.id}"

    @staticmethod
    def cid(post: Post) -> str:
        digest = hashlib.sha256(f"{post.id}\n{post.text}".encode()).digest()
        return "bafyrei" + base64.b32encode(digest).decode().lower().rstrip("=")[:52]

    def ref(self, post: Post) -> dict[str, str]:
        return {"uri": self.uri(post), "cid": self.cid(post)}

    def post_by_uri(self, uri: str) -> Post | None:
        match = re.fullmatch(r"at://([^/]+)/app\.bsky\.feed\.post/([^/]+)", uri or "")
        if not match:
            return None
        post = self.state.post(NETWORK, match.group(2))
        if post is None or post.deleted:
            return None
        author = self.account(post.author_id)
        if match.group(1) not in (post.author_id, author.handle if author else None):
            return None
        return post

    def profile_basic(self, account: Account) -> dict[str, Any]:
        return {
            "did": account.id,
            "handle": account.handle,
            "displayName": account.display_name,
            "viewer": {"muted": False, "blockedBy": False},
            "labels": [],
            "createdAt": "2023-05-01T00:00:00.000Z",
        }

    def profile_detailed(self, account: Account) -> dict[str, Any]:
        posts = self.counts()[0][account.id]
        return {
            **self.profile_basic(account),
            "description": "",
            "followersCount": account.followers,
            "followsCount": 0,
            "postsCount": posts,
            "indexedAt": "2023-05-01T00:00:00.000Z",
        }

    def record(self, post: Post) -> dict[str, Any]:
        record: dict[str, Any] = {
            "$type": POST_COLLECTION,
            "text": post.text,
            "createdAt": _iso(post.created_at),
        }
        if post.lang:
            record["langs"] = [post.lang]
        if sent := post.extra.get("reply"):
            record["reply"] = sent  # the refs a client sent, as it sent them
        elif post.in_reply_to_id:
            parent = self.state.post(NETWORK, post.in_reply_to_id)
            root = self.state.post(NETWORK, post.conversation_id or "")
            if parent is not None and root is not None:
                record["reply"] = {"root": self.ref(root), "parent": self.ref(parent)}
        if facets := self.facets(post.text):
            record["facets"] = facets
        return record

    def facets(self, text: str) -> list[dict[str, Any]]:
        facets = []
        for match in _HANDLE_MENTION.finditer(text):
            account = self.state.account_by_handle(NETWORK, match.group(1))
            if account is None:
                continue
            start = len(text[: match.start()].encode())
            end = len(text[: match.end()].encode())
            facets.append(
                {
                    "$type": "app.bsky.richtext.facet",
                    "index": {"byteStart": start, "byteEnd": end},
                    "features": [{"$type": "app.bsky.richtext.facet#mention", "did": account.id}],
                }
            )
        return facets

    def post_view(self, post: Post) -> dict[str, Any]:
        author = self.account(post.author_id)
        replies = self.counts()[1][post.id]
        view: dict[str, Any] = {
            **self.ref(post),
            "author": self.profile_basic(author) if author else {"did": post.author_id},
            "record": self.record(post),
            "replyCount": replies,
            "repostCount": 0,
            "likeCount": 0,
            "quoteCount": 0,
            "indexedAt": _iso(post.created_at),
            "viewer": {"threadMuted": False, "embeddingDisabled": False},
            "labels": [],
        }
        if post.extra.get("replies_disabled"):
            view["viewer"]["replyDisabled"] = True
        return view

    def notification(self, post: Post, reason: str) -> dict[str, Any]:
        author = self.account(post.author_id)
        item: dict[str, Any] = {
            **self.ref(post),
            "author": self.profile_detailed(author) if author else {"did": post.author_id},
            "reason": reason,
            "record": self.record(post),
            "isRead": False,
            "indexedAt": _iso(post.created_at),
            "labels": [],
        }
        if reason == "reply" and post.in_reply_to_id:
            parent = self.state.post(NETWORK, post.in_reply_to_id)
            if parent is not None:
                item["reasonSubject"] = self.uri(parent)
        return item

    def thread(self, post: Post, depth: int) -> dict[str, Any]:
        node: dict[str, Any] = {
            "$type": "app.bsky.feed.defs#threadViewPost",
            "post": self.post_view(post),
        }
        if depth > 0:
            children = [p for p in self.state.list_posts(NETWORK) if p.in_reply_to_id == post.id]
            node["replies"] = [self.thread(c, depth - 1) for c in children]
        return node


def search_terms(query: str) -> list[str]:
    return [(p or w).lower() for p, w in _TERM.findall(query) if (p or w).strip()]


def matches_search(terms: list[str], text: str) -> bool:
    haystack = text.lower()
    return bool(terms) and all(
        re.search(rf"(?<![\w#@]){re.escape(t)}(?!\w)", haystack) is not None for t in terms
    )


def _break_one(items: list[dict[str, Any]]) -> None:
    """The malformed_item fault: one post whose record nobody can read."""
    items[len(items) // 2]["record"]["createdAt"] = "not-a-date"


def _offset(cursor: str | None) -> int:
    try:
        return max(int(cursor or 0), 0)
    except ValueError:
        return 0


# --- the router ---------------------------------------------------------------------------------
def build_router(state: SandboxState) -> APIRouter:
    router = APIRouter()
    limits = _Limits()
    sessions: dict[str, _Session] = {}
    sessions_lock = threading.Lock()

    def client_key(request: Request) -> str:
        return f"ip:{request.client.host if request.client else '?'}"

    def mint(did: str) -> dict[str, str]:
        now = int(time.time())
        access = _jwt(
            {
                "scope": "com.atproto.appPass",
                "sub": did,
                "iat": now,
                "exp": now + ACCESS_LIFETIME,
                "aud": SERVICE_DID,
            }
        )
        refresh = _jwt(
            {
                "scope": "com.atproto.refresh",
                "sub": did,
                "aud": SERVICE_DID,
                "jti": secrets.token_urlsafe(16),
                "iat": now,
                "exp": now + REFRESH_LIFETIME,
            }
        )
        with sessions_lock:
            sessions[access] = _Session(did, False, now + ACCESS_LIFETIME)
            sessions[refresh] = _Session(did, True, now + REFRESH_LIFETIME)
        return {"accessJwt": access, "refreshJwt": refresh}

    def session_of(request: Request, *, refresh: bool = False) -> _Session | Response:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        with sessions_lock:
            session = sessions.get(token)
        if session is None or session.refresh != refresh:
            return _error(401, "AuthenticationRequired", "Authentication Required")
        if session.expires <= time.time():
            return _error(400, "ExpiredToken", "Token has expired")
        return session

    async def serve(
        request: Request,
        produce: Callable[[_Session | None, Fault | None], Response],
        *,
        auth: str | None = "access",
        limit_key: str | None = None,
    ) -> Response:
        session: _Session | None = None
        response: Response | None = None
        if auth is not None:
            found = session_of(request, refresh=auth == "refresh")
            if isinstance(found, Response):
                response = found
            else:
                session = found
        if limit_key is not None:
            headers, allowed = limits.count(limit_key, limits.logins_per_window)
        else:
            headers, allowed = limits.count(client_key(request), limits.requests_per_window)
        if response is None:
            fault = await take_fault(state, NETWORK, request) if allowed else None
            if not allowed:
                response = _error(429, "RateLimitExceeded", "Rate Limit Exceeded", headers)
                response.headers["Retry-After"] = str(
                    max(int(headers["RateLimit-Reset"]) - int(time.time()), 1)
                )
            elif fault is not None and fault.kind == "rate_limit":
                soon = limits.headers(
                    int(headers["RateLimit-Limit"]), 0, time.time() + FAULT_RETRY_SECONDS
                )
                soon["Retry-After"] = str(FAULT_RETRY_SECONDS)
                response = _error(429, "RateLimitExceeded", "Rate Limit Exceeded", soon)
            elif fault is not None and fault.kind == "server_error":
                name = "InternalServerError" if fault.status >= 500 else "InvalidRequest"
                response = _error(fault.status, name, "Injected failure", headers)
            elif fault is not None and fault.kind == "malformed":
                response = Response(MALFORMED_BODY, 200, headers, media_type="application/json")
            else:
                response = produce(session, fault)
        if "ratelimit-limit" not in response.headers:  # every answer announces the budget
            response.headers.update(headers)
        state.log_request(NETWORK, request.method, request.url.path, response.status_code)
        return response

    def page_body(items: list[dict[str, Any]], fault: Fault | None) -> list[dict[str, Any]]:
        if items and fault is not None and fault.kind == "malformed_item":
            _break_one(items)
        return items

    def limit_of(request: Request, default: int, maximum: int) -> int | Response:
        raw = request.query_params.get("limit", str(default))
        if not raw.isdigit() or not 1 <= int(raw) <= maximum:
            return _error(400, "InvalidRequest", f"limit must be between 1 and {maximum}")
        return int(raw)

    # --- server / identity ---------------------------------------------------------------------
    @router.post("/xrpc/com.atproto.server.createSession")
    async def create_session(request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = {}
        identifier = str(body.get("identifier") or "") if isinstance(body, dict) else ""
        password = str(body.get("password") or "") if isinstance(body, dict) else ""

        def produce(_session: _Session | None, _fault: Fault | None) -> Response:
            if not identifier or not password:
                return _error(400, "InvalidRequest", "identifier and password are required")
            if password == INVALID_PASSWORD:
                return _error(401, "AuthenticationRequired", "Invalid identifier or password")
            account = state.accounts[NETWORK].get(identifier) or state.account_by_handle(
                NETWORK, identifier
            )
            if account is None:
                account = state.add_account(NETWORK, identifier)
            return JSONResponse(
                {
                    **mint(account.id),
                    "handle": account.handle,
                    "did": account.id,
                    "email": f"{account.handle}@example.invalid",
                    "emailConfirmed": True,
                    "active": True,
                }
            )

        return await serve(request, produce, auth=None, limit_key=f"login:{identifier.lower()}")

    @router.post("/xrpc/com.atproto.server.refreshSession")
    async def refresh_session(request: Request) -> Response:
        def produce(session: _Session | None, _fault: Fault | None) -> Response:
            views = _Views(state)
            assert session is not None
            account = views.account(session.did)
            handle = account.handle if account else session.did
            return JSONResponse(
                {**mint(session.did), "handle": handle, "did": session.did, "active": True}
            )

        return await serve(request, produce, auth="refresh")

    @router.get("/xrpc/com.atproto.identity.resolveHandle")
    async def resolve_handle(request: Request) -> Response:
        def produce(_session: _Session | None, _fault: Fault | None) -> Response:
            account = state.account_by_handle(NETWORK, request.query_params.get("handle", ""))
            if account is None:
                return _error(400, "InvalidRequest", "Unable to resolve handle")
            return JSONResponse({"did": account.id})

        return await serve(request, produce, auth=None)

    # --- actors ----------------------------------------------------------------------------------
    def find_actor(actor: str) -> Account | None:
        return state.accounts[NETWORK].get(actor) or state.account_by_handle(NETWORK, actor)

    @router.get("/xrpc/app.bsky.actor.getProfile")
    async def get_profile(request: Request) -> Response:
        def produce(_session: _Session | None, _fault: Fault | None) -> Response:
            views = _Views(state)
            account = find_actor(request.query_params.get("actor", ""))
            if account is None:
                return _error(400, "InvalidRequest", "Profile not found")
            return JSONResponse(views.profile_detailed(account))

        return await serve(request, produce)

    @router.get("/xrpc/app.bsky.actor.getProfiles")
    async def get_profiles(request: Request) -> Response:
        def produce(_session: _Session | None, _fault: Fault | None) -> Response:
            views = _Views(state)
            actors = request.query_params.getlist("actors")
            if len(actors) > 25:
                return _error(400, "InvalidRequest", "actors must have at most 25 items")
            found = [a for a in (find_actor(x) for x in actors) if a is not None]
            return JSONResponse({"profiles": [views.profile_detailed(a) for a in found]})

        return await serve(request, produce)

    # --- feeds -----------------------------------------------------------------------------------
    @router.get("/xrpc/app.bsky.feed.searchPosts")
    async def search_posts(request: Request) -> Response:
        def produce(_session: _Session | None, fault: Fault | None) -> Response:
            views = _Views(state)
            params = request.query_params
            terms = search_terms(params.get("q", ""))
            if not terms:
                return _error(400, "InvalidRequest", 'Error: Params must have the property "q"')
            limit = limit_of(request, 25, 100)
            if isinstance(limit, Response):
                return limit
            since, until = _parse_time(params.get("since")), _parse_time(params.get("until"))
            hits = [
                p
                for p in reversed(state.list_posts(NETWORK))  # newest first
                if matches_search(terms, p.text)
                and (since is None or p.created_at >= since)
                and (until is None or p.created_at < until)
            ]
            start = _offset(params.get("cursor"))
            page = hits[start : start + limit]
            body: dict[str, Any] = {
                "posts": page_body([views.post_view(p) for p in page], fault),
                "hitsTotal": len(hits),
            }
            if start + limit < len(hits):
                body["cursor"] = str(start + limit)
            return JSONResponse(body)

        return await serve(request, produce)

    @router.get("/xrpc/app.bsky.feed.getPosts")
    async def get_posts(request: Request) -> Response:
        def produce(_session: _Session | None, _fault: Fault | None) -> Response:
            views = _Views(state)
            uris = request.query_params.getlist("uris")
            if len(uris) > 25:
                return _error(400, "InvalidRequest", "uris must have at most 25 items")
            found = [p for p in (views.post_by_uri(u) for u in uris) if p is not None]
            return JSONResponse({"posts": [views.post_view(p) for p in found]})

        return await serve(request, produce)

    @router.get("/xrpc/app.bsky.feed.getPostThread")
    async def get_post_thread(request: Request) -> Response:
        def produce(_session: _Session | None, _fault: Fault | None) -> Response:
            views = _Views(state)
            uri = request.query_params.get("uri", "")
            post = views.post_by_uri(uri)
            if post is None:
                return _error(400, "NotFound", f"Post not found: {uri}")
            depth = request.query_params.get("depth", "6")
            return JSONResponse(
                {"thread": views.thread(post, int(depth) if depth.isdigit() else 6)}
            )

        return await serve(request, produce)

    # --- notifications ---------------------------------------------------------------------------
    @router.get("/xrpc/app.bsky.notification.listNotifications")
    async def list_notifications(request: Request) -> Response:
        def produce(session: _Session | None, fault: Fault | None) -> Response:
            views = _Views(state)
            assert session is not None
            me = views.account(session.did)
            limit = limit_of(request, 50, 100)
            if isinstance(limit, Response):
                return limit
            reasons = set(request.query_params.getlist("reasons"))
            mention = re.compile(
                rf"(?<![\w@/])@{re.escape(me.handle if me else '')}(?![\w-])", re.I
            )
            items: list[tuple[Post, str]] = []
            for post in reversed(state.list_posts(NETWORK)):  # newest first
                if me is None or post.author_id == me.id:
                    continue
                parent = state.post(NETWORK, post.in_reply_to_id or "")
                if parent is not None and parent.author_id == me.id:
                    reason = "reply"
                elif mention.search(post.text):
                    reason = "mention"
                else:
                    continue
                if not reasons or reason in reasons:
                    items.append((post, reason))
            cursor = request.query_params.get("cursor")
            if cursor:  # the record key of the last item of the previous page
                items = [(p, r) for p, r in items if p.id < cursor]
            page = items[:limit]
            body: dict[str, Any] = {
                "notifications": page_body([views.notification(p, r) for p, r in page], fault),
                "priority": False,
            }
            if len(items) > limit:
                body["cursor"] = page[-1][0].id
            return JSONResponse(body)

        return await serve(request, produce)

    # --- writing ---------------------------------------------------------------------------------
    @router.post("/xrpc/com.atproto.repo.createRecord")
    async def create_record(request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = None

        def produce(session: _Session | None, _fault: Fault | None) -> Response:
            views = _Views(state)
            assert session is not None
            if not isinstance(body, dict) or not isinstance(body.get("record"), dict):
                return _error(400, "InvalidRequest", 'Input must have the property "record"')
            me = views.account(session.did)
            if me is None or body.get("repo") not in (me.id, me.handle):
                return _error(403, "InvalidToken", "Token could not be used for this repo")
            if body.get("collection") != POST_COLLECTION:
                return _error(400, "InvalidRequest", "This sandbox only stores posts")
            record = body["record"]
            text = record.get("text")
            if not isinstance(text, str) or not isinstance(record.get("createdAt"), str):
                return _error(400, "InvalidRequest", "Invalid app.bsky.feed.post record")
            if graphemes(text) > MAX_GRAPHEMES or len(text.encode()) > MAX_TEXT_BYTES:
                return _error(
                    400,
                    "InvalidRequest",
                    "Invalid app.bsky.feed.post record: Record/text must not be longer than "
                    f"{MAX_GRAPHEMES} graphemes",
                )
            parent_id = None
            reply = record.get("reply")
            if reply is not None:
                parent_ref = reply.get("parent") if isinstance(reply, dict) else None
                root_ref = reply.get("root") if isinstance(reply, dict) else None
                if not isinstance(parent_ref, dict) or not isinstance(root_ref, dict):
                    return _error(400, "InvalidRequest", "Record/reply must have root and parent")
                parent = views.post_by_uri(str(parent_ref.get("uri")))
                if parent is None:
                    return _error(400, "InvalidRequest", f"Could not locate record: {parent_ref}")
                parent_id = parent.id
            langs = record.get("langs")
            post = state.publish(
                NETWORK,
                me.handle,
                text,
                in_reply_to_id=parent_id,
                lang=langs[0] if isinstance(langs, list) and langs else None,
                via_api=True,
                **({"reply": reply} if reply is not None else {}),
                **({"facets": record["facets"]} if record.get("facets") else {}),
            )
            return JSONResponse(
                {
                    **views.ref(post),
                    "commit": {"cid": views.cid(post), "rev": post.id},
                    "validationStatus": "valid",
                }
            )

        return await serve(request, produce)

    # --- sandbox control (not part of Bluesky) ---------------------------------------------------
    @router.post("/_sandbox/rate_limit", include_in_schema=False)
    def set_rate_limit(policy: dict[str, int] = Body(...)) -> dict[str, int]:
        return limits.configure(policy)

    @router.post("/_sandbox/expire_sessions", include_in_schema=False)
    def expire_sessions() -> dict[str, int]:
        """Every token expires now, as after a long pause or a server-side revocation."""
        with sessions_lock:
            for session in sessions.values():
                session.expires = 0
            return {"expired": len(sessions)}

    return router
