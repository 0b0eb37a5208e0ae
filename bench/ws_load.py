"""Concurrent learners on one server: how many real-time sessions a node sustains.

    .venv/bin/python bench/ws_load.py [--sessions 1 4 8 12 16 20] [--mix] [--json]
        [--env PARLEY_SPEECH__MAX_CONCURRENT_INFERENCE=2 ...]
        [--server http://127.0.0.1:8000 --token ADMIN_ACCESS_TOKEN --pid SERVER_PID]

For each N, N learners (one account each) stream the same ~41 s programme as
`ws_latency.py` at real-time pace in 100 ms frames, starting at random within 1 s, then
stop and await their final, all against one `parley serve` process (started on
127.0.0.1 with SQLite unless `--server`). In step, every session pauses and speaks its
dense passages within the same second: the worst case. With `--mix`, session i of N
streams the programme started at i/N of its length and run round to where it started
(`bench.programme.shifted`: the same words and pauses, one more pause at the seam), as
learners who did not start together would; the latency thirds are still each session's
own first and last, and each third then holds every passage about equally often, so that
only the node can make the last third slower. In step, the thirds hold different
passages (the programme's last third is denser), so growth there is judged only by how
far the interims' audio position trails the audio sent. Per N: interim and committed
word latency, stop -> final, whether latency grows over the session (first vs last
third of the stream), word error rate (of the final, and of the last interim over the audio it
covers), and CPU use of the server and of everything else on the machine (this client
included) as shares of all cores, from /proc.

A level passes when every session got its final, interim p95 <= `--target-ms` and
latency does not grow: the interims' audio position no further behind the audio sent in
the last third than in the first (p95, at most 30 % and 200 ms more) and, with `--mix`,
the last third's word latency p50 within the same margins of the first third's. Not p95:
a third of 4 sessions holds ~120 words, and its p95 (the 6th-latest word) swung from 501
to 862 ms between runs of an idle node.
Levels stop once one fails by more than 3x the target (each further level only slower).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.analysis import report
from bench.learner import CpuMeter, stream_session
from bench.programme import PROGRAMME, Programme, build_programme, shifted
from bench.server import Server, create_exercise, register_learner
from bench.ws_latency import server_for


def grows(first: dict[str, float], last: dict[str, float], key: str) -> bool:
    delta = last[key] - first[key]
    return bool(delta > 200 and delta > 0.3 * first[key])


async def level(
    server: Server, programme: Programme, n: int, rng: random.Random, *, mix: bool, pause_s: float
) -> dict[str, Any]:
    """N sessions streaming `programme`, or with `mix` its shifts 0, 1/N, 2/N ..."""
    tokens = [register_learner(server, f"load{n}-{i}") for i in range(n)]
    programmes = [shifted(programme, i / n, pause_s) for i in range(n)] if mix else [programme]
    pairs = [(create_exercise(server, p.text), p) for p in programmes]
    chosen = [pairs[i % len(pairs)] for i in range(n)]
    meter = CpuMeter(server.pid)
    records = await asyncio.gather(
        *(
            stream_session(server, token, exercise_id, p.pcm, delay_s=rng.uniform(0, 1))
            for token, (exercise_id, p) in zip(tokens, chosen, strict=True)
        )
    )
    sessions = [(r, p) for r, (_, p) in zip(records, chosen, strict=True)]
    result = report(sessions) | {"cpu": meter.read(), "n": n}
    words_grow = mix and grows(
        result["interim_first_third"], result["interim_last_third"], "p50_ms"
    )
    result["grows"] = words_grow or grows(
        result["interim_lag_first_third"], result["interim_lag_last_third"], "p95_ms"
    )
    return result


def row(r: dict[str, Any], target_ms: float) -> str:
    i, c, f = r["interim"], r["committed"], r["stop_to_final"]
    first, last = r["interim_first_third"], r["interim_last_third"]
    r["ok"] = not r["failed"] and i["p95_ms"] <= target_ms and not r["grows"]
    cpu = r["cpu"]
    return (
        f"{r['n']:>3} {i['p50_ms']:>6} {i['p95_ms']:>6} {c['p50_ms']:>6} {c['p95_ms']:>6} "
        f"{first['p50_ms']:>5}>{last['p50_ms']:<5} {first['p95_ms']:>5}>{last['p95_ms']:<5} "
        f"{r['interim_lag_first_third']['p95_ms']:>4}>{r['interim_lag_last_third']['p95_ms']:<4} "
        f"{f['p50_ms']:>6} {f['p95_ms']:>6} {r['wer']:>5.3f} {r['interim_wer']:>5.3f} "
        f"{cpu.get('server_util', float('nan')):>5.2f} "
        f"{cpu.get('other_util', cpu.get('machine_util', float('nan'))):>5.2f} "
        f"{len(r['failed']):>3} {'yes' if r['ok'] else 'NO'}"
    )


HEADER = (
    "  N interim(ms)   committed       first>last third          "
    "         stop->final  WER   WER   cpu  other bad ok\n"
    "       p50    p95    p50    p95   p50 ms      p95 ms     lag"
    " p95     p50    p95 final  live   srv"
)


async def run(args: argparse.Namespace, server: Server) -> list[dict[str, Any]]:
    programme = build_programme(PROGRAMME, args.pause_s)
    rng = random.Random(args.seed)
    results = []
    mode = "shifted (--mix)" if args.mix else "in step"
    print(f"{programme.duration_s:.1f} s programme, {mode}; env {args.env}", flush=True)
    print(HEADER, flush=True)
    for n in args.sessions:
        result = await level(server, programme, n, rng, mix=args.mix, pause_s=args.pause_s)
        results.append(result)
        print(row(result, args.target_ms), flush=True)
        if result["failed"]:
            print(f"    failed: {result['failed'][:3]}", flush=True)
        if result["interim"]["p95_ms"] > 3 * args.target_ms:
            break
    passing = [r["n"] for r in results if r["ok"]]
    best = max((n for n in passing if all(r["ok"] for r in results if r["n"] <= n)), default=0)
    print(f"max sessions with p95 interim <= {args.target_ms:.0f} ms and no growth: {best}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 4, 8, 12, 16, 20])
    parser.add_argument("--target-ms", type=float, default=1500.0)
    parser.add_argument("--pause-s", type=float, default=1.0, help="silence between clips")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--mix",
        action="store_true",
        help="session i of N starts the programme at i/N of its length (and runs round)",
    )
    parser.add_argument("--env", action="append", default=[], help="server setting KEY=VALUE")
    parser.add_argument("--server", help="use this running server instead of starting one")
    parser.add_argument("--token", default="", help="admin access token for --server")
    parser.add_argument("--pid", type=int, help="pid of --server, for its CPU use")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args()
    if args.server and not args.token:
        parser.error("--server needs --token (an admin access token)")
    with server_for(args) as server:
        if args.pid:
            server.pid = args.pid
        results = asyncio.run(run(args, server))
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
