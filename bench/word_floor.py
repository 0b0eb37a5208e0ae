"""How soon the model can show each word: the floor under interim word latency.

    .venv/bin/python bench/word_floor.py [--rotations 6] [--pause-s 1.0] [--json]

Streams the `ws_latency.py` programme (jfk.wav and five Sense and Sensibility clips, 1 s
pauses) through a live transcriber in-process, in 100 ms chunks, with compute time left
out: every pass is as if it took no time, so a latency here is audio, not CPU. Each word's
latency runs, as in `ws_latency.py`, from the chunk that holds its end to the first
interim that shows it, split into words after a pause, before one and mid-phrase:

- `session`: passes at a live session's cadence (counted passes, glimpses after a pause);
- `every chunk`: besides those, a pass over the session's window after every chunk, shown
  as a glimpse would be. No schedule can show a word sooner with this model and these
  windows: what stays between the categories here is the model's, not the server's.

`--rotations N` streams N orders of the clips (each clip first once), so that the words
after a pause are heard after different passages.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from bench.analysis import WordLatency, word_latencies
from bench.learner import Record
from bench.programme import CHUNK_S, PROGRAMME, Programme, RefWord, build_programme
from bench.stats import summary
from speech.agreement import Agreement
from speech.model import SpeechModel
from speech.settings import SpeechSettings
from speech.streaming import StreamingTranscriber
from speech.transcript import join_words
from speech.window_batch import decode_windows

CHUNK = int(16_000 * CHUNK_S)


def _message(at_s: float, committed: str, tentative: str) -> tuple[float, dict[str, Any]]:
    return at_s, {
        "type": "interim_transcript",
        "committed": committed,
        "tentative": tentative,
        "audio_ms": round(at_s * 1000),
    }


def _probe(model: SpeechModel, transcriber: StreamingTranscriber) -> str:
    """What a glimpse over the session's window would show now (the tentative text)."""
    (result,) = decode_windows(model, [transcriber.pass_window()])
    agreement = Agreement()
    agreement.committed = list(transcriber.committed)
    agreement.glimpse(result.words)
    return join_words(agreement.shown)


async def stream(
    model: SpeechModel, programme: Programme, *, every_chunk: bool
) -> tuple[Record, int]:
    """One compute-free session; the record's clock is the audio's."""
    settings = model.settings
    audio = (np.frombuffer(programme.pcm, "<i2") / 32768).astype(np.float32)
    transcriber = StreamingTranscriber(model, settings=settings)
    record = Record()
    next_pass_s = 0.0
    probes = 0
    for start in range(0, len(audio), CHUNK):
        transcriber.feed(audio[start : start + CHUNK])
        now_s = min(len(audio), start + CHUNK) / 16_000
        record.sent.append(now_s)
        if now_s + 1e-9 >= next_pass_s:
            passes = transcriber.passes
            interim = await transcriber.update()
            if transcriber.passes > passes:
                next_pass_s = now_s + settings.interim_interval_ms / 1000 * transcriber.pace
            record.received.append(_message(now_s, interim.committed, interim.tentative))
        if every_chunk and transcriber.window_s >= 0.3:
            probes += 1
            committed = join_words(transcriber.committed)
            record.received.append(_message(now_s, committed, _probe(model, transcriber)))
    return record, transcriber.passes + probes


def _shown(words: list[WordLatency], keep: Callable[[RefWord], bool]) -> dict[str, float]:
    return summary([w.shown_s for w in words if w.shown_s is not None and keep(w.word)])


def report(model: SpeechModel, programmes: list[Programme]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, every_chunk in (("session", False), ("every chunk", True)):
        words: list[WordLatency] = []
        passes = 0
        for programme in programmes:
            record, n = asyncio.run(stream(model, programme, every_chunk=every_chunk))
            words += word_latencies(record, programme)
            passes += n
        out[name] = {
            "after_pause": _shown(words, lambda w: w.after_pause),
            "before_pause": _shown(words, lambda w: w.before_pause),
            "mid_phrase": _shown(words, lambda w: not (w.after_pause or w.before_pause)),
            "all": _shown(words, lambda w: True),
            "never_shown": sum(w.shown_s is None for w in words),
            "passes": passes,
        }
    return out


def table(result: dict[str, Any]) -> str:
    lines = [f"{'schedule':<13}{'words':<14}{'n':>5}{'p50 ms':>8}{'p95 ms':>8}"]
    for name, row in result.items():
        for key in ("all", "after_pause", "before_pause", "mid_phrase"):
            s = row[key]
            lines.append(f"{name:<13}{key:<14}{s['n']:>5}{s['p50_ms']:>8}{s['p95_ms']:>8}")
        lines.append(f"{name:<13}passes {row['passes']}, words never shown {row['never_shown']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rotations", type=int, default=1, help="orders of the clips")
    parser.add_argument("--pause-s", type=float, default=1.0, help="silence between clips")
    parser.add_argument("--json", action="store_true", help="print the result as JSON too")
    args = parser.parse_args()
    orders = [PROGRAMME[k:] + PROGRAMME[:k] for k in range(min(args.rotations, len(PROGRAMME)))]
    programmes = [build_programme(order, args.pause_s) for order in orders]
    model = SpeechModel.load(SpeechSettings())
    try:
        result = report(model, programmes)
    finally:
        model.close()
    print(table(result))
    if args.json:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
