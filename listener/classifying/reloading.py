"""A running desk follows retraining: when `mentiondesk train` replaces the model folder it reads,
the next batch is judged with the new model, without a restart.

The classifier is rebuilt when the heads.json of a model folder it reads changes (training moves
it in last: locations.replace_model), the second opinion's included, or when the data folder gets
a trained model where the bundled one was read. It costs a few stat calls a batch; the new weights
load lazily, as at start-up. A folder rewritten with the same model (the same version) keeps the
one in memory.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from listener.classifying.classifier import Classifier, Progress, Verdict
from listener.classifying.locations import METADATA_FILE
from listener.classifying.settings import ClassifierConfig, build_classifier, resolve_heads_dir

logger = logging.getLogger(__name__)

# A heads.json: its path, inode, modification time and size.
FileVersion = tuple[str, int, int, int]
Signature = tuple[FileVersion, ...] | None


class ReloadingClassifier:
    """The configured classifier, rebuilt when the model files it was built from are replaced."""

    def __init__(self, config: ClassifierConfig, *, data_dir: Path | None = None) -> None:
        self._config = config
        self._data_dir = data_dir
        self._lock = threading.Lock()
        self._signature = self._model_signature()
        self._unloadable: Signature = None  # a changed model that failed to load, not retried
        self._classifier = build_classifier(config, data_dir=data_dir)

    def _model_folders(self) -> list[Path]:
        """The heads folders the classifier reads: the first model's, and the second opinion's
        (a complete sequence-classification model has none to follow)."""
        folders = []
        if not self._config.sequence_classification_model:
            folders.append(resolve_heads_dir(self._config, self._data_dir))
        opinion = self._config.second_opinion
        if opinion is not None and opinion.heads is not None:
            folders.append(opinion.heads)
        return folders

    def _model_signature(self) -> Signature:
        """Which heads.json files the models come from, and which version of each."""
        signature = []
        for folder in self._model_folders():
            metadata = folder / METADATA_FILE
            try:
                found = metadata.stat()
            except OSError:
                return None  # mid-replacement or removed: keep judging with the models in memory
            signature.append((str(metadata), found.st_ino, found.st_mtime_ns, found.st_size))
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
