"""`parley evaluate FILE.wav`: score one recording offline, with the server's own evaluator.

No server and no database: the Whisper model is loaded here (as `parley serve` would load
it, from the same `PARLEY_SPEECH__*` settings), the file goes through the streaming
transcriber a live session uses, and the result is scored against `--reference` (read
aloud) or `--prompt` (open response). With an LLM configured (`PARLEY_LLM__*`, offline
mode included) the same feedback stage as a live session adds its structured feedback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.client import CliError, Recording, print_result, read_recording
from rest.settings import Settings
from speech.errors import SpeechError
from storage.models import ExerciseKind
from storage.practice import ExerciseInfo, merge_feedback

if TYPE_CHECKING:
    from speech.llm.result import FeedbackResult
    from speech.llm.settings import LlmSettings
    from speech.settings import SpeechSettings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    evaluate = sub.add_parser(
        "evaluate", help="score one WAV file offline with the local evaluator (no server)"
    )
    evaluate.add_argument("file", type=Path, help="16-bit PCM WAV file")
    what = evaluate.add_mutually_exclusive_group()
    what.add_argument("--reference", help="the text read aloud (read-aloud scoring)")
    what.add_argument("--prompt", help="the question answered (open-response scoring, the default)")
    evaluate.add_argument("--json", action="store_true", help="print the evaluation as JSON")
    evaluate.set_defaults(run=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        # Read the file before loading the model: a bad path should fail at once.
        recording = read_recording(args.file, str(args.file))
        exercise = offline_exercise(args.reference, args.prompt)
        evaluation = asyncio.run(evaluate(settings.speech, recording, exercise))
        feedback = None
        if settings.llm.configured:
            feedback = asyncio.run(llm_feedback(settings.llm, exercise, evaluation))
    except (CliError, SpeechError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        # The shape a live session stores: `feedback` structured, with its source.
        shown = evaluation if feedback is None else merge_feedback(evaluation, feedback.stored())
        print(json.dumps(shown, indent=2, ensure_ascii=False))
    else:
        print_result(evaluation["transcript"], evaluation)
        if feedback is not None:
            print_feedback(feedback)
    return 0


async def llm_feedback(
    settings: LlmSettings, exercise: ExerciseInfo, evaluation: dict[str, Any]
) -> FeedbackResult:
    """The live session's feedback stage, once (its local fallback included)."""
    from speech.llm.client import open_stage  # the openai SDK: imported only when needed
    from speech.llm.request import FeedbackRequest

    request = FeedbackRequest(
        kind=exercise.kind,
        evaluation=evaluation,
        reference=exercise.reference_text,
        prompt=exercise.prompt,
        title=exercise.title,
    )
    async with open_stage(settings) as stage:
        return await stage.run(request)


def print_feedback(result: FeedbackResult) -> None:
    origin = result.model if result.source == "llm" else f"local: {result.reason}"
    body = result.feedback
    print(f"\nTutor feedback ({origin}, {result.latency_ms} ms)\n  {body.summary}")
    for title, items in (
        ("Strengths", body.strengths),
        ("Pronunciation", body.pronunciation_tips),
        (
            "Corrections",
            [f"{c.original} -> {c.suggestion}: {c.explanation}" for c in body.corrections],
        ),
    ):
        if items:
            print(f"  {title}:")
            for item in items:
                print(f"    - {item}")
    if body.next_exercise:
        print(f"  Next: {body.next_exercise}")


def offline_exercise(reference: str | None, prompt: str | None) -> ExerciseInfo:
    """A stand-in for a stored exercise: the evaluator only reads its kind and texts."""
    if reference is not None and not reference.strip():
        raise CliError("--reference is empty")
    kind = ExerciseKind.READ_ALOUD if reference else ExerciseKind.OPEN_RESPONSE
    return ExerciseInfo(
        id=uuid.uuid4(),
        course_id=uuid.uuid4(),
        kind=kind.value,
        title="offline",
        reference_text=reference,
        prompt=prompt,
        time_limit_s=None,
    )


async def evaluate(
    settings: SpeechSettings, recording: Recording, exercise: ExerciseInfo
) -> dict[str, Any]:
    """The evaluation dict a live session's `final` carries (it includes `transcript`)."""
    # Imported here, as `parley serve` imports the app: the model stack takes most of a
    # second to import, which `parley db` and `parley users` need not pay.
    from speech.audio import PcmDecoder
    from speech.engine import WhisperEngine
    from speech.streaming import needs_interim_passes

    engine = WhisperEngine(settings)
    await engine.load(warm=False)
    try:
        transcriber = engine.transcriber()
        decoder = PcmDecoder(recording.sample_rate)
        passes = needs_interim_passes(settings, recording.duration_s)
        step = int(recording.sample_rate * settings.interim_interval_ms / 1000) * 2
        for offset in range(0, len(recording.pcm), step):
            transcriber.feed(decoder.feed(recording.pcm[offset : offset + step]))
            if passes:
                await transcriber.update()
        transcriber.feed(decoder.flush())
        transcript = await transcriber.finalize()
        return await engine.evaluate(
            transcriber.audio(),
            transcript,
            reference_text=exercise.read_aloud_text,
            prompt=exercise.prompt,
        )
    finally:
        engine.close()
