"""A running desk follows retraining: when `mentiondesk train` replaces the model folder it reads,
the next batch is judged with the new model, without a restart.

The classifier is rebuilt when the heads.json of its model folder changes (training moves it in
last: locations.replace_model), or when the data folder gets a trained model where the bundled
one was read. One stat call a batch; the new weights load lazily, as at start-up.
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

Signature = tuple[str, int, int, int] | None


class ReloadingClassifier:
    """The configured classifier, rebuilt when the model files it was built from are replaced."""

    def __init__(self, config: ClassifierConfig, *, data_dir: Path | None = None) -> None:
        self._config = config
        self._data_dir = data_dir
        self._lock = threading.Lock()
        self._signature = self._model_signature()
        self._unloadable: Signature = None  # a changed model that failed to load, not retried
        self._classifier = build_classifier(config, data_dir=data_dir)

    def _model_signature(self) -> Signature:
        """Which heads.json the model comes from, and which version of that file (a complete
        model names no heads folder: nothing to follow)."""
        if self._config.sequence_classification_model:
            return None
        metadata = resolve_heads_dir(self._config, self._data_dir) / METADATA_FILE
        try:
            found = metadata.stat()
        except OSError:
            return None  # mid-replacement or removed: keep judging with the model in memory
        return (str(metadata), found.st_ino, found.st_mtime_ns, found.st_size)

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
                        signature[0],
                        self._classifier.version,
                        exc,
                    )
                    self._unloadable = signature
                    return self._classifier
                logger.info(
                    "the model changed (%s): judging with %s from now on, not %s",
                    signature[0],
                    rebuilt.version,
                    self._classifier.version,
                )
                self._classifier, self._signature = rebuilt, signature
            return self._classifier

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
