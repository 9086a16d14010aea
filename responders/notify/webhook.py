"""Posting one notification to a Slack-compatible incoming webhook ({"text": ...})."""

from __future__ import annotations

import requests


class WebhookFailed(Exception):
    pass


def post_webhook(url: str, *, text: str, timeout: float) -> None:
    try:
        response = requests.post(url, json={"text": text}, timeout=timeout)
    except requests.RequestException as exc:
        # The URL is a secret: name the failure, never the address.
        raise WebhookFailed(f"webhook unreachable: {type(exc).__name__}") from None
    if not 200 <= response.status_code < 300:
        raise WebhookFailed(f"webhook answered {response.status_code}: {response.text[:200]}")
