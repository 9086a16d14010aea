"""One pass per verdict: the untuned heads and the topics read the untuned encoder's layers as
predicted from the tuned pass (bridging.py). The fold into the heads is checked exactly on random
states; a tiny model, tuned here, is checked end to end. Nothing is downloaded."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from config.classifier import Topic
from listener.classifying.blending import SENTIMENT_ADJUSTMENT
from listener.classifying.bridging import (
    TopicBridge,
    bridge_heads,
    fit_ridge,
    fit_topic_bridge,
    flatten,
)
from listener.classifying.classifier import HeadsClassifier
from listener.classifying.encoder import Encoder
from listener.classifying.fitting import predict_probabilities
from listener.classifying.heads import (
    FeatureSpec,
    Heads,
    HeadsMetadata,
    HeadsUnavailable,
    adjust_sentiment,
    blend,
)
from listener.classifying.settings import ClassifierConfig, build_classifier
from listener.classifying.topics import TopicMatcher
from tests.listener.classifying.test_fine_tuning import EVERY_LAYER, TEXTS, blend_tiny_sample
from tests.listener.classifying.test_tiny_model import make_tiny_encoder


def _random_heads(layers: list[int], hidden: int, head_hidden: int) -> Heads:
    metadata = HeadsMetadata(
        encoder="random",
        hidden_size=hidden,
        features=FeatureSpec(layers=layers, lexicon=True),
        head_hidden=head_hidden,
    )
    heads = Heads.new(metadata, dropout=0.0)
    for head in (heads.sentiment, heads.complaint):
        head.mean.copy_(torch.randn(metadata.input_size))
        head.scale.copy_(torch.rand(metadata.input_size) + 0.5)
        head.eval()
    return heads


@pytest.mark.parametrize("head_hidden", [0, 16])
def test_the_bridge_folds_into_the_heads_exactly(head_hidden: int, tmp_path: Path) -> None:
    torch.manual_seed(3)
    texts, layers, hidden = 300, 3, 8
    tuned = torch.randn(texts, layers, hidden)
    mixing = torch.randn(layers * hidden, layers * hidden) / 4
    untuned = (flatten(tuned).float() @ mixing + 0.1 * torch.randn(texts, layers * hidden)).reshape(
        texts, layers, hidden
    )
    lexicon = torch.rand(texts, 4)
    untuned_heads = _random_heads([1, 2], hidden, head_hidden)
    # What folding must reproduce: the untuned heads over the regression's predicted states.
    predicted = fit_ridge(flatten(tuned), flatten(untuned))(flatten(tuned)).float()
    predicted = predicted.reshape(texts, layers, hidden)

    bridged = bridge_heads(untuned_heads, tuned, untuned)
    bridged.save(tmp_path)
    loaded = Heads.load(tmp_path)  # fp16 on disk
    assert loaded.metadata.features == FeatureSpec(layers=[0, 1, 2], lexicon=True)
    for task in ("sentiment", "complaint"):
        expected = predict_probabilities(
            getattr(untuned_heads, task), untuned_heads.select_features(predicted, lexicon)
        )
        exact = predict_probabilities(
            getattr(bridged, task), bridged.select_features(tuned, lexicon)
        )
        saved = predict_probabilities(getattr(loaded, task), loaded.select_features(tuned, lexicon))
        assert torch.allclose(exact, expected, atol=1e-5)
        assert torch.allclose(saved, expected, atol=5e-3)
    # The heads read the prediction, not the tuned states themselves.
    assert not torch.allclose(
        predict_probabilities(
            untuned_heads.sentiment, untuned_heads.select_features(tuned, lexicon)
        ),
        predict_probabilities(bridged.sentiment, bridged.select_features(tuned, lexicon)),
        atol=1e-2,
    )


@pytest.fixture(scope="module")
def bridged_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("bridged")
    encoder_dir = make_tiny_encoder(root / "encoder")
    # At a low rank: the bridge must be fitted on the layers as saved.
    options = replace(EVERY_LAYER, saved_rank=4)
    messages: list[str] = []
    blended = blend_tiny_sample(encoder_dir, options, messages.append)
    assert any(m.startswith("bridging: ") for m in messages)
    blended.save(root / "heads")
    return encoder_dir, root / "heads"


def test_a_bridged_model_is_saved_with_its_bridged_heads_and_topic_bridge(
    bridged_model: tuple[Path, Path],
) -> None:
    _, heads_dir = bridged_model
    metadata = json.loads((heads_dir / "heads.json").read_text())
    assert (metadata["bridged_heads"], metadata["topic_bridge"]) == (
        "bridged",
        "topic-bridge.safetensors",
    )
    bridged = json.loads((heads_dir / "bridged" / "heads.json").read_text())
    # Over the tuned pass's embeddings and both layers; the untuned heads read layers 1 and 2.
    assert bridged["features"] == {"layers": [0, 1, 2], "lexicon": False}
    assert (heads_dir / "topic-bridge.safetensors").is_file()


def test_one_pass_blends_the_tuned_heads_with_the_bridged_ones_without_the_untuned_encoder(
    bridged_model: tuple[Path, Path],
) -> None:
    encoder_dir, heads_dir = bridged_model
    classifier = HeadsClassifier(Encoder(str(encoder_dir)), heads_dir)
    verdicts = classifier.classify(TEXTS)
    assert [v.sentiment for v in verdicts] == ["positive"] * 4 + ["negative"] * 4 + ["neutral"] * 4
    assert classifier.version == f"encoder+tuned+heads-{Heads.fingerprint(heads_dir)}"
    # No topics: the untuned encoder was never even loaded.
    assert classifier.untuned_encoder._model is None

    tuned_states = classifier.encoder.encode(TEXTS)
    tuned_heads = Heads.load(heads_dir)
    bridged_heads = Heads.load(heads_dir / "bridged")
    parts = [
        predict_probabilities(heads.sentiment, heads.select_features(tuned_states, None))
        for heads in (tuned_heads, bridged_heads)
    ]
    expected = adjust_sentiment(blend(*parts, 0.3), SENTIMENT_ADJUSTMENT)
    got = torch.tensor(
        [[v.sentiment_scores[s] for s in ("negative", "neutral", "positive")] for v in verdicts]
    )
    assert torch.allclose(got, expected, atol=1e-3)

    two_pass = HeadsClassifier(Encoder(str(encoder_dir)), heads_dir, one_pass=False)
    assert two_pass.version == f"encoder+tuned+heads-{Heads.fingerprint(heads_dir)}+two-pass"
    assert [v.sentiment for v in two_pass.classify(TEXTS)] == [v.sentiment for v in verdicts]
    assert two_pass.untuned_encoder._model is not None


def test_the_topic_bridge_predicts_the_untuned_last_layer(bridged_model: tuple[Path, Path]) -> None:
    encoder_dir, heads_dir = bridged_model
    classifier = HeadsClassifier(Encoder(str(encoder_dir)), heads_dir)
    tuned_states = classifier.encoder.encode(TEXTS)
    untuned_last = Encoder(str(encoder_dir)).encode(TEXTS)[:, -1]
    predicted = classifier.topic_bridge(tuned_states)
    similarity = torch.nn.functional.cosine_similarity
    # Fitted on these texts: far closer to the untuned layer than the tuned layer is.
    assert similarity(predicted, untuned_last).min() > 0.95
    assert similarity(tuned_states[:, -1], untuned_last).mean() < 0.95


def test_one_pass_topics_compare_the_predicted_layer_with_untuned_topic_embeddings(
    bridged_model: tuple[Path, Path],
) -> None:
    encoder_dir, heads_dir = bridged_model
    topics = [
        Topic(name="baggage", description="lost bag", examples=["my bag is lost"]),
        Topic(name="praise", description="great service", examples=["love the flight"]),
    ]
    classifier = build_classifier(
        ClassifierConfig(
            encoder=str(encoder_dir), heads=heads_dir, topics=topics, topic_threshold=-1.0
        )
    )
    base = Encoder(str(encoder_dir))
    predicted = classifier.topic_bridge(classifier.encoder.encode(TEXTS))
    expected = TopicMatcher(topics, -1.0).match(predicted, lambda t: base.encode(t)[:, -1])
    assert [v.topic for v in classifier.classify(TEXTS)] == expected
    assert set(expected) == {"baggage", "praise"}


@pytest.mark.parametrize(
    ("tensors", "message"),
    [
        (None, r"cannot read the topic bridge .*topic-bridge\.safetensors"),
        ({"weight": torch.zeros(3, 5), "bias": torch.zeros(3)}, r"maps \(5, 3\), not \(96, 32\)"),
        ({"weight": torch.zeros(32, 96)}, r"cannot read the topic bridge .*'bias'"),
    ],
)
def test_a_damaged_topic_bridge_is_a_clear_error(
    bridged_model: tuple[Path, Path], tmp_path: Path, tensors: dict | None, message: str
) -> None:
    encoder_dir, heads_dir = bridged_model
    copy = shutil.copytree(heads_dir, tmp_path / "copy")
    if tensors is None:
        (copy / "topic-bridge.safetensors").write_bytes(b"not safetensors")
    else:
        save_file(tensors, str(copy / "topic-bridge.safetensors"))
    with pytest.raises(HeadsUnavailable, match=message):
        HeadsClassifier(Encoder(str(encoder_dir)), copy)
    # Two passes do not read the bridge.
    HeadsClassifier(Encoder(str(encoder_dir)), copy, one_pass=False).classify(["lost my bag"])


def test_fit_topic_bridge_reads_the_last_untuned_layer() -> None:
    torch.manual_seed(5)
    # Enough texts that the ridge penalty barely shrinks the fit.
    tuned = torch.randn(3000, 3, 4)
    untuned = torch.randn(3000, 3, 4)
    untuned[:, -1] = tuned[:, 1] * 2 + 1  # the last layer is a linear function of the tuned pass
    bridge = fit_topic_bridge(tuned, untuned)
    assert torch.allclose(bridge(tuned), untuned[:, -1], atol=0.05)
    assert isinstance(bridge, TopicBridge)
