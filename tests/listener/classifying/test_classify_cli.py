"""`mentiondesk classify`, `train` and `evaluate` as a user runs them, with the real model."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from safetensors.torch import load_file
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import responders.cli.classify  # noqa: F401  (registers the commands)
from listener.classifying.blending import SENTIMENT_ADJUSTMENT
from listener.classifying.locations import BUNDLED_HEADS_DIR
from listener.classifying.precision import native_bf16
from listener.classifying.service import record_correction
from listener.classifying.training import HEADS_ONLY_SENTIMENT_ADJUSTMENT
from listener.sources.base import FetchResult, RawAuthor, RawMention
from listener.store.ingest import store_fetch_result
from listener.store.types import utcnow
from responders.cli import app

KEYS = {"sentiment", "sentiment_scores", "complaint", "complaint_score", "topic", "model"}
ANGRY = "@northwindair you lost my bag again, worst airline, I want my money back"
HAPPY = "@northwindair what a wonderful crew, thank you for a great flight!"

LABELLED = [
    (ANGRY, "negative", 1),
    (HAPPY, "positive", 0),
    ("@northwindair flight delayed 5 hours and no food vouchers. Terrible.", "negative", 1),
    ("@northwindair love the new seats, so comfortable", "positive", 0),
    ("@northwindair does the 9am flight to Chicago have wifi?", "neutral", 0),
    ("@northwindair is there a lounge in terminal B?", "neutral", 0),
    ("@northwindair my seat was broken and the staff were rude", "negative", 1),
    ("@northwindair thanks, the rebooking was quick and easy", "positive", 0),
]


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    # A private data folder: no heads trained by another test leak into this one.
    monkeypatch.setenv("MENTIONDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("MENTIONDESK_CONFIG", raising=False)
    return CliRunner()


def _write_csv(path: Path, header: list[str], rows: list[tuple]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_classify_csv_prints_one_object_per_row_in_order(runner: CliRunner, tmp_path: Path) -> None:
    posts = _write_csv(tmp_path / "posts.csv", ["id", "body"], [(1, ANGRY), (2, ""), (3, HAPPY)])
    result = runner.invoke(app, ["classify", str(posts), "--text-column", "body"])
    assert result.exit_code == 0, result.output
    rows = _jsonl(result.stdout)
    assert [set(r) for r in rows] == [KEYS] * 3
    assert [r["sentiment"] for r in rows] == ["negative", "neutral", "positive"]
    assert [r["complaint"] for r in rows] == [True, False, False]
    assert rows[0]["model"].startswith("minilm-l6+tuned+heads-")
    assert rows[1]["topic"] is None and rows[1]["complaint_score"] == 0.0


def test_classify_jsonl_and_plain_text_to_an_output_file(runner: CliRunner, tmp_path: Path) -> None:
    jsonl = tmp_path / "posts.jsonl"
    jsonl.write_text(json.dumps({"message": HAPPY}) + "\n" + json.dumps({"message": 42}) + "\n")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app, ["classify", str(jsonl), "--text-column", "message", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert [r["sentiment"] for r in _jsonl(out.read_text())] == ["positive", "neutral"]
    assert "2 verdict(s) written" in result.stderr

    plain = tmp_path / "posts.txt"
    plain.write_text(f"{ANGRY}\n{HAPPY}\n")
    result = runner.invoke(app, ["classify", str(plain)])
    assert result.exit_code == 0, result.output
    assert [r["sentiment"] for r in _jsonl(result.stdout)] == ["negative", "positive"]


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (b"id,body\n1,hello\n", ["--text-column", "text"], "no column 'text'"),
        (b"", [], "file is empty"),
        (b"text\n", [], "no rows after the header"),
        (b"\xff\xfe\x00b\x00a\x00d", [], "not UTF-8"),
        (b'{"text": "ok"}\n{"body": "no text"}\n', [], ":2: no field 'text'"),
    ],
)
def test_classify_refuses_bad_input_with_exit_2(
    runner: CliRunner, tmp_path: Path, content: bytes, args: list[str], message: str
) -> None:
    suffix = ".jsonl" if content.startswith(b"{") else ".csv"
    path = tmp_path / f"posts{suffix}"
    path.write_bytes(content)
    result = runner.invoke(app, ["classify", str(path), *args])
    assert result.exit_code == 2
    assert message in result.stderr and result.stdout == ""


def test_classify_a_missing_file_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["classify", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert "file not found" in result.stderr


def test_evaluate_prints_our_figures_beside_vaders(runner: CliRunner, tmp_path: Path) -> None:
    data = _write_csv(tmp_path / "gold.csv", ["text", "sentiment", "complaint"], LABELLED)
    result = runner.invoke(
        app, ["evaluate", str(data), "--task", "sentiment", "--label-column", "sentiment"]
    )
    assert result.exit_code == 0, result.output
    assert "macro-F1" in result.stdout and "VADER baseline" in result.stdout
    assert "confusion" in result.stdout

    result = runner.invoke(
        app,
        ["evaluate", str(data), "--task", "complaint", "--label-column", "complaint", "--json"],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["task"] == "complaint"
    assert figures["figures"]["total"] == figures["vader"]["total"] == len(LABELLED)
    assert figures["figures"]["macro_f1"] >= 80  # obvious posts
    assert set(figures["figures"]["per_class"]) == {"complaint", "not_complaint"}


def test_evaluate_refuses_an_unknown_task_or_label_column(
    runner: CliRunner, tmp_path: Path
) -> None:
    data = _write_csv(tmp_path / "gold.csv", ["text", "sentiment", "complaint"], LABELLED)
    bad_task = runner.invoke(app, ["evaluate", str(data), "--task", "x", "--label-column", "y"])
    assert bad_task.exit_code == 2 and "--task must be" in bad_task.stderr
    bad_column = runner.invoke(
        app, ["evaluate", str(data), "--task", "sentiment", "--label-column", "mood"]
    )
    assert bad_column.exit_code == 2 and "no column 'mood'" in bad_column.stderr


# What `train` tunes in the encoder, and what it saves for that beside the heads.
TUNED = {"lora": ("LoRA", "adapter", "+lora+"), "all": ("every layer", "encoder", "+tuned+")}


@pytest.mark.parametrize(
    ("method", "options", "tune", "progress"),
    [
        ("fine-tune", [], "all", "epoch 3/3 done"),  # the default: every layer, kept at rank 32
        ("fine-tune", ["--tune", "lora"], "lora", "epoch 3/3 done"),
        ("heads", [], None, "epoch 20/20"),
    ],
)
def test_train_with_corrections_makes_a_new_version_that_classify_uses(
    runner: CliRunner,
    tmp_path: Path,
    session: Session,
    database_url: str,
    method: str,
    options: list[str],
    tune: str | None,
    progress: str,
) -> None:
    (mention,) = _store_one(session, "@northwindair the gate agent was brilliant")
    record_correction(session, mention, "sentiment", "positive", "ana@desk")
    record_correction(session, mention, "complaint", False, "ana@desk")
    session.commit()
    config = tmp_path / "mentiondesk.toml"
    config.write_text(
        f'[[brands]]\nname = "Northwind Air"\nnames = ["Northwind Air"]\n'
        f'[database]\nurl = "{database_url}"\n'
    )
    data = tmp_path / "labelled"
    data.mkdir()
    _write_csv(data / "sentiment.csv", ["text", "sentiment"], [(t, s) for t, s, _ in LABELLED])
    _write_csv(data / "complaints.csv", ["text", "complaint"], [(t, c) for t, _, c in LABELLED])

    result = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(data),
            "--include-corrections",
            "--dev-fraction",
            "0.25",
            "--method",
            method,
            *options,
            "--config",
            str(config),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "corrections: 1 sentiment, 1 complaint" in result.stderr
    assert "a running desk judges with it from its next batch" in result.stderr
    assert "held out sentiment: macro-F1" in result.stderr
    assert progress in result.stderr
    version = result.stdout.strip().rsplit("(model ", 1)[1].rstrip(")")
    saved = tmp_path / "data" / "heads"
    assert (saved / "heads.safetensors").is_file()
    assert (saved / "untuned" / "heads.json").is_file() == (tune is not None)
    # A fine-tuned model judges in one pass: its bridge is fitted as it is trained.
    assert (saved / "bridged" / "heads.json").is_file() == (tune is not None)
    assert (saved / "topic-bridge.safetensors").is_file() == (tune is not None)
    for other, (_, subdir, marker) in TUNED.items():
        assert (saved / subdir).is_dir() == (other == tune)
        assert (marker in version) == (other == tune)
    if tune:  # fine-tuning computes in bf16 exactly where the CPU does it natively
        precision = "bf16" if native_bf16() else "fp32"
        what = TUNED[tune][0]
        assert f"({what}, 3 epochs, {precision}), measuring the rest" in result.stderr
    # Each kind of model carries the sentiment adjustment cross-validated for it.
    adjustment = json.loads((saved / "heads.json").read_text())["sentiment_adjustment"]
    assert adjustment == (SENTIMENT_ADJUSTMENT if tune else HEADS_ONLY_SENTIMENT_ADJUSTMENT)
    if tune == "all":
        layers = load_file(str(saved / "encoder" / "weights.safetensors"))
        assert layers["encoder.layer.5.output.dense.weight::up"].shape == (384, 32)

    posts = tmp_path / "posts.txt"
    posts.write_text(HAPPY + "\n")
    classified = runner.invoke(app, ["classify", str(posts)])
    assert classified.exit_code == 0, classified.output
    assert _jsonl(classified.stdout)[0]["model"] == version != _bundled_version()


def test_train_says_when_the_config_keeps_the_desk_on_another_model(
    runner: CliRunner, tmp_path: Path
) -> None:
    config = tmp_path / "mentiondesk.toml"
    config.write_text(
        '[[brands]]\nname = "Northwind Air"\nnames = ["Northwind Air"]\n'
        f'[classifier]\nheads = "{BUNDLED_HEADS_DIR}"\n'
    )
    data = _labelled_folder(tmp_path)
    args = ["train", "--data", str(data), "--method", "heads", "--dev-fraction", "0"]
    result = runner.invoke(app, [*args, "--config", str(config)])
    assert result.exit_code == 0, result.output
    saved = tmp_path / "data" / "heads"
    assert (
        f"the config's [classifier] heads names {BUNDLED_HEADS_DIR}, so the desk keeps judging "
        f'with that model: set heads = "{saved}" to use this one'
    ) in " ".join(result.stderr.split())


TOPICS_TOML = """
[[classifier.topics]]
name = "lost_luggage"
description = "luggage lost or delayed"
examples = ["my bag never arrived"]
[[classifier.topics]]
name = "wifi"
description = "wifi and internet on board"
examples = ["the wifi does not work"]
"""


def test_train_keeps_posts_staff_filed_under_a_topic_as_examples_of_it(
    runner: CliRunner, tmp_path: Path, session: Session, database_url: str
) -> None:
    belt = "@northwindair the belt stopped and half of us are still waiting"
    belt_id, seat_id = _store_one(session, belt), _store_one(session, "seat 12C is broken", "78")
    record_correction(session, belt_id[0], "topic", "lost_luggage", "ana@desk")
    record_correction(session, seat_id[0], "topic", "seats", "ana@desk")  # before seats was cut
    session.commit()
    config = tmp_path / "mentiondesk.toml"
    # A similarity of 0.45 or more: the belt post (0.40 with lost_luggage) is under it.
    config.write_text(
        '[[brands]]\nname = "Northwind Air"\nnames = ["Northwind Air"]\n'
        f'[database]\nurl = "{database_url}"\n[classifier]\ntopic_threshold = 0.45\n' + TOPICS_TOML
    )
    posts = tmp_path / "posts.txt"
    posts.write_text(belt + "\n")
    before = runner.invoke(app, ["classify", str(posts), "--config", str(config)])
    assert _jsonl(before.stdout)[0]["topic"] is None, before.output

    data = _labelled_folder(tmp_path)
    args = ["train", "--data", str(data), "--method", "heads", "--dev-fraction", "0"]
    result = runner.invoke(app, [*args, "--include-corrections", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "corrections: 0 sentiment, 0 complaint, 2 topic" in result.stderr
    assert (
        "topic corrections naming seats left out: not a configured topic ([[classifier.topics]])"
        in result.stderr
    )
    saved = json.loads((tmp_path / "data" / "heads" / "heads.json").read_text())
    assert saved["topic_examples"] == {"lost_luggage": [belt]}

    after = runner.invoke(app, ["classify", str(posts), "--config", str(config)])
    assert after.exit_code == 0, after.output
    assert _jsonl(after.stdout)[0]["topic"] == "lost_luggage"


def test_train_topics_only_copies_the_model_in_use_with_the_filed_posts(
    runner: CliRunner, tmp_path: Path, session: Session, database_url: str
) -> None:
    belt = "@northwindair the belt stopped and half of us are still waiting"
    (belt_id,) = _store_one(session, belt)
    record_correction(session, belt_id, "topic", "lost_luggage", "ana@desk")
    record_correction(session, belt_id, "sentiment", "negative", "ana@desk")
    session.commit()
    config = tmp_path / "mentiondesk.toml"
    config.write_text(
        '[[brands]]\nname = "Northwind Air"\nnames = ["Northwind Air"]\n'
        f'[database]\nurl = "{database_url}"\n[classifier]\ntopic_threshold = 0.45\n' + TOPICS_TOML
    )
    args = ["train", "--topics-only", "--data", str(tmp_path / "no-such-folder")]
    result = runner.invoke(app, [*args, "--config", str(config)])
    assert result.exit_code == 0, result.output
    saved = tmp_path / "data" / "heads"
    # The bundled model, every part of it, with the filed post: a new version, still tuned.
    assert (
        f"{BUNDLED_HEADS_DIR} with 1 post(s) filed under 1 topic(s) written to {saved}"
        in result.stdout
    )
    assert "1 sentiment and complaint correction(s) are not learned with --topics-only" in (
        result.stderr
    )
    for part in ("heads.safetensors", "encoder", "untuned", "bridged", "topic-bridge.safetensors"):
        assert (saved / part).exists(), part
    metadata = json.loads((saved / "heads.json").read_text())
    bundled = json.loads((BUNDLED_HEADS_DIR / "heads.json").read_text())
    assert metadata.pop("topic_examples") == {"lost_luggage": [belt]}
    assert metadata == {k: v for k, v in bundled.items() if k != "topic_examples"}

    posts = tmp_path / "posts.txt"
    posts.write_text(belt + "\n")
    [verdict] = _jsonl(runner.invoke(app, ["classify", str(posts), "--config", str(config)]).stdout)
    assert verdict["topic"] == "lost_luggage"
    assert "+tuned+" in verdict["model"] and verdict["model"] != _bundled_version()


def _labelled_folder(tmp_path: Path) -> Path:
    data = tmp_path / "labelled"
    data.mkdir()
    _write_csv(data / "sentiment.csv", ["text", "sentiment"], [(t, s) for t, s, _ in LABELLED])
    _write_csv(data / "complaints.csv", ["text", "complaint"], [(t, c) for t, _, c in LABELLED])
    return data


def test_train_bridge_only_gives_an_older_model_its_one_pass_bridge(
    runner: CliRunner, tmp_path: Path
) -> None:

    # The bundled model as it was before bridging: no bridged heads, no topic bridge.
    older = shutil.copytree(BUNDLED_HEADS_DIR, tmp_path / "older")
    shutil.rmtree(older / "bridged")
    (older / "topic-bridge.safetensors").unlink()
    metadata = json.loads((older / "heads.json").read_text())
    metadata.update(bridged_heads="", topic_bridge="")
    (older / "heads.json").write_text(json.dumps(metadata))
    posts = tmp_path / "posts.txt"
    posts.write_text(ANGRY + "\n" + HAPPY + "\n")
    config = tmp_path / "mentiondesk.toml"
    config.write_text(
        '[[brands]]\nname = "Northwind Air"\nnames = ["Northwind Air"]\n'
        f'[classifier]\nheads = "{older}"\n'
    )
    before = runner.invoke(app, ["classify", str(posts), "--config", str(config)])
    assert before.exit_code == 0, before.output

    result = runner.invoke(
        app,
        [
            "train",
            "--bridge-only",
            "--data",
            str(_labelled_folder(tmp_path)),
            "--output",
            str(older),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "encoding 8 texts with the tuned encoder" in result.stderr
    assert "bridge written to" in result.stdout
    assert (older / "bridged" / "heads.json").is_file()
    # Only the bridge is new: the tuned model itself was not retrained.
    assert (older / "heads.safetensors").read_bytes() == (
        BUNDLED_HEADS_DIR / "heads.safetensors"
    ).read_bytes()
    after = runner.invoke(app, ["classify", str(posts), "--config", str(config)])
    assert after.exit_code == 0, after.output
    old_verdicts, new_verdicts = _jsonl(before.stdout), _jsonl(after.stdout)
    assert old_verdicts[0]["model"] != new_verdicts[0]["model"]
    assert [v["sentiment"] for v in new_verdicts] == ["negative", "positive"]


def test_train_bridge_only_refuses_a_model_without_untuned_heads(
    runner: CliRunner, tmp_path: Path
) -> None:

    heads_only = shutil.copytree(BUNDLED_HEADS_DIR / "untuned", tmp_path / "heads-only")
    data = _labelled_folder(tmp_path)
    result = runner.invoke(
        app, ["train", "--bridge-only", "--data", str(data), "--output", str(heads_only)]
    )
    assert result.exit_code == 2
    assert (
        f"the model in {heads_only} blends no untuned heads, so there is nothing to bridge"
        in " ".join(result.stderr.split())
    )
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no scratch
    missing = runner.invoke(
        app, ["train", "--bridge-only", "--data", str(data), "--output", str(tmp_path / "none")]
    )
    assert (
        missing.exit_code == 2
        and "none: no model there to bridge (no heads.json)" in missing.stderr
    )


def test_train_without_data_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--data", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "training data folder not found" in result.stderr


def test_train_refuses_an_unknown_method(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--data", str(tmp_path), "--method", "magic"])
    assert result.exit_code == 2 and "--method must be one of fine-tune, heads" in result.stderr


def test_train_refuses_an_unknown_tune(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--data", str(tmp_path), "--tune", "half"])
    assert result.exit_code == 2 and "--tune must be one of lora, all, not 'half'" in result.stderr


def test_train_refuses_a_saved_rank_without_tuning_every_layer(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["train", "--data", str(tmp_path), "--tune", "lora", "--saved-rank", "64"]
    )
    assert result.exit_code == 2
    assert "--saved-rank applies only to --tune all" in result.stderr


def _bundled_version() -> str:
    from listener.classifying.settings import ClassifierConfig, build_classifier

    return build_classifier(ClassifierConfig()).version


def _store_one(session: Session, text: str, external_id: str = "77") -> list[int]:
    mention = RawMention(
        network="x",
        external_id=external_id,
        url=f"https://x.com/i/status/{external_id}",
        author=RawAuthor(external_id="1", handle="flyer"),
        text=text,
        created_at=utcnow(),
        brand="Northwind Air",
        matched_query="@northwindair",
        is_competitor=False,
        raw={},
    )
    store_fetch_result(session, source_name="x", network="x", result=FetchResult([mention]))
    session.flush()
    from sqlalchemy import select

    from listener.store.models import Mention

    return list(session.scalars(select(Mention.id).where(Mention.external_id == external_id)))
