"""The one error type for configuration problems; the CLI turns it into exit code 2."""


class ConfigError(Exception):
    """Invalid configuration. The message names the file, the key and what is wrong."""
