"""Reddit through praw: brand search, new comments in named subreddits, inbox username mentions.

Pointing praw elsewhere (the sandbox): api_base_url "http://HOST:PORT/reddit" becomes
reddit_url="http://HOST:PORT/reddit" (prawcore appends "/api/v1/access_token" by string
concatenation, so no trailing slash) and oauth_url="http://HOST:PORT/reddit/" (API paths such as
"r/all/search/" are urljoin'ed onto it; without the trailing slash urljoin would drop "/reddit").
Verified with praw 8.0.3 / prawcore 4.0.0. No api_base_url means the real Reddit.

Streams, each with its own cursor (the fullname of the newest item seen, "t3_…" or "t1_…"):
- "search:<brand>:<subreddit>" for every brand and configured subreddit ("all" = everywhere):
  subreddit search, sort=new, for the brand's terms. Reddit search is fuzzy, so every result is
  checked again with BrandMatcher (which also applies exclusions). Search finds submissions only.
  The first poll searches the past week; later polls search all time, bounded by the cursor.
- "comments:<subreddit>" for every named subreddit: its new comments, brand-filtered here. Not for
  "all": r/all/comments is the whole site's firehose, which no rate limit lets us keep up with.
- "mentions" when account_handle is set: the inbox's u/<account> mentions (always kept).

Cursors: with a cursor we ask for `before=<cursor>`, which Reddit answers with the items just
newer than it (newest first); the newest of each page becomes the next `before`. So we walk
forward in time, and when max_pages stops us the cursor is the newest item actually read: the next
poll continues from there and nothing is skipped. Without a cursor (first poll) we read newest
first with `after`, up to max_pages, and start the cursor at the newest item. A stream still empty
gets no cursor, so its next poll is again a first poll.

Listings are read with praw's public `Reddit.request` (parsed JSON, praw still doing auth, rate
pacing and retries) rather than praw's model objects: each child is then checked on its own, so
one malformed child becomes a RejectedItem with its raw JSON while the rest of the page is kept,
and no attribute access can trigger praw's lazy per-item or per-author fetches (one request each).
Authors are identified by `author_fullname` when the listing has it, else by the username.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import praw
import prawcore
import requests
from praw.endpoints import API_PATH
from praw.exceptions import PRAWException, RedditAPIException

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

logger = logging.getLogger(__name__)

NETWORK = "reddit"
PAGE_SIZE = 100  # Reddit's largest page
SEARCH_TIME_FILTER = "week"
WEB_URL = "https://www.reddit.com"
_FULLNAME = re.compile(r"^t[13]_[0-9a-z]+$")
_WAIT = re.compile(r"(\d+)\s*(minute|second)", re.IGNORECASE)
_DEFAULT_RETRY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class _Stream:
    name: str
    path: str
    params: dict[str, str]
    brand: str | None = None  # the brand a search stream queries for
    inbox: bool = False


class _MalformedChild(ValueError):
    """One listing child that cannot be normalised."""


class _TimeoutSession(requests.Session):
    """Enforces our timeout: prawcore passes its own fixed 16 s on every API call."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs["timeout"] = self._timeout
        return super().request(method, url, *args, **kwargs)


def search_query(brand: Brand) -> str:
    """The brand's terms as one Reddit search: quoted phrases joined by OR, sigils dropped."""
    terms: list[str] = []
    for term in brand.terms:
        bare = term.lstrip("@#")
        phrase = f'"{bare}"' if " " in bare else bare
        if phrase not in terms:
            terms.append(phrase)
    return " OR ".join(terms)


def _subreddit_name(raw: str) -> str:
    name = raw.strip().strip("/")
    return name[2:] if name.lower().startswith("r/") else name


class RedditSource:
    network = NETWORK

    def __init__(
        self,
        *,
        name: str,
        reddit: praw.Reddit,
        brands: list[Brand],
        subreddits: list[str],
        account_handle: str | None = None,
        max_pages: int = 10,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.name = name
        self._reddit = reddit
        self._brands = brands
        self._matcher = BrandMatcher(brands)
        self._account_handle = (
            account_handle.lstrip("@").removeprefix("u/") if account_handle else None
        )
        self._max_pages = max_pages
        self._page_size = page_size
        self.streams = self._plan_streams([_subreddit_name(s) for s in subreddits])

    def _plan_streams(self, subreddits: list[str]) -> list[_Stream]:
        streams: list[_Stream] = []
        for subreddit in subreddits:
            restrict = "False" if subreddit.lower() == "all" else "True"
            for brand in self._brands:
                streams.append(
                    _Stream(
                        name=f"search:{brand.name}:{subreddit}",
                        path=API_PATH["search"].format(subreddit=quote(subreddit, safe="+")),
                        params={
                            "q": search_query(brand),
                            "restrict_sr": restrict,
                            "sort": "new",
                            "syntax": "lucene",
                            "t": SEARCH_TIME_FILTER,
                        },
                        brand=brand.name,
                    )
                )
        for subreddit in subreddits:
            if subreddit.lower() != "all":
                streams.append(
                    _Stream(
                        name=f"comments:{subreddit}",
                        path=f"r/{quote(subreddit, safe='+')}/comments/",
                        params={},
                    )
                )
        if self._account_handle:
            streams.append(
                _Stream(name="mentions", path=API_PATH["mentions"], params={}, inbox=True)
            )
        return streams

    # --- reading -----------------------------------------------------------------------------
    def fetch(self, cursors: Mapping[str, str]) -> FetchResult:
        result = FetchResult()
        seen: set[str] = set()
        for stream in self.streams:
            mentions, rejected, cursor = self._read_stream(stream, cursors.get(stream.name))
            for mention in mentions:
                if mention.external_id not in seen:
                    seen.add(mention.external_id)
                    result.mentions.append(mention)
            result.rejected.extend(rejected)
            if cursor and cursor != cursors.get(stream.name):
                result.cursors[stream.name] = cursor
        result.mentions.sort(key=lambda m: m.created_at)
        return result

    def _read_stream(
        self, stream: _Stream, cursor: str | None
    ) -> tuple[list[RawMention], list[RejectedItem], str | None]:
        mentions: list[RawMention] = []
        rejected: list[RejectedItem] = []
        newest = cursor
        after: str | None = None
        for _ in range(self._max_pages):
            params = {**stream.params, "limit": str(self._page_size)}
            if cursor:
                params["before"] = newest or cursor
                if "t" in params:
                    # The week bounds only the first poll's backfill; later the cursor bounds
                    # the walk, and its anchor must not age out of the searched period.
                    params["t"] = "all"
            elif after:
                params["after"] = after
            listing = self._get_listing(stream.path, params)
            children = listing["children"]
            for child in children:
                try:
                    mention = self._normalise(child, stream)
                except _MalformedChild as exc:
                    rejected.append(RejectedItem(stream.name, str(exc), _dump(child)))
                    continue
                if mention is not None:
                    mentions.append(mention)
            names = [n for n in (_child_name(c) for c in children) if n]
            if cursor:
                if not names:
                    break
                newest = names[0]  # pages are newest first; walk on past this one
                if len(children) < self._page_size and not listing.get("before"):
                    break
            else:
                if names and newest is None:
                    newest = names[0]
                after = listing.get("after")
                if not after or not children:
                    break
        return mentions, rejected, newest

    def _get_listing(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        with _translated_errors():
            body = self._reddit.request(method="GET", path=path, params=params)
        data = body.get("data") if isinstance(body, dict) else None
        if (
            not isinstance(body, dict)
            or body.get("kind") != "Listing"
            or not isinstance(data, dict)
            or not isinstance(data.get("children"), list)
        ):
            raise BadPayload(f"Reddit {path}: expected a Listing, got {_dump(body)[:200]}")
        return data

    # --- normalising -------------------------------------------------------------------------
    def _normalise(self, child: Any, stream: _Stream) -> RawMention | None:
        """The mention in one listing child, None if it is not about a brand."""
        if not isinstance(child, dict) or not isinstance(child.get("data"), dict):
            raise _MalformedChild("listing child is not a {kind, data} object")
        kind, data = child.get("kind"), child["data"]
        if kind not in ("t1", "t3"):
            raise _MalformedChild(f"unexpected kind {kind!r}")
        fullname = _text(data, "name")
        if not _FULLNAME.match(fullname) or fullname != f"{kind}_{_text(data, 'id')}":
            raise _MalformedChild(f"bad id/name {data.get('id')!r}/{data.get('name')!r}")
        created_at = _created_at(data.get("created_utc"))
        author = _author(data)

        if kind == "t3":
            title, selftext = _text(data, "title"), _text(data, "selftext", required=False)
            text = f"{title}\n\n{selftext}" if selftext else title
            link = data.get("url")
            if data.get("is_self") is False and isinstance(link, str) and link:
                # A link post's content is its link (a share of an event page, an article).
                text = f"{text}\n\n{link}"
            in_reply_to, conversation = None, fullname
            path = _text(data, "permalink")
        else:
            text = _text(data, "body")
            in_reply_to = _text(data, "parent_id")
            path, _, _ = _text(data, "permalink" if "permalink" in data else "context").partition(
                "?"
            )
            conversation = data.get("link_id") or _link_id_from_path(path)

        match = self._match(text, stream)
        if match is None:
            return None
        return RawMention(
            network=NETWORK,
            external_id=fullname,
            url=WEB_URL + path,
            author=author,
            text=text,
            created_at=created_at,
            brand=match.brand,
            matched_query=match.term,
            is_competitor=match.is_competitor,
            raw=data,
            in_reply_to_id=in_reply_to,
            conversation_id=conversation if isinstance(conversation, str) else None,
        )

    def _match(self, text: str, stream: _Stream) -> BrandMatch | None:
        if not stream.inbox:
            return self._matcher.match(text, prefer=stream.brand)
        # A u/ mention of our account is addressed to us whatever else it says.
        handle = f"@{self._account_handle}".lower()
        owner = next((b for b in self._brands if handle in (h.lower() for h in b.handles)), None)
        return self._matcher.addressed(
            text, term=f"u/{self._account_handle}", owner=owner.name if owner else None
        )

    # --- writing -----------------------------------------------------------------------------
    def reply(self, thing_fullname: str, text: str) -> str:
        """Reply to a submission (t3_…) or comment (t1_…); returns the new comment's fullname."""
        kind, _, thing_id = thing_fullname.partition("_")
        if kind == "t1":
            target: Any = self._reddit.comment(thing_id)
        elif kind == "t3":
            target = self._reddit.submission(thing_id)
        else:
            raise ValueError(f"not a Reddit comment or submission fullname: {thing_fullname!r}")
        with _translated_errors(), _reply_refusals():
            created = target.reply(text)
        if created is None:
            raise SourceError("Reddit accepted the reply but returned no comment")
        return str(created.fullname)

    def find_reply(self, thing_fullname: str, text: str) -> str | None:
        """The fullname of the account's own comment on `thing_fullname` with this text, if any.

        Reads the account's newest comments (a reply is always among them soon after posting).
        Used to settle whether a reply whose outcome we never recorded actually went out.
        """
        username = self._account_handle or self._reddit.config.username
        if not username:
            raise AuthFailed(f"source {self.name!r}: no account to look for replies from")
        wanted = " ".join(text.split())
        after: str | None = None
        for _ in range(self._max_pages):
            params = {"limit": str(self._page_size), "sort": "new"}
            if after:
                params["after"] = after
            listing = self._get_listing(f"user/{quote(username)}/comments/", params)
            for child in listing["children"]:
                data = child.get("data") if isinstance(child, dict) else None
                if (
                    isinstance(data, dict)
                    and data.get("parent_id") == thing_fullname
                    and " ".join(str(data.get("body", "")).split()) == wanted
                    and isinstance(data.get("name"), str)
                ):
                    return data["name"]
            after = listing.get("after")
            if not after or not listing["children"]:
                return None
        return None


def build(config: SourceConfig, brands: list[Brand]) -> RedditSource:
    credentials = config.resolve_credentials()
    endpoints: dict[str, str] = {}
    if config.api_base_url:
        base = config.api_base_url.rstrip("/")
        endpoints = {"reddit_url": base, "oauth_url": base + "/"}
    reddit = praw.Reddit(
        client_id=credentials["client_id"].get_secret_value(),
        client_secret=credentials["client_secret"].get_secret_value(),
        username=credentials["username"].get_secret_value(),
        password=credentials["password"].get_secret_value(),
        user_agent=config.user_agent,
        check_for_updates=False,
        check_for_async=False,
        requestor_kwargs={
            "session": _TimeoutSession(config.request_timeout_seconds),
            "timeout": config.request_timeout_seconds,  # the token request uses this one
        },
        **endpoints,
    )
    return RedditSource(
        name=config.name,
        reddit=reddit,
        brands=brands,
        subreddits=config.subreddits,
        account_handle=config.account_handle,
        max_pages=config.max_pages,
    )


# --- helpers -------------------------------------------------------------------------------
def _dump(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def _child_name(child: Any) -> str | None:
    data = child.get("data") if isinstance(child, dict) else None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and _FULLNAME.match(name) else None


def _text(data: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = data.get(key)
    if isinstance(value, str):
        return value
    if value is None and not required:
        return ""
    raise _MalformedChild(f"{key} is {value!r}, expected text")


def _created_at(value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _MalformedChild(f"created_utc is {value!r}, expected a number")
    if not math.isfinite(value):
        raise _MalformedChild(f"created_utc is {value!r}")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise _MalformedChild(f"created_utc {value!r} is out of range") from exc


def _author(data: dict[str, Any]) -> RawAuthor:
    handle = data.get("author")
    if not isinstance(handle, str) or not handle:
        raise _MalformedChild(f"author is {handle!r}")
    fullname = data.get("author_fullname")
    external_id = fullname if isinstance(fullname, str) and fullname else handle
    return RawAuthor(external_id=external_id, handle=handle, display_name=None, followers=None)


def _link_id_from_path(path: str) -> str | None:
    # /r/<sub>/comments/<link id>/<slug>/<comment id>/
    parts = path.strip("/").split("/")
    if len(parts) >= 4 and parts[2] == "comments":
        return f"t3_{parts[3]}"
    return None


def _retry_at(response: requests.Response | None) -> datetime:
    now = datetime.now(UTC)
    headers = response.headers if response is not None else {}
    for header in ("retry-after", "x-ratelimit-reset"):
        try:
            return now + timedelta(seconds=max(float(headers[header]), 1.0))
        except (KeyError, TypeError, ValueError):
            continue
    return now + _DEFAULT_RETRY


def _api_wait(message: str) -> timedelta:
    """'Take a break for 5 minutes before trying again.' -> 5 minutes."""
    found = _WAIT.search(message)
    if not found:
        return _DEFAULT_RETRY
    amount = int(found.group(1))
    return (
        timedelta(minutes=amount)
        if found.group(2).lower() == "minute"
        else timedelta(seconds=amount)
    )


_TARGET_GONE = {"NO_THING_ID", "DELETED_COMMENT", "DELETED_LINK", "INVALID_PARENT"}
_NOT_ALLOWED = {"THREAD_LOCKED", "TOO_OLD", "COMMENTS_DISABLED"}


@contextmanager
def _reply_refusals() -> Iterator[None]:
    """A reply Reddit refuses for the post's sake (gone, locked, archived) says so precisely."""
    try:
        yield
    except RedditAPIException as exc:
        kinds = {item.error_type for item in exc.items}
        if kinds & _TARGET_GONE:
            raise ReplyTargetGone(f"Reddit: the post is gone ({exc})") from None
        if kinds & _NOT_ALLOWED:
            raise ReplyNotAllowed(f"Reddit does not allow replies there ({exc})") from None
        raise


@contextmanager
def _translated_errors() -> Iterator[None]:
    """praw/prawcore exceptions become ours; none of them leaves this module."""
    try:
        yield
    except prawcore.TooManyRequests as exc:
        raise RateLimited(
            f"Reddit rate limit reached ({exc})", retry_at=_retry_at(exc.response)
        ) from None
    except prawcore.BadJSON as exc:
        raise BadPayload(f"Reddit answered with invalid JSON ({exc})") from None
    except (prawcore.OAuthException, prawcore.InvalidToken, prawcore.InsufficientScope) as exc:
        raise AuthFailed(f"Reddit refused the credentials ({exc})") from None
    except prawcore.Forbidden as exc:
        raise AuthFailed(f"Reddit refused access ({exc})") from None
    except prawcore.ServerError as exc:
        raise SourceUnavailable(f"Reddit server error ({exc})") from None
    except prawcore.ResponseException as exc:
        status = exc.response.status_code
        if status in (401, 403):
            raise AuthFailed(f"Reddit refused the credentials ({exc})") from None
        raise SourceUnavailable(f"Reddit answered {status} ({exc})") from None
    except prawcore.RequestException as exc:
        reason = type(exc.original_exception).__name__
        raise SourceUnavailable(f"Reddit could not be reached ({reason})") from None
    except RedditAPIException as exc:
        first = exc.items[0] if exc.items else None
        if first is not None and first.error_type == "RATELIMIT":
            retry_at = datetime.now(UTC) + _api_wait(first.message)
            raise RateLimited(f"Reddit: {first.message}", retry_at=retry_at) from None
        raise SourceError(f"Reddit refused the request: {exc}") from None
    except PRAWException as exc:
        raise SourceError(f"Reddit client error: {exc}") from None
    except ValueError as exc:  # e.g. the token endpoint's body is not JSON
        raise BadPayload(f"Reddit answered with something unreadable ({exc})") from None
