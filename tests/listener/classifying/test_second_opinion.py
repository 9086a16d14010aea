"""A second opinion (a cascade) with tiny models created here: the second model's verdict replaces
the first's exactly where the first is unsure, and nowhere else; its settings fail clearly."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from config.classifier import Topic
from config.errors import ConfigError
from config.settings import load_config
from listener.classifying.encoder import Encoder
from listener.classifying.heads import HeadsUnavailable
from listener.classifying.labels import (
    FLAG_EMPTY,
    FLAG_SECOND_OPINION_COMPLAINT,
    FLAG_SECOND_OPINION_SENTIMENT,
)
from listener.classifying.settings import ClassifierConfig, build_classifier
from listener.classifying.training import train_heads
from tests.listener.classifying.test_tiny_model import (
    MIXED,
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    _tiny_sets,
    make_tiny_encoder,
    make_tiny_sequence_model,
    tiny_heads_options,
)

TEXTS = POSITIVE + NEGATIVE + NEUTRAL + MIXED
LABELS = {0: "negative", 1: "neutral", 2: "positive", 3: "complaint", 4: "not_complaint"}
BRAND = '[[brands]]\nname = "Northwind Air"\nhandles = ["@northwindair"]\n\n'
TOPICS = [Topic(name="luggage", description="lost or late bags", examples=["lost my bag"])]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Heads trained over a tiny encoder (the first model), and a complete model that disagrees
    with them: random weights, large enough that each text gets its own scores."""
    root = tmp_path_factory.mktemp("second-opinion")
    encoder_dir = make_tiny_encoder(root / "encoder")
    # Few epochs: the heads stay unsure of some texts, so a threshold splits them.
    options = tiny_heads_options()
    options = replace(
        options,
        sentiment_fit=replace(options.sentiment_fit, epochs=25),
        complaint_fit=replace(options.complaint_fit, epochs=25),
    )
    trained = train_heads(Encoder(str(encoder_dir)), _tiny_sets(), options=options, say=print)
    trained.heads.save(root / "heads")
    second = make_tiny_sequence_model(root / "second", LABELS, initializer_range=0.3)
    return {"encoder": encoder_dir, "heads": root / "heads", "second": second}


def first_config(models: dict[str, Path], **extra) -> ClassifierConfig:
    return ClassifierConfig(
        encoder=str(models["encoder"]),
        heads=models["heads"],
        precision="fp32",
        topics=TOPICS,
        topic_threshold=-1.0,  # every post gets a topic, so topics can be compared
        **extra,
    )


def top(scores: dict[str, float]) -> float:
    return max(scores.values())


def test_the_second_model_judges_exactly_where_the_first_is_unsure(
    models: dict[str, Path],
) -> None:
    alone = build_classifier(first_config(models)).classify(TEXTS)
    second_alone = build_classifier(
        ClassifierConfig(sequence_classification_model=str(models["second"]), precision="fp32")
    ).classify(TEXTS)
    # A threshold between two of the first model's top sentiment probabilities, far from both.
    tops = sorted({top(v.sentiment_scores) for v in alone})
    gaps = [(b - a, (a + b) / 2) for a, b in zip(tops, tops[1:], strict=False) if a > 0.4]
    below = max(gaps)[1]
    unsure = [top(v.sentiment_scores) < below for v in alone]
    assert 0 < sum(unsure) < len(TEXTS), (tops, below)

    settings = first_config(
        models,
        second_opinion={"sequence_classification_model": str(models["second"]), "below": below},
    )
    classifier = build_classifier(settings)
    verdicts = classifier.classify(TEXTS)

    complaint_unsure = [max(v.complaint_score, 1 - v.complaint_score) < below for v in alone]
    for verdict, first, second, sentiment_asked, complaint_asked in zip(
        verdicts, alone, second_alone, unsure, complaint_unsure, strict=True
    ):
        expected = second if sentiment_asked else first
        assert verdict.sentiment_scores == pytest.approx(expected.sentiment_scores, abs=2e-4)
        assert verdict.sentiment == expected.sentiment
        expected = second if complaint_asked else first
        assert verdict.complaint_score == pytest.approx(expected.complaint_score, abs=2e-4)
        assert verdict.complaint == expected.complaint
        assert verdict.topic == first.topic  # topics stay the first model's
        expected_flags = (FLAG_SECOND_OPINION_SENTIMENT,) * sentiment_asked + (
            FLAG_SECOND_OPINION_COMPLAINT,
        ) * complaint_asked
        assert verdict.flags == expected_flags
    # The two models disagree on some post the second was asked about, or the test proves nothing.
    assert any(
        abs(v.sentiment_scores["negative"] - a.sentiment_scores["negative"]) > 0.05
        for v, a, asked in zip(verdicts, alone, unsure, strict=True)
        if asked
    )
    asked = sum(s or c for s, c in zip(unsure, complaint_unsure, strict=True))
    assert (classifier.texts_judged, classifier.texts_asked_again) == (len(TEXTS), asked)
    assert classifier.version == (
        f"{alone[0].model_version}+second-opinion-{second_alone[0].model_version}-below-{below:g}"
    )
    assert {v.model_version for v in verdicts} == {classifier.version}


def test_a_sure_first_model_never_loads_the_second(models: dict[str, Path]) -> None:
    # 0.34 is under every top probability of three sentiments, and under every complaint's 0.5.
    settings = first_config(
        models,
        second_opinion={"sequence_classification_model": "/nowhere/at-all", "below": 0.34},
    )
    classifier = build_classifier(settings)
    alone = build_classifier(first_config(models)).classify(TEXTS)
    assert classifier.classify(TEXTS) == [
        v.__class__(**{**v.__dict__, "model_version": classifier.version}) for v in alone
    ]
    assert classifier.texts_asked_again == 0


def test_posts_nobody_can_judge_are_flagged_before_either_model(models: dict[str, Path]) -> None:
    settings = first_config(
        models,
        second_opinion={"sequence_classification_model": str(models["second"]), "below": 1.0},
    )
    classifier = build_classifier(settings)
    empty, judged = classifier.classify(["   ", "lost my bag again"])
    assert empty.flags == (FLAG_EMPTY,)
    assert empty.sentiment == "neutral"
    assert judged.flags == (FLAG_SECOND_OPINION_SENTIMENT, FLAG_SECOND_OPINION_COMPLAINT)
    assert classifier.texts_asked_again == 1


def test_heads_as_the_second_opinion_are_checked_against_its_encoder(
    models: dict[str, Path],
) -> None:
    heads_second = ClassifierConfig(
        sequence_classification_model=str(models["second"]),
        precision="fp32",
        second_opinion={"encoder": str(models["encoder"]), "heads": models["heads"], "below": 1},
    )
    verdicts = build_classifier(heads_second).classify(TEXTS)
    heads_alone = build_classifier(first_config(models)).classify(TEXTS)
    # Every post asked (below 1.0): the heads' sentiments throughout.
    assert [v.sentiment for v in verdicts] == [v.sentiment for v in heads_alone]
    wrong_encoder = heads_second.model_copy(
        update={
            "second_opinion": heads_second.second_opinion.model_copy(
                update={"encoder": "sentence-transformers/all-MiniLM-L6-v2"}
            )
        }
    )
    with pytest.raises(HeadsUnavailable, match="retrain"):
        build_classifier(wrong_encoder)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("below = 0.7", "a second opinion needs a model: either heads"),
        (
            'heads = "h"\nsequence_classification_model = "m"',
            "not both and not neither",
        ),
        ('heads = "h"\nbelow = 0.3', "below: Input should be greater than 0.333"),
        ('heads = "h"\nbelow = 1.5', "below: Input should be less than or equal to 1"),
        ('heads = "h"\nthreshold = 0.7', "threshold: Extra inputs are not permitted"),
    ],
)
def test_a_second_opinion_without_one_model_or_with_a_bad_threshold_is_refused(
    tmp_path: Path, table: str, message: str
) -> None:
    config = tmp_path / "mentiondesk.toml"
    config.write_text(f"{BRAND}[classifier.second_opinion]\n{table}\n", encoding="utf-8")
    where = "mentiondesk.toml: classifier.second_opinion"
    with pytest.raises(ConfigError, match=f"{where}.*{message}"):
        load_config(config)


def test_a_config_file_names_the_second_opinion(tmp_path: Path, models: dict[str, Path]) -> None:
    config = tmp_path / "mentiondesk.toml"
    config.write_text(
        f"{BRAND}[classifier.second_opinion]\n"
        f'sequence_classification_model = "{models["second"]}"\nbelow = 0.6\n',
        encoding="utf-8",
    )
    settings = load_config(config).classifier
    assert settings.second_opinion is not None
    assert settings.second_opinion.below == 0.6
    version = build_classifier(settings).version
    assert re.search(r"\+second-opinion-second\+seqcls-[0-9a-f]{10}(\+bf16)?-below-0\.6$", version)
