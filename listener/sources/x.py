"""X (Twitter) through tweepy.Client and API v2: brand searches, the account's mentions, replies.

Streams: "search:<brand name>" per configured brand (competitors too) and "mentions" for
`account_handle`. Each stream's cursor is an X post id (`since_id`).

Cursors never skip posts. X pages run newest first, so when `max_pages` runs out before the last
page, the posts between the old cursor and the oldest one read are still unread. Advancing to
the newest id would lose them for good; not advancing would reread the same top pages forever
under steady traffic. So the cursor then records the gap as "<since>:<until>:<newest>", the next
poll reads that gap (since_id/until_id) first, and once it is closed the cursor jumps to <newest>.
A plain id is the usual cursor; "" for <since> means "from as far back as X lets us read".

Items are parsed here (tweepy's return_type=dict), so one broken post becomes a RejectedItem and
the rest of its page is kept. tweepy objects and exceptions never leave this module.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import requests
import tweepy
from requests.adapters import HTTPAdapter

from config.errors import ConfigError
from config.settings import Brand, SourceConfig
from listener.sources.base import FetchResult, RawAuthor, RawMention, RejectedItem
from listener.sources.errors import (
    AuthFailed,
    BadPayload,
    RateLimited,
    ReplyNotAllowed,
    ReplyTargetGone,
    SourceUnavailable,
)
from listener.sources.matching import BrandMatcher
from listener.sources.ratelimit import retry_at

log = logging.getLogger(__name__)

X_API_HOST = "https://api.twitter.com"  # hard-coded inside tweepy.BaseClient.request
MAX_QUERY_LENGTH = 512
# public_metrics: likes, reposts and replies as first seen (event reports show engagement).
TWEET_FIELDS = [
    "author_id",
    "conversation_id",
    "created_at",
    "lang",
    "public_metrics",
    "referenced_tweets",
]
USER_FIELDS = ["public_metrics"]
EXPANSIONS = ["author_id"]
MENTIONS_STREAM = "mentions"
SEARCH_PREFIX = "search:"
DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=15)  # X's window, when no reset header came back

T = TypeVar("T")


class ReplyRejected(AuthFailed):
    """X refused this particular reply (reply rule, deleted target, text too long).

    Retrying the same reply will not help; other replies may still work. It is an AuthFailed so
    callers that only know the generic tree still stop retrying it.
    """


class XReplyNotAllowed(ReplyRejected, ReplyNotAllowed):
    """X's reply rule: the account may reply only to people who mentioned or quoted it."""


class XReplyTargetGone(ReplyRejected, ReplyTargetGone):
    """The post to reply to is deleted or not visible to the account."""


class _XAdapter(HTTPAdapter):
    """Sends tweepy's api.twitter.com requests to `base_url` (when set) with a timeout.

    tweepy has no setting for either; its session.request() passes no timeout at all.
    """

    def __init__(self, base_url: str | None, timeout: float) -> None:
        super().__init__()
        self._base_url = base_url.rstrip("/") if base_url else None
        self._timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if self._base_url and request.url and request.url.startswith(X_API_HOST):
            request.url = self._base_url + request.url[len(X_API_HOST) :]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


def _quote(term: str) -> str:
    # X's query language has no escape for '"'; a quote inside a term cannot be searched anyway.
    return '"' + term.replace('"', " ").strip() + '"'


def build_query(brand: Brand) -> str:
    """An X search query for one brand: any of its terms, none of its exclusions, no retweets."""
    terms = [
        *(_quote(t) for t in brand.names),
        *brand.handles,
        *brand.hashtags,
        *(_quote(t) for t in brand.keywords),
    ]
    query = "(" + " OR ".join(terms) + ")"
    for term in brand.exclude:
        query += " -" + _quote(term)
    return query + " -is:retweet"


@dataclass(frozen=True, slots=True)
class _Cursor:
    """A stream's position: everything in (since, until) is still unread; `newest` is where the
    cursor goes once that gap is closed (see the module docstring)."""

    since: int | None = None
    until: int | None = None
    newest: int | None = None

    @classmethod
    def parse(cls, value: str | None) -> _Cursor:
        if not value:
            return cls()
        try:
            if ":" not in value:
                return cls(since=int(value))
            since, until, newest = value.split(":")
            return cls(since=int(since) if since else None, until=int(until), newest=int(newest))
        except ValueError:
            log.warning("ignoring unreadable X cursor %r", value)
            return cls()

    def __str__(self) -> str:
        if self.until is None:
            return str(self.since) if self.since is not None else ""
        return f"{self.since if self.since is not None else ''}:{self.until}:{self.newest}"


@dataclass(frozen=True, slots=True)
class _Stream:
    name: str
    brand: str | None  # preferred brand for matching
    query: str  # the search query, or the mentioned handle
    fetch_page: Callable[[dict[str, Any]], Any]  # one page for these request params
    page_param: str  # search pages with next_token, timelines with pagination_token


class XSource:
    network = "x"

    def __init__(
        self,
        *,
        name: str,
        brands: list[Brand],
        client: tweepy.Client,
        account_handle: str | None = None,
        max_pages: int = 10,
        page_size: int = 100,
        user_auth_for_writes: bool = False,
    ) -> None:
        self.name = name
        self._brands = brands
        self._client = client
        self._matcher = BrandMatcher(brands)
        self._account_handle = account_handle.lstrip("@") if account_handle else None
        self._account_id: str | None = None
        self._max_pages = max_pages
        self._page_size = page_size
        self._user_auth_for_writes = user_auth_for_writes
        self._queries = {brand.name: build_query(brand) for brand in brands}
        for brand_name, query in self._queries.items():
            if len(query) > MAX_QUERY_LENGTH:
                raise ConfigError(
                    f"source {name!r}: the X query for brand {brand_name!r} is {len(query)} "
                    f"characters; X allows {MAX_QUERY_LENGTH}. Use fewer or shorter terms."
                )

    # fetching -------------------------------------------------------------------------------
    def fetch(self, cursors: Mapping[str, str]) -> FetchResult:
        result = FetchResult()
        seen: set[str] = set()
        for stream in self._streams():
            old = _Cursor.parse(cursors.get(stream.name))
            new = self._fetch_stream(stream, old, result, seen)
            if new != old:
                result.cursors[stream.name] = str(new)
        return result

    def _streams(self) -> Iterator[_Stream]:
        client = self._client
        for brand in self._brands:
            query = self._queries[brand.name]
            yield _Stream(
                name=SEARCH_PREFIX + brand.name,
                brand=brand.name,
                query=query,
                fetch_page=lambda params, q=query: client.search_recent_tweets(query=q, **params),
                page_param="next_token",
            )
        if self._account_handle:
            user_id = self._mentioned_user_id()
            yield _Stream(
                name=MENTIONS_STREAM,
                brand=self._brand_with_handle(self._account_handle),
                query=f"@{self._account_handle}",
                fetch_page=lambda params: client.get_users_mentions(id=user_id, **params),
                page_param="pagination_token",
            )

    def _brand_with_handle(self, handle: str) -> str | None:
        wanted = f"@{handle}".lower()
        return next((b.name for b in self._brands if wanted in map(str.lower, b.handles)), None)

    def _mentioned_user_id(self) -> str:
        if self._account_id is None:
            handle = self._account_handle
            body = _call(lambda: self._client.get_user(username=handle))
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, dict) or not isinstance(data.get("id"), str):
                raise AuthFailed(
                    f"X account @{handle} (account_handle of source {self.name!r}) was not "
                    f"found: {_errors_text(body)}"
                )
            self._account_id = data["id"]
        return self._account_id

    def _fetch_stream(
        self, stream: _Stream, cursor: _Cursor, result: FetchResult, seen: set[str]
    ) -> _Cursor:
        params: dict[str, Any] = {
            "max_results": self._page_size,
            "tweet_fields": TWEET_FIELDS,
            "user_fields": USER_FIELDS,
            "expansions": EXPANSIONS,
        }
        if cursor.since is not None:
            params["since_id"] = str(cursor.since)
        if cursor.until is not None:
            params["until_id"] = str(cursor.until)
        newest_read: int | None = None
        oldest_read: int | None = None
        token: str | None = None
        for _ in range(self._max_pages):
            page_params = {**params, stream.page_param: token} if token else params
            body = _call(lambda p=page_params: stream.fetch_page(p))
            tweets, users, meta = _page_parts(body)
            for item in tweets:
                mention = self._to_mention(stream, item, users, result)
                if mention is not None and mention.external_id not in seen:
                    seen.add(mention.external_id)
                    result.mentions.append(mention)
            if meta.get("result_count", 0):
                page_newest, page_oldest = _meta_id(meta, "newest_id"), _meta_id(meta, "oldest_id")
                newest_read = page_newest if newest_read is None else max(newest_read, page_newest)
                oldest_read = page_oldest
            token = meta.get("next_token")
            if not token:
                break
        ceiling = cursor.newest if cursor.until is not None else newest_read
        if token:  # pages ran out before the stream did: remember the unread gap
            log.info("%s %s: page limit reached, continuing next poll", self.name, stream.name)
            return _Cursor(since=cursor.since, until=oldest_read, newest=ceiling)
        if ceiling is None:  # nothing new, no gap
            return cursor
        return _Cursor(since=max(ceiling, cursor.since or 0))

    def _to_mention(
        self,
        stream: _Stream,
        item: Any,
        users: dict[str, dict[str, Any]],
        result: FetchResult,
    ) -> RawMention | None:
        try:
            tweet_id, text, created_at = _required(item)
        except (KeyError, TypeError, ValueError) as exc:
            result.rejected.append(
                RejectedItem(
                    stream=stream.name, reason=f"unusable X post: {exc}", payload=_dump(item)
                )
            )
            return None
        match = self._matcher.match(text, prefer=stream.brand)
        if match is None:
            return None  # an exclusion, or a hit on something our terms do not cover
        author_id = str(item.get("author_id", ""))
        user = users.get(author_id)
        if self._is_own(author_id, user):
            return None  # our own replies often name the brand; they are not mentions
        if user is None:
            log.warning("X post %s came without its author %r", tweet_id, author_id)
            author = RawAuthor(external_id=author_id, handle=author_id)
            url = f"https://x.com/i/web/status/{tweet_id}"
        else:
            metrics = user.get("public_metrics")
            followers = metrics.get("followers_count") if isinstance(metrics, dict) else None
            author = RawAuthor(
                external_id=author_id,
                handle=str(user.get("username", author_id)),
                display_name=user.get("name"),
                followers=followers if isinstance(followers, int) else None,
            )
            url = f"https://x.com/{author.handle}/status/{tweet_id}"
        replied_to = next(
            (
                str(ref.get("id"))
                for ref in item.get("referenced_tweets") or []
                if isinstance(ref, dict) and ref.get("type") == "replied_to"
            ),
            None,
        )
        return RawMention(
            network=self.network,
            external_id=tweet_id,
            url=url,
            author=author,
            text=text,
            created_at=created_at,
            brand=match.brand,
            matched_query=stream.query,
            is_competitor=match.is_competitor,
            raw=item,
            in_reply_to_id=replied_to,
            conversation_id=_optional_str(item.get("conversation_id")),
            language=_optional_str(item.get("lang")),
        )

    def _is_own(self, author_id: str, user: dict[str, Any] | None) -> bool:
        if author_id and author_id == self._account_id:
            return True
        handle = str(user.get("username", "")) if user else ""
        return bool(handle) and handle.lower() == (self._account_handle or "").lower()

    # replying -------------------------------------------------------------------------------
    def reply(self, in_reply_to_id: str, text: str) -> str:
        """Post `text` as a reply to X post `in_reply_to_id`; returns the new post's id.

        Raises ReplyRejected when X refuses this reply (reply rule, deleted target, too long).
        """
        try:
            body = _call(
                lambda: self._client.create_tweet(
                    text=text,
                    in_reply_to_tweet_id=in_reply_to_id,
                    user_auth=self._user_auth_for_writes,
                ),
                rejecting=True,
            )
        except ReplyRejected as exc:
            raise _refined_rejection(exc) from None
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise BadPayload(f"X answered a post creation without an id: {_dump(body)[:200]}")
        return data["id"]

    def find_reply(self, in_reply_to_id: str, text: str) -> str | None:
        """The id of the account's own reply to `in_reply_to_id` with this text, if it exists.

        Reads the account's timeline (an owned read, cheap and not subject to search's index
        lag) newer than the replied-to post, since a reply always has a larger id. Used to settle
        whether a post whose outcome we never recorded (a crash, a timeout) actually went out.
        """
        user_id = self._own_user_id()
        wanted = _comparable(text)
        token: str | None = None
        for _ in range(self._max_pages):
            params: dict[str, Any] = {
                "since_id": in_reply_to_id,
                "max_results": 100,
                "tweet_fields": ["referenced_tweets"],
            }
            if token:
                params["pagination_token"] = token
            body = _call(lambda p=params: self._client.get_users_tweets(id=user_id, **p))
            tweets, _users, meta = _page_parts(body)
            for item in tweets:
                if not isinstance(item, dict):
                    continue
                replied_to = {
                    str(ref.get("id"))
                    for ref in item.get("referenced_tweets") or []
                    if isinstance(ref, dict) and ref.get("type") == "replied_to"
                }
                if in_reply_to_id in replied_to and _comparable(str(item.get("text"))) == wanted:
                    return str(item["id"])
            token = meta.get("next_token")
            if not token:
                return None
        return None

    def _own_user_id(self) -> str:
        if self._account_handle:
            return self._mentioned_user_id()
        if self._account_id is None:
            body = _call(lambda: self._client.get_me(user_auth=self._user_auth_for_writes))
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, dict) or not isinstance(data.get("id"), str):
                raise AuthFailed(f"X did not say who the account is: {_errors_text(body)}")
            self._account_id = data["id"]
        return self._account_id


def _refined_rejection(exc: ReplyRejected) -> ReplyRejected:
    """Say which refusal it was, so the employee can be told what to do about it."""
    message = str(exc)
    lowered = message.lower()
    if "not been mentioned" in lowered or "not allowed" in lowered:
        return XReplyNotAllowed(message)
    if "deleted" in lowered or "not visible" in lowered or "not found" in lowered:
        return XReplyTargetGone(message)
    return exc


_URL = re.compile(r"https?://\S+")


def _comparable(text: str) -> str:
    # X shortens links to t.co and trims whitespace: compare what survives that.
    return " ".join(_URL.sub("<link>", text).split())


# Translating tweepy's world ------------------------------------------------------------------
def _call(request: Callable[[], T], *, rejecting: bool = False) -> T:
    """Run one tweepy call, translating its exceptions into ours.

    `rejecting`: a write, where 400/403/404 mean "not this post" (ReplyRejected) unless the 403
    is about the app's access.
    """
    try:
        return request()
    except tweepy.TooManyRequests as exc:
        raise RateLimited(
            f"X rate limit: {exc}",
            retry_at=retry_at(exc.reset_time, default_wait=DEFAULT_RATE_LIMIT_WAIT),
        ) from None
    except tweepy.Unauthorized as exc:
        raise AuthFailed(f"X refused the credentials: {exc}") from None
    except tweepy.Forbidden as exc:
        if rejecting and _is_about_the_post(exc):
            raise ReplyRejected(f"X refused the reply: {exc}") from None
        raise AuthFailed(f"X refused access: {exc}") from None
    except (tweepy.BadRequest, tweepy.NotFound) as exc:
        if rejecting:
            raise ReplyRejected(f"X refused the post: {exc}") from None
        raise SourceUnavailable(f"X rejected the request: {exc}") from None
    except tweepy.TwitterServerError as exc:
        raise SourceUnavailable(f"X server error: {exc}") from None
    except tweepy.HTTPException as exc:
        raise SourceUnavailable(f"X answered unexpectedly: {exc}") from None
    except requests.JSONDecodeError as exc:
        raise BadPayload(f"X sent a body that is not JSON: {exc}") from None
    except requests.RequestException as exc:
        # Connection errors and timeouts: worth retrying with backoff.
        raise SourceUnavailable(f"X unreachable: {type(exc).__name__}: {exc}") from None


def _is_about_the_post(exc: tweepy.Forbidden) -> bool:
    text = " ".join(map(str, exc.api_messages)).lower() or str(exc).lower()
    return any(word in text for word in ("reply", "deleted", "duplicate", "not visible"))


def _page_parts(body: Any) -> tuple[list[Any], dict[str, dict[str, Any]], dict[str, Any]]:
    """A search/timeline page's tweets, its users by id, and its meta; BadPayload if the page
    as a whole has the wrong shape (single bad tweets are dealt with one by one)."""
    if not isinstance(body, dict):
        raise BadPayload(f"X page is a {type(body).__name__}, not an object")
    meta = body.get("meta")
    if not isinstance(meta, dict):
        raise BadPayload(f"X page has no meta: {_errors_text(body)}")
    tweets = body.get("data", [])
    if not isinstance(tweets, list):
        raise BadPayload("X page 'data' is not a list")
    includes = body.get("includes") or {}
    raw_users = includes.get("users", []) if isinstance(includes, dict) else []
    if not isinstance(raw_users, list):
        raise BadPayload("X page includes.users is not a list")
    users = {str(u["id"]): u for u in raw_users if isinstance(u, dict) and "id" in u}
    next_token = meta.get("next_token")
    if next_token is not None and not isinstance(next_token, str):
        raise BadPayload("X page meta.next_token is not a string")
    return tweets, users, meta


def _meta_id(meta: dict[str, Any], key: str) -> int:
    try:
        return int(meta[key])
    except (KeyError, TypeError, ValueError):
        raise BadPayload(f"X page meta.{key} is missing or not an id: {meta.get(key)!r}") from None


def _required(item: Any) -> tuple[str, str, datetime]:
    if not isinstance(item, dict):
        raise TypeError(f"item is a {type(item).__name__}, not an object")
    tweet_id, text, created = item["id"], item["text"], item["created_at"]
    if not isinstance(tweet_id, str) or not tweet_id.isdigit():
        raise ValueError(f"id {tweet_id!r} is not a numeric string")
    if not isinstance(text, str):
        raise TypeError("text is not a string")
    created_at = datetime.fromisoformat(str(created))
    if created_at.tzinfo is None:
        raise ValueError(f"created_at {created!r} has no timezone")
    return tweet_id, text, created_at.astimezone(UTC)


def _optional_str(value: Any) -> str | None:
    return str(value) if value is not None else None


def _errors_text(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        details = [str(e.get("detail") or e.get("message") or e) for e in body["errors"]]
        return "; ".join(details) or "no details"
    return "no details"


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


# Building -------------------------------------------------------------------------------------
def make_client(config: SourceConfig) -> tuple[tweepy.Client, bool]:
    """A tweepy.Client for this source, and whether it can sign writes with OAuth 1.0a."""
    creds = {key: secret.get_secret_value() for key, secret in config.resolve_credentials().items()}
    oauth1_keys = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
    has_oauth1 = all(creds.get(k) for k in oauth1_keys)
    client = tweepy.Client(
        bearer_token=creds["bearer_token"],
        **{k: creds.get(k) for k in oauth1_keys},
        return_type=dict,
        # We pause the source ourselves (RateLimited); tweepy would sleep inside the poll.
        wait_on_rate_limit=False,
    )
    # tweepy logs request headers, bearer token included, at DEBUG: never let that through.
    tweepy_log = logging.getLogger("tweepy.client")
    if tweepy_log.getEffectiveLevel() < logging.INFO:
        tweepy_log.setLevel(logging.INFO)
    client.session.mount(
        X_API_HOST + "/", _XAdapter(config.api_base_url, config.request_timeout_seconds)
    )
    return client, has_oauth1


def build(config: SourceConfig, brands: list[Brand], *, page_size: int = 100) -> XSource:
    client, has_oauth1 = make_client(config)
    return XSource(
        name=config.name,
        brands=brands,
        client=client,
        account_handle=config.account_handle,
        max_pages=config.max_pages,
        page_size=page_size,
        # Without OAuth 1.0a keys the bearer token must be an OAuth 2.0 user-context token.
        user_auth_for_writes=has_oauth1,
    )
