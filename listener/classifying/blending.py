"""The shipped recipe: a fine-tuned model blended with heads over the untuned encoder.

The two read a post differently (a sentiment-tuned last layer; all six untuned layers through an
MLP) and make different mistakes: their weighted mean beat either alone on the held-out split
(figures in heads/MODEL_CARD.md). The untuned heads and the topics read the untuned layers as
predicted from the tuned pass (bridging.py), so a verdict costs one encoder pass.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from listener.classifying.bridging import TopicBridge, bridge_heads, fit_topic_bridge
from listener.classifying.classifier import HeadsClassifier
from listener.classifying.distillation import Teacher
from listener.classifying.encoder import Encoder
from listener.classifying.finetuning import FineTuned, FineTuneOptions, fine_tune
from listener.classifying.heads import Heads, adjust_sentiment, blend
from listener.classifying.locations import (
    BLEND_SUBDIR,
    BRIDGED_SUBDIR,
    METADATA_FILE,
    TOPIC_BRIDGE_FILE,
    copy_model,
)
from listener.classifying.training import (
    HeldOut,
    LabelledSet,
    Say,
    TrainOptions,
    encoded_states,
    measure,
    train_heads,
)

logger = logging.getLogger(__name__)

# The untuned heads' share of the blend, picked on the held-out split among 0, 0.2-0.5 and 1.
BLEND_WEIGHT = 0.3
# Added to the blend's log-probabilities before the verdict (heads.adjust_sentiment), picked in
# nested cross-validation (bench/adjustment.py, figures in heads/MODEL_CARD.md).
SENTIMENT_ADJUSTMENT = {"negative": 0.8}


@dataclass
class Blended:
    tuned: FineTuned
    untuned: Heads
    weight: float
    figures: dict[str, float]
    adjustment: dict[str, float]
    bridged: Heads
    topic_bridge: TopicBridge

    def save(self, folder: Path) -> None:
        metadata = self.tuned.heads.metadata
        metadata.blend_heads, metadata.blend_weight = BLEND_SUBDIR, self.weight
        metadata.bridged_heads, metadata.topic_bridge = BRIDGED_SUBDIR, TOPIC_BRIDGE_FILE
        metadata.sentiment_adjustment = dict(self.adjustment)
        metadata.figures = self.figures
        self.tuned.save(folder)
        self.untuned.save(folder / BLEND_SUBDIR)
        self.bridged.save(folder / BRIDGED_SUBDIR)
        self.topic_bridge.save(folder / TOPIC_BRIDGE_FILE)


def describe_adjustment(adjustment: dict[str, float]) -> str:
    shifts = [f"{label} {value:+.2f}" for label, value in adjustment.items() if value]
    return ", ".join(shifts) or "none"


def blend_held_out(
    tuned: list[HeldOut],
    untuned: list[HeldOut],
    weight: float,
    adjustment: dict[str, float],
) -> list[HeldOut]:
    """The held-out rows as the classifier will judge them: blended, sentiment adjusted."""
    by_key = {part.key: part for part in untuned}
    blended = []
    for part in tuned:
        other = by_key[part.key]
        if other.truth != part.truth:  # the two trainers must hold out the same rows
            raise ValueError(f"held-out rows of {part.key} differ between the two models")
        probabilities = blend(part.probabilities, other.probabilities, weight)
        if part.task == "sentiment":
            probabilities = adjust_sentiment(probabilities, adjustment)
        blended.append(HeldOut(part.task, part.name, part.texts, part.truth, probabilities))
    return blended


def train_blended(
    encoder: Encoder,
    sets: list[LabelledSet],
    *,
    fine_tune_options: FineTuneOptions,
    heads_options: TrainOptions,
    cache: Path | None,
    weight: float = BLEND_WEIGHT,
    teacher: Teacher | None = None,
    say: Say = logger.info,
) -> Blended:
    say("1/2: heads over the untuned encoder")
    untuned = train_heads(encoder, sets, options=heads_options, cache=cache, say=say)
    say("2/2: the tuned encoder, with its own heads")
    tuned, tuned_result = fine_tune(
        encoder, sets, options=fine_tune_options, teacher=teacher, say=say
    )
    figures: dict[str, float] = {}
    if tuned_result.held_out:
        say(
            f"the blend ({1 - weight:.1f} tuned + {weight:.1f} untuned), sentiment adjusted "
            f"({describe_adjustment(SENTIMENT_ADJUSTMENT)}), on the held-out rows:"
        )
        blended = blend_held_out(
            tuned_result.held_out, untuned.held_out, weight, SENTIMENT_ADJUSTMENT
        )
        figures, _ = measure(blended, say)
    # The tuned encoder as the classifier will load it (its layers at the saved rank), so the
    # bridge is fitted on what verdicts will see.
    with tempfile.TemporaryDirectory() as scratch:
        tuned.save(Path(scratch))
        bridged, topic_bridge = fit_bridges(
            untuned.heads, tuned_encoder_in(Path(scratch), encoder), encoder, sets, cache, say
        )
    return Blended(
        tuned,
        untuned.heads,
        weight,
        figures,
        SENTIMENT_ADJUSTMENT,
        bridged=bridged,
        topic_bridge=topic_bridge,
    )


def tuned_encoder_in(folder: Path, encoder: Encoder) -> Encoder:
    """The tuned encoder of the model in `folder`, exactly as the classifier loads it."""
    return HeadsClassifier(encoder, folder, one_pass=False).encoder


def fit_bridges(
    untuned: Heads,
    tuned_encoder: Encoder,
    encoder: Encoder,
    sets: list[LabelledSet],
    cache: Path | None,
    say: Say,
) -> tuple[Heads, TopicBridge]:
    """The untuned heads bridged onto the tuned pass, and the topic bridge, fitted on the texts
    of `sets` (labels are not used)."""
    say("bridging: the untuned layers predicted from the tuned pass, so a verdict needs one pass")
    texts = list(dict.fromkeys(t for s in sets for t in s.texts))
    untuned_states = encoded_states(encoder, texts, cache=cache, say=say)
    say(f"encoding {len(texts)} texts with the tuned encoder")
    tuned_states = tuned_encoder.encode(texts)
    return (
        bridge_heads(untuned, tuned_states, untuned_states),
        fit_topic_bridge(tuned_states, untuned_states),
    )


def bridge_saved_model(
    folder: Path,
    into: Path,
    encoder: Encoder,
    sets: list[LabelledSet],
    *,
    cache: Path | None,
    say: Say,
) -> None:
    """The blended model in `folder`, trained before bridging, with its bridges: written to the
    empty folder `into` (to be put in place whole: locations.replace_model), without retraining."""
    metadata = Heads.load(folder).metadata
    if not metadata.blend_heads:
        raise ValueError(
            f"the model in {folder} blends no untuned heads, so there is nothing to bridge: "
            "only fine-tuned models (`mentiondesk train`) have a second pass to save"
        )
    bridged, topic_bridge = fit_bridges(
        Heads.load(folder / metadata.blend_heads),
        tuned_encoder_in(folder, encoder),
        encoder,
        sets,
        cache,
        say,
    )
    copy_model(folder, into)
    bridged.save(into / BRIDGED_SUBDIR)
    topic_bridge.save(into / TOPIC_BRIDGE_FILE)
    metadata.bridged_heads, metadata.topic_bridge = BRIDGED_SUBDIR, TOPIC_BRIDGE_FILE
    (into / METADATA_FILE).write_text(metadata.to_json(), encoding="utf-8")
