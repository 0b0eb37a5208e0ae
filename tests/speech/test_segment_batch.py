"""Final segments decoded many at a time give what each gives alone (real model, real
recordings): the resumed-session guarantee rests on it."""

from __future__ import annotations

import numpy as np

from speech.audio import SAMPLE_RATE, Samples, load_wav_16k
from speech.model import SpeechModel
from speech.segment_batch import decode_segments, segment_encoding
from tests.speech.conftest import NATIVE
from tests.speech.test_streaming import word_error_rate

CLIPS = (
    "jfk.wav",
    "sense_and_sensibility_01_austen_64kb-0870.wav",
    "sense_and_sensibility_01_austen_64kb-0880.wav",
    "sense_and_sensibility_01_austen_64kb-0890.wav",
)


def test_segments_are_encoded_in_steps_of_five_seconds(model: SpeechModel, jfk: Samples) -> None:
    # At least one second of padding, up to the next step (from 2 s on); never beyond 30 s.
    lengths = {
        s: segment_encoding(model, jfk[: int(s * SAMPLE_RATE)]).padded_frames
        for s in (1.0, 1.6, 4.0, 4.1, 11.0)
    }
    assert lengths == {1.0: 200, 1.6: 260, 4.0: 500, 4.1: 1000, 11.0: 1500}
    assert segment_encoding(model, np.tile(jfk, 3)[: 29 * SAMPLE_RATE]).padded_frames == 3000


def test_a_segment_decodes_alike_alone_and_in_any_batch(
    model: SpeechModel, manifest: dict[str, str]
) -> None:
    clips = [load_wav_16k(NATIVE / name) for name in CLIPS]
    # Two lengths per clip, so that buckets hold several segments and some hold one.
    segments = [
        (clip[: seconds * SAMPLE_RATE], float(i))
        for i, clip in enumerate(clips)
        for seconds in (3, 6)
    ]
    alone = [decode_segments(model, [segment])[0] for segment in segments]
    assert all(p.words for p in alone)
    together = decode_segments(model, segments)
    backwards = decode_segments(model, segments[::-1])[::-1]
    assert together == alone
    assert backwards == alone
    # Word times are those of the segment's place in the recording.
    assert alone[2].words[0].start >= 1.0
    whole = decode_segments(model, [(clips[0], 0.0)])[0]
    assert word_error_rate(manifest["jfk.wav"], " ".join(w.word for w in whole.words)) <= 0.1
