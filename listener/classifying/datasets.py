"""Reading posts, labelled or not, from CSV (with a header), JSONL, or plain text one per line."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

COMPLAINT_LABELS = ("not_complaint", "complaint")
_TRUE = {"1", "true", "yes", "y", "complaint"}
_FALSE = {"0", "false", "no", "n", "not_complaint", "not complaint"}


class InputError(ValueError):
    """The input file is missing, unreadable, empty, or lacks the named column."""


@dataclass
class Rows:
    """Values of a column per input row, in input order (None where a row lacks a value)."""

    format: str
    columns: list[str]
    rows: list[dict[str, object]]

    def column(self, name: str) -> list[object]:
        if self.columns and name not in self.columns:
            raise InputError(
                f"no column {name!r} in the input; columns found: {', '.join(self.columns)}"
            )
        return [row.get(name) for row in self.rows]


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a file") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _format_of(path: Path, text: str) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    first = next((line for line in text.splitlines() if line.strip()), "")
    return "jsonl" if first.lstrip().startswith("{") else "text"


def read_rows(path: Path, *, text_column: str = "text") -> Rows:
    text = _read_text(path)
    if not text.strip():
        raise InputError(f"{path}: file is empty")
    kind = _format_of(path, text)
    if kind == "csv":
        reader = csv.DictReader(text.splitlines())
        columns = list(reader.fieldnames or [])
        rows: list[dict[str, object]] = [dict(r) for r in reader]
        if not rows:
            raise InputError(f"{path}: no rows after the header")
        return Rows("csv", columns, rows)
    if kind == "jsonl":
        rows, columns = [], []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{number}: not valid JSON: {exc.msg}") from None
            if not isinstance(item, dict):
                raise InputError(f"{path}:{number}: each line must be a JSON object")
            if text_column not in item:
                raise InputError(f"{path}:{number}: no field {text_column!r} in this object")
            columns.extend(k for k in item if k not in columns)
            rows.append(item)
        return Rows("jsonl", columns, rows)
    return Rows("text", [text_column], [{text_column: line} for line in text.splitlines()])


def read_posts(path: Path, *, text_column: str = "text") -> list[object]:
    return read_rows(path, text_column=text_column).column(text_column)


def normalise_complaint_label(value: object) -> str:
    key = str(value).strip().lower()
    if key in _TRUE:
        return "complaint"
    if key in _FALSE:
        return "not_complaint"
    raise InputError(f"complaint label {value!r} is not one of 1/0, true/false, yes/no")


def normalise_sentiment_label(value: object) -> str:
    key = str(value).strip().lower()
    if key not in ("negative", "neutral", "positive"):
        raise InputError(f"sentiment label {value!r} is not negative, neutral or positive")
    return key


def read_labelled(
    path: Path, *, task: str, label_column: str, text_column: str = "text"
) -> tuple[list[str], list[str]]:
    rows = read_rows(path, text_column=text_column)
    if rows.format == "text":
        raise InputError(f"{path}: labelled data must be CSV or JSONL, with a label column")
    texts = rows.column(text_column)
    raw_labels = rows.column(label_column)
    normalise = normalise_complaint_label if task == "complaint" else normalise_sentiment_label
    labels = [normalise(v) for v in raw_labels]
    return ["" if t is None else str(t) for t in texts], labels
