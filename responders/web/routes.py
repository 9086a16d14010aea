"""The app's parts: view modules (each with a `router`) and the nav links. Add yours here.

A module named in VIEW_MODULES must define `router = APIRouter(...)`; create_app includes it.
Every route must depend on `require_role(...)` or `public` (tests/web/test_route_matrix.py checks).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

from fastapi import APIRouter

if TYPE_CHECKING:
    from responders.web.auth import CurrentUser

VIEW_MODULES: list[str] = [
    "responders.web.views.auth",
    "responders.web.views.desk",
    "responders.web.views.mention",
    "responders.web.views.account",
    "responders.web.views.admin",
    "responders.web.views.api",
    "responders.web.views.reports",
    "responders.web.views.events",
]


@dataclass(frozen=True)
class NavLink:
    label: str
    path: str
    role: str  # the least role that sees the link (the route itself must check too)
    key: str  # highlighted when the page's `active` equals it (default: first path segment)


NAV: list[NavLink] = [
    NavLink("Desk", "/desk", "agent", "desk"),
    NavLink("Reports", "/reports", "manager", "reports"),
    NavLink("Events", "/events", "agent", "events"),
    NavLink("Admin", "/admin", "admin", "admin"),
]


def routers() -> list[APIRouter]:
    return [import_module(name).router for name in VIEW_MODULES]


def visible_nav(user: CurrentUser | None) -> list[NavLink]:
    if user is None:
        return []
    return [link for link in NAV if user.has_role(link.role)]


@dataclass(frozen=True)
class RouteInfo:
    path: str
    methods: frozenset[str]
    dependant: object | None  # fastapi.dependencies.models.Dependant; None for mounts
    route: object  # what FastAPI hands get_openapi


def iter_routes(app) -> list[RouteInfo]:
    """Every route of the app with its full path, included routers flattened.

    FastAPI >= 0.16x keeps included routers as one entry in app.routes; its
    `iter_route_contexts` flattens them. Older versions list each route directly.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: app.routes is already flat
        contexts = list(app.routes)
    else:
        contexts = list(iter_route_contexts(app.routes))
    out = []
    for route in contexts:
        path = getattr(route, "path", None)
        if path is None:
            continue
        out.append(
            RouteInfo(
                path=path,
                methods=frozenset(getattr(route, "methods", None) or ()),
                dependant=getattr(route, "dependant", None),
                route=route,
            )
        )
    return out
