"""Distillation on a tiny encoder created here: fine-tuning learns a teacher's readings beside the
labels, and the other task's texts through them; teacher files are read with clear errors."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from listener.classifying.distillation import (
    TeacherReading,
    load_teacher,
    read_with,
    teacher_classifier,
)
from listener.classifying.encoder import Encoder
from listener.classifying.finetuning import fine_tune
from listener.classifying.settings import ClassifierConfig, build_classifier
from listener.classifying.training import LabelledSet
from tests.listener.classifying.test_fine_tuning import EVERY_LAYER
from tests.listener.classifying.test_tiny_model import (
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    _tiny_sets,
    make_tiny_encoder,
)

SURE = {
    "negative": TeacherReading((1.0, 0.0, 0.0), 1.0),
    "neutral": TeacherReading((0.0, 1.0, 0.0), 0.0),
    "positive": TeacherReading((0.0, 0.0, 1.0), 0.0),
}


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_encoder(tmp_path_factory.mktemp("distil") / "encoder")


def sentiments_after_tuning(
    encoder_dir: Path, folder: Path, sets: list[LabelledSet], teacher, **options
) -> list[str]:
    tuned, _ = fine_tune(
        Encoder(str(encoder_dir)),
        sets,
        options=replace(EVERY_LAYER, **options),
        teacher=teacher,
        say=lambda _: None,
    )
    tuned.save(folder)
    settings = ClassifierConfig(encoder=str(encoder_dir), heads=folder, precision="fp32")
    return [v.sentiment for v in build_classifier(settings).classify(POSITIVE + NEGATIVE)]


def test_at_full_weight_the_teacher_is_learnt_instead_of_the_labels(
    encoder_dir: Path, tmp_path: Path
) -> None:
    # A teacher that calls the positive posts negative: the labels say otherwise.
    teacher = {text: SURE["negative"] for text in POSITIVE + NEGATIVE}
    teacher |= {text: SURE["neutral"] for text in NEUTRAL}
    labels_only = sentiments_after_tuning(
        encoder_dir, tmp_path / "labels", _tiny_sets(), teacher, teacher_weight=0.0
    )
    taught = sentiments_after_tuning(
        encoder_dir, tmp_path / "taught", _tiny_sets(), teacher, teacher_weight=1.0
    )
    assert labels_only == ["positive"] * 4 + ["negative"] * 4
    assert taught == ["negative"] * 8


def test_transfer_teaches_a_head_the_other_tasks_texts(encoder_dir: Path, tmp_path: Path) -> None:
    # No positive post carries a sentiment label; the complaint set holds them, and the teacher's
    # reading of them is all the sentiment head can learn "positive" from.
    complaints = _tiny_sets()[1]
    sets = [
        LabelledSet(
            "sentiment", "sentiment", NEGATIVE + NEUTRAL, ["negative"] * 4 + ["neutral"] * 4
        ),
        complaints,
    ]
    teacher = {text: SURE["positive"] for text in POSITIVE}
    teacher |= {text: SURE["negative"] for text in NEGATIVE}
    teacher |= {text: SURE["neutral"] for text in NEUTRAL}
    without = sentiments_after_tuning(encoder_dir, tmp_path / "a", sets, teacher, transfer=())
    with_transfer = sentiments_after_tuning(
        encoder_dir, tmp_path / "b", sets, teacher, transfer=("sentiment",)
    )
    assert "positive" not in without[:4]
    assert with_transfer == ["positive"] * 4 + ["negative"] * 4


def test_teacher_files_are_read_by_fold(tmp_path: Path) -> None:
    path = tmp_path / "teacher.jsonl"
    rows = [
        {"fold": 1, "text": "late again", "sentiment": [0.8, 0.15, 0.05], "complaint": 0.9},
        {"fold": 2, "text": "thanks!", "sentiment": [0.1, 0.2, 0.7], "complaint": 0.05},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert load_teacher(path, 1) == {"late again": TeacherReading((0.8, 0.15, 0.05), 0.9)}
    assert set(load_teacher(path)) == {"late again", "thanks!"}


@pytest.mark.parametrize(
    "line",
    [
        '{"text": "a", "sentiment": [0.5, 0.5], "complaint": 0.1}',
        '{"text": "a", "complaint": 0.1}',
        '{"text": "a", "sentiment": [0.2, 0.3, 0.5], "complaint": "very"}',
        "not json",
    ],
)
def test_a_malformed_teacher_line_is_named(tmp_path: Path, line: str) -> None:
    path = tmp_path / "teacher.jsonl"
    good = '{"text": "b", "sentiment": [0.2, 0.3, 0.5], "complaint": 0.1}'
    path.write_text(good + "\n" + line + "\n")
    with pytest.raises(ValueError, match=r"teacher.jsonl line 2: not a teacher reading"):
        load_teacher(path)


def test_a_teacher_is_read_unadjusted_and_skips_posts_it_cannot_judge(
    encoder_dir: Path, tmp_path: Path
) -> None:
    fine_tune(Encoder(str(encoder_dir)), _tiny_sets(), options=EVERY_LAYER, say=lambda _: None)[
        0
    ].save(tmp_path / "teacher")
    # The student's config names another encoder: the teacher is read over its own.
    settings = ClassifierConfig(encoder="another/encoder", precision="fp32")
    classifier = teacher_classifier(settings, tmp_path / "teacher")
    classifier.sentiment_adjustment = {"negative": 5.0}
    readings = read_with(classifier, [*POSITIVE, "", "@united 123 !!!"])
    assert list(readings) == POSITIVE
    assert all(max(r.sentiment) == r.sentiment[2] for r in readings.values())
    assert all(r.complaint < 0.5 for r in readings.values())


def test_a_folder_without_a_model_is_no_teacher(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"teacher .*empty: no trained model there"):
        teacher_classifier(ClassifierConfig(), tmp_path / "empty")
