"""Forward-pass precision: what each setting does to a model and its outputs."""

from __future__ import annotations

import warnings

import pytest
import torch

from listener.classifying.encoder import Encoder
from listener.classifying.precision import (
    FullRangeInt8Linear,
    forward_context,
    native_bf16,
    native_int8_sums,
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
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        prepared = prepare(model, "int8")
    assert isinstance(prepared[0], torch.ao.nn.quantized.dynamic.Linear)
    # torch's deprecation of its own int8 is not repeated in every user's log.
    assert [str(w.message) for w in seen if "deprecated" in str(w.message)] == []
    assert prepare(model, "bf16") is model


def test_int8_keeps_a_layers_small_rows_beside_its_large_ones() -> None:
    # One output row 100x larger than the rest: one scale for the whole layer would round the
    # small rows to a handful of levels; one scale per row keeps them.
    torch.manual_seed(0)
    layer = torch.nn.Linear(64, 8, bias=False)
    with torch.no_grad():
        layer.weight[0] *= 100
    inputs = torch.randn(32, 64)
    with torch.inference_mode():
        exact = layer(inputs)
        quantised = prepare(torch.nn.Sequential(layer), "int8")(inputs)
    small_rows = slice(1, None)
    error = (quantised[:, small_rows] - exact[:, small_rows]).norm() / exact[:, small_rows].norm()
    assert error < 0.02


@pytest.mark.skipif(not native_int8_sums(), reason="this CPU has no VNNI: int8 keeps 7-bit inputs")
def test_int8_activations_use_all_8_bits_where_the_cpu_sums_in_32_bits() -> None:
    torch.manual_seed(0)
    layer = torch.nn.Linear(256, 256)
    inputs = torch.randn(64, 256)
    with torch.inference_mode():
        exact = layer(inputs)
        full = prepare(torch.nn.Sequential(layer), "int8")
        seven_bits = torch.ao.quantization.quantize_dynamic(
            torch.nn.Sequential(layer),
            {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig},
        )
        assert isinstance(full[0], FullRangeInt8Linear)
        full_error = (full(inputs) - exact).norm()
        seven_bit_error = (seven_bits(inputs) - exact).norm()
    assert full_error < 0.7 * seven_bit_error


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
