"""Tuned encoder layers stored as low-rank changes to the shipped encoder.

Tuning every layer of MiniLM-L6 changes 10.6M weights (43 MB). Each weight matrix's change is
kept as its best rank-r approximation (two thin factors from its singular value decomposition);
biases and layer norms are small and kept whole. The verdicts survive it: at rank 32 the held-out
figures moved less than retraining moves them (heads/MODEL_CARD.md). At load, each matrix is
rebuilt as the shipped weight plus the product of its factors.
"""

from __future__ import annotations

import torch

UP, DOWN = "::up", "::down"  # suffixes of a matrix's two factors in the saved file
Weights = dict[str, torch.Tensor]


def compress(tuned: Weights, base: Weights, rank: int) -> Weights:
    """Each tuned matrix as factors of its change from `base`; vectors as they are."""
    saved = {}
    for name, weight in tuned.items():
        if weight.dim() != 2 or rank >= min(weight.shape):
            saved[name] = weight.detach().float().contiguous()
            continue
        change = weight.detach().float() - base[name].float()
        left, values, right = torch.linalg.svd(change, full_matrices=False)
        saved[name + UP] = (left[:, :rank] * values[:rank]).contiguous()
        saved[name + DOWN] = right[:rank].contiguous()
    return saved


def expand(saved: Weights, base: Weights) -> Weights:
    """The tuned weights back from compress()'s output (plain weights pass through), checked
    against `base`: a weight it lacks, a wrong shape or a factor without its partner raise
    ValueError naming the weight, so a file saved from another encoder never half-loads."""
    weights = {}
    for key, tensor in saved.items():
        if key.endswith(DOWN):
            if key.removesuffix(DOWN) + UP not in saved:
                raise ValueError(f"{key} has no {UP} factor")
            continue
        name, change = key.removesuffix(UP), None
        if key.endswith(UP):
            down = saved.get(name + DOWN)
            if down is None:
                raise ValueError(f"{key} has no {DOWN} factor")
            if tensor.dim() != 2 or down.dim() != 2 or tensor.shape[1] != down.shape[0]:
                raise ValueError(f"{name}: factors {tuple(tensor.shape)} and {tuple(down.shape)}")
            change = tensor.float() @ down.float()
        shape = tuple((change if change is not None else tensor).shape)
        if name not in base or tuple(base[name].shape) != shape:
            known = tuple(base[name].shape) if name in base else "no such weight"
            raise ValueError(f"{name} is {shape} in the file, {known} in the encoder")
        weights[name] = tensor if change is None else base[name].float() + change
    return weights
