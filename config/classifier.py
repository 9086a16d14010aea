"""The `[classifier]` table: which model judges mentions, and the topics used for routing.

Plain settings only (no torch): `listener.classifying.settings.build_classifier` turns them into
a classifier.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_TOPIC_THRESHOLD = 0.35
ENCODER_BATCH_SIZE = 32  # texts per forward pass: see ClassifierConfig.batch_size

Precision = Literal["auto", "fp32", "bf16", "int8"]


class Topic(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    description: str = Field(min_length=1)
    examples: list[str] = Field(default_factory=list)
    # Overrides [classifier] topic_threshold for this topic: broad topics (delays, in an airline's
    # mentions) catch everyday posts such as "Boarding now" unless held to a higher similarity.
    threshold: float | None = Field(default=None, ge=-1, le=1)


# A verdict whose top probability is under this is "unsure": the second opinion is asked about it
# by default, and the desk marks it for a person to read with care. Such posts are where the model
# errs: on a held-out fold, handing the 10 % of complaint posts under 0.7 to a stronger model
# raised complaint macro-F1 from 88.2 to 89.3 (heads/MODEL_CARD.md, "A cascade"). A blended
# model's complaint score stays under 0.7 wherever its two readings disagree outright.
UNSURE_BELOW = 0.7


class SecondOpinion(BaseModel):
    """A slower, stronger model asked only where the first is unsure of a verdict.

    On fold 1 of the shared data, tuned all-mpnet-base-v2 asked where the bundled model's top
    probability was under 0.7 raised customer tweets' sentiment macro-F1 from 80.2 to 83.0, asked
    on 17 % of them (heads/MODEL_CARD.md, "A cascade").
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The same choices as [classifier]: an encoder with a model folder `mentiondesk train` made
    # over it, or a complete sequence-classification model.
    encoder: str = DEFAULT_ENCODER
    heads: Path | None = None
    sequence_classification_model: str | None = None
    label_map: dict[str, str] = Field(default_factory=dict)
    # Its verdict replaces the first model's sentiment where the first's top probability is under
    # this, and its complaint score where the first's max(score, 1 - score) is. Those are at
    # least 1/3 and 1/2: 1.0 asks about every post, 0.5 never about a complaint.
    below: float = Field(default=UNSURE_BELOW, gt=1 / 3, le=1)

    @model_validator(mode="after")
    def _one_model(self) -> SecondOpinion:
        if (self.heads is None) == (self.sequence_classification_model is None):
            raise ValueError(
                "a second opinion needs a model: either heads (a folder `mentiondesk train` made "
                "over its encoder) or sequence_classification_model, not both and not neither"
            )
        return self


class ClassifierConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Hugging Face id or local folder of the encoder our heads read; default: bundled MiniLM.
    encoder: str = DEFAULT_ENCODER
    # Folder with heads.safetensors + heads.json; default: the data folder's, else the bundled ones.
    heads: Path | None = None
    # A complete sequence-classification model (id or folder) used instead of encoder + heads.
    sequence_classification_model: str | None = None
    # Model label -> negative|neutral|positive|complaint|not_complaint, where names differ.
    label_map: dict[str, str] = Field(default_factory=dict)
    # Off by default: the classifier must work offline.
    allow_download: bool = False
    # auto: bf16 where the CPU computes it natively (1.5-2x fp32's mentions per second, with
    # fp32's held-out figures), else fp32. int8 moves 1-2 % of verdicts and general-topic recall
    # fell 1.7-2 points on 300 held-out tweets (heads/MODEL_CARD.md): on request. It was 1.5x bf16
    # on an AMD EPYC, but slower than bf16 on a Xeon with AMX, except one post at a time; 1.3x fp32
    # on an EPYC without AVX512, where its 7-bit inputs moved 3.8 % of sentiments.
    precision: Precision = "auto"
    # Texts per forward pass, sorted by length first so little is wasted on padding. In bf16, 32
    # was 1.15-1.2x 16 on a CPU with AMX; on one without (AMD EPYC), 16 and 64 were within noise.
    batch_size: int = Field(default=ENCODER_BATCH_SIZE, ge=1, le=1024)
    # With a model that has them (the bundled one), the untuned heads and the topics read the
    # untuned encoder's layers as predicted from the tuned pass: one encoder pass per verdict
    # instead of two, 1.8-2x the mentions per second (heads/MODEL_CARD.md). false: run the untuned
    # encoder as well, the recipe exactly as trained.
    one_pass: bool = True
    # Off unless set: [classifier.second_opinion], another model for posts this one is unsure of.
    second_opinion: SecondOpinion | None = None
    max_chars: int = Field(default=2000, ge=1)
    supported_languages: list[str] = Field(default_factory=lambda: ["en"])
    topics: list[Topic] = Field(default_factory=list)
    topic_threshold: float = Field(default=DEFAULT_TOPIC_THRESHOLD, ge=-1, le=1)

    @model_validator(mode="before")
    @classmethod
    def _replaced_settings(cls, data: Any) -> Any:
        if isinstance(data, dict) and "quantize" in data:
            raise ValueError(
                'quantize was replaced by precision: write precision = "int8" for quantize = true, '
                "or drop the line"
            )
        return data

    @model_validator(mode="after")
    def _unique_topics(self) -> ClassifierConfig:
        check_unique_topics(self.topics)
        return self

    @property
    def topic_names(self) -> list[str]:
        return [topic.name for topic in self.topics]


def check_unique_topics(topics: Sequence[Topic]) -> None:
    names = [t.name for t in topics]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"duplicate topic name(s): {dupes}")
