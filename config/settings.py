"""Configuration: one TOML file, validated with pydantic, plus the process environment.

The file declares brands, sources and the database. Secrets never live in it: a source names the
*environment variables* holding its credentials, and they are read only when the source is built.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.classifier import ClassifierConfig
from config.errors import ConfigError
from config.notify import NotifyConfig
from config.people import EmployeeConfig, TeamConfig, check_people
from config.routing import RoutingConfig, check_routing

Network = Literal["x", "reddit", "mastodon", "bluesky"]
NETWORKS: tuple[str, ...] = ("x", "reddit", "mastodon", "bluesky")

# Credentials each network's client needs; values in the file are environment variable *names*.
REQUIRED_CREDENTIALS: dict[str, tuple[str, ...]] = {
    "x": ("bearer_token",),
    "reddit": ("client_id", "client_secret", "username", "password"),
    "mastodon": ("access_token",),
    "bluesky": ("handle", "app_password"),
}
OPTIONAL_CREDENTIALS: dict[str, tuple[str, ...]] = {
    "x": ("consumer_key", "consumer_secret", "access_token", "access_token_secret"),
    "reddit": (),
    "mastodon": (),
    "bluesky": (),
}

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Brand(_Strict):
    """What to listen for. A competitor's mentions are kept (for reports) and marked as such."""

    name: str = Field(min_length=1)
    names: list[str] = Field(default_factory=list)
    handles: list[str] = Field(default_factory=list)
    hashtags: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    competitor: bool = False

    @field_validator("names", "handles", "hashtags", "keywords", "exclude")
    @classmethod
    def _no_blank_terms(cls, terms: list[str]) -> list[str]:
        cleaned = [t.strip() for t in terms]
        if any(not t for t in cleaned):
            raise ValueError("terms must not be empty strings")
        return cleaned

    @field_validator("handles")
    @classmethod
    def _handles_start_with_at(cls, handles: list[str]) -> list[str]:
        return [h if h.startswith("@") else f"@{h}" for h in handles]

    @field_validator("hashtags")
    @classmethod
    def _hashtags_start_with_hash(cls, tags: list[str]) -> list[str]:
        return [t if t.startswith("#") else f"#{t}" for t in tags]

    @model_validator(mode="after")
    def _has_something_to_listen_for(self) -> Brand:
        if not (self.names or self.handles or self.hashtags or self.keywords):
            raise ValueError(
                f"brand {self.name!r} needs at least one of names, handles, hashtags or keywords"
            )
        return self

    @property
    def terms(self) -> list[str]:
        """Every term that identifies this brand, in a stable order."""
        return [*self.names, *self.handles, *self.hashtags, *self.keywords]


class SourceConfig(_Strict):
    """One account on one network, polled on its own schedule."""

    name: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    network: Network
    enabled: bool = True
    poll_interval_seconds: int = Field(default=60, ge=5, le=86_400)
    # Environment variable names, keyed by credential (see REQUIRED_CREDENTIALS).
    credentials: dict[str, str] = Field(default_factory=dict)
    # Where the API lives. Empty means the real network; the demo points it at the sandbox.
    # Mastodon: the instance the account lives on (required; one source per instance).
    # Bluesky: the account's PDS (empty means https://bsky.social).
    api_base_url: str | None = None
    # The brand account on this network (X: mentions timeline; Reddit: inbox mentions;
    # Mastodon: mention notifications; Bluesky: mention and reply notifications).
    account_handle: str | None = None
    # Reddit: subreddits to search; ["all"] searches everywhere.
    subreddits: list[str] = Field(default_factory=lambda: ["all"])
    # Mastodon and Bluesky: also search posts for the brands' names and keywords. Mastodon servers
    # answer only where full-text search is enabled; elsewhere it is skipped with a warning.
    search_posts: bool = True
    user_agent: str = "python:mentiondesk:0.1 (by /u/mentiondesk)"
    max_pages: int = Field(default=10, ge=1, le=1000)
    request_timeout_seconds: float = Field(default=15.0, gt=0, le=300)

    @field_validator("credentials")
    @classmethod
    def _values_are_env_names(cls, creds: dict[str, str]) -> dict[str, str]:
        for key, env_name in creds.items():
            if not _ENV_NAME.match(env_name):
                raise ValueError(
                    f"credentials.{key} must name an environment variable (like X_BEARER_TOKEN), "
                    "not hold the secret itself"
                )
        return creds

    @model_validator(mode="after")
    def _credentials_fit_network(self) -> SourceConfig:
        allowed = set(REQUIRED_CREDENTIALS[self.network]) | set(OPTIONAL_CREDENTIALS[self.network])
        unknown = sorted(set(self.credentials) - allowed)
        if unknown:
            raise ValueError(
                f"unknown credential(s) {unknown} for network {self.network!r}; "
                f"expected some of {sorted(allowed)}"
            )
        missing = [k for k in REQUIRED_CREDENTIALS[self.network] if k not in self.credentials]
        if missing:
            raise ValueError(
                f"credentials for network {self.network!r} must name environment variables for "
                f"{missing}"
            )
        return self

    def resolve_credentials(self, environ: dict[str, str] | None = None) -> dict[str, SecretStr]:
        """Read this source's secrets from the environment. Missing ones are a ConfigError."""
        env = os.environ if environ is None else environ
        resolved: dict[str, SecretStr] = {}
        missing: list[str] = []
        for key, env_name in self.credentials.items():
            value = env.get(env_name)
            if value:
                resolved[key] = SecretStr(value)
            elif key in REQUIRED_CREDENTIALS[self.network]:
                missing.append(f"{env_name} (credentials.{key})")
        if missing:
            raise ConfigError(
                f"source {self.name!r}: environment variable(s) not set: {', '.join(missing)}"
            )
        return resolved


class DatabaseConfig(_Strict):
    url: str | None = None


class AppConfig(_Strict):
    brands: Annotated[list[Brand], Field(min_length=1)]
    sources: list[SourceConfig] = Field(default_factory=list)
    database: DatabaseConfig = DatabaseConfig()
    teams: list[TeamConfig] = Field(default_factory=list)
    employees: list[EmployeeConfig] = Field(default_factory=list)
    routing: RoutingConfig = RoutingConfig()
    notify: NotifyConfig = NotifyConfig()
    classifier: ClassifierConfig = ClassifierConfig()

    @model_validator(mode="after")
    def _people_and_routing_fit(self) -> AppConfig:
        check_people(self.teams, self.employees)
        check_routing(self.routing, [t.name for t in self.teams])
        return self

    @model_validator(mode="after")
    def _rule_topics_are_classifier_topics(self) -> AppConfig:
        # A rule naming a topic the classifier never gives would silently never match.
        known = set(self.classifier.topic_names)
        for index, rule in enumerate(self.routing.rules):
            unknown = sorted(set(rule.topic) - known)
            if unknown:
                raise ValueError(
                    f"routing.rules[{index}] ({rule.name}): topic {unknown} is not one of "
                    f"[classifier] topics {sorted(known) or '(none configured)'}"
                )
        return self

    @model_validator(mode="after")
    def _unique_names(self) -> AppConfig:
        for kind, names in (
            ("brand", [b.name for b in self.brands]),
            ("source", [s.name for s in self.sources]),
        ):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"duplicate {kind} name(s): {dupes}")
        return self

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"no source named {name!r} in the configuration (known: {known})")


class Settings(BaseSettings):
    """The process environment. `DATABASE_URL` wins over the file's `[database] url`."""

    model_config = SettingsConfigDict(env_prefix="MENTIONDESK_", extra="ignore")

    config: Path | None = None
    data_dir: Path = Path(".mentiondesk")
    database_url: str | None = Field(
        default=None, validation_alias="DATABASE_URL"
    )  # the conventional name, no prefix


def _format_location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def parse_config(text: str, *, origin: str) -> AppConfig:
    """Parse and validate TOML text; `origin` names it in error messages."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML: {exc}") from None
    try:
        return AppConfig.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = _format_location(err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{origin}: {where}: {msg}")
        raise ConfigError("\n".join(problems)) from None


def load_config(path: Path | str) -> AppConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration file: {exc}") from None
    return parse_config(text, origin=str(path))


def database_url(config: AppConfig, settings: Settings) -> str:
    """DATABASE_URL, else the file's [database] url, else a SQLite file in the data folder."""
    if settings.database_url:
        return settings.database_url
    if config.database.url:
        return config.database.url
    return f"sqlite:///{(settings.data_dir / 'mentiondesk.db').resolve()}"
