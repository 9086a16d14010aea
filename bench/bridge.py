"""How closely the one-pass bridge stands in for the untuned pass, on texts it was not fitted on.

    .venv/bin/python bench/bridge.py [--config config/demo.toml] [--data-dir ../shared/data]
        [--heads DIR] [--every 5]

Every shared text goes through the model's tuned encoder and through the untuned one (in the
config's precision). The bridge is fitted as `mentiondesk train` fits it, on all texts but every
--every-th one, and judged on those: the cosine similarity of the predicted untuned last layer to
the real one; topic F1 on the negative airline tweets among them, against their labelled reason,
with the config's topics (as bench/precision.py scores topics); and how often the bridged heads
give the sentiment and complaint verdict the untuned heads they stand in for give. The bundled
model's tuned encoder was trained on every shared text: this measures the bridge, not the model.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from precision import TOPIC_REASONS, load, negative_reasons, topic_f1

from config.settings import load_config
from listener.classifying import lexicon
from listener.classifying.blending import tuned_encoder_in
from listener.classifying.bridging import bridge_heads, fit_topic_bridge
from listener.classifying.encoder import Encoder
from listener.classifying.fitting import predict_probabilities
from listener.classifying.heads import Heads
from listener.classifying.precision import resolve_precision
from listener.classifying.settings import resolve_heads_dir
from listener.classifying.topics import TopicMatcher


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("config/demo.toml"))
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--heads", type=Path, default=None, help="another heads folder")
    parser.add_argument("--every", type=int, default=5, help="hold out every N-th text")
    args = parser.parse_args()
    if not args.data_dir.is_dir():
        sys.exit(f"no labelled data in {args.data_dir} (see ../shared/data/README.md)")
    settings = load_config(args.config).classifier
    folder = args.heads or resolve_heads_dir(settings, None)
    untuned_heads = Heads.load(folder / Heads.load(folder).metadata.blend_heads)
    encoder = Encoder(
        settings.encoder,
        allow_download=settings.allow_download,
        precision=resolve_precision(settings.precision),
    )
    sets = load(args.data_dir, 0)
    texts = [text for rows, _ in sets.values() for text in rows]
    start = time.perf_counter()
    untuned = encoder.encode(texts)
    tuned = tuned_encoder_in(folder, encoder).encode(texts)
    print(f"{len(texts)} texts through both encoders in {time.perf_counter() - start:.0f} s")
    held_out = torch.arange(len(texts)) % args.every == 0
    fitted = ~held_out
    bridged_heads = bridge_heads(untuned_heads, tuned[fitted], untuned[fitted])
    topic_bridge = fit_topic_bridge(tuned[fitted], untuned[fitted])

    predicted = topic_bridge(tuned[held_out])
    real = untuned[held_out, -1]
    cosine = torch.nn.functional.cosine_similarity(predicted, real)
    untouched = torch.nn.functional.cosine_similarity(tuned[held_out, -1], real)
    print(
        f"held out: {int(held_out.sum())} texts; cosine to the untuned last layer: predicted "
        f"{cosine.mean():.3f} (5th percentile {cosine.quantile(0.05):.3f}), the tuned last "
        f"layer itself {untouched.mean():.3f}"
    )

    airline_count = len(sets["airline sentiment"][0])
    reasons = negative_reasons(args.data_dir, 0)
    rows = [i for i in range(airline_count) if held_out[i] and reasons[i] is not None]
    matcher = TopicMatcher(settings.topics, settings.topic_threshold)

    def embed(phrases: list[str]) -> torch.Tensor:
        return encoder.encode(phrases)[:, -1]

    embeddings = {
        "untuned pass": untuned[rows, -1],
        "bridge": topic_bridge(tuned[rows]),
        "tuned last layer": tuned[rows, -1],
    }
    print(f"topic F1 on {len(rows)} held-out negative airline tweets:")
    for name, states in embeddings.items():
        topics = matcher.match(states, embed)
        figures = "  ".join(
            f"{topic} {topic_f1(topics, [reasons[i] for i in rows], topic):5.2f}"
            for topic in TOPIC_REASONS
        )
        print(f"  {name:17} {figures}")

    scores = lexicon.features([t for t, keep in zip(texts, held_out, strict=True) if keep])
    for task in ("sentiment", "complaint"):
        real_heads = getattr(untuned_heads, task)
        stand_in = getattr(bridged_heads, task)
        before = predict_probabilities(
            real_heads, untuned_heads.select_features(untuned[held_out], scores)
        )
        after = predict_probabilities(
            stand_in, bridged_heads.select_features(tuned[held_out], scores)
        )
        if task == "sentiment":
            same = before.argmax(dim=1) == after.argmax(dim=1)
        else:
            same = (before >= 0.5) == (after >= 0.5)
        print(f"bridged heads give the untuned heads' {task} verdict on {same.float().mean():.1%}")


if __name__ == "__main__":
    main()
