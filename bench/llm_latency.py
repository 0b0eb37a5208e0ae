"""LLM feedback stage latency, offline mode: SmolLM2-135M served by xllamacpp in-process.

    .venv/bin/python bench/llm_latency.py [--calls 20] [--threads 1] [--max-tokens 600]

Real requests: each native clip (../shared/speech/native) is transcribed and evaluated
once by the local evaluator (tiny.en), then the feedback stage is asked about it, as a
read-aloud exercise and as an open response in turn, `--calls` times in all, one at a
time. Latency is the whole stage (prompt, every attempt and retry, validation) as a
session sees it; the deadline is lifted so that slow answers are measured, not cut, and
the share that the default deadline would have cut is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from speech.audio import load_wav_16k
from speech.evaluator import LocalEvaluator
from speech.llm.client import create_client
from speech.llm.request import FeedbackRequest
from speech.llm.result import FeedbackResult
from speech.llm.server import LocalLlamaServer, resolve_gguf
from speech.llm.settings import BUNDLED_SMOLLM2, LlmSettings
from speech.llm.stage import FeedbackStage
from speech.model import SpeechModel
from speech.settings import SpeechSettings
from speech.streaming import StreamingTranscriber

NATIVE = Path(__file__).resolve().parents[2] / "shared" / "speech" / "native"
PROMPT = "Tell me about a book you have read recently."


async def evaluations() -> list[FeedbackRequest]:
    """One read-aloud and one open-response request per native clip."""
    model = SpeechModel.load(SpeechSettings())
    evaluator = LocalEvaluator(model)
    requests: list[FeedbackRequest] = []
    try:
        for line in (NATIVE / "manifest.jsonl").read_text().splitlines():
            entry = json.loads(line)
            transcriber = StreamingTranscriber(model)
            audio = load_wav_16k(NATIVE / entry["file"])
            transcriber.feed(audio)
            transcript = await transcriber.finalize()
            read = await evaluator.evaluate_read_aloud(audio, transcript, entry["text"])
            spoken = await evaluator.evaluate_open_response(audio, transcript, PROMPT)
            requests.append(FeedbackRequest("read_aloud", read.to_dict(), reference=entry["text"]))
            requests.append(FeedbackRequest("open_response", spoken.to_dict(), prompt=PROMPT))
    finally:
        model.close()
    return requests


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(args: argparse.Namespace, base_url: str, model_name: str) -> None:
    requests = await evaluations()
    settings = LlmSettings(
        base_url=base_url, model=model_name, max_tokens=args.max_tokens, timeout_s=600
    )
    client = create_client(settings)
    stage = FeedbackStage(settings, client=client)
    results: list[FeedbackResult] = []
    try:
        for i in range(args.calls):
            started = time.perf_counter()
            result = await stage.run(requests[i % len(requests)])
            results.append(result)
            print(
                f"{i + 1:>3} {requests[i % len(requests)].kind:<13} {result.source:<5} "
                f"{result.reason or '':<15} {result.latency_ms:>6} ms  "
                f"{result.prompt_tokens or 0:>4}+{result.completion_tokens or 0:<4} tokens  "
                f"attempts {result.attempts}  ({time.perf_counter() - started:.1f} s)",
                flush=True,
            )
    finally:
        await client.close()
    report(results, args)


def report(results: list[FeedbackResult], args: argparse.Namespace) -> None:
    latency = [r.latency_ms / 1000 for r in results]
    llm = [r for r in results if r.source == "llm"]
    default_deadline = LlmSettings().timeout_s
    summary: dict[str, Any] = {
        "calls": len(results),
        "threads": args.threads,
        "max_tokens": args.max_tokens,
        "latency_s": {
            "median": round(statistics.median(latency), 2),
            "p90": round(pct(latency, 0.9), 2),
            "min": round(min(latency), 2),
            "max": round(max(latency), 2),
        },
        "llm_answers": len(llm),
        "fallbacks": {
            r: sum(1 for x in results if x.reason == r) for r in {x.reason for x in results} if r
        },
        "median_completion_tokens": statistics.median(r.completion_tokens or 0 for r in results),
        f"over_default_deadline_{default_deadline:g}s": sum(v > default_deadline for v in latency),
    }
    print(json.dumps(summary, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--threads", type=int, default=LlmSettings().local_threads)
    parser.add_argument("--max-tokens", type=int, default=LlmSettings().max_tokens)
    args = parser.parse_args()
    server = LocalLlamaServer(resolve_gguf(BUNDLED_SMOLLM2), threads=args.threads)
    base_url = server.start()
    try:
        asyncio.run(measure(args, base_url, server.model_name))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
