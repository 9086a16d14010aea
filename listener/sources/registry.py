"""Build the Source for a network; each network module defines `build(config, brands)`."""

from __future__ import annotations

import importlib

from config.settings import Brand, SourceConfig
from listener.sources.base import Source

_MODULES = {
    "x": "listener.sources.x",
    "reddit": "listener.sources.reddit",
    "mastodon": "listener.sources.mastodon",
    "bluesky": "listener.sources.bluesky",
}


def build_source(config: SourceConfig, brands: list[Brand]) -> Source:
    """Credentials are read from the environment here, and only here (ConfigError if missing)."""
    module = importlib.import_module(_MODULES[config.network])
    return module.build(config, brands)


def build_enabled_sources(sources: list[SourceConfig], brands: list[Brand]) -> list[Source]:
    return [build_source(s, brands) for s in sources if s.enabled]
