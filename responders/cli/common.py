"""What every command needs: the config file, the settings, the database, clean exits."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property, wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

import typer
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

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


def fail(message: str, code: int = EXIT_CONFIG_ERROR) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def exits_cleanly_on_config_error(func: Callable[P, R]) -> Callable[P, R]:
    """Invalid configuration: print what is wrong and where, exit with code 2."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            raise fail(str(exc)) from None

    return wrapper


@dataclass
class Context:
    """Lazily built pieces a command may need; nothing is opened until asked for."""

    config_path: Path | None
    settings: Settings

    @cached_property
    def config(self) -> AppConfig:
        path = self.config_path or self.settings.config
        if path is None:
            raise ConfigError(
                "no configuration file: pass --config FILE or set MENTIONDESK_CONFIG "
                "(config/example.toml shows the format)"
            )
        return load_config(path)

    @property
    def has_config(self) -> bool:
        return (self.config_path or self.settings.config) is not None

    @cached_property
    def database_url(self) -> str:
        url = database_url(self.config, self.settings)
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return url

    def reading_database_url(self) -> str:
        """DATABASE_URL, else the configuration's database; with neither, the demo's database.

        So `mentiondesk stats` in a second terminal shows what `make run` is collecting.
        """
        if self.settings.database_url:
            return self.settings.database_url
        if self.has_config:
            return self.database_url
        demo_db = DEMO_DATA_DIR / "mentiondesk.db"
        if demo_db.exists():
            typer.echo(f"(no configuration given: reading the demo database {demo_db})", err=True)
            return f"sqlite:///{demo_db.resolve()}"
        raise ConfigError(
            "no configuration file: pass --config FILE or set MENTIONDESK_CONFIG or DATABASE_URL "
            "(config/example.toml shows the format; `make run` starts a demo)"
        )

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
    yield
