"""Number precision of a model's forward pass: fp32, bf16 (autocast) or int8 (dynamic).

bf16 pays only where the CPU multiplies bf16 natively (AVX512-BF16 or AMX); elsewhere it is
emulated and slower than fp32, so "auto" picks it only there.

int8 quantises each linear layer's weights per output channel, and its activations per batch.
"""

from __future__ import annotations

import warnings
from contextlib import AbstractContextManager, nullcontext

import torch
from torch.ao.nn.quantized import dynamic as quantized_dynamic
from torch.ao.quantization import per_channel_dynamic_qconfig
from transformers import PreTrainedModel

from config.classifier import Precision

RESOLVED = ("fp32", "bf16", "int8")


def _cpu_reports(*probes: str) -> bool:
    """Whether any of torch's private CPU feature probes answers yes. If the probes move, the
    answer is no, and the caller falls back to what is always correct."""
    return any(bool(getattr(torch.cpu, probe, lambda: False)()) for probe in probes)


def native_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (else fp32 is used)."""
    return _cpu_reports("_is_avx512_bf16_supported", "_is_amx_tile_supported")


def resolve_precision(setting: Precision) -> str:
    if setting == "auto":
        return "bf16" if native_bf16() else "fp32"
    return checked(setting)


def training_precision(setting: Precision) -> str:
    """Fine-tuning computes in bf16 where inference would (about 1.5x the steps per second);
    weights and optimiser state stay fp32. int8 is for inference only: training runs in fp32."""
    return "bf16" if resolve_precision(setting) == "bf16" else "fp32"


def checked(precision: str) -> str:
    """A precision a model can run at; "auto" must have been resolved first."""
    if precision not in RESOLVED:
        raise ValueError(f"precision {precision!r} is not one of {', '.join(RESOLVED)}")
    return precision


class FullRangeInt8Linear(quantized_dynamic.Linear):
    """A dynamic int8 linear layer whose activations use all 8 bits. torch's own keeps 7
    (`reduce_range`) so that CPUs without VNNI cannot overflow their 16-bit pairwise sums; with
    VNNI the sums are 32-bit, and the 8th bit halves the rounding error (MiniLM's pooled last
    layer: mean cosine to fp32 0.992 instead of 0.970, bench/precision.py for the verdicts)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        packed = self._packed_params._packed_params
        return torch.ops.quantized.linear_dynamic(x, packed, reduce_range=False).to(x.dtype)


def native_int8_sums() -> bool:
    """Whether this CPU adds int8 products in 32 bits (AVX512-VNNI; else inputs keep 7 bits)."""
    return _cpu_reports("_is_vnni_supported")


def int8_linear_class() -> type[quantized_dynamic.Linear]:
    return FullRangeInt8Linear if native_int8_sums() else quantized_dynamic.Linear


def prepare(model: PreTrainedModel, precision: str) -> PreTrainedModel:
    """The model to run at this precision (int8 replaces the linear layers; the others keep it)."""
    if precision == "int8":
        # Per-channel weights: one scale per output row, so a row of small weights is not
        # rounded to a few levels of the layer's largest (mean cosine 0.97 instead of 0.93).
        with warnings.catch_warnings():
            # torch 2.13 marks its eager int8 (torch.ao) deprecated; torch is pinned, so that
            # is for us to act on when we upgrade, not a line in every user's log at start-up.
            warnings.filterwarnings("ignore", message=".*torch.ao.quantization is deprecated")
            warnings.filterwarnings("ignore", message=".*quantized tensor creation functions")
            return torch.ao.quantization.quantize_dynamic(
                model,
                {torch.nn.Linear: per_channel_dynamic_qconfig},
                mapping={torch.nn.Linear: int8_linear_class()},
            )
    return model


def forward_context(precision: str) -> AbstractContextManager:
    # Autocast keeps layer norms and softmax in fp32: pooled states stay within 1e-4 cosine of
    # fp32, where casting the weights to bf16 drifts twice as far for no extra speed.
    if precision == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return nullcontext()


def version_suffix(precision: str) -> str:
    """Verdicts at another precision differ slightly from fp32 ones: their version says so."""
    return "" if precision == "fp32" else f"+{precision}"
