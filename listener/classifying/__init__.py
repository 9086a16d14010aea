"""Understanding mentions: sentiment, complaint and topic, from an encoder plus small heads.

Entry points: `settings.ClassifierConfig` + `settings.build_classifier()` (the model, loaded
lazily), `service.classify_pending()` (the pipeline job), `training.train_heads()`,
`finetuning.fine_tune()` (the encoder tuned with the heads) and
`evaluation.evaluate()`.
"""
