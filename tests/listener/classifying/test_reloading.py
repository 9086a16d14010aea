"""Retraining while the desk runs: the model folder is replaced whole, and the running classifier
judges its next batch with the new model (tiny models trained here)."""

from __future__ import annotations

import logging
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from transformers import BertForSequenceClassification

from config.classifier import SecondOpinion
from listener.classifying.encoder import Encoder
from listener.classifying.heads import Heads
from listener.classifying.locations import METADATA_FILE, replace_model
from listener.classifying.reloading import ReloadingClassifier
from listener.classifying.settings import ClassifierConfig, build_classifier
from listener.classifying.training import TrainingResult, train_heads
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


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A tiny encoder, and two models over it that judge differently (the second trained less)."""
    encoder_dir = make_tiny_encoder(tmp_path_factory.mktemp("reloading") / "encoder")
    encoder = Encoder(str(encoder_dir))
    full = train_heads(encoder, _tiny_sets(), options=tiny_heads_options(), say=print)
    options = tiny_heads_options()
    short = replace(
        options,
        sentiment_fit=replace(options.sentiment_fit, epochs=10),
        complaint_fit=replace(options.complaint_fit, epochs=10),
    )
    less = train_heads(encoder, _tiny_sets(), options=short, say=print)
    return {"encoder": encoder_dir, "first": full, "retrained": less}


def config(trained: dict[str, object]) -> ClassifierConfig:
    # No `heads`: the data folder's trained model is read, as on a desk after `mentiondesk train`.
    return ClassifierConfig(encoder=str(trained["encoder"]), precision="fp32")


def saved(result: TrainingResult, folder: Path) -> Path:
    result.heads.save(folder)
    return folder


def desk_on_first_model(trained: dict[str, object], data_dir: Path) -> ReloadingClassifier:
    """A desk started after the first model was trained into its data folder."""
    replace_model(data_dir / "heads", trained["first"].heads.save)
    return ReloadingClassifier(config(trained), data_dir=data_dir)


def test_a_running_desk_judges_with_the_retrained_model_from_its_next_batch(
    trained: dict[str, object], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "data"
    desk = desk_on_first_model(trained, data_dir)
    before = desk.classify(TEXTS)
    first_version = desk.version
    assert first_version == build_classifier(config(trained), data_dir=data_dir).version

    with caplog.at_level(logging.INFO, logger="listener.classifying.reloading"):
        replace_model(data_dir / "heads", trained["retrained"].heads.save)
        after = desk.classify(TEXTS)

    alone = build_classifier(
        config(trained).model_copy(
            update={"heads": saved(trained["retrained"], tmp_path / "alone")}
        )
    ).classify(TEXTS)
    assert [v.sentiment_scores for v in after] == [v.sentiment_scores for v in alone]
    assert [v.complaint_score for v in after] == [v.complaint_score for v in alone]
    assert [v.sentiment_scores for v in after] != [v.sentiment_scores for v in before]
    assert {v.model_version for v in after} == {desk.version} != {first_version}
    assert desk.version.endswith(Heads.fingerprint(data_dir / "heads"))
    assert f"judging with {desk.version} from now on, not {first_version}" in caplog.text


def test_the_same_model_put_in_place_again_keeps_the_one_in_memory(
    trained: dict[str, object], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "data"
    desk = desk_on_first_model(trained, data_dir)
    desk.classify(TEXTS[:1])
    in_memory = desk.current()
    with caplog.at_level(logging.INFO, logger="listener.classifying.reloading"):
        # A new heads.json (another inode), the same model: as `train --topics-only` with
        # no topic corrections writes it.
        replace_model(data_dir / "heads", trained["first"].heads.save)
        desk.classify(TEXTS[:1])
    assert desk.current() is in_memory  # its weights stay loaded
    assert "the model changed" not in caplog.text
    replace_model(data_dir / "heads", trained["retrained"].heads.save)
    assert desk.current() is not in_memory


def test_a_complete_model_swapped_into_its_folder_is_followed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    labels = {0: "negative", 1: "neutral", 2: "positive"}
    folder = make_tiny_sequence_model(tmp_path / "model", labels)
    desk = ReloadingClassifier(
        ClassifierConfig(sequence_classification_model=str(folder), precision="fp32")
    )
    before = desk.classify(TEXTS)
    first_version = desk.version
    # Retrained elsewhere (other weights, the same config.json), then moved in: the old folder
    # away first, so for a moment there is none; the desk keeps judging meanwhile.
    model = BertForSequenceClassification.from_pretrained(folder)
    with torch.no_grad():
        model.classifier.bias.copy_(torch.tensor([-3.0, 0.0, 3.0]))
    retrained = shutil.copytree(folder, tmp_path / "retrained")
    model.save_pretrained(retrained)
    folder.rename(tmp_path / "old")
    assert desk.classify(TEXTS[:1])[0].model_version == first_version
    retrained.rename(folder)
    with caplog.at_level(logging.INFO, logger="listener.classifying.reloading"):
        after = desk.classify(TEXTS)
    assert desk.version != first_version and {v.model_version for v in after} == {desk.version}
    assert [v.sentiment for v in after] != [v.sentiment for v in before]
    assert {v.sentiment for v in after} == {"positive"}  # what the new bias says
    assert f"judging with {desk.version} from now on, not {first_version}" in caplog.text


def test_a_model_that_cannot_be_loaded_leaves_the_desk_on_the_one_it_has(
    trained: dict[str, object], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "data"
    desk = desk_on_first_model(trained, data_dir)
    version = desk.version
    # A tool that writes in place, caught half-way: heads.json changed but is not JSON yet.
    (data_dir / "heads" / METADATA_FILE).write_text('{"encoder": ', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="listener.classifying.reloading"):
        verdicts = desk.classify(TEXTS[:2])
        desk.classify(TEXTS[:1])
    assert {v.model_version for v in verdicts} == {version}
    assert f"changed but cannot be loaded, so verdicts stay with {version}" in caplog.text
    assert caplog.text.count("cannot be loaded") == 1  # said once, not on every batch
    # Once the model is whole, the next batch uses it.
    replace_model(data_dir / "heads", trained["retrained"].heads.save)
    assert desk.classify(TEXTS[:1])[0].model_version != version


def test_a_retrained_second_opinion_is_followed_too(
    trained: dict[str, object], tmp_path: Path
) -> None:
    second = tmp_path / "second"
    replace_model(second, trained["first"].heads.save)
    settings = config(trained).model_copy(
        update={
            "heads": saved(trained["first"], tmp_path / "first"),
            # Every post's top probability is under 1: the second model judges them all.
            "second_opinion": SecondOpinion(
                encoder=str(trained["encoder"]), heads=second, below=1.0
            ),
        }
    )
    desk = ReloadingClassifier(settings)
    version = desk.version
    replace_model(second, trained["retrained"].heads.save)
    after = desk.classify(TEXTS)
    alone = build_classifier(settings).classify(TEXTS)
    assert [v.sentiment_scores for v in after] == [v.sentiment_scores for v in alone]
    assert desk.version != version and desk.version.endswith("-below-1")
    assert Heads.fingerprint(second) in desk.version


def test_replacing_a_model_removes_the_parts_the_new_one_lacks_and_keeps_other_files(
    trained: dict[str, object], tmp_path: Path
) -> None:
    folder = tmp_path / "heads"
    replace_model(folder, trained["first"].heads.save)
    # As a fine-tuned model leaves them: a tuned encoder and blended heads, beside a model card.
    (folder / "encoder").mkdir()
    (folder / "encoder" / "weights.safetensors").write_bytes(b"old tuned layers")
    saved(trained["first"], folder / "untuned")
    (folder / "MODEL_CARD.md").write_text("# our model\n", encoding="utf-8")

    replace_model(folder, trained["retrained"].heads.save)

    assert not (folder / "encoder").exists() and not (folder / "untuned").exists()
    assert (folder / "MODEL_CARD.md").read_text(encoding="utf-8") == "# our model\n"
    direct = saved(trained["retrained"], tmp_path / "direct")
    assert Heads.fingerprint(folder) == Heads.fingerprint(direct)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["direct", "heads"]  # no scratch left


def test_a_failed_save_leaves_the_old_model_whole(
    trained: dict[str, object], tmp_path: Path
) -> None:
    folder = tmp_path / "heads"
    replace_model(folder, trained["first"].heads.save)
    before = Heads.fingerprint(folder)

    def save_then_fail(scratch: Path) -> None:
        trained["retrained"].heads.save(scratch)
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        replace_model(folder, save_then_fail)
    assert Heads.fingerprint(folder) == before
    assert [p.name for p in tmp_path.iterdir()] == ["heads"]
