"""Fitting one head on precomputed features: minibatch AdamW, class-balanced loss, fixed seed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from listener.classifying.heads import Head


@dataclass
class FitOptions:
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 1e-2
    balance_classes: bool = True  # macro figures count every class alike, so the loss should too
    seed: int = 13


def class_weights(targets: torch.Tensor, classes: int) -> torch.Tensor:
    counts = torch.bincount(targets, minlength=classes).to(torch.float32).clamp(min=1)
    return counts.sum() / (classes * counts)


def fit_head(
    head: Head,
    features: torch.Tensor,
    targets: torch.Tensor,
    *,
    classes: int,
    options: FitOptions | None = None,
    sample_weights: torch.Tensor | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> Head:
    """Train `head` in place. classes == 2 with a one-output head means a binary (sigmoid) head.

    `progress(epoch, mean_loss)` is called after each epoch.
    """
    options = options or FitOptions()
    generator = torch.Generator().manual_seed(options.seed)
    torch.manual_seed(options.seed)
    head.set_standardisation(features)
    binary = classes == 2 and head.net[-1].out_features == 1
    weights = class_weights(targets, classes) if options.balance_classes else torch.ones(classes)
    per_sample = weights[targets]
    if sample_weights is not None:
        per_sample = per_sample * sample_weights
    optimiser = torch.optim.AdamW(
        head.parameters(), lr=options.learning_rate, weight_decay=options.weight_decay
    )
    steps = options.epochs * max(1, -(-len(targets) // options.batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=options.learning_rate, total_steps=steps
    )
    head.train()
    for epoch in range(options.epochs):
        order = torch.randperm(len(targets), generator=generator)
        total = 0.0
        for start in range(0, len(order), options.batch_size):
            batch = order[start : start + options.batch_size]
            logits = head(features[batch])
            if binary:
                loss_each = nn.functional.binary_cross_entropy_with_logits(
                    logits.squeeze(1), targets[batch].to(torch.float32), reduction="none"
                )
            else:
                loss_each = nn.functional.cross_entropy(logits, targets[batch], reduction="none")
            loss = (loss_each * per_sample[batch]).sum() / per_sample[batch].sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(batch)
        if progress is not None:
            progress(epoch + 1, total / len(targets))
    head.eval()
    return head


def predict_probabilities(head: Head, features: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        logits = head(features)
    if logits.shape[1] == 1:
        return torch.sigmoid(logits.squeeze(1))
    return torch.softmax(logits, dim=1)
