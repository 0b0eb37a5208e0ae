"""How a reading was phrased: pauses against the reference's punctuation, and pitch."""

from speech.prosody.marks import mark_prosody

__all__ = ["mark_prosody"]
