"""What every command needs: the config file, the settings, the database, clean exits."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property, wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

import typer
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

import config as config_package
from config.errors import ConfigError
from config.settings import AppConfig, Settings, database_url, load_config
from listener.store.db import make_engine, make_session_factory

P = ParamSpec("P")
R = TypeVar("R")

ConfigOption = typer.Option(
    None,
    "--config",
    "-c",
    help="TOML configuration file (default: $MENTIONDESK_CONFIG).",
    envvar="MENTIONDESK_CONFIG",
)

EXIT_CONFIG_ERROR = 2

# The demo keeps its data apart from a real installation's (.mentiondesk/).
DEMO_DATA_DIR = Path(".demo")
DEMO_DATABASE = DEMO_DATA_DIR / "mentiondesk.db"
DEMO_CONFIG = Path(config_package.__file__).parent / "demo.toml"
_DEMO_CREDENTIALS = (
    "X_BEARER_TOKEN",
    "X_CONSUMER_KEY",
    "X_CONSUMER_SECRET",
    "X_ACCESS_TOKEN",
    "X_ACCESS_TOKEN_SECRET",
    "REDDIT_CLIENT_ID",
    "REDDIT_CLIENT_SECRET",
    "REDDIT_USERNAME",
    "REDDIT_PASSWORD",
    "MASTODON_ACCESS_TOKEN",
    "BLUESKY_HANDLE",
    "BLUESKY_APP_PASSWORD",
)


def demo_credentials() -> dict[str, str]:
    """The demo config's credential variables and their values, for the local sandbox."""
    values = {f"MENTIONDESK_DEMO_{name}": f"sandbox-{name.lower()}" for name in _DEMO_CREDENTIALS}
    # The sandbox's brand account: the bot reads its own inbox mentions and replies as it.
    values["MENTIONDESK_DEMO_REDDIT_USERNAME"] = "northwindair"
    values["MENTIONDESK_DEMO_BLUESKY_HANDLE"] = "northwindair.bsky.social"
    return values


def use_demo_credentials() -> None:
    """The demo config's credential variables, for the local sandbox (which accepts any token).

    Not secrets: they only ever reach 127.0.0.1. The user names are the sandbox's brand accounts,
    so the bot reads its own mentions and replies as them.
    """
    for name, value in demo_credentials().items():
        os.environ.setdefault(name, value)


def fail(message: str, code: int = EXIT_CONFIG_ERROR) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def exits_cleanly(func: Callable[P, R]) -> Callable[P, R]:
    """Invalid configuration, or a database without our tables: print what is wrong and what to
    do, exit with code 2. A database that cannot be used (down, refusing, locked): code 1."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            raise fail(str(exc)) from None
        except (OperationalError, ProgrammingError) as exc:
            reason = str(exc.orig or exc).strip().splitlines()[0]
            if _is_missing_table(exc):
                raise fail(
                    f"the database has no mentiondesk tables yet ({reason}): run `mentiondesk "
                    "db upgrade` with the same configuration, or `mentiondesk run`, which "
                    "creates them"
                ) from None
            if isinstance(exc, OperationalError):
                raise fail(f"cannot use the database: {reason}", code=1) from None
            raise

    return wrapper


def _is_missing_table(exc: DBAPIError) -> bool:
    # SQLite says "no such table"; PostgreSQL's driver raises UndefinedTable (SQLSTATE 42P01).
    return "no such table" in str(exc.orig) or getattr(exc.orig, "sqlstate", None) == "42P01"


@dataclass
class Context:
    """Lazily built pieces a command may need; nothing is opened until asked for."""

    config_path: Path | None
    settings: Settings

    @property
    def has_config(self) -> bool:
        return (self.config_path or self.settings.config) is not None

    @cached_property
    def uses_demo(self) -> bool:
        """No configuration and no DATABASE_URL, but a demo has run here: work on the demo.

        So `mentiondesk stats`, `inbox` or `reply` in a second terminal act on what `make run`
        is showing, with the demo's configuration and its sandbox credentials.
        """
        if self.has_config or self.settings.database_url:
            return False
        if not DEMO_DATABASE.exists():
            return False
        typer.echo(f"(no configuration given: using the demo in {DEMO_DATA_DIR}/)", err=True)
        return True

    @cached_property
    def config(self) -> AppConfig:
        path = self.config_path or self.settings.config
        if path is None and self.uses_demo:
            use_demo_credentials()
            path = DEMO_CONFIG
        if path is None:
            raise ConfigError(
                "no configuration file: pass --config FILE or set MENTIONDESK_CONFIG "
                "(config/example.toml shows the format; `make run` starts a demo)"
            )
        return load_config(path)

    @cached_property
    def database_url(self) -> str:
        """DATABASE_URL, else the configuration's database, else the demo's (see uses_demo)."""
        if self.settings.database_url:
            return self.settings.database_url
        if self.uses_demo:
            return f"sqlite:///{DEMO_DATABASE.resolve()}"
        url = database_url(self.config, self.settings)
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return url

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.database_url)

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)


def make_context(config: Path | None) -> Context:
    return Context(config_path=config, settings=Settings())


@contextmanager
def logging_to_stderr(level: int = logging.INFO) -> Iterator[None]:
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # The queue stages run every half second: APScheduler's per-run lines would bury ours.
    # Failed jobs still show (the executor logs them as errors).
    logging.getLogger("apscheduler").setLevel(max(level, logging.WARNING))
    logging.getLogger("apscheduler.scheduler").addFilter(_still_running_is_normal)
    yield


def _still_running_is_normal(record: logging.LogRecord) -> bool:
    # A stage busy for longer than its interval (the classifier on a burst) is skipped, not late.
    return "maximum number of running instances reached" not in record.getMessage()
