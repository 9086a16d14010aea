"""Random bearer secrets (session cookies, API tokens) and their stored form."""

from __future__ import annotations

import hashlib
import secrets

API_TOKEN_PREFIX = "mdk_"  # noqa: S105 (a label, not a secret)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_token() -> str:
    # A recognisable prefix, so a leaked token is easy to find in logs and by secret scanners.
    return API_TOKEN_PREFIX + new_secret()
