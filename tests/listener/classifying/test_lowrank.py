"""Tuned layers stored as low-rank changes: what is kept, what comes back, and clear errors."""

from __future__ import annotations

import pytest
import torch

from listener.classifying.lowrank import compress, expand


def _weights() -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    generator = torch.Generator().manual_seed(0)
    base = {
        "layer.weight": torch.randn(12, 8, generator=generator),
        "layer.bias": torch.randn(12, generator=generator),
    }
    # A change of rank 3, as tuning makes (mostly low-rank), plus a moved bias.
    change = torch.randn(12, 3, generator=generator) @ torch.randn(3, 8, generator=generator)
    tuned = {"layer.weight": base["layer.weight"] + change, "layer.bias": base["layer.bias"] + 1}
    return tuned, base


def test_a_change_within_the_rank_comes_back_whole() -> None:
    tuned, base = _weights()
    saved = compress(tuned, base, rank=3)
    assert saved["layer.weight::up"].shape == (12, 3)
    assert saved["layer.weight::down"].shape == (3, 8)
    assert "layer.weight" not in saved
    assert torch.equal(saved["layer.bias"], tuned["layer.bias"])  # vectors are kept whole
    back = expand(saved, base)
    assert back.keys() == tuned.keys()
    assert torch.allclose(back["layer.weight"], tuned["layer.weight"], atol=1e-4)


def test_a_lower_rank_keeps_the_best_approximation_of_the_change() -> None:
    tuned, base = _weights()
    change = tuned["layer.weight"] - base["layer.weight"]
    values = torch.linalg.svdvals(change)
    back = expand(compress(tuned, base, rank=1), base)
    error = torch.linalg.matrix_norm(back["layer.weight"] - tuned["layer.weight"])
    # No rank-1 matrix comes closer (Eckart-Young): the error is what the other ranks held.
    assert error == pytest.approx(float(values[1:].norm()), rel=1e-4)
    assert error > 0.1 * float(values.norm())


def test_a_rank_as_big_as_the_matrix_stores_it_whole() -> None:
    tuned, base = _weights()
    saved = compress(tuned, base, rank=8)
    assert torch.equal(saved["layer.weight"], tuned["layer.weight"])
    assert torch.equal(expand(saved, base)["layer.weight"], tuned["layer.weight"])


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda s: s.pop("layer.weight::down"), "layer.weight::up has no ::down factor"),
        (lambda s: s.pop("layer.weight::up"), "layer.weight::down has no ::up factor"),
        (
            lambda s: s.update({"layer.weight::down": torch.zeros(3, 5)}),
            r"layer.weight is \(12, 5\) in the file, \(12, 8\) in the encoder",
        ),
        (
            lambda s: s.update({"layer.weight::down": torch.zeros(2, 8)}),
            r"layer.weight: factors \(12, 3\) and \(2, 8\)",
        ),
        (
            lambda s: s.update({"other.bias": torch.zeros(4)}),
            r"other.bias is \(4,\) in the file, no such weight in the encoder",
        ),
    ],
)
def test_a_file_that_does_not_fit_the_encoder_names_the_weight(damage, message: str) -> None:
    tuned, base = _weights()
    saved = compress(tuned, base, rank=3)
    damage(saved)
    with pytest.raises(ValueError, match=message):
        expand(saved, base)
