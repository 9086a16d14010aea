"""Names and places of the default model, free of heavy imports (the CLI loads this quickly)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
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


# The subfolders a model may have; each changes verdicts, so each is part of its version.
MODEL_SUBDIRS = (ADAPTER_SUBDIR, TUNED_ENCODER_SUBDIR, BLEND_SUBDIR, BRIDGED_SUBDIR)
# A model folder's parts besides heads.json; other files there (a model card) are left alone.
_MODEL_PARTS = (WEIGHTS_FILE, TOPIC_BRIDGE_FILE, *MODEL_SUBDIRS)


def copy_model(source: Path, target: Path) -> None:
    """Copy the model in `source` (heads.json and its parts) into the empty folder `target`."""
    import shutil

    for name in (METADATA_FILE, *_MODEL_PARTS):
        path = source / name
        if path.is_dir():
            shutil.copytree(path, target / name)
        elif path.is_file():
            shutil.copy2(path, target / name)


def replace_model(folder: Path, save: Callable[[Path], None]) -> None:
    """Put the model that `save(folder)` writes in `folder`, in place of the one there.

    It is written beside `folder` first, then moved in part by part, heads.json last (one
    rename): a running desk, which reloads when heads.json changes (reloading.py), sees the old
    model or the whole new one, never a mix. Parts of the old model that the new one lacks are
    removed, so a heads-only model never inherits an old tuned encoder."""
    import shutil
    import tempfile

    folder.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{folder.name}-new-", dir=folder.parent))
    try:
        save(scratch)
        for name in _MODEL_PARTS:
            old, new = folder / name, scratch / name
            if old.is_dir():
                shutil.rmtree(old)
            else:
                old.unlink(missing_ok=True)
            if new.exists():
                new.rename(old)
        (scratch / METADATA_FILE).replace(folder / METADATA_FILE)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def digest_files(digest: hashlib._Hash, files: Iterable[tuple[str, Path]]) -> None:
    """Add each (label, file) to `digest`: the label, then the file's bytes, read in pieces (a
    model's weights can be gigabytes). Model versions are digests of their files."""
    for label, path in files:
        digest.update(label.encode())
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)


def complete_model_files(location: str) -> list[Path]:
    """The files of a complete (sequence-classification) model folder that its verdicts depend
    on: its config, weights and tokenizer, not its docs; none for a hub id without a folder."""
    folder = Path(location)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix != ".md")
