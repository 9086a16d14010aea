"""A running desk follows retraining: when `mentiondesk train` replaces the model folder it reads,
the next batch is judged with the new model, without a restart.

The classifier is rebuilt when the heads.json of a model folder it reads changes (training moves
it in last: locations.replace_model), the second opinion's included, or when the data folder gets
a trained model where the bundled one was read. A complete model in a local folder is rebuilt when
any of its files changes: move the old folder away and the new one in (while none is there, the
model in memory keeps judging). It costs a few stat calls a batch; the new weights load lazily,
as at start-up. A folder rewritten with the same model (the same version) keeps the one in memory.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from listener.classifying.classifier import Classifier, Progress, Verdict
from listener.classifying.encoder import resolve_encoder_location
from listener.classifying.locations import METADATA_FILE, complete_model_files
from listener.classifying.settings import ClassifierConfig, build_classifier, resolve_heads_dir

logger = logging.getLogger(__name__)

# A watched file: its path, inode, modification time and size.
FileVersion = tuple[str, int, int, int]
Signature = tuple[FileVersion, ...] | None


class ReloadingClassifier:
    """The configured classifier, rebuilt when the model files it was built from are replaced."""

    def __init__(self, config: ClassifierConfig, *, data_dir: Path | None = None) -> None:
        self._config = config
        self._data_dir = data_dir
        self._lock = threading.Lock()
        # Complete models read from a local folder at start: later, a missing folder is one
        # being swapped, not a hub id.
        self._local_complete_models = {
            location for location, _ in self._model_sources() if location and location.is_dir()
        }
        self._signature = self._model_signature()
        self._unloadable: Signature = None  # a changed model that failed to load, not retried
        self._classifier = build_classifier(config, data_dir=data_dir)

    def _model_sources(self) -> list[tuple[Path | None, Path | None]]:
        """(complete model location, heads folder) for the first model and the second opinion:
        one of the two is set for each."""
        config, opinion = self._config, self._config.second_opinion
        complete = config.sequence_classification_model
        sources = [
            (Path(resolve_encoder_location(complete)), None)
            if complete
            else (None, resolve_heads_dir(config, self._data_dir))
        ]
        if opinion is not None:
            complete = opinion.sequence_classification_model
            sources.append(
                (Path(resolve_encoder_location(complete)) if complete else None, opinion.heads)
            )
        return sources

    def _watched_files(self) -> list[Path] | None:
        """The files whose change means a new model: each heads folder's heads.json, and every
        file of a complete model in a local folder (a hub id has none). None while a local
        complete model's folder is missing (mid-swap)."""
        files: list[Path] = []
        for location, heads in self._model_sources():
            if location is not None:
                if location in self._local_complete_models and not location.is_dir():
                    return None
                files.extend(complete_model_files(str(location)))
            elif heads is not None:
                files.append(heads / METADATA_FILE)
        return files

    def _model_signature(self) -> Signature:
        """Which files the models come from, and which version of each."""
        files = self._watched_files()
        if files is None:
            return None
        signature = []
        for path in files:
            try:
                found = path.stat()
            except OSError:
                return None  # mid-replacement or removed: keep judging with the models in memory
            signature.append((str(path), found.st_ino, found.st_mtime_ns, found.st_size))
        return tuple(signature) or None

    def current(self) -> Classifier:
        with self._lock:
            signature = self._model_signature()
            if signature is not None and signature not in (self._signature, self._unloadable):
                try:
                    rebuilt = build_classifier(self._config, data_dir=self._data_dir)
                except Exception as exc:
                    # Half-written by a tool that writes in place, or broken: the desk keeps
                    # judging with the model in memory, and tries again when the file changes.
                    logger.warning(
                        "the model in %s changed but cannot be loaded, so verdicts stay with "
                        "%s: %s",
                        self._changed_files(signature),
                        self._classifier.version,
                        exc,
                    )
                    self._unloadable = signature
                    return self._classifier
                if rebuilt.version == self._classifier.version:
                    # Rewritten with the same content (a copy put in place): keep the model in
                    # memory, whose weights are loaded already.
                    self._signature = signature
                    return self._classifier
                logger.info(
                    "the model changed (%s): judging with %s from now on, not %s",
                    self._changed_files(signature),
                    rebuilt.version,
                    self._classifier.version,
                )
                self._classifier, self._signature = rebuilt, signature
            return self._classifier

    def _changed_files(self, signature: tuple[FileVersion, ...]) -> str:
        return ", ".join(entry[0] for entry in signature if entry not in (self._signature or ()))

    @property
    def version(self) -> str:
        return self.current().version

    def classify(
        self,
        texts: Sequence[object],
        *,
        languages: Sequence[str | None] | None = None,
        progress: Progress | None = None,
    ) -> list[Verdict]:
        return self.current().classify(texts, languages=languages, progress=progress)
