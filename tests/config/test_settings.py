"""Configuration: valid files load; invalid ones say which file, which key and what is wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from config.errors import ConfigError
from config.settings import Settings, database_url, load_config, parse_config

REPO = Path(__file__).resolve().parents[2]

BRAND = """
[[brands]]
name = "Acme"
names = ["Acme"]
handles = ["acme"]
hashtags = ["acme"]
"""
SOURCE = """
[[sources]]
name = "x"
network = "x"
[sources.credentials]
bearer_token = "X_BEARER_TOKEN"
"""
VALID = BRAND + SOURCE


@pytest.mark.parametrize("name", ["example.toml", "demo.toml"])
def test_shipped_configs_are_valid(name: str) -> None:
    config = load_config(REPO / "config" / name)
    assert config.brands and config.sources


def test_handles_and_hashtags_are_normalised() -> None:
    brand = parse_config(VALID, origin="t.toml").brands[0]
    assert brand.handles == ["@acme"]
    assert brand.hashtags == ["#acme"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("brands = [", "bad.toml: not valid TOML"),
        ("", "bad.toml: brands: Field required"),
        (VALID.replace('network = "x"', 'network = "myspace"'), "bad.toml: sources[0].network"),
        (
            VALID.replace("poll_interval", "x").replace('name = "x"\n', 'name = "x"\npoll = 5\n'),
            "bad.toml: sources[0].poll: Extra inputs are not permitted",
        ),
        (
            VALID.replace('"X_BEARER_TOKEN"', '"AAAA-real-token-value"'),
            "sources[0].credentials: credentials.bearer_token must name an environment variable",
        ),
        (
            VALID.replace('bearer_token = "X_BEARER_TOKEN"', 'password = "X"'),
            "unknown credential(s) ['password'] for network 'x'",
        ),
        (
            VALID.replace('names = ["Acme"]\nhandles = ["acme"]\nhashtags = ["acme"]', ""),
            "brands[0]: brand 'Acme' needs at least one of names",
        ),
        (VALID + SOURCE, "duplicate source name(s): ['x']"),
    ],
)
def test_invalid_config_names_file_key_and_problem(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse_config(text, origin="bad.toml")
    assert expected in str(excinfo.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nope.toml: configuration file not found"):
        load_config(tmp_path / "nope.toml")


def test_credentials_come_from_the_environment_only() -> None:
    source = parse_config(VALID, origin="t.toml").sources[0]
    with pytest.raises(ConfigError, match="X_BEARER_TOKEN"):
        source.resolve_credentials({})
    creds = source.resolve_credentials({"X_BEARER_TOKEN": "s3cret"})
    assert creds["bearer_token"].get_secret_value() == "s3cret"
    assert "s3cret" not in repr(creds)  # SecretStr keeps it out of logs and tracebacks


def test_database_url_precedence(tmp_path: Path) -> None:
    config = parse_config(VALID + '\n[database]\nurl = "sqlite:///file.db"\n', origin="t")
    assert database_url(config, Settings(database_url=None)) == "sqlite:///file.db"
    env_url = "postgresql://u@h/db"
    assert database_url(config, Settings(DATABASE_URL=env_url)) == env_url
    bare = parse_config(VALID, origin="t")
    assert database_url(bare, Settings(data_dir=tmp_path)).endswith(f"{tmp_path}/mentiondesk.db")


def test_cli_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text(
        VALID.replace("poll_interval", "").replace(
            'network = "x"', 'network = "x"\npoll_interval_seconds = 1'
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "responders.cli", "poll", "--once", "--config", str(bad)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert f"{bad}: sources[0].poll_interval_seconds" in result.stderr
    assert "greater than or equal to 5" in result.stderr
    assert "Traceback" not in result.stderr
