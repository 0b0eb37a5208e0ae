"""Final segments decoded many at a time give what each gives alone (real model, real
recordings): the resumed-session guarantee rests on it."""

from __future__ import annotations

from speech.audio import SAMPLE_RATE, load_wav_16k
from speech.model import SpeechModel
from speech.segment_batch import BUCKET_FRAMES, bucket_frames, decode_segments
from tests.speech.conftest import NATIVE
from tests.speech.test_streaming import word_error_rate

CLIPS = (
    "jfk.wav",
    "sense_and_sensibility_01_austen_64kb-0870.wav",
    "sense_and_sensibility_01_austen_64kb-0880.wav",
    "sense_and_sensibility_01_austen_64kb-0890.wav",
)


def test_buckets_are_whole_multiples_of_five_seconds_up_to_thirty() -> None:
    assert bucket_frames(300) == BUCKET_FRAMES == 500
    assert bucket_frames(500) == 500
    assert bucket_frames(502) == 1000
    assert bucket_frames(2_990) == 3_000


def test_a_segment_decodes_alike_alone_and_in_any_batch(
    model: SpeechModel, manifest: dict[str, str]
) -> None:
    clips = [load_wav_16k(NATIVE / name) for name in CLIPS]
    # Two lengths per clip, so that buckets hold several segments and some hold one.
    segments = [
        (clip[: seconds * SAMPLE_RATE], float(i))
        for i, clip in enumerate(clips)
        for seconds in (3, 8)
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
