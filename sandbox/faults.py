"""Applying injected faults inside a network's request handlers.

Each network decides how a fault looks on its wire (X's 429 headers differ from Reddit's), so this
module only finds the fault and does the waiting; the network module builds the response.
"""

from __future__ import annotations

import asyncio

from fastapi import Request

from sandbox.state import Fault, SandboxState


async def take_fault(state: SandboxState, network: str, request: Request) -> Fault | None:
    """The fault for this request, if any, after waiting out 'slow' and 'timeout' delays.

    'slow' and 'timeout' are handled here completely (they only delay), so callers get None back
    for them and answer normally; every other kind is returned for the network to render.
    """
    fault = state.take_fault(network, request.url.path)
    if fault is None:
        return None
    if fault.kind in ("slow", "timeout"):
        await asyncio.sleep(fault.delay_seconds)
        return None
    return fault


MALFORMED_BODY = b'{"data": [{"id": "1", "text": "truncated'  # deliberately not valid JSON
