"""The sandbox network's state: accounts, posts, replies received, and injected faults.

Thread-safe: the HTTP server, the seeder and tests touch it from different threads.
Never imports listener or responders: the sandbox stands in for the outside world.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

NETWORKS = ("x", "reddit", "mastodon", "bluesky")

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _BASE36[r] + out
        if n == 0:
            return out


@dataclass
class Account:
    network: str
    id: str
    handle: str
    display_name: str
    followers: int = 0
    is_brand: bool = False  # the account the bot posts as
    # Free-form: role in the story ("customer", "employee", "speaker", "spammer", ...)
    kind: str = "customer"


@dataclass
class Post:
    network: str
    id: str
    author_id: str
    text: str
    created_at: datetime
    in_reply_to_id: str | None = None
    conversation_id: str | None = None  # id of the thread's root post
    lang: str | None = "en"
    # Network specifics: reddit {"subreddit", "title", "kind": "t1"|"t3"}, bluesky {"cid"}, ...
    extra: dict[str, Any] = field(default_factory=dict)
    # Set for posts created through the API by a client (the bot's replies).
    via_api: bool = False
    deleted: bool = False


@dataclass
class Fault:
    """One injected fault: applies to the next `count` matching requests (count < 0: forever)."""

    network: str  # a network name or "*"
    kind: str  # "rate_limit" | "server_error" | "slow" | "malformed" | "malformed_item" | "timeout"
    count: int = 1
    path_contains: str | None = None
    status: int = 503  # for server_error
    delay_seconds: float = 2.0  # for slow / timeout
    id: int = 0


FAULT_KINDS = ("rate_limit", "server_error", "slow", "malformed", "malformed_item", "timeout")


class SandboxState:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[str, dict[str, Account]] = {n: {} for n in NETWORKS}
        self.posts: dict[str, dict[str, Post]] = {n: {} for n in NETWORKS}  # insertion = time order
        self.faults: list[Fault] = []
        self.fault_hits: list[dict[str, Any]] = []
        self.request_log: list[dict[str, Any]] = []
        self._fault_ids = itertools.count(1)
        self._counters = {n: itertools.count(1) for n in NETWORKS}
        # X ids look like snowflakes; all ids grow with time so "newer than" is well defined.
        self._x_base = 1_860_000_000_000_000_000
        self._reddit_base = 36**6  # seven base-36 digits
        self._mastodon_base = 113_000_000_000_000_000

    # ids ------------------------------------------------------------------------------------
    def next_id(self, network: str) -> str:
        n = next(self._counters[network])
        if network == "x":
            return str(self._x_base + n * 1000)
        if network == "reddit":
            return _base36(self._reddit_base + n)
        if network == "mastodon":
            return str(self._mastodon_base + n * 1000)
        # Bluesky record keys are TIDs: base32-sortable, time ordered. Counter-based is enough here.
        return f"3l{n:011d}"

    # accounts -------------------------------------------------------------------------------
    def add_account(
        self,
        network: str,
        handle: str,
        display_name: str | None = None,
        *,
        followers: int = 0,
        is_brand: bool = False,
        kind: str = "customer",
    ) -> Account:
        with self.lock:
            existing = self.account_by_handle(network, handle)
            if existing:
                return existing
            account_id = (
                f"did:plc:{handle.replace('.', '')[:24]}"
                if network == "bluesky"
                else str(9_000_000 + len(self.accounts[network]) + 1)
            )
            account = Account(
                network, account_id, handle, display_name or handle, followers, is_brand, kind
            )
            self.accounts[network][account_id] = account
            return account

    def account_by_handle(self, network: str, handle: str) -> Account | None:
        handle = handle.lstrip("@").lower()
        with self.lock:
            for account in self.accounts[network].values():
                if account.handle.lower() == handle:
                    return account
        return None

    def brand_account(self, network: str) -> Account | None:
        with self.lock:
            return next((a for a in self.accounts[network].values() if a.is_brand), None)

    # posts ----------------------------------------------------------------------------------
    def publish(
        self,
        network: str,
        author_handle: str,
        text: str,
        *,
        in_reply_to_id: str | None = None,
        lang: str | None = "en",
        via_api: bool = False,
        created_at: datetime | None = None,
        **extra: Any,
    ) -> Post:
        with self.lock:
            author = self.account_by_handle(network, author_handle) or self.add_account(
                network, author_handle
            )
            conversation_id = None
            if in_reply_to_id is not None:
                parent = self.posts[network].get(in_reply_to_id)
                if parent is None:
                    raise KeyError(f"{network}: no post {in_reply_to_id} to reply to")
                conversation_id = parent.conversation_id or parent.id
            post_id = self.next_id(network)
            post = Post(
                network=network,
                id=post_id,
                author_id=author.id,
                text=text,
                created_at=created_at or datetime.now(UTC),
                in_reply_to_id=in_reply_to_id,
                conversation_id=conversation_id or post_id,
                lang=lang,
                extra=dict(extra),
                via_api=via_api,
            )
            self.posts[network][post_id] = post
            return post

    def post(self, network: str, post_id: str) -> Post | None:
        with self.lock:
            return self.posts[network].get(post_id)

    def list_posts(self, network: str) -> list[Post]:
        with self.lock:
            return [p for p in self.posts[network].values() if not p.deleted]

    def delete_post(self, network: str, post_id: str) -> None:
        with self.lock:
            self.posts[network][post_id].deleted = True

    # faults ---------------------------------------------------------------------------------
    def add_fault(self, **kwargs: Any) -> Fault:
        kind = kwargs.get("kind")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        with self.lock:
            fault = Fault(**kwargs, id=next(self._fault_ids))
            self.faults.append(fault)
            return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def take_fault(self, network: str, path: str) -> Fault | None:
        """The first fault matching this request, consuming one use of it."""
        with self.lock:
            for fault in self.faults:
                if fault.network not in ("*", network):
                    continue
                if fault.path_contains and fault.path_contains not in path:
                    continue
                if fault.count > 0:
                    fault.count -= 1
                    if fault.count == 0:
                        self.faults.remove(fault)
                self.fault_hits.append(
                    {"network": network, "path": path, "kind": fault.kind, "at": time.time()}
                )
                return fault
        return None

    def log_request(self, network: str, method: str, path: str, status: int) -> None:
        with self.lock:
            self.request_log.append(
                {"network": network, "method": method, "path": path, "status": status}
            )
            del self.request_log[:-2000]  # bounded

    # the admin view -------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Everything published and every reply received, for tests and `/_sandbox/state`."""

        def post_json(p: Post) -> dict[str, Any]:
            author = self.accounts[p.network].get(p.author_id)
            data = asdict(p)
            data["created_at"] = p.created_at.isoformat()
            data["author_handle"] = author.handle if author else None
            return data

        with self.lock:
            return {
                "accounts": {
                    n: [asdict(a) for a in accs.values()] for n, accs in self.accounts.items()
                },
                "posts": {
                    n: [post_json(p) for p in posts.values() if not p.via_api]
                    for n, posts in self.posts.items()
                },
                "replies": {
                    n: [post_json(p) for p in posts.values() if p.via_api]
                    for n, posts in self.posts.items()
                },
                "faults": [asdict(f) for f in self.faults],
                "fault_hits": list(self.fault_hits),
            }
