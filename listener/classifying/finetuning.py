"""Fine-tuning: the encoder, through LoRA adapters or every layer, trained jointly with linear
sentiment and complaint heads.

Heads over a frozen encoder (training.py) stop short of the quality goals; tuning the encoder pays
(figures in heads/MODEL_CARD.md). The default tunes every layer but the embeddings: 1.8 points of
TweetEval recall above a LoRA adapter in cross-validation, the rest equal. The tuned layers are
saved as rank-32 changes to the shipped encoder (2.7 MB instead of 43; lowrank.py), a LoRA adapter
as peft saves it (2.7 MB); either is put into the encoder's weights when it loads, so a verdict
costs the same. Both tasks share one encoder; each batch holds one task's rows and trains that
task's head.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

from listener.classifying import lexicon, lowrank
from listener.classifying.distillation import Teacher
from listener.classifying.encoder import Encoder, mean_pool, quiet_peft, token_limit
from listener.classifying.heads import FeatureSpec, Heads, HeadsMetadata
from listener.classifying.locations import (
    ADAPTER_SUBDIR,
    TUNED_ENCODER_FILE,
    TUNED_ENCODER_SUBDIR,
)
from listener.classifying.precision import checked, forward_context
from listener.classifying.training import (
    HeldOut,
    LabelledSet,
    Say,
    TrainingResult,
    measure,
    set_weights,
    split_indices,
    task_labels,
)

logger = logging.getLogger(__name__)

# The attention and feed-forward projections of a BERT-style layer (peft matches name suffixes;
# plain "dense" would also catch the pooler, which mean pooling never uses).
LORA_TARGETS = [
    "query",
    "key",
    "value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
]
# What fine-tuning changes in the encoder: a LoRA adapter, or every layer's weights.
TUNE_LORA, TUNE_ALL = "lora", "all"
TUNE_CHOICES = (TUNE_LORA, TUNE_ALL)


@dataclass
class FineTuneOptions:
    epochs: int = 3
    batch_size: int = 32
    tune: str = TUNE_ALL
    adapter_learning_rate: float = 1e-3
    # For tune="all": whole weights move, so a step must be far smaller than an adapter's.
    encoder_learning_rate: float = 5e-5
    # For tune="all": keep each weight matrix's change at this rank when saving (0: exactly). At
    # 32 (2.7 MB) the held-out figures moved by at most 1 point, as much as retraining moves them.
    saved_rank: int = 32
    head_learning_rate: float = 1e-3
    weight_decay: float = 1e-2
    warmup_fraction: float = 0.06
    lora_rank: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    dropout: float = 0.1
    lexicon: bool = True
    dev_fraction: float = 0.15  # 0: no held-out figures, fit once on everything
    seed: int = 7
    precision: str = "fp32"  # or bf16: matmuls under autocast (precision.training_precision)
    # With a teacher (distillation.py): the share of a labelled row's loss that is its reading,
    # and the tasks whose heads also learn from the other task's texts, from readings alone.
    teacher_weight: float = 0.5
    transfer: tuple[str, ...] = ("sentiment",)


@dataclass
class Example:
    text: str
    task: str
    label: int  # index into task_labels(task); NO_LABEL: learnt from the teacher alone
    weight: float  # the set's weight times its class's balancing weight
    target: tuple[float, ...] | None = None  # the teacher's probabilities for the task


NO_LABEL = -1


@dataclass
class FineTuned:
    """A tuned encoder (adapter or layers) and its heads, saved together as one heads folder."""

    model: nn.Module  # the peft-wrapped encoder, or the encoder itself for tune="all"
    heads: Heads
    tune: str = TUNE_LORA
    # tune="all": the tuned weights as they were before tuning, and the rank to keep their
    # changes at when saving (0: exactly).
    initial: dict[str, torch.Tensor] | None = None
    saved_rank: int = 0

    def save(self, folder: Path) -> None:
        self.heads.save(folder)
        if self.tune == TUNE_ALL:
            # Only what was tuned: the frozen embeddings load from the encoder as shipped.
            tuned = {
                name: weight.detach().float().contiguous()
                for name, weight in self.model.named_parameters()
                if weight.requires_grad
            }
            if self.saved_rank and self.initial is not None:
                # fp16 halves the file; on the held-out rows it changed no figure (rank 64).
                tuned = {
                    name: weight.to(torch.float16)
                    for name, weight in lowrank.compress(
                        tuned, self.initial, self.saved_rank
                    ).items()
                }
            (folder / TUNED_ENCODER_SUBDIR).mkdir(parents=True, exist_ok=True)
            save_file(tuned, str(folder / TUNED_ENCODER_SUBDIR / TUNED_ENCODER_FILE))
            return
        # Embeddings are never tuned; "auto" would look the base model up on the Hub to check.
        self.model.save_pretrained(str(folder / ADAPTER_SUBDIR), save_embedding_layers=False)
        # peft adds an empty model-card template naming this machine's paths; ours is MODEL_CARD.md.
        (folder / ADAPTER_SUBDIR / "README.md").unlink(missing_ok=True)


def _freeze_embeddings(model: nn.Module) -> None:
    """Train every layer but the embeddings (rare words would drift on a few tweets, and they are
    half of MiniLM's weights) and the pooler (mean pooling never reads it)."""
    model.requires_grad_(True)
    frozen = [model.get_input_embeddings()]
    frozen += [getattr(model, name) for name in ("embeddings", "pooler") if hasattr(model, name)]
    for module in frozen:
        if module is not None:
            module.requires_grad_(False)


def _examples(
    sets: list[LabelledSet],
    parts: list[list[int]],
    teacher: Teacher | None = None,
    options: FineTuneOptions | None = None,
) -> list[Example]:
    examples = []
    for task in ("sentiment", "complaint"):
        first = len(examples)
        labels = task_labels(task)
        chosen = [(s, p) for s, p in zip(sets, parts, strict=True) if s.task == task]
        counts = Counter(s.labels[i] for s, p in chosen for i in p)
        # Macro figures count every class alike, so the loss should too.
        balance = {label: counts.total() / (len(counts) * n) for label, n in counts.items()}
        set_weight = set_weights([s for s, _ in chosen])
        for (labelled, indices), weight in zip(chosen, set_weight, strict=True):
            for i in indices:
                label = labelled.labels[i]
                text = labelled.texts[i]
                target = teacher[text].target(task) if teacher and text in teacher else None
                examples.append(
                    Example(text, task, labels.index(label), weight * balance[label], target)
                )
        if teacher and options and task in options.transfer:
            examples += _transfer(task, sets, parts, teacher, examples[first:])
    return examples


def _transfer(
    task: str,
    sets: list[LabelledSet],
    parts: list[list[int]],
    teacher: Teacher,
    labelled: list[Example],
) -> list[Example]:
    """The other task's training texts, with the teacher's reading for this task as their only
    target; each weighs what an average labelled row of the task does."""
    seen = {e.text for e in labelled}
    texts = dict.fromkeys(
        s.texts[i] for s, p in zip(sets, parts, strict=True) if s.task != task for i in p
    )
    weight = sum(e.weight for e in labelled) / max(1, len(labelled))
    return [
        Example(text, task, NO_LABEL, weight, teacher[text].target(task))
        for text in texts
        if text in teacher and text not in seen
    ]


def _batches(examples: list[Example], size: int, rng: random.Random) -> list[list[Example]]:
    """One task per batch; rows of similar length together (little padding), batches shuffled."""
    batches = []
    for task in ("sentiment", "complaint"):
        rows = [e for e in examples if e.task == task]
        rng.shuffle(rows)
        chunk = size * 50
        for start in range(0, len(rows), chunk):
            part = sorted(rows[start : start + chunk], key=lambda e: len(e.text))
            batches.extend(part[i : i + size] for i in range(0, len(part), size))
    rng.shuffle(batches)
    return batches


class _Trainer:
    def __init__(self, encoder: Encoder, metadata: HeadsMetadata, options: FineTuneOptions):
        checked(options.precision)
        if options.tune not in TUNE_CHOICES:
            raise ValueError(f"tune must be one of {', '.join(TUNE_CHOICES)}, not {options.tune!r}")
        torch.manual_seed(options.seed)
        self.tokenizer, base = encoder.fresh_model()
        self.max_tokens = encoder.max_tokens
        self.options = options
        self.initial: dict[str, torch.Tensor] | None = None
        if options.tune == TUNE_ALL:
            _freeze_embeddings(base)
            self.model = base
            self.initial = {
                name: weight.detach().clone()
                for name, weight in base.named_parameters()
                if weight.requires_grad
            }
        else:
            self.model = self._with_lora(base, encoder.name)
        self.heads = Heads.new(metadata, dropout=options.dropout)

    def _with_lora(self, base: nn.Module, encoder_name: str) -> nn.Module:
        from peft import LoraConfig, get_peft_model

        lora = LoraConfig(
            r=self.options.lora_rank,
            lora_alpha=self.options.lora_alpha,
            lora_dropout=self.options.lora_dropout,
            target_modules=LORA_TARGETS,
        )
        with quiet_peft():
            model = get_peft_model(base, lora)
        # The saved adapter names the encoder as configured, not this machine's install path.
        model.peft_config["default"].base_model_name_or_path = encoder_name
        return model

    def features(self, texts: list[str]) -> torch.Tensor:
        batch = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=token_limit(self.tokenizer, self.max_tokens),
            return_tensors="pt",
        )
        states = self.model(**batch).last_hidden_state
        pooled = mean_pool(states, batch["attention_mask"])
        if self.options.lexicon:
            pooled = torch.cat([pooled, lexicon.features(texts)], dim=1)
        return pooled

    def loss(self, batch: list[Example]) -> torch.Tensor:
        task = batch[0].task
        features = self.features([e.text for e in batch])
        targets = torch.tensor([e.label for e in batch])
        weights = torch.tensor([e.weight for e in batch])
        labelled = targets != NO_LABEL
        targets = targets.clamp(min=0)
        if task == "sentiment":
            logits = self.heads.sentiment(features)
            each = nn.functional.cross_entropy(logits, targets, reduction="none")
        else:
            logits = self.heads.complaint(features).squeeze(1)
            each = nn.functional.binary_cross_entropy_with_logits(
                logits, targets.float(), reduction="none"
            )
        taught = torch.tensor([e.target is not None for e in batch])
        if taught.any():
            each = self._with_teacher(task, batch, logits, each, labelled, taught)
        return (each * weights).sum() / weights.sum()

    def _with_teacher(self, task, batch, logits, hard, labelled, taught) -> torch.Tensor:
        """Each taught row's loss against the teacher's probabilities, mixed into a labelled row's
        at teacher_weight, alone for a row that has no label for the task."""
        width = 3 if task == "sentiment" else 1
        readings = torch.tensor([e.target or (0.0,) * width for e in batch])
        if task == "sentiment":
            soft = nn.functional.cross_entropy(logits, readings, reduction="none")
        else:
            soft = nn.functional.binary_cross_entropy_with_logits(
                logits, readings.squeeze(1), reduction="none"
            )
        share = self.options.teacher_weight
        mixed = torch.where(labelled, (1 - share) * hard + share * soft, soft)
        return torch.where(taught, mixed, hard)

    def fit(self, examples: list[Example], say: Say) -> None:
        from transformers import get_linear_schedule_with_warmup

        options = self.options
        rng = random.Random(options.seed)
        heads = [*self.heads.sentiment.parameters(), *self.heads.complaint.parameters()]
        encoder = [p for p in self.model.parameters() if p.requires_grad]
        encoder_rate = (
            options.encoder_learning_rate
            if options.tune == TUNE_ALL
            else options.adapter_learning_rate
        )
        optimiser = torch.optim.AdamW(
            [
                {"params": encoder, "lr": encoder_rate},
                {"params": heads, "lr": options.head_learning_rate},
            ],
            weight_decay=options.weight_decay,
        )
        per_epoch = len(_batches(examples, options.batch_size, random.Random(0)))
        total = options.epochs * per_epoch
        schedule = get_linear_schedule_with_warmup(
            optimiser, int(options.warmup_fraction * total), total
        )
        self._train_mode(True)
        step = 0
        for epoch in range(1, options.epochs + 1):
            running = 0.0
            for batch in _batches(examples, options.batch_size, rng):
                with forward_context(options.precision):
                    loss = self.loss(batch)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                schedule.step()
                running += loss.item()
                step += 1
                if step % max(1, per_epoch // 10) == 0 or step == total:
                    say(f"  epoch {epoch}/{options.epochs}, step {step}/{total}, loss {loss:.3f}")
            say(f"  epoch {epoch}/{options.epochs} done, mean loss {running / per_epoch:.3f}")
        self._train_mode(False)

    def _train_mode(self, on: bool) -> None:
        for module in (self.model, self.heads.sentiment, self.heads.complaint):
            module.train(on)

    def probabilities(self, task: str, texts: list[str]) -> torch.Tensor:
        """[n, 3] sentiment probabilities, or [n] P(complaint)."""
        head = self.heads.sentiment if task == "sentiment" else self.heads.complaint
        rows = []
        with torch.inference_mode(), forward_context(self.options.precision):
            for start in range(0, len(texts), 128):
                logits = head(self.features(texts[start : start + 128])).float()
                rows.append(
                    torch.softmax(logits, dim=1)
                    if task == "sentiment"
                    else torch.sigmoid(logits.squeeze(1))
                )
        return torch.cat(rows)


def _what(options: FineTuneOptions) -> str:
    tuned = "LoRA" if options.tune == TUNE_LORA else "every layer"
    return f"{tuned}, {options.epochs} epochs, {options.precision}"


def fine_tune(
    encoder: Encoder,
    sets: list[LabelledSet],
    *,
    options: FineTuneOptions | None = None,
    teacher: Teacher | None = None,
    say: Say = logger.info,
) -> tuple[FineTuned, TrainingResult]:
    """Measure on a held-out split (unless dev_fraction is 0), then train on everything; with a
    teacher, on its readings of the training texts as well (distillation.py)."""
    options = options or FineTuneOptions()
    for task in ("sentiment", "complaint"):
        if not any(s.task == task for s in sets):
            raise ValueError(f"no labelled data for {task}: need a CSV with columns text,{task}")
    metadata = HeadsMetadata(
        encoder=encoder.name,
        hidden_size=encoder.hidden_size,
        features=FeatureSpec(layers=[encoder.num_layers], lexicon=options.lexicon),
        head_hidden=0,
        encoder_adapter=ADAPTER_SUBDIR if options.tune == TUNE_LORA else "",
        encoder_weights=TUNED_ENCODER_SUBDIR if options.tune == TUNE_ALL else "",
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        training_data=sorted(f"{s.task}:{s.name} ({len(s.texts)} rows)" for s in sets),
    )
    held_out: list[HeldOut] = []
    if options.dev_fraction > 0:
        splits = [split_indices(len(s.texts), options.dev_fraction, options.seed) for s in sets]
        say(
            f"fine-tuning on {100 - options.dev_fraction * 100:.0f}% "
            f"({_what(options)}), measuring the rest"
        )
        trainer = _Trainer(encoder, metadata, options)
        trainer.fit(_examples(sets, [train for train, _ in splits], teacher, options), say)
        for labelled, (_, dev) in zip(sets, splits, strict=True):
            if not dev:  # too small to hold any out
                continue
            texts = [labelled.texts[i] for i in dev]
            truth = [labelled.labels[i] for i in dev]
            probabilities = trainer.probabilities(labelled.task, texts)
            held_out.append(HeldOut(labelled.task, labelled.name, texts, truth, probabilities))
    figures, reports = measure(held_out, say)
    rows = sum(len(s.texts) for s in sets)
    say(f"fine-tuning on all {rows} rows ({_what(options)})")
    trainer = _Trainer(encoder, metadata, options)
    everything = [list(range(len(s.texts))) for s in sets]
    trainer.fit(_examples(sets, everything, teacher, options), say)
    metadata.figures = figures
    tuned = FineTuned(
        trainer.model,
        trainer.heads,
        options.tune,
        initial=trainer.initial,
        saved_rank=options.saved_rank,
    )
    return tuned, TrainingResult(trainer.heads, figures, reports, held_out)
