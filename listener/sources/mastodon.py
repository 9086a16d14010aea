"""Mastodon through Mastodon.py: the account's mentions, brand hashtags, status search, replies.

One source reads one instance (`api_base_url`, with an access token of the brand's account
there). Several instances are several sources: each has its own token, cursors and rate limit.

Streams, each with its own cursor (an id of that instance, as a string):
- "mentions" when account_handle is set: notifications of type mention (cursor: notification id).
  A mention is addressed to the brand, so it is kept whatever else it says.
- "tag:<name>" for every hashtag of every brand: the hashtag timeline. Brand-matched again here.
- "search:<brand>:<term>" for each name and keyword of each brand, when `search_posts` is on:
  full-text status search (Mastodon 4.2+ with search enabled, opted-in posts only). A server that
  refuses status search (4xx) has it switched off for this source until restart, with a warning.

Cursors never skip posts: with a cursor we ask for `min_id=<cursor>`, which Mastodon answers with
the statuses *immediately* newer than it (newest first), and walk on through the Link header's
rel="prev" (search has no Link header: the next min_id is the newest id read). When max_pages
stops us, the cursor is the newest status actually read and the next poll goes on from there.
Without a cursor (first poll) we read newest first through rel="next" (max_id), up to max_pages.

Ids: Mastodon ids belong to one instance, so a mention's id is "<instance>/<status id>" (the
instance being api_base_url without its scheme): two instances can never collide, and replies know
which local id to answer. The same post federated to two configured instances is therefore stored
once per instance. Mastodon does not expose a thread's root; conversation_id is the parent status
(exact for the common case of an author following up on their own post).

Content is HTML; the text is html_to_text(content) (with the content warning in front), and the
raw HTML stays only in the payload. Rate limits: Mastodon.py raises on a 429 ("throw"), which
pauses the source until X-RateLimit-Reset; and polling stops early while fewer than
RESERVED_REQUESTS remain in the window, leaving those for replies.
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

import requests
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from config.errors import ConfigError
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
from listener.sources.html_text import html_to_text
from listener.sources.matching import BrandMatch, BrandMatcher
from listener.sources.ratelimit import keep_reserve, retry_at

log = logging.getLogger(__name__)

NETWORK = "mastodon"
MENTIONS_STREAM = "mentions"
PAGE_SIZE = 40  # the most Mastodon gives for timelines and search (notifications allow 80)
RESERVED_REQUESTS = 10  # of the window's budget, left to replies: polling stops before them
DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=5)  # Mastodon's window, when no reset came back
MAX_STATUS_LENGTH = 500
URL_WEIGHT = 23
MAX_INSTANCE_KEY = 100  # ids are "<instance>/<id>" in 128-character columns
_URL = re.compile(r"https?://\S+")
_LEADING_MENTIONS = re.compile(r"^(?:@[\w.]+(?:@[\w.-]+)?\s+)+")

T = TypeVar("T")


class MastodonReplyRejected(SourceError):
    """Mastodon refused this reply's content (too long, empty, invalid): retrying will not help."""


class _MalformedItem(ValueError):
    """One status or notification that cannot be normalised."""


@dataclass(frozen=True, slots=True)
class _Page:
    parsed: Any  # Mastodon.py's result, which carries the pagination links
    body: Any  # the JSON exactly as the server sent it: items are read from this


class _Bodies:
    """The body of the last response, per thread (a requests hook on Mastodon.py's session).

    Mastodon.py turns JSON into its own objects and quietly replaces what it cannot read (a bad
    date becomes None). Items are normalised from the JSON as sent, so a broken one is rejected
    with its original payload, like the other networks do.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        self._local.content = response.content
        return response

    def clear(self) -> None:
        self._local.content = None

    def json(self) -> Any:
        content = getattr(self._local, "content", None)
        if content is None:
            raise BadPayload("Mastodon answered without a body")
        try:
            return json.loads(content)
        except ValueError as exc:
            raise BadPayload(f"Mastodon sent a body that is not JSON: {exc}") from None


@dataclass(frozen=True, slots=True)
class _Stream:
    name: str
    query: str  # what was asked for, recorded as the mention's matched_query
    fetch: Callable[[dict[str, Any]], Any]  # one page for these params (min_id, max_id, limit)
    brand: str | None = None  # preferred brand for matching
    notifications: bool = False  # items are notifications carrying a status
    linked: bool = True  # pages carry a Link header (search does not)
    search: bool = False


def instance_key(api_base_url: str) -> str:
    """ "https://mastodon.social/" -> "mastodon.social"; the prefix of this instance's ids."""
    return api_base_url.split("://", 1)[-1].rstrip("/")


def search_terms(brand: Brand) -> list[str]:
    """What status search is asked for: names and keywords (handles and hashtags have streams)."""
    return list(dict.fromkeys([*brand.names, *brand.keywords]))


def search_query(term: str) -> str:
    return f'"{term}"' if " " in term else term


class MastodonSource:
    network = NETWORK

    def __init__(
        self,
        *,
        name: str,
        brands: list[Brand],
        api: Mastodon,
        bodies: _Bodies,
        instance: str,
        account_handle: str | None = None,
        search_posts: bool = True,
        max_pages: int = 10,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.name = name
        self._api = api
        self._bodies = bodies
        self._instance = instance
        self._brands = brands
        self._matcher = BrandMatcher(brands)
        handle = (account_handle or "").lstrip("@")
        self._account_handle = handle or None
        self._search_posts = search_posts
        self._max_pages = max_pages
        self._page_size = page_size
        self._own_id: str | None = None
        self._lock = threading.Lock()  # the poller and the sender share this source

    # --- reading -------------------------------------------------------------------------------
    def fetch(self, cursors: Mapping[str, str]) -> FetchResult:
        result = FetchResult()
        seen: set[str] = set()
        for stream in self.streams():
            if stream.search and not self._search_posts:
                continue  # refused earlier in this poll
            old = cursors.get(stream.name)
            try:
                newest = self._read_stream(stream, old, result, seen)
            except _SearchRefused as exc:
                log.warning(
                    "%s: status search is not available here (%s); skipping it", self.name, exc
                )
                self._search_posts = False
                continue
            if newest and newest != old:
                result.cursors[stream.name] = newest
        result.mentions.sort(key=lambda m: m.created_at)
        return result

    def streams(self) -> list[_Stream]:
        api = self._api
        streams: list[_Stream] = []
        if self._account_handle:
            streams.append(
                _Stream(
                    name=MENTIONS_STREAM,
                    query=f"@{self._account_handle}",
                    fetch=lambda p: api.notifications(types=["mention"], **p),
                    brand=self._brand_with_handle(),
                    notifications=True,
                )
            )
        tags: dict[str, str] = {}
        for brand in self._brands:
            for tag in brand.hashtags:
                tags.setdefault(tag.lstrip("#").lower(), brand.name)
        for tag, brand_name in tags.items():
            streams.append(
                _Stream(
                    name=f"tag:{tag}",
                    query=f"#{tag}",
                    fetch=lambda p, t=tag: api.timeline_hashtag(t, **p),
                    brand=brand_name,
                )
            )
        if self._search_posts:
            for brand in self._brands:
                for term in search_terms(brand):
                    query = search_query(term)
                    streams.append(
                        _Stream(
                            name=f"search:{brand.name}:{term}",
                            query=query,
                            fetch=lambda p, q=query: api.search_v2(
                                q,
                                result_type="statuses",
                                resolve=False,
                                exclude_unreviewed=False,
                                **p,
                            ),
                            brand=brand.name,
                            linked=False,
                            search=True,
                        )
                    )
        return streams

    def _brand_with_handle(self) -> str | None:
        wanted = (self._account_handle or "").lower().split("@")[0]  # the username
        for brand in self._brands:
            if any(h.lower().lstrip("@").split("@")[0] == wanted for h in brand.handles):
                return brand.name
        return None

    def _read_stream(
        self, stream: _Stream, cursor: str | None, result: FetchResult, seen: set[str]
    ) -> str | None:
        newest = cursor
        params: dict[str, Any] = {"limit": self._page_size}
        if cursor:
            params["min_id"] = cursor
        page: _Page | None = self._page(stream, params)
        for _ in range(self._max_pages):
            if page is None:
                break
            items = self._items(stream, page.body)
            for item in items:
                self._take(stream, item, result, seen)
            ids = [i for i in (_item_id(item) for item in items) if i]
            if cursor:
                if ids:
                    newest = ids[0]  # newest first: walk on past this one
                if len(items) < self._page_size:
                    break
                page = self._forward(stream, page, newest)
            else:
                if ids and newest is None:
                    newest = ids[0]
                if len(items) < self._page_size or not ids:
                    break
                page = self._backward(stream, page, ids[-1])
        return newest

    def _page(self, stream: _Stream, params: dict[str, Any]) -> _Page | None:
        return self._request(stream, lambda: stream.fetch(params))

    def _forward(self, stream: _Stream, page: _Page, newest: str) -> _Page | None:
        """The statuses just newer than this page: the Link header's rel="prev" (min_id)."""
        if stream.linked:
            return self._request(stream, lambda: self._api.fetch_previous(page.parsed))
        return self._page(stream, {"limit": self._page_size, "min_id": newest})

    def _backward(self, stream: _Stream, page: _Page, oldest: str) -> _Page | None:
        """The statuses just older than this page: the Link header's rel="next" (max_id)."""
        if stream.linked:
            return self._request(stream, lambda: self._api.fetch_next(page.parsed))
        return self._page(stream, {"limit": self._page_size, "max_id": oldest})

    def _request(self, stream: _Stream, call: Callable[[], Any]) -> _Page | None:
        """One page: Mastodon.py's object (it knows the Link header) and the JSON as sent."""
        self._check_budget()
        self._bodies.clear()
        try:
            parsed = _call(self._api, call)
        except _RequestRefused as exc:
            if stream.search:
                raise _SearchRefused(str(exc)) from None
            raise SourceUnavailable(f"Mastodon refused {stream.name}: {exc}") from None
        if parsed is None:
            return None  # no Link to follow: no request was made
        return _Page(parsed, self._bodies.json())

    def _items(self, stream: _Stream, body: Any) -> list[Any]:
        """The page's items, or BadPayload when the page as a whole has the wrong shape."""
        if stream.search:
            statuses = body.get("statuses") if isinstance(body, dict) else None
            if not isinstance(statuses, list):
                raise BadPayload(
                    f"Mastodon search answer has no statuses list: {_dump(body)[:200]}"
                )
            return statuses
        if not isinstance(body, list):
            raise BadPayload(f"Mastodon {stream.name}: expected a list, got {_dump(body)[:200]}")
        return body

    def _check_budget(self) -> None:
        """Stop polling before the window is spent: the last requests are for replies."""
        keep_reserve(
            "Mastodon",
            remaining=self._api.ratelimit_remaining,
            reset_epoch=self._api.ratelimit_reset,
            reserved=RESERVED_REQUESTS,
            default_wait=DEFAULT_RATE_LIMIT_WAIT,
        )

    # --- normalising ---------------------------------------------------------------------------
    def _take(self, stream: _Stream, item: Any, result: FetchResult, seen: set[str]) -> None:
        try:
            mention = self._normalise(stream, item)
        except _MalformedItem as exc:
            result.rejected.append(
                RejectedItem(stream.name, f"unusable Mastodon item: {exc}", _dump(item))
            )
            return
        if mention is not None and mention.external_id not in seen:
            seen.add(mention.external_id)
            result.mentions.append(mention)

    def _normalise(self, stream: _Stream, item: Any) -> RawMention | None:
        if not isinstance(item, dict):
            raise _MalformedItem(f"item is a {type(item).__name__}, not an object")
        status = item
        if stream.notifications:
            if item.get("type") != "mention":
                return None  # a server that ignored types[]: not ours to keep
            status = item.get("status")
            if not isinstance(status, dict):
                raise _MalformedItem("mention notification without its status")
        if status.get("reblog"):
            return None  # a boost repeats someone else's post; the original is what counts
        status_id = _id(status.get("id"), "id")
        created_at = _aware(status.get("created_at"))
        content = status.get("content")
        if not isinstance(content, str):
            raise _MalformedItem(f"content is {type(content).__name__}, expected HTML text")
        account = status.get("account")
        if not isinstance(account, dict):
            raise _MalformedItem("status has no account")
        acct = account.get("acct")
        if not isinstance(acct, str) or not acct:
            raise _MalformedItem(f"account.acct is {acct!r}")
        if self._is_own(acct):
            return None  # our own replies name the brand; they are not mentions
        text = html_to_text(content)
        warning = status.get("spoiler_text")
        if isinstance(warning, str) and warning.strip():
            text = f"{warning.strip()}\n\n{text}"
        match = self._match(stream, text)
        if match is None:
            return None
        parent = status.get("in_reply_to_id")
        parent_id = f"{self._instance}/{parent}" if parent not in (None, "") else None
        url = status.get("url") or status.get("uri")
        return RawMention(
            network=NETWORK,
            external_id=f"{self._instance}/{status_id}",
            url=str(url) if url else f"https://{self._instance}/statuses/{status_id}",
            author=RawAuthor(
                external_id=f"{self._instance}/{_id(account.get('id'), 'account.id')}",
                handle=acct,
                display_name=_text_or_none(account.get("display_name")),
                followers=_count_or_none(account.get("followers_count")),
            ),
            text=text,
            created_at=created_at,
            brand=match.brand,
            matched_query=match.term if stream.notifications else stream.query,
            is_competitor=match.is_competitor,
            raw=item,
            in_reply_to_id=parent_id,
            conversation_id=parent_id,
            language=_text_or_none(status.get("language")),
        )

    def _match(self, stream: _Stream, text: str) -> BrandMatch | None:
        if not stream.notifications:
            return self._matcher.match(text, prefer=stream.brand)
        # A mention of our account is addressed to us whatever else it says.
        return self._matcher.addressed(text, term=f"@{self._account_handle}", owner=stream.brand)

    def _is_own(self, acct: str) -> bool:
        if not self._account_handle:
            return False
        mine, acct = self._account_handle.lower(), acct.lower()
        if acct == mine:
            return True
        # A local account's acct is its bare username; the configured handle may carry a domain.
        user, _, domain = mine.partition("@")
        return "@" not in acct and acct == user and (not domain or domain in self._instance.lower())

    # --- replying ------------------------------------------------------------------------------
    def reply(self, in_reply_to_id: str, text: str) -> str:
        """Post `text` in reply to the status `in_reply_to_id` ("<instance>/<id>"); returns the
        reply's id in the same form.

        Like every Mastodon client, the reply starts with @author (unless the text already names
        them, or there is no room): Mastodon notifies only the people a status mentions. It keeps
        the visibility and content warning of the status it answers.
        """
        local_id = self._local_id(in_reply_to_id)
        target = _call(self._api, lambda: self._api.status(local_id), writing=True)
        if not isinstance(target, dict) or not isinstance(target.get("account"), dict):
            raise BadPayload(f"Mastodon status {local_id} came back unreadable")
        body = self._addressed(text, str(target["account"].get("acct") or ""))
        visibility = (
            target.get("visibility")
            if target.get("visibility") in ("public", "unlisted", "private", "direct")
            else None
        )
        created = _call(
            self._api,
            lambda: self._api.status_post(
                body,
                in_reply_to_id=local_id,
                visibility=visibility,
                spoiler_text=target.get("spoiler_text") or None,
                idempotency_key=_idempotency_key(in_reply_to_id, text),
            ),
            writing=True,
        )
        new_id = created.get("id") if isinstance(created, dict) else None
        if new_id in (None, ""):
            raise BadPayload(
                f"Mastodon answered a new status without an id: {_dump(created)[:200]}"
            )
        return f"{self._instance}/{new_id}"

    def find_reply(self, in_reply_to_id: str, text: str) -> str | None:
        """The id of the account's own reply to `in_reply_to_id` with this text, if it exists.

        Reads the status's context (its descendants): used to settle whether a reply whose
        outcome was never recorded (a crash, a timeout) actually went out.
        """
        local_id = self._local_id(in_reply_to_id)
        own_id = self._own_account_id()
        try:
            context = _call(self._api, lambda: self._api.status_context(local_id), writing=True)
        except ReplyTargetGone:
            return None
        descendants = context.get("descendants") if isinstance(context, dict) else None
        wanted = _comparable(text)
        for status in descendants if isinstance(descendants, list) else []:
            if not isinstance(status, dict) or not isinstance(status.get("account"), dict):
                continue
            if (
                str(status["account"].get("id")) == own_id
                and str(status.get("in_reply_to_id")) == local_id
                and _comparable(html_to_text(str(status.get("content") or ""))) == wanted
            ):
                return f"{self._instance}/{status['id']}"
        return None

    def _local_id(self, external_id: str) -> str:
        instance, _, local_id = external_id.rpartition("/")
        if instance != self._instance or not local_id:
            raise ReplyNotAllowed(
                f"{external_id!r} is not a status of {self._instance} (source {self.name!r}); "
                "reply from the source that found it"
            )
        return local_id

    def _own_account_id(self) -> str:
        with self._lock:
            if self._own_id is None:
                me = _call(self._api, self._api.account_verify_credentials)
                own = me.get("id") if isinstance(me, dict) else None
                if own in (None, ""):
                    raise AuthFailed("Mastodon did not say which account the token belongs to")
                self._own_id = str(own)
            return self._own_id

    def _addressed(self, text: str, acct: str) -> str:
        if not acct or self._is_own(acct):
            return text
        username = acct.split("@")[0]
        if re.search(rf"(?<![\w@])@{re.escape(username)}(?![\w])", text, re.IGNORECASE):
            return text
        addressed = f"@{acct} {text}"
        if _status_length(addressed) > MAX_STATUS_LENGTH:
            log.info(
                "%s: no room to @mention %s in the reply; posting it as written", self.name, acct
            )
            return text
        return addressed


class _RequestRefused(SourceError):
    """A 4xx other than 401/404/429 while reading (search switched off, bad parameter)."""


class _SearchRefused(SourceError):
    """The server does not offer status search to this account."""


# --- helpers -----------------------------------------------------------------------------------
def _status_length(text: str) -> int:
    counted = _URL.sub("x" * URL_WEIGHT, text)
    return len(re.sub(r"@(\w+)@[\w.-]+", r"@\1", counted))


def _comparable(text: str) -> str:
    return " ".join(_LEADING_MENTIONS.sub("", text.strip()).split())


def _idempotency_key(in_reply_to_id: str, text: str) -> str:
    # The same reply to the same status: Mastodon posts it once per key within an hour.
    return hashlib.sha256(f"{in_reply_to_id}\n{text}".encode()).hexdigest()[:40]


def _item_id(item: Any) -> str | None:
    value = item.get("id") if isinstance(item, dict) else None
    return str(value) if value not in (None, "") else None


def _id(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise _MalformedItem(f"{what} is {value!r}")
    return str(value)


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _count_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _aware(value: Any) -> datetime:
    if not isinstance(value, str):
        raise _MalformedItem(f"created_at is {value!r}, expected an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _MalformedItem(f"created_at {value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise _MalformedItem(f"created_at {value!r} has no timezone")
    return moment.astimezone(UTC)


def _plain(value: Any) -> Any:
    """Mastodon.py's objects as plain JSON values (dates back to ISO text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _dump(value: Any) -> str:
    return json.dumps(_plain(value), ensure_ascii=False, sort_keys=True)


def _status_of(exc: MastodonAPIError) -> int | None:
    # ('Mastodon API returned error', status, reason, message) for HTTP errors.
    return exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None


def _call(api: Mastodon, request: Callable[[], T], *, writing: bool = False) -> T:
    """Run one Mastodon.py call, translating its exceptions into ours.

    `writing`: a reply (or a lookup for one), where 404 means the status is gone, 403 that we
    may not answer it, and 400/422 that Mastodon refuses this text.
    """
    try:
        return request()
    except MastodonRatelimitError as exc:
        raise RateLimited(
            f"Mastodon rate limit: {exc}",
            retry_at=retry_at(api.ratelimit_reset, default_wait=DEFAULT_RATE_LIMIT_WAIT),
        ) from None
    except MastodonUnauthorizedError as exc:
        raise AuthFailed(f"Mastodon refused the access token: {exc}") from None
    except MastodonNotFoundError as exc:
        if writing:
            raise ReplyTargetGone(f"Mastodon: the status is gone ({exc})") from None
        raise SourceUnavailable(f"Mastodon answered 404 (check api_base_url): {exc}") from None
    except MastodonServerError as exc:
        raise SourceUnavailable(f"Mastodon server error: {exc}") from None
    except MastodonNetworkError as exc:
        raise SourceUnavailable(f"Mastodon unreachable: {exc}") from None
    except MastodonAPIError as exc:
        status = _status_of(exc)
        if status is None:  # the body was not JSON
            raise BadPayload(f"Mastodon sent something unreadable: {str(exc)[:300]}") from None
        if writing and status == 403:
            raise ReplyNotAllowed(f"Mastodon does not allow this reply: {exc}") from None
        if writing and status in (400, 422):
            raise MastodonReplyRejected(f"Mastodon refused the reply: {exc}") from None
        if status == 403:
            raise AuthFailed(f"Mastodon refused access: {exc}") from None
        if 400 <= status < 500:
            raise _RequestRefused(f"{status} {exc}") from None
        raise SourceUnavailable(f"Mastodon answered {status}: {exc}") from None
    except MastodonError as exc:
        raise SourceError(f"Mastodon client error: {exc}") from None


# --- building ----------------------------------------------------------------------------------
def build(
    config: SourceConfig, brands: list[Brand], *, page_size: int = PAGE_SIZE
) -> MastodonSource:
    if not config.api_base_url:
        raise ConfigError(
            f"source {config.name!r}: a Mastodon source needs api_base_url, the address of the "
            "instance its account lives on (e.g. https://mastodon.social)"
        )
    instance = instance_key(config.api_base_url)
    if len(instance) > MAX_INSTANCE_KEY:
        raise ConfigError(f"source {config.name!r}: api_base_url is longer than {MAX_INSTANCE_KEY}")
    token = config.resolve_credentials()["access_token"].get_secret_value()
    bodies = _Bodies()
    session = requests.Session()
    session.hooks["response"].append(bodies.hook)
    api = Mastodon(
        access_token=token,
        session=session,
        api_base_url=config.api_base_url,
        request_timeout=config.request_timeout_seconds,
        # We pause the source ourselves (RateLimited); "wait" would sleep inside the poll.
        ratelimit_method="throw",
        user_agent=config.user_agent,
    )
    return MastodonSource(
        name=config.name,
        brands=brands,
        api=api,
        bodies=bodies,
        instance=instance,
        account_handle=config.account_handle,
        search_posts=config.search_posts,
        max_pages=config.max_pages,
        page_size=page_size,
    )
