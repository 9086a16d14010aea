"""Why a model cannot be used. Light to import, so callers can catch these without loading torch."""

from __future__ import annotations


class ModelUnavailable(RuntimeError):
    """The configured model cannot be used as configured."""


class EncoderUnavailable(ModelUnavailable):
    """The configured encoder cannot be loaded (not installed, not cached, not a model folder)."""


class HeadsUnavailable(ModelUnavailable):
    """No usable heads at the configured place, or heads trained for another encoder."""
