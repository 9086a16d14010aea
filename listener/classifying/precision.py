"""Number precision of a model's forward pass: fp32, bf16 (autocast) or int8 (dynamic).

bf16 pays only where the CPU multiplies bf16 natively (AVX512-BF16 or AMX); elsewhere it is
emulated and slower than fp32, so "auto" picks it only there.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import torch
from transformers import PreTrainedModel

from config.classifier import Precision

RESOLVED = ("fp32", "bf16", "int8")


def native_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware. torch only exposes this privately: if the
    probes move, we fall back to fp32, which is always correct."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, probe, lambda: False)()) for probe in probes)


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


def prepare(model: PreTrainedModel, precision: str) -> PreTrainedModel:
    """The model to run at this precision (int8 replaces the linear layers; the others keep it)."""
    if precision == "int8":
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
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
