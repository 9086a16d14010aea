"""The Hugging Face path with tiny models created here: our heads on another encoder, and a complete
sequence-classification model read through its id2label. Nothing is downloaded."""

from __future__ import annotations

import math
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import BertConfig, BertForSequenceClassification, BertModel, BertTokenizerFast

from listener.classifying.classifier import HeadsClassifier
from listener.classifying.encoder import Encoder
from listener.classifying.fitting import FitOptions
from listener.classifying.heads import Heads, HeadsUnavailable, adjust_sentiment
from listener.classifying.labels import FLAG_EMPTY, SENTIMENTS
from listener.classifying.precision import native_bf16
from listener.classifying.settings import ClassifierConfig, build_classifier
from listener.classifying.training import (
    LabelledSet,
    TrainOptions,
    spread_layers,
    train_heads,
)

TINY_POSITIONS = 64

WORDS = [
    "good",
    "great",
    "love",
    "thanks",
    "awesome",
    "bad",
    "awful",
    "hate",
    "broken",
    "lost",
    "late",
    "refund",
] + [
    *[
        "the",
        "a",
        "my",
        "flight",
        "bag",
        "is",
        "was",
        "and",
        "again",
        "service",
        "today",
        "okay",
        "fine",
    ],
]


def _tiny_config(**extra) -> BertConfig:
    torch.manual_seed(0)
    return BertConfig(
        vocab_size=len(WORDS) + 5,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=TINY_POSITIONS,
        **extra,
    )


def _save_tokenizer(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    # Like a real model's, the tokenizer says how many word pieces the model takes (its positions).
    BertTokenizerFast(
        vocab={token: i for i, token in enumerate(tokens)}, model_max_length=TINY_POSITIONS
    ).save_pretrained(folder)


def make_tiny_encoder(folder: Path) -> Path:
    _save_tokenizer(folder)
    BertModel(_tiny_config()).save_pretrained(folder)
    return folder


def make_tiny_sequence_model(folder: Path, id2label: dict[int, str], **extra) -> Path:
    _save_tokenizer(folder)
    label2id = {v: k for k, v in id2label.items()}
    config = _tiny_config(id2label=id2label, label2id=label2id, **extra)
    BertForSequenceClassification(config).save_pretrained(folder)
    return folder


POSITIVE = ["good great love", "thanks awesome service", "love my flight", "great service today"]
NEGATIVE = ["bad awful hate", "lost my bag again", "flight was late and broken", "awful service"]
NEUTRAL = ["the flight today", "my bag is okay", "a flight", "service is fine"]
MIXED = ["good bad", "my bag is late", "lost bag fine", "great flight again"]


def _tiny_sets() -> list[LabelledSet]:
    texts = POSITIVE + NEGATIVE + NEUTRAL
    sentiments = ["positive"] * 4 + ["negative"] * 4 + ["neutral"] * 4
    complaints = ["not_complaint"] * 4 + ["complaint"] * 4 + ["not_complaint"] * 4
    return [
        LabelledSet("tiny-sentiment", "sentiment", texts, sentiments),
        LabelledSet("tiny-complaints", "complaint", texts, complaints),
    ]


def tiny_heads_options(dev_fraction: float = 0.0) -> TrainOptions:
    """Head training that learns the tiny sample over the tiny encoder."""
    return TrainOptions(
        layers=[1, 2],
        lexicon=False,
        head_hidden=16,
        dropout=0.0,
        dev_fraction=dev_fraction,
        sentiment_fit=FitOptions(epochs=150, batch_size=12, learning_rate=2e-2),
        complaint_fit=FitOptions(epochs=150, batch_size=12, learning_rate=2e-2),
    )


@pytest.fixture(scope="module")
def tiny_heads(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Heads trained on a tiny sample over a tiny encoder (head training, end to end)."""
    root = tmp_path_factory.mktemp("tiny")
    encoder_dir = make_tiny_encoder(root / "encoder")
    options = tiny_heads_options()
    messages: list[str] = []
    result = train_heads(
        Encoder(str(encoder_dir)), _tiny_sets(), options=options, say=messages.append
    )
    result.heads.save(root / "heads")
    assert any("encoding 12 texts" in m for m in messages)
    assert any("epoch 150/150" in m for m in messages)
    return encoder_dir, root / "heads"


def test_heads_trained_on_a_tiny_sample_learn_it(tiny_heads: tuple[Path, Path]) -> None:
    encoder_dir, heads_dir = tiny_heads
    settings = ClassifierConfig(encoder=str(encoder_dir), heads=heads_dir, precision="fp32")
    classifier = build_classifier(settings)
    verdicts = classifier.classify(POSITIVE + NEGATIVE + NEUTRAL)
    assert [v.sentiment for v in verdicts] == ["positive"] * 4 + ["negative"] * 4 + ["neutral"] * 4
    assert [v.complaint for v in verdicts] == [False] * 4 + [True] * 4 + [False] * 4
    assert classifier.version == f"encoder+heads-{Heads.fingerprint(heads_dir)}"
    assert all(v.model_version == classifier.version for v in verdicts)
    for verdict in verdicts:
        assert set(verdict.sentiment_scores) == set(SENTIMENTS)
        assert sum(verdict.sentiment_scores.values()) == pytest.approx(1.0, abs=1e-3)
        assert 0.0 <= verdict.complaint_score <= 1.0


def test_training_the_same_heads_twice_gives_the_same_weights(
    tiny_heads: tuple[Path, Path], tmp_path: Path
) -> None:
    encoder_dir, heads_dir = tiny_heads
    torch.rand(100)  # whatever ran before in the process must not change the heads
    again = train_heads(
        Encoder(str(encoder_dir)), _tiny_sets(), options=tiny_heads_options(), say=lambda _: None
    )
    again.heads.save(tmp_path / "again")
    first = load_file(str(heads_dir / "heads.safetensors"))
    second = load_file(str(tmp_path / "again" / "heads.safetensors"))
    assert first.keys() == second.keys()
    assert all(torch.equal(first[name], second[name]) for name in first)


def test_heads_read_layers_spread_over_the_encoders_depth() -> None:
    assert spread_layers(6) == [1, 2, 3, 4, 5, 6]  # all-MiniLM-L6-v2: as before
    assert spread_layers(12) == [2, 4, 6, 8, 10, 12]
    assert spread_layers(24) == [4, 8, 12, 16, 20, 24]
    assert spread_layers(2) == [1, 2]
    assert spread_layers(9) == [2, 3, 4, 6, 8, 9]


def test_heads_without_chosen_layers_read_the_encoders_own(
    tiny_heads: tuple[Path, Path], tmp_path: Path
) -> None:
    """The tiny encoder has 2 layers: the default must not ask for MiniLM's six."""
    encoder_dir, heads_dir = tiny_heads
    options = replace(tiny_heads_options(), layers=None)
    spread = train_heads(
        Encoder(str(encoder_dir)), _tiny_sets(), options=options, say=lambda _: None
    )
    assert spread.heads.metadata.features.layers == [1, 2]
    spread.heads.save(tmp_path / "spread")
    first = load_file(str(heads_dir / "heads.safetensors"))
    second = load_file(str(tmp_path / "spread" / "heads.safetensors"))
    assert all(torch.equal(first[name], second[name]) for name in first)


def test_chosen_layers_the_encoder_lacks_are_a_clear_error(tiny_heads: tuple[Path, Path]) -> None:
    encoder_dir, _ = tiny_heads
    options = replace(tiny_heads_options(), layers=[1, 6])
    with pytest.raises(ValueError, match=r"layers \[6\] are not in .*: it has layers 1 to 2"):
        train_heads(Encoder(str(encoder_dir)), _tiny_sets(), options=options, say=lambda _: None)


def test_heads_trained_with_a_sentiment_adjustment_are_measured_and_judge_with_it(
    tiny_heads: tuple[Path, Path], tmp_path: Path
) -> None:
    encoder_dir, _ = tiny_heads
    shift = {"negative": math.log(3)}
    results = {}
    for name, adjustment in (("plain", {}), ("shifted", shift)):
        options = replace(tiny_heads_options(dev_fraction=0.25), sentiment_adjustment=adjustment)
        results[name] = train_heads(
            Encoder(str(encoder_dir)), _tiny_sets(), options=options, say=lambda _: None
        )
        results[name].heads.save(tmp_path / name)
    assert results["shifted"].heads.metadata.sentiment_adjustment == shift
    assert results["plain"].heads.metadata.sentiment_adjustment == {}
    # The held-out figures are the adjusted model's: same seed, same heads, shifted sentiment.
    for plain, shifted in zip(results["plain"].held_out, results["shifted"].held_out, strict=True):
        expected = plain.probabilities
        if plain.task == "sentiment":
            expected = adjust_sentiment(expected, shift)
        assert torch.allclose(shifted.probabilities, expected, atol=1e-6)
    verdicts = {
        name: build_classifier(
            ClassifierConfig(encoder=str(encoder_dir), heads=tmp_path / name, precision="fp32")
        ).classify(MIXED)  # scores of 0.0 (rounded) would say nothing of the shift
        for name in results
    }
    for plain, shifted in zip(verdicts["plain"], verdicts["shifted"], strict=True):
        odds = shifted.sentiment_scores["negative"] / shifted.sentiment_scores["neutral"]
        plain_odds = plain.sentiment_scores["negative"] / plain.sentiment_scores["neutral"]
        assert odds == pytest.approx(3 * plain_odds, rel=0.02)


def test_the_embedding_cache_is_reused_and_a_damaged_or_foreign_one_rebuilt(
    tiny_heads: tuple[Path, Path], tmp_path: Path
) -> None:
    encoder_dir, _ = tiny_heads
    cache = tmp_path / "embedding-cache.safetensors"

    def train(cache: Path, encoder_dir: Path = encoder_dir) -> list[str]:
        messages: list[str] = []
        encoder = Encoder(str(encoder_dir))
        options = tiny_heads_options()
        train_heads(encoder, _tiny_sets(), options=options, cache=cache, say=messages.append)
        return messages

    assert any("encoding 12 texts" in m for m in train(cache))
    assert not any("encoding" in m for m in train(cache))  # every text came from the cache
    cache.write_bytes(b"not a cache")
    rebuilt = train(cache)
    assert any(f"embedding cache {cache} is unreadable" in m for m in rebuilt)
    assert any("encoding 12 texts" in m for m in rebuilt)
    assert not any("encoding" in m for m in train(cache))
    other_encoder = make_tiny_encoder(tmp_path / "other-encoder")
    switched = train(cache, other_encoder)
    assert any(f"made with encoder {encoder_dir}, not {other_encoder}" in m for m in switched), (
        switched
    )
    assert any("encoding 12 texts" in m for m in switched)
    assert not any("encoding" in m for m in train(cache, other_encoder))


def test_saved_heads_are_small_and_reload_identically(tiny_heads: tuple[Path, Path]) -> None:
    encoder_dir, heads_dir = tiny_heads
    first = HeadsClassifier(Encoder(str(encoder_dir)), heads_dir).classify(["lost my bag"])
    again = HeadsClassifier(Encoder(str(encoder_dir)), heads_dir).classify(["lost my bag"])
    assert first == again
    assert (heads_dir / "heads.safetensors").stat().st_size < 50_000


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_reduced_precision_verdicts_carry_their_own_model_version(
    tiny_heads: tuple[Path, Path], precision: str
) -> None:
    encoder_dir, heads_dir = tiny_heads
    settings = ClassifierConfig(encoder=str(encoder_dir), heads=heads_dir, precision=precision)
    classifier = build_classifier(settings)
    verdicts = classifier.classify(POSITIVE + NEGATIVE)
    assert classifier.version == f"encoder+heads-{Heads.fingerprint(heads_dir)}+{precision}"
    assert {v.model_version for v in verdicts} == {classifier.version}
    assert [v.sentiment for v in verdicts] == ["positive"] * 4 + ["negative"] * 4


def test_bf16_scores_stay_close_to_fp32(tiny_heads: tuple[Path, Path]) -> None:
    encoder_dir, heads_dir = tiny_heads
    texts = POSITIVE + NEGATIVE + NEUTRAL
    verdicts = {
        precision: build_classifier(
            ClassifierConfig(encoder=str(encoder_dir), heads=heads_dir, precision=precision)
        ).classify(texts)
        for precision in ("fp32", "bf16")
    }
    for full, half in zip(verdicts["fp32"], verdicts["bf16"], strict=True):
        assert half.sentiment == full.sentiment
        assert abs(half.complaint_score - full.complaint_score) < 0.02
        for label in SENTIMENTS:
            assert abs(half.sentiment_scores[label] - full.sentiment_scores[label]) < 0.02


def test_auto_precision_is_bf16_only_where_the_cpu_computes_it(
    tiny_heads: tuple[Path, Path],
) -> None:
    encoder_dir, heads_dir = tiny_heads
    classifier = build_classifier(ClassifierConfig(encoder=str(encoder_dir), heads=heads_dir))
    expected = "+bf16" if native_bf16() else ""
    assert classifier.version == f"encoder+heads-{Heads.fingerprint(heads_dir)}{expected}"


def test_heads_refuse_an_encoder_they_were_not_trained_on(tiny_heads: tuple[Path, Path]) -> None:
    _, heads_dir = tiny_heads
    with pytest.raises(HeadsUnavailable, match="retrain"):
        HeadsClassifier(Encoder(), heads_dir)


def test_missing_local_model_folder_is_a_clear_error(tmp_path: Path) -> None:
    classifier = build_classifier(
        ClassifierConfig(sequence_classification_model=str(tmp_path / "nothing-here"))
    )
    with pytest.raises(Exception, match="cannot load model"):
        classifier.classify(["hello"])


def test_a_retrained_complete_model_gets_a_new_version_though_its_config_is_the_same(
    tmp_path: Path,
) -> None:
    labels = {0: "negative", 1: "neutral", 2: "positive"}

    def version_of(folder: Path) -> str:
        return build_classifier(ClassifierConfig(sequence_classification_model=str(folder))).version

    first = make_tiny_sequence_model(tmp_path / "m", labels)
    before = version_of(first)
    # Retrained: other weights, saved with the same config.json and tokenizer.
    model = BertForSequenceClassification.from_pretrained(first)
    with torch.no_grad():
        model.classifier.weight.add_(0.1)
    retrained = shutil.copytree(first, tmp_path / "retrained" / "m")
    model.save_pretrained(retrained)
    assert (first / "config.json").read_bytes() == (retrained / "config.json").read_bytes()
    assert version_of(retrained) != before
    (first / "README.md").write_text("notes about the model")  # docs do not change verdicts
    assert version_of(first) == before


def test_sequence_classification_model_maps_labels_through_id2label(tmp_path: Path) -> None:
    folder = make_tiny_sequence_model(tmp_path / "m", {0: "NEG", 1: "Neutral", 2: "positive"})
    classifier = build_classifier(ClassifierConfig(sequence_classification_model=str(folder)))
    verdicts = classifier.classify(["good great love", "", "lost my bag"])
    assert classifier.version.startswith("m+seqcls-")
    for verdict in (verdicts[0], verdicts[2]):
        assert verdict.sentiment in SENTIMENTS
        assert sum(verdict.sentiment_scores.values()) == pytest.approx(1.0, abs=1e-3)
        # No complaint labels: the complaint score falls back to P(negative).
        assert verdict.complaint_score == pytest.approx(
            verdict.sentiment_scores["negative"], abs=1e-3
        )
    assert verdicts[1].flags == (FLAG_EMPTY,)


def test_sequence_model_with_complaint_labels_and_a_label_map(tmp_path: Path) -> None:
    id2label = {0: "LABEL_0", 1: "LABEL_1", 2: "complaint", 3: "not_complaint"}
    folder = make_tiny_sequence_model(tmp_path / "m", id2label)
    classifier = build_classifier(
        ClassifierConfig(
            sequence_classification_model=str(folder),
            label_map={"LABEL_0": "negative", "LABEL_1": "positive"},
            precision="fp32",  # compared with the model run in fp32 below
        )
    )
    (verdict,) = classifier.classify(["awful service"])
    assert verdict.sentiment in ("negative", "positive")
    assert verdict.sentiment_scores["neutral"] == 0.0
    with torch.inference_mode():
        model = BertForSequenceClassification.from_pretrained(folder)
        tokenizer = BertTokenizerFast.from_pretrained(folder)
        probs = torch.softmax(
            model(**tokenizer(["awful service"], return_tensors="pt")).logits, -1
        )[0]
    expected = float(probs[2] / (probs[2] + probs[3]))
    assert verdict.complaint_score == pytest.approx(expected, abs=1e-3)


def test_sequence_model_verdicts_stay_in_input_order(tmp_path: Path) -> None:
    # Larger random weights than usual, so that each text gets clearly different scores.
    labels = {0: "NEG", 1: "Neutral", 2: "positive"}
    folder = make_tiny_sequence_model(tmp_path / "m", labels, initializer_range=0.3)
    settings = ClassifierConfig(
        sequence_classification_model=str(folder), batch_size=2, precision="fp32"
    )
    classifier = build_classifier(settings)
    # Varied lengths, so the length-sorted batches run in another order than the input.
    texts = ["lost my bag again and again", "good", "the flight is late", "love it", "awful"]
    together = classifier.classify(texts)
    alone = [classifier.classify([text])[0] for text in texts]
    assert len({v.sentiment_scores["negative"] for v in alone}) == len(texts)
    for pair in zip(together, alone, strict=True):
        assert pair[0].sentiment_scores == pytest.approx(pair[1].sentiment_scores, abs=1e-3)


def test_sequence_model_without_usable_labels_is_refused(tmp_path: Path) -> None:
    folder = make_tiny_sequence_model(tmp_path / "m", {0: "LABEL_0", 1: "LABEL_1"})
    classifier = build_classifier(ClassifierConfig(sequence_classification_model=str(folder)))
    with pytest.raises(HeadsUnavailable, match="label_map"):
        classifier.classify(["good"])
