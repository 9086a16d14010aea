"""Personal share links: each opens the network's composer with only the hashtag and the link.

Never body text: the words are the person's own. The link carries their invitation's token
(`ref=`), so a click can be told apart from anyone else's in the site's analytics.

- X: the web intent, https://twitter.com/intent/tweet?hashtags=A,B&url=LINK (no `text`).
- Reddit: https://www.reddit.com/submit?url=LINK (a link post; the title is theirs to write).
- Mastodon: https://INSTANCE/share?text=#A LINK (the instance from their handle
  "user@instance", else mastodon.social). Mastodon's share page has no separate tag or url field.
- Bluesky: https://bsky.app/intent/compose?text=#A LINK (the same: one text field).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

NETWORK_ORDER = ("x", "reddit", "mastodon", "bluesky")
DEFAULT_MASTODON_INSTANCE = "mastodon.social"
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+")


def personal_link(link: str, token: str) -> str:
    """`link` with ref=<token> added to its query (kept if it has one already)."""
    parts = urlsplit(link)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "ref"]
    query.append(("ref", token))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _mastodon_instance(handle: str | None) -> str:
    """The host of "user@host"; anything else (a second @, a path, a space) could point the
    link at another site, so it shares on the default instance."""
    _user, at, host = (handle or "").lstrip("@").partition("@")
    host = host.lower()
    return host if at and _HOST.fullmatch(host) else DEFAULT_MASTODON_INSTANCE


def share_links(
    *,
    hashtags: list[str],
    links: list[str],
    token: str,
    handles: dict[str, str] | None = None,
) -> dict[str, str]:
    """Network -> share URL for one invitation. Only hashtags and the (personal) first link."""
    handles = handles or {}
    tags = [t.lstrip("#") for t in hashtags]
    link = personal_link(links[0], token) if links else None
    prefill = " ".join([*(f"#{t}" for t in tags), *([link] if link else [])])

    x_params = []
    if tags:
        x_params.append(("hashtags", ",".join(tags)))
    if link:
        x_params.append(("url", link))
    shares = {"x": "https://twitter.com/intent/tweet?" + urlencode(x_params)}
    if link:
        shares["reddit"] = "https://www.reddit.com/submit?" + urlencode([("url", link)])
    instance = _mastodon_instance(handles.get("mastodon"))
    shares["mastodon"] = f"https://{instance}/share?" + urlencode([("text", prefill)])
    shares["bluesky"] = "https://bsky.app/intent/compose?" + urlencode([("text", prefill)])
    return shares
