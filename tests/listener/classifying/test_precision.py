"""Forward-pass precision: what each setting does to a model and its outputs."""

from __future__ import annotations

import pytest
import torch

from listener.classifying.encoder import Encoder
from listener.classifying.precision import (
    forward_context,
    native_bf16,
    prepare,
    resolve_precision,
    training_precision,
    version_suffix,
)


@pytest.mark.parametrize(
    ("precision", "dtype"), [("fp32", torch.float32), ("bf16", torch.bfloat16)]
)
def test_forward_context_sets_the_dtype_linear_layers_compute_in(
    precision: str, dtype: torch.dtype
) -> None:
    layer = torch.nn.Linear(4, 4)
    with torch.inference_mode(), forward_context(precision):
        assert layer(torch.ones(2, 4)).dtype == dtype


def test_int8_replaces_linear_layers_with_dynamically_quantised_ones() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU())
    prepared = prepare(model, "int8")
    assert isinstance(prepared[0], torch.ao.nn.quantized.dynamic.Linear)
    assert prepare(model, "bf16") is model


def test_explicit_precisions_are_kept_and_auto_follows_the_cpu() -> None:
    assert [resolve_precision(p) for p in ("fp32", "bf16", "int8")] == ["fp32", "bf16", "int8"]
    assert resolve_precision("auto") == ("bf16" if native_bf16() else "fp32")
    assert [version_suffix(p) for p in ("fp32", "bf16", "int8")] == ["", "+bf16", "+int8"]


def test_an_encoder_refuses_a_precision_it_cannot_run_at() -> None:
    with pytest.raises(ValueError, match="precision 'auto' is not one of fp32, bf16, int8"):
        Encoder(precision="auto")


def test_training_computes_in_bf16_only_where_inference_would() -> None:
    assert [training_precision(p) for p in ("fp32", "bf16", "int8")] == ["fp32", "bf16", "fp32"]
    assert training_precision("auto") == ("bf16" if native_bf16() else "fp32")
