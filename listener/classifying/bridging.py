"""One encoder pass instead of two: the untuned encoder's layers predicted from the tuned pass.

The blend's untuned heads and the topics read the untuned encoder, which doubled the cost of a
verdict. A ridge regression from the tuned pass's pooled layers to the untuned pass's, fitted on
the training texts, predicts them closely enough (figures in heads/MODEL_CARD.md), so a bridged
model runs the tuned encoder only:

- the untuned heads begin with a linear layer, so the regression folds into it: the bridged heads
  are ordinary heads over the tuned pass (`bridged/`), a little wider than the untuned ones (they
  also read the embeddings layer);
- topics compare a post with the topics' own embeddings, made by the untuned encoder from a few
  configured phrases once; the post's untuned last layer comes from a second, smaller regression
  (`topic-bridge.safetensors`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from listener.classifying.errors import HeadsUnavailable
from listener.classifying.heads import Head, Heads

# Ridge penalty on the tuned pass's pooled layers. On texts held out of the fit, 1 and 10 were
# alike (96.3 % of the untuned heads' sentiments kept, topic F1 within 0.3); 100 kept 95.6 % and
# lost 1.6 points of lost-luggage topic F1.
RIDGE = 10.0
BRIDGE_WEIGHT, BRIDGE_BIAS = "weight", "bias"


def flatten(pooled: torch.Tensor) -> torch.Tensor:
    """[n, layers + 1, hidden] pooled states -> [n, (layers + 1) * hidden]: the bridge's input."""
    return pooled.reshape(len(pooled), -1).to(torch.float64)


def fit_ridge(inputs: torch.Tensor, targets: torch.Tensor, penalty: float = RIDGE) -> nn.Linear:
    """Least squares with an L2 penalty (the bias not penalised), solved exactly in float64."""
    x = torch.cat([inputs.to(torch.float64), torch.ones(len(inputs), 1, dtype=torch.float64)], 1)
    gram = x.T @ x
    gram[:-1, :-1] += penalty * torch.eye(x.shape[1] - 1, dtype=torch.float64)
    solution = torch.linalg.solve(gram, x.T @ targets.to(torch.float64))
    linear = nn.Linear(inputs.shape[1], targets.shape[1], dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(solution[:-1].T)
        linear.bias.copy_(solution[-1])
    return linear


def bridge_head(head: Head, columns: torch.Tensor, bridge: nn.Linear, tuned: torch.Tensor) -> Head:
    """`head` (over the untuned states at `columns` of the bridge's output, then maybe VADER's
    scores) as a head over the tuned pass's flattened layers (then the same scores), with
    `bridge` folded into its first linear layer.

    `tuned` (flattened tuned states of the training texts) sets the new head's standardisation,
    which keeps the folded weights in fp16's range."""
    state = {key: value.detach().to(torch.float64) for key, value in head.net.state_dict().items()}
    mean, scale = head.mean.to(torch.float64), head.scale.to(torch.float64)
    weight = state["1.weight"] / scale  # the first layer on unstandardised features
    on_states, on_rest = weight[:, : len(columns)], weight[:, len(columns) :]
    # first((bridge(t) - mean) / scale) is one linear map of t.
    folded = on_states @ bridge.weight.detach()[columns]
    bias = state["1.bias"] - weight @ mean + on_states @ bridge.bias.detach()[columns]
    tuned_mean, tuned_scale = tuned.mean(dim=0), tuned.std(dim=0).clamp(min=1e-6)
    rest_mean, rest_scale = mean[len(columns) :], scale[len(columns) :]
    # Standardised again, on the tuned states: the weights scale up, the bias takes their means.
    state["1.weight"] = torch.cat([folded * tuned_scale, on_rest * rest_scale], dim=1)
    state["1.bias"] = bias + folded @ tuned_mean + on_rest @ rest_mean
    linear_only = len(head.net) == 2  # dropout, linear; else an MLP (heads.Head)
    outputs = int(state[f"{len(head.net) - 1}.bias"].shape[0])
    hidden = 0 if linear_only else int(state["1.bias"].shape[0])
    bridged = Head(tuned.shape[1] + len(rest_mean), outputs, hidden)
    bridged.net.load_state_dict({key: value.float() for key, value in state.items()})
    bridged.mean.copy_(torch.cat([tuned_mean, rest_mean]).float())
    bridged.scale.copy_(torch.cat([tuned_scale, rest_scale]).float())
    bridged.eval()
    return bridged


def bridge_heads(untuned: Heads, tuned: torch.Tensor, untuned_states: torch.Tensor) -> Heads:
    """The untuned heads, reading the tuned pass's layers through a ridge regression fitted on
    [n, layers + 1, hidden] pooled states of the same training texts through both encoders."""
    layers, hidden = untuned_states.shape[1], untuned_states.shape[2]
    inputs = flatten(tuned)
    bridge = fit_ridge(inputs, flatten(untuned_states))
    columns = torch.cat(
        [
            torch.arange((layer % layers) * hidden, (layer % layers + 1) * hidden)
            for layer in untuned.metadata.features.layers
        ]
    )
    metadata = replace(
        untuned.metadata,
        features=replace(untuned.metadata.features, layers=list(range(layers))),
        figures={},
    )
    return Heads(
        metadata=metadata,
        sentiment=bridge_head(untuned.sentiment, columns, bridge, inputs),
        complaint=bridge_head(untuned.complaint, columns, bridge, inputs),
    )


class TopicBridge:
    """The untuned encoder's pooled last layer, predicted from the tuned pass's pooled layers."""

    def __init__(self, linear: nn.Linear) -> None:
        self.linear = linear.float().eval()

    def __call__(self, pooled: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.linear(pooled.reshape(len(pooled), -1).to(torch.float32))

    def save(self, path: Path) -> None:
        # fp16 halves the file, as for the heads.
        tensors = {
            BRIDGE_WEIGHT: self.linear.weight.detach().to(torch.float16).contiguous(),
            BRIDGE_BIAS: self.linear.bias.detach().to(torch.float16).contiguous(),
        }
        save_file(tensors, str(path))

    @classmethod
    def load(cls, path: Path, *, inputs: int, hidden: int) -> TopicBridge:
        try:
            tensors = load_file(str(path))
            weight, bias = tensors[BRIDGE_WEIGHT], tensors[BRIDGE_BIAS]
        except (OSError, SafetensorError, KeyError) as exc:
            raise HeadsUnavailable(f"cannot read the topic bridge {path}: {exc}") from None
        if tuple(weight.shape) != (hidden, inputs) or tuple(bias.shape) != (hidden,):
            raise HeadsUnavailable(
                f"the topic bridge {path} maps {tuple(weight.shape)[::-1]}, "
                f"not ({inputs}, {hidden}): retrain with `mentiondesk train`"
            )
        linear = nn.Linear(inputs, hidden)
        with torch.no_grad():
            linear.weight.copy_(weight.float())
            linear.bias.copy_(bias.float())
        return cls(linear)


def fit_topic_bridge(tuned: torch.Tensor, untuned: torch.Tensor) -> TopicBridge:
    """From [n, layers + 1, hidden] pooled states of the same texts through both encoders."""
    return TopicBridge(fit_ridge(flatten(tuned), untuned[:, -1, :]))
