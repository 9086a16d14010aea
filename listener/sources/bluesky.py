"""Bluesky through the atproto SDK: brand searches, the account's notifications, replies.

Logging in (createSession) is rate-limited per account (30 per 5 minutes, 300 a day), so the
source logs in once, lazily, on its first request, and keeps that session: the SDK refreshes it
before it expires, and a session the server has expired anyway (400 ExpiredToken) is replaced by
one new login before the request is retried once.

Streams, each with its own cursor:
- "notifications": the account's notifications with reason mention or reply. They are addressed
  to the brand, so they are kept whatever else they say.
- "search:<brand>:<term>" for each name, keyword and hashtag of each brand (when search_posts is
  on): app.bsky.feed.searchPosts, sort=latest.

Both lists run newest first and page towards older posts with an opaque cursor; neither can ask
for "newer than X". So a stream's cursor is a time mark: the newest post time read. A poll reads
from the top until it reaches the mark (search also passes it as `since`), and the mark moves to
the newest post read. Search re-reads SEARCH_OVERLAP behind the mark, because it is ordered by
post time and a post indexed late can land just behind it. When max_pages runs out before the
mark is reached, the posts between are still unread: the cursor then records the gap as
{"mark", "resume" (the API cursor to go on from), "next"} and the next poll reads the gap first.
A first poll (no mark) reads back max_pages pages and starts the mark there. Posts read twice are
stored once (the database's unique key).

Items are parsed here from the JSON the server sent (the SDK's raw `invoke_query`, which still
does the session, the headers and the error mapping), so one broken post becomes a RejectedItem
with its payload and the rest of the page is kept. Rate limits: a 429 pauses the source until
RateLimit-Reset, and polling stops while RESERVED_REQUESTS or fewer remain in the window.
Authors' follower counts (for routing) come from app.bsky.actor.getProfiles, cached per process.

Ids are AT URIs (at://did/app.bsky.feed.post/rkey), the same everywhere, so in_reply_to_id and
conversation_id are the reply's parent and root URIs. A reply needs both strong refs: the parent
is the post answered, the root is the parent's own root when the parent is itself a reply.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from atproto import Client, models
from atproto_client.exceptions import (
    BadRequestError,
    InvokeTimeoutError,
    LoginRequiredError,
    ModelError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    RequestException,
    UnauthorizedError,
)
from atproto_client.request import Request
from atproto_core.exceptions import AtProtocolError

from config.settings import Brand, SourceConfig
from listener.sources.base import FetchResult, RawAuthor, RawMention, RejectedItem
from listener.sources.errors import (
    AuthFailed,
    BadPayload,
    RateLimited,
    ReplyNotAllowed,
    ReplyTargetGone,
    SourceError,
    SourceUnavailable,
)
from listener.sources.matching import BrandMatch, BrandMatcher
from listener.sources.ratelimit import keep_reserve, retry_at

log = logging.getLogger(__name__)

NETWORK = "bluesky"
NOTIFICATIONS_STREAM = "notifications"
NOTIFICATION_REASONS = ["mention", "reply"]
PAGE_SIZE = 100  # the most both lists give
PROFILES_PER_REQUEST = 25
RESERVED_REQUESTS = 20  # of the window's budget, left to replies
DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=5)
MAX_CACHED_PROFILES = 10_000
SEARCH_OVERLAP = timedelta(minutes=1)  # search results re-read behind the mark (indexing lag)
MAX_BAD_REMEMBERED = 6  # broken items above the mark a cursor remembers (it holds 300 chars)
_POST_URI = re.compile(r"^at://([^/]+)/app\.bsky\.feed\.post/([^/]+)$")
_EXPIRED = {"ExpiredToken", "InvalidToken"}

T = TypeVar("T")


class BlueskyReplyRejected(SourceError):
    """Bluesky refused this reply's record (too long, invalid): retrying will not help."""


class _MalformedItem(ValueError):
    """One post or notification that cannot be normalised."""


class _SessionExpired(Exception):
    """The server no longer accepts our session: log in again."""


class _Refused(SourceUnavailable):
    """A 400 while reading: a bad parameter, a server quirk (the login maps it to AuthFailed)."""


@dataclass(frozen=True, slots=True)
class _Stream:
    name: str
    query: str  # search query, or "@handle" for notifications
    brand: str | None = None
    notifications: bool = False


@dataclass(frozen=True, slots=True)
class _Cursor:
    """Everything newer than `mark` has been read, except (when `resume` is set) the posts from
    the API cursor `resume` down to `mark`; `next` is the mark once that gap is closed. `bad`
    fingerprints the broken items above the mark already reported, since the next poll reads
    them again (their time cannot be read, so the mark cannot move past them)."""

    mark: str | None = None
    resume: str | None = None
    next: str | None = None
    bad: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: str | None) -> _Cursor:
        if not value:
            return cls()
        if not value.startswith("{"):
            return cls(mark=value)
        try:
            data = json.loads(value)
            return cls(
                mark=data.get("mark"),
                resume=data.get("resume"),
                next=data.get("next"),
                bad=tuple(str(b) for b in data.get("bad", ())),
            )
        except (ValueError, TypeError, AttributeError):
            log.warning("ignoring unreadable Bluesky cursor %r", value)
            return cls()

    def __str__(self) -> str:
        if self.resume is None and not self.bad:
            return self.mark or ""
        data: dict[str, Any] = {"mark": self.mark}
        if self.resume is not None:
            data.update(resume=self.resume, next=self.next)
        if self.bad:
            data["bad"] = list(self.bad)
        return json.dumps(data, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class _Post:
    """The parts of a post (or a notification about one) that a mention is made of."""

    uri: str
    author_did: str
    author_handle: str
    author_name: str | None
    text: str
    created_at: datetime
    sort_at: datetime  # the list's order: when the server indexed it (never after created)
    language: str | None
    parent_uri: str | None
    root_uri: str | None
    raw: dict[str, Any]


def search_terms(brand: Brand) -> list[str]:
    """One search per name, keyword and hashtag: Bluesky's query syntax has no reliable OR."""
    return list(dict.fromkeys([*brand.names, *brand.keywords, *brand.hashtags]))


def search_query(term: str) -> str:
    return f'"{term}"' if " " in term else term


class BlueskySource:
    network = NETWORK

    def __init__(
        self,
        *,
        name: str,
        brands: list[Brand],
        client: Client,
        handle: str,
        app_password: str,
        account_handle: str | None = None,
        search_posts: bool = True,
        max_pages: int = 10,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.name = name
        self._client = client
        self._handle = handle.lstrip("@")
        self._password = app_password
        self._brands = brands
        self._matcher = BrandMatcher(brands)
        self._account_handle = (account_handle or handle).lstrip("@")
        self._search_posts = search_posts
        self._max_pages = max_pages
        self._page_size = page_size
        self._did: str | None = None
        self._lock = threading.RLock()  # the poller and the sender share this source
        self._remaining: int | None = None
        self._reset: float | None = None
        self._followers: dict[str, int | None] = {}
        self.logins = 0

    # --- session --------------------------------------------------------------------------------
    def _own_did(self) -> str:
        with self._lock:
            if self._did is None:
                self._login()
            assert self._did is not None
            return self._did

    def _login(self) -> None:
        self.logins += 1
        try:
            profile = _translated(lambda: self._client.login(self._handle, self._password))
        except (_SessionExpired, _Refused) as exc:  # e.g. a second factor is required
            raise AuthFailed(f"Bluesky refused the login of {self._handle}: {exc}") from None
        did = getattr(profile, "did", None) or getattr(self._client.me, "did", None)
        if not did:
            raise AuthFailed(f"Bluesky logged in {self._handle} but did not say who that is")
        self._did = did
        log.info("%s: logged in to Bluesky as %s", self.name, self._handle)

    def _invoke(self, call: Callable[[], T], *, writing: bool = False) -> T:
        """One request in our session: logs in first if needed, once more if it expired."""
        self._own_did()
        try:
            return _translated(call, writing=writing)
        except _SessionExpired:
            with self._lock:
                log.info("%s: the Bluesky session expired; logging in again", self.name)
                self._did = None
                self._login()
            try:
                return _translated(call, writing=writing)
            except _SessionExpired as exc:
                raise AuthFailed(f"Bluesky refused a fresh session: {exc}") from None

    def _query(self, nsid: str, params: Any, *, writing: bool = False) -> Any:
        """GET an XRPC method; the JSON as sent, with the rate-limit headers noted."""
        response = self._invoke(
            lambda: self._client.invoke_query(nsid, params=params), writing=writing
        )
        self._note_budget(response.headers)
        if not isinstance(response.content, dict):
            raise BadPayload(f"Bluesky {nsid} answered with something that is not JSON")
        return response.content

    def _note_budget(self, headers: Mapping[str, str]) -> None:
        try:
            self._remaining = int(headers["ratelimit-remaining"])
            self._reset = float(headers["ratelimit-reset"])
        except (KeyError, TypeError, ValueError):
            pass

    def _check_budget(self) -> None:
        keep_reserve(
            "Bluesky",
            remaining=self._remaining,
            reset_epoch=self._reset,
            reserved=RESERVED_REQUESTS,
            default_wait=DEFAULT_RATE_LIMIT_WAIT,
        )

    # --- reading --------------------------------------------------------------------------------
    def fetch(self, cursors: Mapping[str, str]) -> FetchResult:
        result = FetchResult()
        seen: set[str] = set()
        for stream in self.streams():
            old = _Cursor.parse(cursors.get(stream.name))
            new = self._read_stream(stream, old, result, seen)
            if str(new) != str(old) and str(new):
                result.cursors[stream.name] = str(new)
        result.mentions.sort(key=lambda m: m.created_at)
        return result

    def streams(self) -> list[_Stream]:
        streams = [
            _Stream(
                name=NOTIFICATIONS_STREAM,
                query=f"@{self._account_handle}",
                brand=self._brand_with_handle(),
                notifications=True,
            )
        ]
        if self._search_posts:
            for brand in self._brands:
                for term in search_terms(brand):
                    streams.append(
                        _Stream(
                            name=f"search:{brand.name}:{term}",
                            query=search_query(term),
                            brand=brand.name,
                        )
                    )
        return streams

    def _brand_with_handle(self) -> str | None:
        wanted = self._account_handle.lower()
        for brand in self._brands:
            for handle in brand.handles:
                bare = handle.lstrip("@").lower()
                if wanted == bare or wanted.split(".")[0] == bare:
                    return brand.name
        return None

    def _read_stream(
        self, stream: _Stream, cursor: _Cursor, result: FetchResult, seen: set[str]
    ) -> _Cursor:
        mark = _parse_time(cursor.mark)
        # Search is ordered by post time and indexed a little late: a post written just before
        # the mark can appear after the poll that set it. Re-read a short overlap to catch it.
        floor = mark - SEARCH_OVERLAP if mark and not stream.notifications else mark
        newest: datetime | None = _parse_time(cursor.next)
        api_cursor = cursor.resume
        bad: list[str] = []
        finished = False
        for _ in range(self._max_pages):
            body = self._page(stream, api_cursor, _iso(floor) if floor else None)
            items = body.get("notifications" if stream.notifications else "posts")
            if not isinstance(items, list):
                raise BadPayload(f"Bluesky {stream.name}: the answer has no list of items")
            reached = False
            kept: list[_Post] = []
            for item in items:
                try:
                    post = self._parse(stream, item)
                except _MalformedItem as exc:
                    payload = _dump(item)
                    fingerprint = hashlib.sha256(payload.encode()).hexdigest()[:12]
                    if fingerprint not in cursor.bad:  # reported by an earlier poll
                        result.rejected.append(
                            RejectedItem(stream.name, f"unusable Bluesky item: {exc}", payload)
                        )
                    bad.append(fingerprint)
                    continue
                if post is None:
                    continue
                if floor is not None and post.sort_at < floor:
                    reached = True  # older than what earlier polls read: done
                    break
                if newest is None or post.sort_at > newest:
                    newest = post.sort_at
                kept.append(post)
            self._keep(stream, kept, result, seen)
            next_cursor = body.get("cursor")
            if reached or not items or not isinstance(next_cursor, str) or not next_cursor:
                finished = True
                break
            api_cursor = next_cursor
        newest_text = _iso(newest) if newest else cursor.mark
        # A gap walk does not pass the top again: what it reported there still stands.
        carried = cursor.bad if cursor.resume is not None else ()
        bad_above = tuple(dict.fromkeys([*carried, *bad]))[:MAX_BAD_REMEMBERED]
        if finished or mark is None:  # a first poll backfills max_pages and starts from there
            return _Cursor(mark=newest_text, bad=bad_above)
        log.info("%s %s: page limit reached, continuing next poll", self.name, stream.name)
        return _Cursor(mark=cursor.mark, resume=api_cursor, next=newest_text, bad=bad_above)

    def _page(self, stream: _Stream, api_cursor: str | None, since: str | None) -> Any:
        self._check_budget()
        if stream.notifications:
            params: Any = models.AppBskyNotificationListNotifications.Params(
                limit=self._page_size, cursor=api_cursor, reasons=NOTIFICATION_REASONS
            )
            return self._query("app.bsky.notification.listNotifications", params)
        params = models.AppBskyFeedSearchPosts.Params(
            q=stream.query, sort="latest", limit=self._page_size, cursor=api_cursor, since=since
        )
        return self._query("app.bsky.feed.searchPosts", params)

    def _parse(self, stream: _Stream, item: Any) -> _Post | None:
        """The post in one item, None if it is not ours to keep; _MalformedItem if unreadable."""
        reason = item.get("reason") if isinstance(item, dict) else None
        if stream.notifications and reason not in (None, *NOTIFICATION_REASONS):
            return None  # a server that ignored `reasons`: not ours to keep
        return _post_of(item, notification=stream.notifications)

    def _keep(
        self, stream: _Stream, posts: list[_Post], result: FetchResult, seen: set[str]
    ) -> None:
        own = self._own_did()
        wanted: list[tuple[_Post, BrandMatch]] = []
        for post in posts:
            if post.author_did == own or post.uri in seen:
                continue  # our own replies name the brand; they are not mentions
            match = self._match(stream, post.text)
            if match is not None:
                wanted.append((post, match))
        self._load_followers({post.author_did for post, _ in wanted})
        for post, match in wanted:
            seen.add(post.uri)
            result.mentions.append(self._mention(stream, post, match))

    def _match(self, stream: _Stream, text: str) -> BrandMatch | None:
        if not stream.notifications:
            return self._matcher.match(text, prefer=stream.brand)
        # A mention of our account, or a reply to our post, is addressed to us.
        return self._matcher.addressed(text, term=stream.query, owner=stream.brand)

    def _mention(self, stream: _Stream, post: _Post, match: BrandMatch) -> RawMention:
        did, rkey = _POST_URI.match(post.uri).groups()  # type: ignore[union-attr]
        return RawMention(
            network=NETWORK,
            external_id=post.uri,
            url=f"https://bsky.app/profile/{post.author_handle or did}/post/{rkey}",
            author=RawAuthor(
                external_id=post.author_did,
                handle=post.author_handle,
                display_name=post.author_name,
                followers=self._followers.get(post.author_did),
            ),
            text=post.text,
            created_at=post.created_at,
            brand=match.brand,
            matched_query=match.term if stream.notifications else stream.query,
            is_competitor=match.is_competitor,
            raw=post.raw,
            in_reply_to_id=post.parent_uri,
            conversation_id=post.root_uri,
            language=post.language,
        )

    def _load_followers(self, dids: set[str]) -> None:
        missing = sorted(d for d in dids if d not in self._followers)
        for start in range(0, len(missing), PROFILES_PER_REQUEST):
            batch = missing[start : start + PROFILES_PER_REQUEST]
            self._check_budget()
            params = models.AppBskyActorGetProfiles.Params(actors=batch)
            body = self._query("app.bsky.actor.getProfiles", params)
            profiles = body.get("profiles")
            for profile in profiles if isinstance(profiles, list) else []:
                if isinstance(profile, dict) and isinstance(profile.get("did"), str):
                    count = profile.get("followersCount")
                    valid = isinstance(count, int) and not isinstance(count, bool)
                    self._followers[profile["did"]] = count if valid else None
            for did in batch:
                self._followers.setdefault(did, None)  # not found: do not ask again
        if len(self._followers) > MAX_CACHED_PROFILES:
            self._followers.clear()  # counts drift anyway; start over rather than grow

    # --- replying -------------------------------------------------------------------------------
    def reply(self, in_reply_to_id: str, text: str) -> str:
        """Post `text` in reply to the post at URI `in_reply_to_id`; returns the reply's URI.

        The parent is the post answered; the root is the parent's own thread root when it is a
        reply itself (else the parent), so the reply shows in the right thread.
        """
        parent = self._post_view(in_reply_to_id)
        viewer = parent.get("viewer") if isinstance(parent.get("viewer"), dict) else {}
        if viewer.get("replyDisabled"):
            raise ReplyNotAllowed("Bluesky: the author limits who can reply to this post")
        parent_ref = _strong_ref(parent)
        record = parent.get("record") if isinstance(parent.get("record"), dict) else {}
        reply = record.get("reply") if isinstance(record.get("reply"), dict) else None
        root_ref = (
            _strong_ref(reply["root"])
            if reply and isinstance(reply.get("root"), dict)
            else parent_ref
        )
        facets = self._invoke(lambda: self._client.detect_facets(text), writing=True)
        created = self._invoke(
            lambda: self._client.send_post(
                text,
                reply_to=models.AppBskyFeedPost.ReplyRef(root=root_ref, parent=parent_ref),
                facets=facets or None,
            ),
            writing=True,
        )
        uri = getattr(created, "uri", None)
        if not isinstance(uri, str) or not _POST_URI.match(uri):
            raise BadPayload(f"Bluesky answered a new post without its URI: {created!r}"[:300])
        return uri

    def find_reply(self, in_reply_to_id: str, text: str) -> str | None:
        """The URI of the account's own reply to `in_reply_to_id` with this text, if it exists.

        Reads the post's thread one level down: used to settle whether a reply whose outcome
        was never recorded (a crash, a timeout) actually went out.
        """
        own = self._own_did()
        params = models.AppBskyFeedGetPostThread.Params(
            uri=in_reply_to_id, depth=1, parent_height=0
        )
        try:
            body = self._query("app.bsky.feed.getPostThread", params, writing=True)
        except ReplyTargetGone:
            return None
        thread = body.get("thread") if isinstance(body.get("thread"), dict) else {}
        wanted = " ".join(text.split())
        for node in thread.get("replies") or []:
            post = node.get("post") if isinstance(node, dict) else None
            if not isinstance(post, dict):
                continue
            author = post.get("author") if isinstance(post.get("author"), dict) else {}
            record = post.get("record") if isinstance(post.get("record"), dict) else {}
            parent = (record.get("reply") or {}).get("parent") or {}
            if (
                author.get("did") == own
                and parent.get("uri") == in_reply_to_id
                and " ".join(str(record.get("text", "")).split()) == wanted
            ):
                return str(post["uri"])
        return None

    def _post_view(self, uri: str) -> dict[str, Any]:
        if not _POST_URI.match(uri):
            raise ReplyTargetGone(f"{uri!r} is not the AT URI of a Bluesky post")
        body = self._query(
            "app.bsky.feed.getPosts", models.AppBskyFeedGetPosts.Params(uris=[uri]), writing=True
        )
        posts = body.get("posts")
        found = (
            [p for p in posts if isinstance(p, dict) and p.get("uri") == uri]
            if isinstance(posts, list)
            else []
        )
        if not found:
            raise ReplyTargetGone(f"Bluesky: the post is deleted or not visible ({uri})")
        return found[0]


# --- parsing -------------------------------------------------------------------------------------
def _post_of(item: Any, *, notification: bool) -> _Post:
    if not isinstance(item, dict):
        raise _MalformedItem(f"item is a {type(item).__name__}, not an object")
    uri = item.get("uri")
    if not isinstance(uri, str) or not _POST_URI.match(uri):
        if notification and isinstance(uri, str):
            raise _MalformedItem(f"notification is not about a post: {uri!r}")
        raise _MalformedItem(f"uri is {uri!r}")
    author = item.get("author")
    if not isinstance(author, dict) or not isinstance(author.get("did"), str):
        raise _MalformedItem("author has no did")
    handle = author.get("handle")
    record = item.get("record")
    if not isinstance(record, dict):
        raise _MalformedItem("post has no record")
    text = record.get("text")
    if not isinstance(text, str):
        raise _MalformedItem(f"record.text is {type(text).__name__}, expected text")
    created_at = _time(record.get("createdAt"), "record.createdAt")
    indexed_at = _time(item.get("indexedAt"), "indexedAt")
    reply = record.get("reply")
    parent_uri = root_uri = None
    if reply is not None:
        try:
            parent_uri, root_uri = str(reply["parent"]["uri"]), str(reply["root"]["uri"])
        except (KeyError, TypeError):
            raise _MalformedItem("record.reply lacks its parent or root") from None
    langs = record.get("langs")
    name = author.get("displayName")
    return _Post(
        uri=uri,
        author_did=author["did"],
        author_handle=handle if isinstance(handle, str) and handle else author["did"],
        author_name=name if isinstance(name, str) and name else None,
        text=text,
        created_at=created_at,
        # Notifications run by indexedAt; search by sortAt, the earlier of the two times.
        sort_at=indexed_at if notification else min(created_at, indexed_at),
        language=langs[0]
        if isinstance(langs, list) and langs and isinstance(langs[0], str)
        else None,
        parent_uri=parent_uri,
        root_uri=root_uri,
        raw=item,
    )


def _time(value: Any, what: str) -> datetime:
    moment = _parse_time(value if isinstance(value, str) else None)
    if moment is None:
        raise _MalformedItem(f"{what} is {value!r}, expected an ISO 8601 time with a timezone")
    return moment


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else None


def _iso(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def _strong_ref(view: dict[str, Any]) -> models.ComAtprotoRepoStrongRef.Main:
    uri, cid = view.get("uri"), view.get("cid")
    if not isinstance(uri, str) or not isinstance(cid, str):
        raise BadPayload(f"Bluesky post reference without uri and cid: {_dump(view)[:200]}")
    return models.ComAtprotoRepoStrongRef.Main(uri=uri, cid=cid)


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


# --- translating the SDK's errors ---------------------------------------------------------------
def _error_name(exc: RequestErrorBase) -> str:
    content = exc.response.content if exc.response is not None else None
    return str(getattr(content, "error", "") or "")


def _translated(call: Callable[[], T], *, writing: bool = False) -> T:
    """Run one SDK call, translating its exceptions into ours (_SessionExpired: log in again).

    `writing`: a reply or a lookup for one, where "not found" means the post is gone and a 400
    means Bluesky refuses this record.
    """
    try:
        return call()
    except RateLimitExceededError as exc:
        reset = exc.reset_at
        if reset is None and exc.retry_after is not None:
            reset = datetime.now(UTC) + timedelta(seconds=exc.retry_after)
        raise RateLimited(
            f"Bluesky rate limit ({exc.policy or 'no policy given'})",
            retry_at=retry_at(
                reset.timestamp() if reset else None, default_wait=DEFAULT_RATE_LIMIT_WAIT
            ),
        ) from None
    except BadRequestError as exc:
        name = _error_name(exc)
        if name in _EXPIRED:
            raise _SessionExpired(name) from None
        if writing and name == "NotFound":
            raise ReplyTargetGone(f"Bluesky: the post is gone ({exc})") from None
        if writing:
            raise BlueskyReplyRejected(f"Bluesky refused the reply: {exc}") from None
        raise _Refused(f"Bluesky rejected the request: {exc}") from None
    except UnauthorizedError as exc:
        raise AuthFailed(f"Bluesky refused the credentials: {exc}") from None
    except LoginRequiredError as exc:
        raise AuthFailed(f"Bluesky: not logged in ({exc})") from None
    except (InvokeTimeoutError, NetworkError) as exc:
        raise SourceUnavailable(f"Bluesky unreachable: {type(exc).__name__}: {exc}") from None
    except RequestException as exc:
        raise SourceUnavailable(f"Bluesky answered {exc}") from None
    except ModelError as exc:
        raise BadPayload(f"Bluesky sent something the SDK cannot read: {str(exc)[:300]}") from None
    except AtProtocolError as exc:
        raise SourceError(f"Bluesky client error: {type(exc).__name__}: {exc}") from None
    except ValueError as exc:  # a body announced as JSON that is not
        raise BadPayload(f"Bluesky sent a body that is not JSON: {str(exc)[:300]}") from None


# --- building ------------------------------------------------------------------------------------
def build(
    config: SourceConfig, brands: list[Brand], *, page_size: int = PAGE_SIZE
) -> BlueskySource:
    credentials = config.resolve_credentials()
    # httpx logs every request at INFO: a line per call drowns the listener's own log.
    httpx_log = logging.getLogger("httpx")
    if httpx_log.getEffectiveLevel() < logging.WARNING:
        httpx_log.setLevel(logging.WARNING)
    request = Request(timeout=config.request_timeout_seconds)
    client = Client(base_url=config.api_base_url, request=request)
    return BlueskySource(
        name=config.name,
        brands=brands,
        client=client,
        handle=credentials["handle"].get_secret_value(),
        app_password=credentials["app_password"].get_secret_value(),
        account_handle=config.account_handle,
        search_posts=config.search_posts,
        max_pages=config.max_pages,
        page_size=page_size,
    )
