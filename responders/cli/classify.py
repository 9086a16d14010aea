"""Classifier commands: classify a file, train the heads, evaluate on labelled data."""

from __future__ import annotations

import json
import logging
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from listener.classifying.datasets import InputError, read_labelled, read_posts
from listener.classifying.errors import ModelUnavailable
from listener.classifying.labels import TASKS
from listener.classifying.locations import (
    METADATA_FILE,
    TRAINED_HEADS_SUBDIR,
    copy_model,
    replace_model,
)
from listener.classifying.settings import ClassifierConfig, build_classifier, resolve_heads_dir
from listener.store.db import session_scope
from responders.cli import app
from responders.cli.common import ConfigOption, Context, exits_cleanly, fail
from responders.cli.common import make_context as _make_context

if TYPE_CHECKING:
    from listener.classifying.classifier import Classifier
    from listener.classifying.training import LabelledSet

# torch and transformers are imported inside the commands that need them, so that every other
# command of the CLI starts quickly.

log = logging.getLogger(__name__)

# Inputs at least this long get a progress bar on stderr.
PROGRESS_FROM_ROWS = 200
DEFAULT_TRAINING_DATA = Path("../shared/data")
FINE_TUNE, HEADS_ONLY = "fine-tune", "heads"
TRAIN_METHODS = (FINE_TUNE, HEADS_ONLY)


def _classifier_config(ctx: Context) -> ClassifierConfig:
    """The config file's [classifier] table; the defaults when there is no config file."""
    return ctx.config.classifier if ctx.has_config else ClassifierConfig()


def _build(ctx: Context) -> Classifier:
    try:
        return build_classifier(_classifier_config(ctx), data_dir=ctx.settings.data_dir)
    except ModelUnavailable as exc:
        raise fail(str(exc)) from None


@contextmanager
def _progress(total: int, label: str):
    if total < PROGRESS_FROM_ROWS:
        yield None
        return
    with typer.progressbar(length=total, label=label, file=sys.stderr) as bar:
        done = [0]

        def advance(n_done: int) -> None:
            bar.update(n_done - done[0])
            done[0] = n_done

        yield advance


def _classify(classifier: Classifier, texts: list, label: str):
    try:
        with _progress(len(texts), label) as progress:
            return classifier.classify(texts, progress=progress)
    except ModelUnavailable as exc:
        raise fail(str(exc)) from None


@app.command()
@exits_cleanly
def classify(
    file: Path = typer.Argument(..., help="CSV with a header, JSONL, or plain text (one a line)."),
    text_column: str = typer.Option("text", "--text-column", help="Column/field with the text."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="JSONL file (default: stdout)."
    ),
    config: Path = ConfigOption,
) -> None:
    """Sentiment, complaint and topic for each post in FILE, as JSONL in input order."""
    try:
        texts = read_posts(file, text_column=text_column)
    except InputError as exc:
        raise fail(str(exc)) from None
    verdicts = _classify(_build(_make_context(config)), texts, "classifying")
    lines = "".join(json.dumps(v.as_output(), ensure_ascii=False) + "\n" for v in verdicts)
    if output is None:
        sys.stdout.write(lines)
    else:
        output.write_text(lines, encoding="utf-8")
        typer.echo(f"{len(verdicts)} verdict(s) written to {output}", err=True)


@app.command()
@exits_cleanly
def train(
    data: Path = typer.Option(
        DEFAULT_TRAINING_DATA,
        "--data",
        help="Folder of labelled CSVs: columns text + sentiment, or text + complaint.",
        envvar="MENTIONDESK_TRAINING_DATA",
    ),
    include_corrections: bool = typer.Option(
        False, "--include-corrections", help="Add staff corrections from the database."
    ),
    output: Path | None = typer.Option(
        None, "--output", help="Heads folder (default: <data dir>/heads, used from then on)."
    ),
    dev_fraction: float = typer.Option(
        0.15, "--dev-fraction", min=0.0, max=0.5, help="Held out to measure; 0 skips it."
    ),
    method: str = typer.Option(
        FINE_TUNE,
        "--method",
        help=f"{FINE_TUNE}: tune the encoder with its heads and blend them with heads "
        f"over the untuned encoder: better verdicts, tens of minutes on a CPU; {HEADS_ONLY}: "
        "only heads over the untuned encoder, a few minutes.",
    ),
    epochs: int = typer.Option(3, "--epochs", min=1, max=50, help=f"Passes for {FINE_TUNE}."),
    tune: str = typer.Option(
        "all",
        "--tune",
        help=f"What {FINE_TUNE} changes in the encoder: all, every layer but the embeddings "
        "(better on general-topic posts); lora, a small adapter.",
    ),
    saved_rank: int | None = typer.Option(
        None,
        "--saved-rank",
        min=0,
        help="With --tune all: keep each tuned weight matrix's change at this rank "
        "(default 32: 2.7 MB); 0 keeps every layer exactly (43 MB).",
    ),
    cache: Path | None = typer.Option(
        None,
        "--cache",
        help="Untuned encoder's embedding cache (default: <data dir>/embedding-cache.safetensors).",
    ),
    bridge_only: bool = typer.Option(
        False,
        "--bridge-only",
        help="Retrain nothing: give the fine-tuned model in --output, trained before one-pass "
        "verdicts, the bridge that lets it judge in one encoder pass (a few minutes).",
    ),
    topics_only: bool = typer.Option(
        False,
        "--topics-only",
        help="Retrain nothing: a copy of the model the desk uses, with the posts staff filed "
        "under each configured topic as more examples of it (seconds; --data is not read).",
    ),
    config: Path = ConfigOption,
) -> None:
    """Train the sentiment and complaint model; progress and held-out figures on stderr."""
    from listener.classifying.blending import bridge_saved_model, train_blended
    from listener.classifying.encoder import Encoder
    from listener.classifying.finetuning import TUNE_CHOICES, FineTuneOptions
    from listener.classifying.heads import store_topic_examples
    from listener.classifying.precision import training_precision
    from listener.classifying.training import (
        TrainOptions,
        read_data_folder,
        train_heads_only,
    )

    if method not in TRAIN_METHODS:
        raise fail(f"--method must be one of {', '.join(TRAIN_METHODS)}, not {method!r}")
    if tune not in TUNE_CHOICES:
        raise fail(f"--tune must be one of {', '.join(TUNE_CHOICES)}, not {tune!r}")
    if saved_rank is not None and (method, tune) != (FINE_TUNE, "all"):
        raise fail("--saved-rank applies only to --tune all, which saves every tuned layer")
    ctx = _make_context(config)
    settings = _classifier_config(ctx)
    if settings.sequence_classification_model:
        raise fail("the configured classifier is a complete model; there are no heads to train")
    if topics_only:
        _learn_topics_only(ctx, settings, output or ctx.settings.data_dir / TRAINED_HEADS_SUBDIR)
        return
    if not data.is_dir():
        raise fail(f"{data}: training data folder not found (pass --data DIR)")
    sets = read_data_folder(data)
    topic_examples: dict[str, list[str]] = {}
    if include_corrections:
        labelled, topic_examples = _corrections(ctx, settings)
        sets.extend(labelled)
    data_dir = ctx.settings.data_dir
    output = output or data_dir / TRAINED_HEADS_SUBDIR
    encoder = Encoder(settings.encoder, allow_download=settings.allow_download)

    def say(message: str) -> None:
        typer.echo(message, err=True)

    cache = cache or data_dir / "embedding-cache.safetensors"
    if bridge_only:
        if not (output / METADATA_FILE).is_file():
            raise fail(
                f"{output}: no model there to bridge (no {METADATA_FILE}); pass --output DIR"
            )

        def bridged(folder: Path) -> None:
            bridge_saved_model(output, folder, encoder, sets, cache=cache, say=say)

        try:  # a desk judging with the model meanwhile sees it whole, before or after
            replace_model(output, bridged)
        except (ValueError, ModelUnavailable) as exc:
            raise fail(str(exc)) from None
        version = build_classifier(settings.model_copy(update={"heads": output})).version
        typer.echo(f"bridge written to {output} (model {version})")
        return
    try:
        heads_options = TrainOptions(dev_fraction=dev_fraction)
        if method == FINE_TUNE:
            trained = train_blended(
                encoder,
                sets,
                fine_tune_options=FineTuneOptions(
                    epochs=epochs,
                    tune=tune,
                    saved_rank=FineTuneOptions().saved_rank if saved_rank is None else saved_rank,
                    dev_fraction=dev_fraction,
                    precision=training_precision(settings.precision),
                ),
                heads_options=heads_options,
                cache=cache,
                say=say,
            )
        else:
            trained = train_heads_only(encoder, sets, options=heads_options, cache=cache, say=say)
    except (ValueError, ModelUnavailable) as exc:
        raise fail(str(exc)) from None

    def save(folder: Path) -> None:
        trained.save(folder)
        if topic_examples:
            store_topic_examples(folder, topic_examples)

    replace_model(output, save)
    version = build_classifier(settings.model_copy(update={"heads": output})).version
    typer.echo(f"heads written to {output} (model {version})")
    say(_who_uses(output, settings, data_dir))


def _corrections(
    ctx: Context, settings: ClassifierConfig
) -> tuple[list[LabelledSet], dict[str, list[str]]]:
    """Staff corrections: sentiment and complaint labels to train on, and the posts filed
    under each configured topic, which the model keeps as more examples of it."""
    from listener.classifying.service import corrections_for_training
    from listener.classifying.topics import learned_examples
    from listener.classifying.training import LabelledSet

    with session_scope(ctx.session_factory) as session:
        corrections = corrections_for_training(session)
    sets = []
    for task in TASKS:
        if corrections[task]:
            texts, labels = zip(*corrections[task], strict=True)
            sets.append(LabelledSet("corrections", task, list(texts), list(labels)))
    examples, unknown = learned_examples(
        corrections["topic"], [topic.name for topic in settings.topics]
    )
    typer.echo(
        f"corrections: {len(corrections['sentiment'])} sentiment, "
        f"{len(corrections['complaint'])} complaint, {len(corrections['topic'])} topic",
        err=True,
    )
    if unknown:
        typer.echo(
            f"topic corrections naming {', '.join(unknown)} left out: not a configured topic "
            "([[classifier.topics]])",
            err=True,
        )
    return sets, examples


def _learn_topics_only(ctx: Context, settings: ClassifierConfig, output: Path) -> None:
    """`train --topics-only`: the model in use, copied with the topic corrections' posts."""
    from listener.classifying.heads import store_topic_examples

    source = resolve_heads_dir(settings, ctx.settings.data_dir)
    labelled, examples = _corrections(ctx, settings)
    if labelled:
        typer.echo(
            f"{sum(len(s.texts) for s in labelled)} sentiment and complaint correction(s) are "
            "not learned with --topics-only: train without it for those",
            err=True,
        )

    def save(folder: Path) -> None:
        copy_model(source, folder)
        store_topic_examples(folder, examples)

    replace_model(output, save)
    version = build_classifier(settings.model_copy(update={"heads": output})).version
    filed = sum(len(texts) for texts in examples.values())
    typer.echo(
        f"{source} with {filed} post(s) filed under {len(examples)} topic(s) written to {output} "
        f"(model {version})"
    )
    typer.echo(_who_uses(output, settings, ctx.settings.data_dir), err=True)


def _who_uses(output: Path, settings: ClassifierConfig, data_dir: Path) -> str:
    """Whether the desk will judge with the model just written, and if not, how to make it."""
    if output.resolve() == resolve_heads_dir(settings, data_dir).resolve():
        return "a running desk judges with it from its next batch"
    if settings.heads is not None:
        return (
            f"the config's [classifier] heads names {settings.heads}, so the desk keeps judging "
            f'with that model: set heads = "{output}" to use this one'
        )
    return f'the desk does not read {output}: set [classifier] heads = "{output}" to use it'


@app.command("evaluate")
@exits_cleanly
def evaluate_command(
    file: Path = typer.Argument(..., help="Labelled CSV or JSONL."),
    task: str = typer.Option(..., "--task", help="sentiment or complaint."),
    label_column: str = typer.Option(..., "--label-column", help="Column with the true label."),
    text_column: str = typer.Option("text", "--text-column"),
    as_json: bool = typer.Option(False, "--json", help="Figures as JSON."),
    config: Path = ConfigOption,
) -> None:
    """Macro-F1, macro-recall, per-class report and confusion matrix, beside VADER's."""
    from listener.classifying.evaluation import evaluate

    if task not in TASKS:
        raise fail(f"--task must be one of {', '.join(TASKS)}")
    try:
        texts, truth = read_labelled(
            file, task=task, label_column=label_column, text_column=text_column
        )
    except InputError as exc:
        raise fail(str(exc)) from None
    classifier = _build(_make_context(config))
    with _progress(len(texts), "evaluating") as progress:
        try:
            result = evaluate(classifier, texts, truth, task=task, progress=progress)
        except ModelUnavailable as exc:
            raise fail(str(exc)) from None
    typer.echo(json.dumps(result.as_dict(), indent=2) if as_json else result.render())
