"""Fine-tuning with LoRA (or every layer) on a tiny encoder created here, blended with heads over
the untuned encoder: the adapter (or tuned layers) and the untuned heads are saved beside the tuned
heads, merged and blended when the classifier loads, and are part of the model version. Nothing is
downloaded."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from config.classifier import Topic
from listener.classifying.blending import (
    SENTIMENT_ADJUSTMENT,
    Blended,
    blend_held_out,
    describe_adjustment,
    train_blended,
)
from listener.classifying.classifier import HeadsClassifier
from listener.classifying.encoder import Encoder, EncoderUnavailable
from listener.classifying.finetuning import FineTuneOptions, fine_tune
from listener.classifying.heads import Heads, HeadsUnavailable, adjust_sentiment
from listener.classifying.labels import SENTIMENTS
from listener.classifying.settings import ClassifierConfig, build_classifier
from listener.classifying.topics import TopicMatcher
from listener.classifying.training import HeldOut
from tests.listener.classifying.test_tiny_model import (
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    _tiny_sets,
    make_tiny_encoder,
    tiny_heads_options,
)

TEXTS = POSITIVE + NEGATIVE + NEUTRAL
# Every layer tuned on the tiny sample, fast enough to learn it.
EVERY_LAYER = FineTuneOptions(
    epochs=60,
    batch_size=12,
    tune="all",
    saved_rank=0,
    encoder_learning_rate=1e-3,
    head_learning_rate=5e-2,
    lexicon=False,
    dropout=0.0,
    dev_fraction=0,
)


def blend_tiny_sample(
    encoder_dir: Path, options: FineTuneOptions, say: Callable[[str], None] = lambda _: None
) -> Blended:
    """The shipped recipe (tuned model, untuned heads, bridge) trained on the tiny sample."""
    return train_blended(
        Encoder(str(encoder_dir)),
        _tiny_sets(),
        fine_tune_options=options,
        heads_options=tiny_heads_options(dev_fraction=options.dev_fraction),
        cache=None,
        say=say,
    )


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    root = tmp_path_factory.mktemp("tuned")
    encoder_dir = make_tiny_encoder(root / "encoder")
    options = FineTuneOptions(
        epochs=60,
        batch_size=12,
        tune="lora",
        adapter_learning_rate=1e-2,
        head_learning_rate=5e-2,
        lexicon=False,
        dropout=0.0,
        lora_dropout=0.0,
        dev_fraction=0.25,
    )
    messages: list[str] = []
    blend_tiny_sample(encoder_dir, options, messages.append).save(root / "heads")
    return encoder_dir, root / "heads", messages


def test_fine_tuned_model_learns_a_tiny_sample(tuned: tuple[Path, Path, list[str]]) -> None:
    encoder_dir, heads_dir, messages = tuned
    assert any("epoch 60/60 done" in m for m in messages)
    blend_line = messages.index(
        "the blend (0.7 tuned + 0.3 untuned), sentiment adjusted "
        f"({describe_adjustment(SENTIMENT_ADJUSTMENT)}), on the held-out rows:"
    )
    assert "held out tiny-sentiment: macro-F1" in messages[blend_line + 1]
    settings = ClassifierConfig(encoder=str(encoder_dir), heads=heads_dir, precision="fp32")
    classifier = build_classifier(settings)
    verdicts = classifier.classify(TEXTS)
    assert [v.sentiment for v in verdicts] == ["positive"] * 4 + ["negative"] * 4 + ["neutral"] * 4
    assert [v.complaint for v in verdicts] == [False] * 4 + [True] * 4 + [False] * 4
    assert classifier.version == f"encoder+lora+heads-{Heads.fingerprint(heads_dir)}"


def test_the_adapter_is_saved_beside_the_heads_and_merged_when_loading(
    tuned: tuple[Path, Path, list[str]],
) -> None:
    encoder_dir, heads_dir, _ = tuned
    metadata = json.loads((heads_dir / "heads.json").read_text())
    assert metadata["encoder_adapter"] == "adapter"
    assert metadata["features"] == {"layers": [2], "lexicon": False}
    assert (metadata["blend_heads"], metadata["blend_weight"]) == ("untuned", 0.3)
    assert metadata["sentiment_adjustment"] == SENTIMENT_ADJUSTMENT
    assert "sentiment/tiny-sentiment/macro_f1" in metadata["figures"]
    adapter_config = json.loads((heads_dir / "adapter" / "adapter_config.json").read_text())
    # The configured name, never this machine's install path.
    assert adapter_config["base_model_name_or_path"] == str(encoder_dir)
    tuned_states = HeadsClassifier(Encoder(str(encoder_dir)), heads_dir).encoder.encode(TEXTS)
    base_states = Encoder(str(encoder_dir)).encode(TEXTS)
    assert not tuned_states[:, -1].allclose(base_states[:, -1], atol=1e-3)
    # The embeddings (layer 0) are not tuned.
    assert tuned_states[:, 0].allclose(base_states[:, 0], atol=1e-5)


def _with_metadata(source: Path, target: Path, **changes: object) -> Path:
    """A copy of a heads folder with some metadata fields changed."""
    copy = shutil.copytree(source, target)
    metadata = json.loads((copy / "heads.json").read_text())
    metadata.update(changes)
    (copy / "heads.json").write_text(json.dumps(metadata))
    return copy


def test_verdicts_blend_the_tuned_and_the_untuned_heads(
    tuned: tuple[Path, Path, list[str]], tmp_path: Path
) -> None:
    encoder_dir, heads_dir, _ = tuned
    tuned_only = _with_metadata(
        heads_dir, tmp_path / "tuned-only", blend_heads="", sentiment_adjustment={}
    )
    encoder = Encoder(str(encoder_dir))
    # Two passes: the untuned heads read the untuned encoder (one pass: test_bridging.py).
    parts = [
        HeadsClassifier(encoder, folder, one_pass=False).classify(TEXTS)
        for folder in (heads_dir, tuned_only, heads_dir / "untuned")
    ]
    for blended, tuned_verdict, untuned_verdict in zip(*parts, strict=True):
        assert blended.complaint_score == pytest.approx(
            0.7 * tuned_verdict.complaint_score + 0.3 * untuned_verdict.complaint_score, abs=1e-3
        )
        mixed = torch.tensor(
            [
                [
                    0.7 * tuned_verdict.sentiment_scores[label]
                    + 0.3 * untuned_verdict.sentiment_scores[label]
                    for label in SENTIMENTS
                ]
            ]
        )
        expected = adjust_sentiment(mixed, SENTIMENT_ADJUSTMENT)[0].tolist()
        assert [blended.sentiment_scores[label] for label in SENTIMENTS] == pytest.approx(
            expected, abs=1e-3
        )


def test_the_sentiment_adjustment_shifts_scores_and_verdicts(
    tuned: tuple[Path, Path, list[str]], tmp_path: Path
) -> None:
    encoder_dir, heads_dir, _ = tuned
    encoder = Encoder(str(encoder_dir))
    plain = _with_metadata(heads_dir, tmp_path / "plain", sentiment_adjustment={})
    doubled = _with_metadata(
        heads_dir, tmp_path / "doubled", sentiment_adjustment={"negative": math.log(2)}
    )
    swamped = _with_metadata(heads_dir, tmp_path / "swamped", sentiment_adjustment={"neutral": 30})
    before = HeadsClassifier(encoder, plain).classify(TEXTS)
    after = HeadsClassifier(encoder, doubled).classify(TEXTS)
    factor = {"negative": 2.0, "neutral": 1.0, "positive": 1.0}
    for old, new in zip(before, after, strict=True):
        total = sum(old.sentiment_scores[label] * factor[label] for label in SENTIMENTS)
        for label in SENTIMENTS:
            assert new.sentiment_scores[label] == pytest.approx(
                old.sentiment_scores[label] * factor[label] / total, abs=1e-3
            )
        assert new.sentiment == max(new.sentiment_scores, key=new.sentiment_scores.__getitem__)
        assert new.complaint_score == old.complaint_score  # complaints have their threshold
    assert {v.sentiment for v in before} == set(SENTIMENTS)
    assert {v.sentiment for v in HeadsClassifier(encoder, swamped).classify(TEXTS)} == {"neutral"}
    versions = {HeadsClassifier(encoder, folder).version for folder in (plain, doubled, swamped)}
    assert len(versions) == 3  # other verdicts, another model version


@pytest.mark.parametrize(
    ("adjustment", "message"),
    [
        ({"angry": 1.0}, "names 'angry', which is not one of the heads' sentiments"),
        ({"negative": "high"}, "for 'negative' must be a finite number, not 'high'"),
        ({"neutral": float("nan")}, "for 'neutral' must be a finite number, not nan"),
        ({"negative": True}, "for 'negative' must be a finite number, not True"),
    ],
)
def test_a_bad_sentiment_adjustment_is_a_clear_error(
    tuned: tuple[Path, Path, list[str]], tmp_path: Path, adjustment: dict, message: str
) -> None:
    encoder_dir, heads_dir, _ = tuned
    bad = _with_metadata(heads_dir, tmp_path / "bad", sentiment_adjustment=adjustment)
    with pytest.raises(HeadsUnavailable, match=f"heads.json: sentiment_adjustment {message}"):
        HeadsClassifier(Encoder(str(encoder_dir)), bad)


def test_held_out_figures_adjust_sentiments_but_not_complaints() -> None:
    sentiment = torch.tensor([[0.25, 0.5, 0.25], [0.1, 0.1, 0.8]])
    complaint = torch.tensor([0.4, 0.6])
    parts = [
        HeldOut("sentiment", "s", ["a", "b"], ["negative", "positive"], sentiment),
        HeldOut("complaint", "c", ["a", "b"], ["no", "yes"], complaint),
    ]
    blended = blend_held_out(parts, parts, 0.3, {"negative": math.log(2)})
    expected = torch.tensor([[0.4, 0.4, 0.2], [0.2 / 1.1, 0.1 / 1.1, 0.8 / 1.1]])
    assert torch.allclose(blended[0].probabilities, expected)
    assert blended[1].probabilities.tolist() == pytest.approx([0.4, 0.6])


@pytest.mark.parametrize(
    "part",
    [
        "adapter/adapter_model.safetensors",
        "untuned/heads.safetensors",
        "bridged/heads.safetensors",
        "topic-bridge.safetensors",
    ],
)
def test_a_changed_adapter_untuned_heads_or_bridge_change_the_version(
    tuned: tuple[Path, Path, list[str]], tmp_path: Path, part: str
) -> None:
    encoder_dir, heads_dir, _ = tuned
    copy = shutil.copytree(heads_dir, tmp_path / "copy")
    before = Heads.fingerprint(copy)
    weights = copy / part
    weights.write_bytes(weights.read_bytes()[:-4] + b"\x00\x00\x00\x00")
    assert Heads.fingerprint(copy) != before


def test_a_missing_adapter_is_a_clear_error(
    tuned: tuple[Path, Path, list[str]], tmp_path: Path
) -> None:
    encoder_dir, heads_dir, _ = tuned
    copy = shutil.copytree(heads_dir, tmp_path / "copy")
    shutil.rmtree(copy / "adapter")
    classifier = HeadsClassifier(Encoder(str(encoder_dir)), copy)
    with pytest.raises(EncoderUnavailable, match="cannot apply the encoder adapter"):
        classifier.classify(["lost my bag"])


def test_topics_are_matched_with_the_untuned_encoder(tuned: tuple[Path, Path, list[str]]) -> None:
    encoder_dir, heads_dir, _ = tuned
    topics = [
        Topic(name="baggage", description="lost bag", examples=["my bag is lost"]),
        Topic(name="praise", description="great service", examples=["love the flight"]),
    ]
    classifier = build_classifier(
        ClassifierConfig(
            encoder=str(encoder_dir),
            heads=heads_dir,
            topics=topics,
            topic_threshold=-1.0,
            one_pass=False,  # one pass predicts the untuned layers: test_bridging.py
        )
    )
    base = Encoder(str(encoder_dir))

    def embed(texts: list[str]):
        return base.encode(texts)[:, -1]

    expected = TopicMatcher(topics, -1.0).match(embed(TEXTS), embed)
    assert [v.topic for v in classifier.classify(TEXTS)] == expected
    assert set(expected) == {"baggage", "praise"}


# Tuning every layer instead of a LoRA adapter: the tuned layers are saved beside the heads.


@pytest.fixture(scope="module")
def fully_tuned_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Blended]:
    root = tmp_path_factory.mktemp("fully-tuned")
    encoder_dir = make_tiny_encoder(root / "encoder")
    # Saved exactly (saved_rank 0); one test saves the same model again at a low rank.
    return encoder_dir, blend_tiny_sample(encoder_dir, EVERY_LAYER)


@pytest.fixture(scope="module")
def fully_tuned(
    fully_tuned_model: tuple[Path, Blended], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    encoder_dir, blended = fully_tuned_model
    folder = tmp_path_factory.mktemp("fully-tuned-heads") / "heads"
    blended.save(folder)
    return encoder_dir, folder


def test_a_fully_tuned_model_saves_its_layers_and_classifies_with_them(
    fully_tuned: tuple[Path, Path],
) -> None:
    encoder_dir, heads_dir = fully_tuned
    metadata = json.loads((heads_dir / "heads.json").read_text())
    assert (metadata["encoder_weights"], metadata["encoder_adapter"]) == ("encoder", "")
    assert not (heads_dir / "adapter").exists()
    saved = load_file(str(heads_dir / "encoder" / "weights.safetensors"))
    # Every layer, never the frozen embeddings or the unused pooler.
    assert any(name.startswith("encoder.layer.1.") for name in saved)
    assert not [name for name in saved if not name.startswith("encoder.layer.")]

    classifier = build_classifier(
        ClassifierConfig(encoder=str(encoder_dir), heads=heads_dir, precision="fp32")
    )
    verdicts = classifier.classify(TEXTS)
    assert [v.sentiment for v in verdicts] == ["positive"] * 4 + ["negative"] * 4 + ["neutral"] * 4
    assert [v.complaint for v in verdicts] == [False] * 4 + [True] * 4 + [False] * 4
    assert classifier.version == f"encoder+tuned+heads-{Heads.fingerprint(heads_dir)}"
    tuned_states = classifier.encoder.encode(TEXTS)
    base_states = Encoder(str(encoder_dir)).encode(TEXTS)
    assert not tuned_states[:, -1].allclose(base_states[:, -1], atol=1e-3)
    assert tuned_states[:, 0].allclose(base_states[:, 0], atol=1e-5)


def test_tuned_layers_saved_at_a_low_rank_keep_most_of_the_change(
    fully_tuned_model: tuple[Path, Blended], fully_tuned: tuple[Path, Path], tmp_path: Path
) -> None:
    encoder_dir, blended = fully_tuned_model
    _, exact_dir = fully_tuned
    replace(blended, tuned=replace(blended.tuned, saved_rank=4)).save(tmp_path / "heads")
    saved = load_file(str(tmp_path / "heads" / "encoder" / "weights.safetensors"))
    assert saved["encoder.layer.1.intermediate.dense.weight::up"].shape == (64, 4)
    assert not [name for name, weight in saved.items() if weight.dim() == 2 and "::" not in name]
    exact_file = exact_dir / "encoder" / "weights.safetensors"
    assert (tmp_path / "heads" / "encoder" / "weights.safetensors").stat().st_size < (
        exact_file.stat().st_size / 2
    )
    encoder = Encoder(str(encoder_dir))
    exact = HeadsClassifier(encoder, exact_dir).encoder.encode(TEXTS)[:, -1]
    low_rank = HeadsClassifier(encoder, tmp_path / "heads").encoder.encode(TEXTS)[:, -1]
    untuned = encoder.encode(TEXTS)[:, -1]
    assert (low_rank - exact).norm() < 0.5 * (untuned - exact).norm()
    assert not low_rank.allclose(exact, atol=1e-4)


def test_changed_tuned_layers_change_the_version(
    fully_tuned: tuple[Path, Path], tmp_path: Path
) -> None:
    _, heads_dir = fully_tuned
    copy = shutil.copytree(heads_dir, tmp_path / "copy")
    before = Heads.fingerprint(copy)
    weights = copy / "encoder" / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4] + b"\x00\x00\x00\x00")
    assert Heads.fingerprint(copy) != before


@pytest.mark.parametrize(
    ("saved", "message"),
    [
        (
            {"encoder.layer.0.output.dense.weight": torch.zeros(3, 3)},
            r"encoder\.layer\.0\.output\.dense\.weight is \(3, 3\) in the file, \(\d+, \d+\) in",
        ),
        (
            {"decoder.weight": torch.zeros(2)},
            r"decoder\.weight is \(2,\) in the file, no such weight",
        ),
    ],
)
def test_tuned_layers_of_another_encoder_are_a_clear_error(
    fully_tuned: tuple[Path, Path], tmp_path: Path, saved: dict, message: str
) -> None:
    encoder_dir, heads_dir = fully_tuned
    copy = shutil.copytree(heads_dir, tmp_path / "copy")
    save_file(saved, str(copy / "encoder" / "weights.safetensors"))
    classifier = HeadsClassifier(Encoder(str(encoder_dir)), copy)
    with pytest.raises(EncoderUnavailable, match=message):
        classifier.classify(["lost my bag"])


def test_fine_tuning_refuses_an_unknown_way_to_tune(tmp_path: Path) -> None:
    encoder_dir = make_tiny_encoder(tmp_path / "encoder")
    with pytest.raises(ValueError, match="tune must be one of lora, all, not 'half'"):
        fine_tune(
            Encoder(str(encoder_dir)),
            _tiny_sets(),
            options=FineTuneOptions(tune="half", dev_fraction=0),
        )
