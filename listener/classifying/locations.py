"""Names and places of the default model, free of heavy imports (the CLI loads this quickly)."""

from __future__ import annotations

from pathlib import Path

DEFAULT_ENCODER_SHORT_NAME = "minilm-l6"

WEIGHTS_FILE = "heads.safetensors"
METADATA_FILE = "heads.json"
BUNDLED_HEADS_DIR = Path(__file__).resolve().parent / "heads"
# Where `mentiondesk train` writes heads, under the data folder; newer than the bundled ones.
TRAINED_HEADS_SUBDIR = "heads"
