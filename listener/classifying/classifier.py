"""Verdicts for texts: screening, then a model, then topics. Two models behind one interface.

- `HeadsClassifier`: an encoder (MiniLM by default) plus our trained heads.
- `SequenceClassifier`: any complete sequence-classification model, labels mapped via id2label.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from config.classifier import ENCODER_BATCH_SIZE
from listener.classifying import lexicon
from listener.classifying.bridging import TopicBridge
from listener.classifying.encoder import (
    MAX_TOKENS,
    Encoder,
    length_batches,
    load_pretrained,
    mean_pool,
    resolve_encoder_location,
    short_name,
    token_limit,
)
from listener.classifying.fitting import predict_probabilities
from listener.classifying.heads import Heads, HeadsUnavailable, adjust_sentiment, blend
from listener.classifying.labels import NEUTRAL, SENTIMENTS
from listener.classifying.locations import (
    TUNED_ENCODER_FILE,
    complete_model_files,
    digest_files,
)
from listener.classifying.precision import checked, forward_context, prepare, version_suffix
from listener.classifying.screening import ScreeningRules, screen
from listener.classifying.topics import TopicMatcher

logger = logging.getLogger(__name__)

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Verdict:
    sentiment: str
    sentiment_scores: dict[str, float]
    complaint: bool
    complaint_score: float
    topic: str | None
    flags: tuple[str, ...]
    model_version: str

    def as_output(self) -> dict:
        """The public JSON shape (`mentiondesk classify` output)."""
        return {
            "sentiment": self.sentiment,
            "sentiment_scores": self.sentiment_scores,
            "complaint": self.complaint,
            "complaint_score": self.complaint_score,
            "topic": self.topic,
            "model": self.model_version,
        }


class Classifier(Protocol):
    version: str

    def classify(
        self,
        texts: Sequence[object],
        *,
        languages: Sequence[str | None] | None = None,
        progress: Progress | None = None,
    ) -> list[Verdict]: ...


@dataclass
class Predictions:
    sentiment: torch.Tensor  # [n, 3] probabilities in SENTIMENTS order
    complaint: torch.Tensor  # [n] probability of a complaint
    embeddings: torch.Tensor  # [n, d] sentence embeddings, for topics
    # Per row, flags the model adds to the screening's (e.g. which verdicts a second opinion gave).
    flags: list[tuple[str, ...]] | None = None


class ScreeningClassifier:
    """Shared path: screen, deduplicate, predict, attach topics. Subclasses implement `_predict`."""

    version: str
    complaint_threshold: float = 0.5

    def __init__(self, rules: ScreeningRules, topics: TopicMatcher) -> None:
        self.rules = rules
        self.topics = topics

    def _predict(self, texts: list[str], progress: Progress | None) -> Predictions:
        raise NotImplementedError

    def _embed(self, texts: list[str]) -> torch.Tensor:
        return self._predict(texts, None).embeddings

    def classify(
        self,
        texts: Sequence[object],
        *,
        languages: Sequence[str | None] | None = None,
        progress: Progress | None = None,
    ) -> list[Verdict]:
        languages = languages if languages is not None else [None] * len(texts)
        screened = [screen(t, lang, self.rules) for t, lang in zip(texts, languages, strict=True)]
        # Identical texts (retweets, copy-paste campaigns) are judged once.
        unique = list(dict.fromkeys(s.text_for_model for s in screened if s.text_for_model))
        predictions = self._predict(unique, progress) if unique else None
        topics = self.topics.match(predictions.embeddings, self._embed) if predictions else []
        row_of = {text: i for i, text in enumerate(unique)}
        verdicts = []
        for item in screened:
            if item.text_for_model is None or predictions is None:
                verdicts.append(self._unjudged(item.flags))
                continue
            row = row_of[item.text_for_model]
            scores = {
                label: round(float(p), 4)
                for label, p in zip(SENTIMENTS, predictions.sentiment[row], strict=True)
            }
            complaint_score = round(float(predictions.complaint[row]), 4)
            model_flags = predictions.flags[row] if predictions.flags else ()
            verdicts.append(
                Verdict(
                    sentiment=max(scores, key=scores.__getitem__),
                    sentiment_scores=scores,
                    complaint=complaint_score >= self.complaint_threshold,
                    complaint_score=complaint_score,
                    topic=topics[row],
                    flags=item.flags + model_flags,
                    model_version=self.version,
                )
            )
        return verdicts

    def _unjudged(self, flags: tuple[str, ...]) -> Verdict:
        scores = {label: (1.0 if label == NEUTRAL else 0.0) for label in SENTIMENTS}
        return Verdict(NEUTRAL, scores, False, 0.0, None, flags, self.version)


class HeadsClassifier(ScreeningClassifier):
    """Heads over an encoder; with a fine-tuned model, its adapter (or tuned layers) and the
    blended untuned heads."""

    def __init__(
        self,
        encoder: Encoder,
        heads_dir: Path,
        *,
        rules: ScreeningRules | None = None,
        topics: TopicMatcher | None = None,
        batch_size: int = ENCODER_BATCH_SIZE,
        one_pass: bool = True,
    ) -> None:
        super().__init__(rules or ScreeningRules(), topics or TopicMatcher([]))
        self.heads = _load_heads_for(encoder, heads_dir)
        metadata = self.heads.metadata
        if metadata.topic_examples:
            self.topics = self.topics.with_examples(metadata.topic_examples)
        adapter, weights = metadata.encoder_adapter, metadata.encoder_weights
        if adapter or weights:
            self.encoder = encoder.tuned(
                adapter=heads_dir / adapter if adapter else None,
                weights=heads_dir / weights / TUNED_ENCODER_FILE if weights else None,
            )
        else:
            self.encoder = encoder
        # Topics compare what posts are about. An encoder tuned for sentiment groups them by mood
        # instead (lost-luggage topic F1 fell from 71 to 51), so topics use the untuned one.
        self.untuned_encoder = encoder
        # A bridged model reads the untuned layers off the tuned pass (bridging.py); the untuned
        # encoder then only embeds the topics' own phrases, once.
        self.topic_bridge: TopicBridge | None = None
        bridged = bool(metadata.blend_heads and metadata.bridged_heads and metadata.topic_bridge)
        if one_pass and bridged:
            self.blend_heads: Heads | None = _load_heads_for(
                encoder, heads_dir / metadata.bridged_heads
            )
            self.topic_bridge = TopicBridge.load(
                heads_dir / metadata.topic_bridge,
                inputs=self.blend_heads.metadata.hidden_size
                * len(self.blend_heads.metadata.features.layers),
                hidden=self.blend_heads.metadata.hidden_size,
            )
        else:
            self.blend_heads = (
                _load_heads_for(encoder, heads_dir / metadata.blend_heads)
                if metadata.blend_heads
                else None
            )
        self.blend_weight = metadata.blend_weight
        self.complaint_threshold = metadata.complaint_threshold
        self.sentiment_adjustment = dict(metadata.sentiment_adjustment)
        self.batch_size = batch_size
        tuned = "+lora" if adapter else "+tuned" if weights else ""
        precision = version_suffix(encoder.precision)
        # Verdicts of the same model in two passes differ slightly from one-pass ones.
        passes = "+two-pass" if bridged and not one_pass else ""
        self.version = (
            f"{short_name(encoder.name)}{tuned}+heads-{Heads.fingerprint(heads_dir)}"
            f"{passes}{precision}"
        )

    def _predict(self, texts: list[str], progress: Progress | None) -> Predictions:
        pooled = self.encoder.encode(texts, batch_size=self.batch_size, progress=progress)
        scores = lexicon.features(texts)
        sentiment, complaint = _probabilities(self.heads, pooled, scores)
        if self.untuned_encoder is self.encoder or self.topic_bridge is not None:
            untuned = pooled  # bridged: the blend heads read the tuned pass
        elif self.blend_heads is not None or self.topics.topics:
            untuned = self.untuned_encoder.encode(texts, batch_size=self.batch_size)
        else:  # no topics and no blend: the untuned pass is not needed
            untuned = torch.zeros_like(pooled)
        if self.blend_heads is not None:
            other_sentiment, other_complaint = _probabilities(self.blend_heads, untuned, scores)
            sentiment = blend(sentiment, other_sentiment, self.blend_weight)
            complaint = blend(complaint, other_complaint, self.blend_weight)
        sentiment = adjust_sentiment(sentiment, self.sentiment_adjustment)
        if self.topic_bridge is not None:
            embeddings = self.topic_bridge(pooled)
        else:
            embeddings = untuned[:, -1, :]
        return Predictions(sentiment, complaint, embeddings=embeddings)

    def _embed(self, texts: list[str]) -> torch.Tensor:
        return self.untuned_encoder.encode(texts, batch_size=self.batch_size)[:, -1, :]


def _load_heads_for(encoder: Encoder, folder: Path) -> Heads:
    heads = Heads.load(folder)
    if heads.metadata.encoder != encoder.name:
        raise HeadsUnavailable(
            f"heads in {folder} were trained on encoder {heads.metadata.encoder!r}, "
            f"not {encoder.name!r}: retrain them with `mentiondesk train`"
        )
    return heads


def _probabilities(
    heads: Heads, pooled: torch.Tensor, scores: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    if pooled.shape[-1] != heads.metadata.hidden_size:
        raise HeadsUnavailable(
            f"encoder hidden size {pooled.shape[-1]} does not match the heads' "
            f"{heads.metadata.hidden_size}"
        )
    features = heads.select_features(pooled, scores if heads.metadata.features.lexicon else None)
    return (
        predict_probabilities(heads.sentiment, features),
        predict_probabilities(heads.complaint, features),
    )


# Label names complete models commonly use, mapped onto ours.
_LABEL_ALIASES = {
    "negative": "negative",
    "neg": "negative",
    "neutral": "neutral",
    "neu": "neutral",
    "positive": "positive",
    "pos": "positive",
    "complaint": "complaint",
    "not_complaint": "not_complaint",
    "no_complaint": "not_complaint",
    "not complaint": "not_complaint",
}


def map_labels(id2label: Mapping[int, str], overrides: Mapping[str, str]) -> dict[int, str]:
    mapped = {}
    for index, label in id2label.items():
        key = overrides.get(label) or _LABEL_ALIASES.get(label.strip().lower())
        if key:
            mapped[int(index)] = key
    if not any(v in SENTIMENTS for v in mapped.values()):
        raise HeadsUnavailable(
            f"none of the model's labels {sorted(id2label.values())} map to a sentiment; "
            "set label_map (model label -> negative/neutral/positive/complaint/not_complaint)"
        )
    return mapped


def _files_fingerprint(files: list[Path], *, default: str) -> str:
    """sha256 over the files' names and bytes (a retrained model keeps its config.json, so the
    weights must count): a few hundred milliseconds for a base-sized model, once per load."""
    digest = hashlib.sha256()
    if not files:
        digest.update(default.encode())
    digest_files(digest, [(path.name, path) for path in files])
    return digest.hexdigest()[:10]


class SequenceClassifier(ScreeningClassifier):
    """A complete model. Without complaint labels, the complaint score is P(negative)."""

    def __init__(
        self,
        name: str,
        *,
        label_map: Mapping[str, str] | None = None,
        allow_download: bool = False,
        precision: str = "fp32",
        rules: ScreeningRules | None = None,
        topics: TopicMatcher | None = None,
        batch_size: int = ENCODER_BATCH_SIZE,
    ) -> None:
        super().__init__(rules or ScreeningRules(), topics or TopicMatcher([]))
        self.name = name
        self.location = resolve_encoder_location(name)
        self.label_map = dict(label_map or {})
        self.allow_download = allow_download
        self.precision = checked(precision)
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._loaded: tuple | None = None
        fingerprint = _files_fingerprint(complete_model_files(self.location), default=name)
        self.version = f"{short_name(name)}+seqcls-{fingerprint}{version_suffix(precision)}"

    def _load(self):
        with self._lock:
            if self._loaded is None:
                tokenizer = load_pretrained(
                    self.location, AutoTokenizer, allow_download=self.allow_download
                )
                model = load_pretrained(
                    self.location,
                    AutoModelForSequenceClassification,
                    allow_download=self.allow_download,
                )
                model.eval()
                labels = map_labels(model.config.id2label, self.label_map)
                self._loaded = (tokenizer, prepare(model, self.precision), labels)
            return self._loaded

    def _predict(self, texts: list[str], progress: Progress | None) -> Predictions:
        tokenizer, model, labels = self._load()
        sentiment_rows, complaint_rows, embedding_rows, order = [], [], [], []
        with torch.inference_mode(), forward_context(self.precision):
            for indices in length_batches(texts, self.batch_size):
                order.extend(indices)
                batch = tokenizer(
                    [texts[i] for i in indices],
                    padding=True,
                    truncation=True,
                    max_length=token_limit(tokenizer, MAX_TOKENS),
                    return_tensors="pt",
                )
                out = model(**batch, output_hidden_states=True)
                probs = torch.softmax(out.logits.float(), dim=-1)
                sentiment = torch.zeros(len(probs), len(SENTIMENTS))
                complaint = torch.zeros(len(probs), 2)  # not, yes
                for index, key in labels.items():
                    if key in SENTIMENTS:
                        sentiment[:, SENTIMENTS.index(key)] += probs[:, index]
                    else:
                        complaint[:, int(key == "complaint")] += probs[:, index]
                sentiment = sentiment / sentiment.sum(dim=1, keepdim=True).clamp(min=1e-9)
                if complaint.sum() > 0:
                    complaint_p = complaint[:, 1] / complaint.sum(dim=1).clamp(min=1e-9)
                else:
                    complaint_p = sentiment[:, SENTIMENTS.index("negative")]
                embedding = mean_pool(out.hidden_states[-1].float(), batch["attention_mask"])
                sentiment_rows.append(sentiment)
                complaint_rows.append(complaint_p)
                embedding_rows.append(embedding)
                if progress is not None:
                    progress(len(order))
        # Rows come out in length order; put them back in input order.
        inverse = torch.argsort(torch.tensor(order))
        return Predictions(
            torch.cat(sentiment_rows)[inverse],
            torch.cat(complaint_rows)[inverse],
            torch.cat(embedding_rows)[inverse],
        )
