"""What phone alignment (speech.phones) adds to a read-aloud evaluation, per second of audio.

    .venv/bin/python bench/phones_cost.py [--runs 3] [--ocean 40] [--helper]

Each native clip (../shared/speech/native, with its reference text) and the first
`--ocean` speechocean762 clips (with their prompts) are aligned `--runs` times after one
warm-up call; prints wall and CPU seconds per second of audio (median over the runs,
summed over clips) and the longest single clip. One thread: the cost of one final. With
`--helper`, the free loop runs in the helper process (`speech.phones.helper`), as on a node:
CPU is then this process's share only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from speech.audio import SAMPLE_RATE, Samples, load_wav_16k
from speech.phones import PhoneAligner

SPEECH = Path(__file__).resolve().parents[2] / "shared" / "speech"


def clips(ocean: int) -> list[tuple[str, Samples, list[str]]]:
    out = []
    native = SPEECH / "native"
    for line in (native / "manifest.jsonl").read_text().splitlines():
        entry = json.loads(line)
        out.append((entry["file"], load_wav_16k(native / entry["file"]), entry["text"].split()))
    scores = json.loads((SPEECH / "speechocean762" / "scores.json").read_text())
    for utt in sorted(scores)[:ocean]:
        wav = SPEECH / "speechocean762" / "wav" / f"{utt}.wav"
        out.append((utt, load_wav_16k(wav), scores[utt]["text"].split()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ocean", type=int, default=40)
    parser.add_argument(
        "--helper", action="store_true", help="as a node does: the free loop in a helper process"
    )
    args = parser.parse_args()
    aligner = PhoneAligner(helper_process=args.helper)
    aligner.warm_up()
    wall = cpu = audio_s = 0.0
    worst = (0.0, "", 0.0)
    for name, audio, words in clips(args.ocean):
        walls, cpus = [], []
        for _ in range(args.runs):
            w0, c0 = time.perf_counter(), time.process_time()
            aligner.words(audio, words)
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
        seconds = len(audio) / SAMPLE_RATE
        wall += statistics.median(walls)
        cpu += statistics.median(cpus)
        audio_s += seconds
        worst = max(worst, (statistics.median(walls), name, seconds))
    print(f"audio {audio_s:.1f} s; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"wall {wall / audio_s:.4f} s and CPU {cpu / audio_s:.4f} s per second of audio")
    print(f"longest: {worst[1]} ({worst[2]:.1f} s audio) {worst[0]:.3f} s")
    aligner.close()


if __name__ == "__main__":
    main()
