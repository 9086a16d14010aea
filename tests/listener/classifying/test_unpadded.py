"""The encoder's forward on real tokens only gives what the library's padded forward gives."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.nn import functional
from transformers import BertConfig, BertModel, RobertaConfig, RobertaModel

from listener.classifying import unpadded
from listener.classifying.encoder import Encoder, padded_pooled_layers
from listener.classifying.precision import forward_context
from tests.listener.classifying.test_tiny_model import make_tiny_encoder

# Lengths from 3 word pieces to the 128 cap, so most of each batch is padding for some posts.
POSTS = [
    "ok",
    "@northwindair my bag never arrived at gate 12 and nobody answers the phone 😡😡 #fail",
    "Thanks for the upgrade!",
    "cancelled " * 200,
    "https://t.co/abc123 <script>alert(1)</script> delayed AGAIN",
]


def _both(model, tokenizer, posts: list[str], precision: str = "fp32"):
    batch = tokenizer(posts, padding=True, truncation=True, max_length=128, return_tensors="pt")
    with torch.inference_mode(), forward_context(precision):
        return unpadded.pooled_layers(model, batch), padded_pooled_layers(model, batch)


@pytest.fixture(scope="module")
def minilm() -> Encoder:
    return Encoder()


def test_the_default_encoder_gives_the_padded_forwards_layers(minilm: Encoder) -> None:
    tokenizer, model = minilm._load()
    assert unpadded.supports(model)
    packed, padded = _both(model, tokenizer, POSTS)
    assert packed.shape == padded.shape == (len(POSTS), 7, 384)
    assert torch.allclose(packed, padded, atol=1e-5)


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_reduced_precision_stays_as_close_to_fp32_as_the_padded_forward(
    minilm: Encoder, precision: str
) -> None:
    tokenizer, exact = minilm._load()
    _, reference = _both(exact, tokenizer, POSTS)
    _, model = Encoder(precision=precision)._load()
    packed, padded = _both(model, tokenizer, POSTS, precision)

    def closeness(layers: torch.Tensor) -> float:
        return functional.cosine_similarity(layers[:, -1], reference[:, -1], dim=-1).mean().item()

    # int8 scales a batch's activations by their range, so packing moves its rounding: it may
    # land a little either side of the padded forward's, not farther from fp32.
    assert closeness(packed) > closeness(padded) - 0.01
    assert closeness(packed) > (0.999 if precision == "bf16" else 0.9)


def test_encode_runs_bert_encoders_unpadded_and_matches(tmp_path: Path) -> None:
    encoder = Encoder(str(make_tiny_encoder(tmp_path / "tiny")))
    texts = ["good", "lost my bag again and the flight was late", "the flight"]
    encoded = encoder.encode(texts, batch_size=3)
    tokenizer, model = encoder._load()
    assert unpadded.supports(model)
    _, padded = _both(model, tokenizer, texts)
    assert torch.allclose(encoded, padded, atol=1e-5)


def test_other_architectures_keep_the_librarys_forward() -> None:
    small = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2}
    small["intermediate_size"] = 64
    assert unpadded.supports(BertModel(BertConfig(**small)))
    assert not unpadded.supports(BertModel(BertConfig(is_decoder=True, **small)))
    assert not unpadded.supports(RobertaModel(RobertaConfig(**small)))
