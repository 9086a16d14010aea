"""Serving the app from `mentiondesk run` and `mentiondesk demo`: uvicorn in a background thread."""

from __future__ import annotations

import threading
import time

import uvicorn
from fastapi import FastAPI

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


class WebServerError(RuntimeError):
    pass


class WebServer:
    def __init__(self, app: FastAPI, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
        self.host = host
        self.port = port
        # proxy_headers: behind a TLS proxy on this machine, X-Forwarded-Proto makes the
        # request https, and the session cookie then gets `Secure`.
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="off", proxy_headers=True
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="web", daemon=True)

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 15.0) -> WebServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():  # uvicorn exits when it cannot bind
                raise WebServerError(
                    f"the web app could not listen on {self.host}:{self.port} "
                    "(in use? choose another with --web-port)"
                )
            if time.monotonic() > deadline:
                raise WebServerError(f"the web app did not start within {timeout:g} s")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
