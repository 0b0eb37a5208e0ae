"""The trained utterance scorer: features (`features`), weights artefact and arithmetic
(`linear`). Trained and measured by bench/train_scorer.py and bench/validity.py."""
