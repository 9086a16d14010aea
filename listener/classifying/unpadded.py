"""A BERT encoder's mean-pooled layers, computed on the real tokens only.

A batch of posts is padded to its longest, and the linear layers (70-80 % of a pass on CPU)
would multiply every padding token too: on airline tweets, 44-67 % more tokens than the posts
hold, even with length bucketing (bench/classify.py, figures in heads/MODEL_CARD.md). Here each
layer's linear parts run on the real tokens packed into one [tokens, hidden] matrix; only the
attention, which needs each post's tokens side by side, sees them padded again. The modules and
weights are the model's own (LoRA merged, tuned layers, int8 or bf16 alike), so the result is the
padded forward's up to float rounding.

For inference: the attention applies no dropout. BERT-architecture encoders only
(all-MiniLM-L6-v2 is one); `supports` says whether a model is, and the others run the library's
padded forward.
"""

from __future__ import annotations

import torch
from torch.nn import functional
from transformers import BertModel, PreTrainedModel


def supports(model: PreTrainedModel) -> bool:
    # Relative position embeddings (older configs) change both the embeddings and the attention.
    return (
        isinstance(model, BertModel)
        and not model.config.is_decoder
        and getattr(model.config, "position_embedding_type", "absolute") == "absolute"
    )


def pooled_layers(model: BertModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """[posts, layers + 1, hidden], float32: the mean over each post's real tokens of the
    embeddings and of every layer's output, as from `model(**batch, output_hidden_states=True)`."""
    mask = batch["attention_mask"].bool()
    posts, width = mask.shape
    lengths = mask.sum(dim=1)
    post_of_token = torch.arange(posts).repeat_interleave(lengths)

    def pooled(tokens: torch.Tensor) -> torch.Tensor:
        sums = torch.zeros(posts, tokens.shape[-1]).index_add_(0, post_of_token, tokens.float())
        return sums / lengths.clamp(min=1).unsqueeze(1)

    # Embeddings are cheap lookups: computed padded, so positions count from each post's start.
    hidden = model.embeddings(
        input_ids=batch["input_ids"], token_type_ids=batch.get("token_type_ids")
    )[mask]
    layers = [pooled(hidden)]
    for layer in model.encoder.layer:
        context = _self_attention(layer.attention.self, hidden, mask)
        hidden = layer.attention.output(context, hidden)
        hidden = layer.output(layer.intermediate(hidden), hidden)
        layers.append(pooled(hidden))
    return torch.stack(layers, dim=1)


def _self_attention(attention, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[tokens, hidden] -> [tokens, hidden]: each token attends to its own post's real tokens."""
    posts, width = mask.shape
    heads, head_size = attention.num_attention_heads, attention.attention_head_size

    def by_head(projected: torch.Tensor) -> torch.Tensor:
        """Padded again, [posts, heads, width, head size], as attention reads it."""
        full = projected.new_zeros(posts, width, projected.shape[-1])
        full[mask] = projected
        return full.view(posts, width, heads, head_size).transpose(1, 2)

    context = functional.scaled_dot_product_attention(
        by_head(attention.query(tokens)),
        by_head(attention.key(tokens)),
        by_head(attention.value(tokens)),
        attn_mask=mask[:, None, None, :],
    )
    return context.transpose(1, 2).reshape(posts, width, heads * head_size)[mask]
