"""create_app: the FastAPI application for the desk, admin pages and the JSON API.

No work at import time: the caller passes the session factory (and the loaded configuration,
which the admin pages show). `mentiondesk run` and `mentiondesk demo` serve it with uvicorn.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from config.settings import AppConfig
from responders.web.auth import API_PREFIX, CsrfFailed, Forbidden, NotAuthenticated, is_api
from responders.web.routes import iter_routes, routers
from responders.web.state import WebState, _utcnow
from responders.web.templating import render

STATIC_DIR = Path(__file__).parent / "static"

# Scripts and styles only from our own origin: even if some text escaped escaping, no inline
# script or handler attribute would run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def create_app(
    *,
    session_factory: sessionmaker[Session],
    config: AppConfig | None = None,
    secure_cookies: bool = False,
    clock: Callable[[], datetime] = _utcnow,
    poll_seconds: float = 10.0,
) -> FastAPI:
    app = FastAPI(
        title="mentiondesk",
        version="1",
        description="The desk's JSON API. Authenticate with `Authorization: Bearer <API token>` "
        "(create one on your Account page or with `mentiondesk users token create`).",
        # The schema is served by the API router, behind a login; no CDN-based docs pages.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.web = WebState(
        session_factory=session_factory,
        config=config,
        secure_cookies=secure_cookies,
        clock=clock,
        poll_seconds=poll_seconds,
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in routers():
        app.include_router(router)
    app.openapi = lambda: _api_schema(app)  # type: ignore[method-assign]
    _add_security_headers(app)
    _add_error_pages(app)
    return app


def _api_schema(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        app.openapi_schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=[r.route for r in iter_routes(app) if r.path.startswith(API_PREFIX + "/")],
        )
        app.openapi_schema["components"] = {
            **app.openapi_schema.get("components", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        }
        app.openapi_schema["security"] = [{"bearer": []}]
    return app.openapi_schema


def _add_security_headers(app: FastAPI) -> None:
    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response: Response = await call_next(request)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith("/static/"):
            headers.setdefault("Cache-Control", "no-store")  # pages hold customers' words
        return response


def _add_error_pages(app: FastAPI) -> None:
    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, _exc: NotAuthenticated) -> Response:
        if is_api(request) or request.headers.get("x-requested-with") == "fetch":
            return JSONResponse(
                {"detail": "not logged in: send a session cookie or Authorization: Bearer TOKEN"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = "/login"
        if request.method == "GET":
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            target += "?next=" + quote(path, safe="")
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, _exc: Forbidden) -> Response:
        message = "your role does not allow this"
        if is_api(request):
            return JSONResponse({"detail": message}, status_code=403)
        return render(
            request, "error.html", {"title": "Not allowed", "message": message}, status_code=403
        )

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, _exc: CsrfFailed) -> Response:
        message = "the form's security token is missing or stale: reload the page and try again"
        if is_api(request):
            return JSONResponse({"detail": message}, status_code=403)
        return render(
            request, "error.html", {"title": "Form expired", "message": message}, status_code=403
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if is_api(request) or request.url.path.startswith("/static/"):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        title = {404: "Not found", 405: "Not allowed here"}.get(exc.status_code, "Error")
        return render(
            request,
            "error.html",
            {"title": title, "message": str(exc.detail)},
            status_code=exc.status_code,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        if is_api(request):
            return JSONResponse({"detail": problems}, status_code=422)
        return render(
            request,
            "error.html",
            {"title": "Check the form", "message": "; ".join(problems)},
            status_code=422,
        )
