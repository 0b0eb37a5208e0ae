"""End-to-end speech latency of one learner over the practice websocket.

    .venv/bin/python bench/ws_latency.py [--runs 2] [--final-runs 10] [--json]
        [--env PARLEY_SPEECH__INTERIM_INTERVAL_MS=200 ...]
        [--server http://127.0.0.1:8000 --token ADMIN_ACCESS_TOKEN]

Starts `parley serve` on 127.0.0.1 (SQLite in a temporary folder) unless `--server` is
given, creates a read-aloud exercise and streams real speech at real-time pace in 100 ms
frames: jfk.wav and five Sense and Sensibility clips joined by 1 s pauses (~41 s).
Reports, as p50/p95 over words: interim latency (chunk holding the word's end sent ->
first interim showing the word), the same split by words after a pause, before a pause
and mid-phrase, committed latency; then stop -> final for jfk.wav alone (11 s, `--final-runs`
sessions) and for the long stream; and the final transcripts' word error rate.
See bench/programme.py for where word timings come from, bench/analysis.py for matching.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.analysis import report, word_latencies
from bench.learner import CpuMeter, stream_session
from bench.programme import PROGRAMME, build_programme
from bench.server import Server, create_exercise, local_server, register_learner

TARGETS = {
    "interim": "p50<=400 p95<=800",
    "committed": "p50<=1500",
    "jfk_stop_to_final": "p50<=300",
}


@contextmanager
def server_for(args: argparse.Namespace) -> Iterator[Server]:
    if args.server:
        yield Server(args.server.rstrip("/"), args.token)
        return
    extra = dict(item.split("=", 1) for item in args.env)
    with (
        tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp,
        local_server(Path(tmp), extra) as server,
    ):
        yield server


async def measure(args: argparse.Namespace, server: Server) -> dict[str, Any]:
    long = build_programme(PROGRAMME, args.pause_s)
    jfk = build_programme(PROGRAMME[:1], 0.0)
    long_id = create_exercise(server, long.text)
    jfk_id = create_exercise(server, jfk.text)
    token = register_learner(server, "latency")
    meter = CpuMeter(server.pid)
    long_runs = [await stream_session(server, token, long_id, long.pcm) for _ in range(args.runs)]
    long_cpu = meter.read()
    meter = CpuMeter(server.pid)
    jfk_runs = [
        await stream_session(server, token, jfk_id, jfk.pcm) for _ in range(args.final_runs)
    ]
    jfk_cpu = meter.read()
    if args.words:
        for w in word_latencies(long_runs[0], long):
            shown, settled = (
                None if t is None else round(t * 1000) for t in (w.shown_s, w.committed_s)
            )
            flags = ("A" if w.word.after_pause else "") + ("B" if w.word.before_pause else "")
            print(
                f"{w.word.text:<12} {w.word.start:6.2f}-{w.word.end:<6.2f} {flags:<2} "
                f"shown {shown} committed {settled}"
            )
    return {
        "stream_s": round(long.duration_s, 1),
        "long": report([(r, long) for r in long_runs]) | {"cpu": long_cpu},
        "jfk": report([(r, jfk) for r in jfk_runs]) | {"cpu": jfk_cpu},
        "env": args.env,
    }


def table(result: dict[str, Any]) -> str:
    long, jfk = result["long"], result["jfk"]
    rows = [
        ("interim word latency", long["interim"], TARGETS["interim"]),
        ("  after a pause", long["interim_after_pause"], ""),
        ("  before a pause", long["interim_before_pause"], ""),
        ("  mid-phrase", long["interim_mid_phrase"], ""),
        ("  first third of stream", long["interim_first_third"], ""),
        ("  last third of stream", long["interim_last_third"], ""),
        ("committed word latency", long["committed"], TARGETS["committed"]),
        ("interim audio_ms behind sent", long["interim_lag_last_third"], "(last third)"),
        ("stop->final, jfk 11 s", jfk["stop_to_final"], TARGETS["jfk_stop_to_final"]),
        (f"stop->final, {result['stream_s']} s stream", long["stop_to_final"], ""),
        ("interim word latency, jfk runs", jfk["interim"], ""),
    ]
    lines = [f"{'measure':<34}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}  target"]
    for name, s, target in rows:
        lines.append(f"{name:<34}{s['n']:>6}{s['p50_ms']:>9}{s['p95_ms']:>9}  {target}")
    lines.append(
        f"WER: {result['stream_s']} s stream {long['wer']:.3f}, jfk {jfk['wer']:.3f}; "
        f"last interim {long['interim_wer']:.3f}; "
        f"words never shown {long['never_shown']}, not committed before stop "
        f"{long['not_committed_before_stop']}; interims/session {long['interims_per_session']}"
    )
    lines.append(f"CPU (share of all cores): long {long['cpu']}, jfk {jfk['cpu']}")
    failed = long["failed"] + jfk["failed"]
    if failed:
        lines.append(f"FAILED sessions: {failed}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="sessions of the long stream")
    parser.add_argument("--final-runs", type=int, default=10, help="jfk.wav sessions")
    parser.add_argument("--pause-s", type=float, default=1.0, help="silence between clips")
    parser.add_argument("--env", action="append", default=[], help="server setting KEY=VALUE")
    parser.add_argument("--server", help="use this running server instead of starting one")
    parser.add_argument("--token", default="", help="admin access token for --server")
    parser.add_argument("--words", action="store_true", help="print each word's latencies")
    parser.add_argument("--json", action="store_true", help="print the result as JSON too")
    args = parser.parse_args()
    if args.server and not args.token:
        parser.error("--server needs --token (an admin access token)")
    with server_for(args) as server:
        result = asyncio.run(measure(args, server))
    print(table(result))
    if args.json:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
