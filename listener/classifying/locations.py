"""Names and places of the default model, free of heavy imports (the CLI loads this quickly)."""

from __future__ import annotations

from pathlib import Path

DEFAULT_ENCODER_SHORT_NAME = "minilm-l6"

WEIGHTS_FILE = "heads.safetensors"
METADATA_FILE = "heads.json"
# A fine-tuned model's LoRA adapter for the encoder, inside its heads folder (peft's format).
ADAPTER_SUBDIR = "adapter"
# Or, where every encoder layer was tuned, the tuned layers' weights (the embeddings stay as
# shipped, so they are not repeated here).
TUNED_ENCODER_SUBDIR = "encoder"
TUNED_ENCODER_FILE = "weights.safetensors"
# Heads over the untuned encoder whose verdicts a fine-tuned model blends with its own.
BLEND_SUBDIR = "untuned"
# The same heads reading the tuned encoder's pass through a fitted map (bridging.py), and a map to
# the untuned last layer for topics: with both, a verdict needs one encoder pass.
BRIDGED_SUBDIR = "bridged"
TOPIC_BRIDGE_FILE = "topic-bridge.safetensors"
BUNDLED_HEADS_DIR = Path(__file__).resolve().parent / "heads"
# Where `mentiondesk train` writes heads, under the data folder; newer than the bundled ones.
TRAINED_HEADS_SUBDIR = "heads"


def clear_heads_folder(folder: Path) -> None:
    """Remove a previous model's files, so a heads-only model never inherits an old adapter."""
    import shutil

    for name in (WEIGHTS_FILE, METADATA_FILE, TOPIC_BRIDGE_FILE):
        (folder / name).unlink(missing_ok=True)
    for subdir in (ADAPTER_SUBDIR, TUNED_ENCODER_SUBDIR, BLEND_SUBDIR, BRIDGED_SUBDIR):
        shutil.rmtree(folder / subdir, ignore_errors=True)
