"""The sandbox's HTTP app: each network under its own prefix, plus /_sandbox admin endpoints.

/x/...         X API v2 (tweepy's https://api.twitter.com is redirected here)
/reddit/...    Reddit OAuth API and token endpoint (praw's oauth_url and reddit_url)
/mastodon/...  Mastodon API (api_base_url)
/bluesky/...   Bluesky XRPC (base_url)
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from fastapi import Body, FastAPI, HTTPException, Request

from sandbox.state import NETWORKS, SandboxState

# Network modules that exist; each defines build_router(state) -> APIRouter.
_NETWORK_MODULES = {
    "x": "sandbox.x_api",
    "reddit": "sandbox.reddit_api",
    "mastodon": "sandbox.mastodon_api",
    "bluesky": "sandbox.bluesky_api",
}


def available_networks() -> list[str]:
    found = []
    for network, module in _NETWORK_MODULES.items():
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        found.append(network)
    return found


def create_app(state: SandboxState, *, seeder: Any = None) -> FastAPI:
    app = FastAPI(title="mentiondesk sandbox network", docs_url="/_sandbox/docs", redoc_url=None)
    app.state.sandbox = state

    for network in available_networks():
        module = importlib.import_module(_NETWORK_MODULES[network])
        app.include_router(module.build_router(state), prefix=f"/{network}")

    @app.get("/_sandbox/state")
    def sandbox_state() -> dict[str, Any]:
        return state.snapshot()

    @app.post("/_sandbox/faults", status_code=201)
    def add_fault(fault: dict[str, Any] = Body(...)) -> dict[str, Any]:
        network = fault.setdefault("network", "*")
        if network != "*" and network not in NETWORKS:
            raise HTTPException(400, f"unknown network {network!r}")
        try:
            created = state.add_fault(**fault)
        except (TypeError, ValueError) as exc:
            raise HTTPException(400, str(exc)) from None
        return {"id": created.id}

    @app.delete("/_sandbox/faults")
    def clear_faults() -> dict[str, Any]:
        state.clear_faults()
        return {"cleared": True}

    @app.post("/_sandbox/publish", status_code=201)
    def publish(post: dict[str, Any] = Body(...)) -> dict[str, Any]:
        """Publish one post as any account (tests and manual demos)."""
        try:
            network = post.pop("network")
            author = post.pop("author")
            text = post.pop("text")
        except KeyError as exc:
            raise HTTPException(400, f"missing field {exc}") from None
        if network not in NETWORKS:
            raise HTTPException(400, f"unknown network {network!r}")
        try:
            created = state.publish(network, author, text, **post)
        except KeyError as exc:
            raise HTTPException(404, str(exc)) from None
        return {"network": network, "id": created.id}

    @app.post("/_sandbox/seed")
    async def seed(request: Request) -> dict[str, Any]:
        """Publish `count` posts of realistic traffic right now ("faster on demand")."""
        if seeder is None:
            raise HTTPException(409, "this sandbox runs without a seeder")
        raw = await request.body()
        try:
            # Any content type: `curl -d '{"count": 50}'` sends it as a form.
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise HTTPException(400, 'body must be JSON like {"count": 50}') from None
        if not isinstance(body, dict):
            raise HTTPException(400, 'body must be a JSON object like {"count": 50}')
        count = body.get("count", 10)
        if not isinstance(count, int) or not 1 <= count <= 10_000:
            raise HTTPException(400, "count must be an integer from 1 to 10000")
        return {"published": seeder.publish_batch(count)}

    return app
