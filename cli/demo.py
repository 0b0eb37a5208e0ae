"""`parley demo [FILE]`: stream a recording to a running server and show what comes back.

Without credentials it registers a throwaway learner; without `--exercise` it practises the
demo exercise the server seeds (see `rest.demo_seed`). Audio goes out in 100 ms frames at
real-time pace (or `--speed` times faster), so the interim transcripts arrive as they would
for a live microphone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

from cli.client import (
    Api,
    ApiError,
    CliError,
    Credentials,
    Recording,
    add_server_arguments,
    default_server,
    print_result,
    read_recording,
    register_learner,
)
from rest.demo_seed import DEMO_EXERCISE_ID, DEMO_SAMPLE
from rest.settings import Settings

CHUNK_S = 0.1
FINAL_WAIT_S = 120.0
# Errors after which no final result will come, though the server keeps the socket open.
TERMINAL_ERRORS = frozenset({"evaluation_failed"})
DIM, RESET, CLEAR_LINE = "\033[2m", "\033[0m", "\r\033[K"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser(
        "demo", help="stream a WAV file to a running server and print the transcripts"
    )
    demo.add_argument(
        "file", nargs="?", type=Path, help="16-bit PCM WAV (default: a bundled recording)"
    )
    demo.add_argument(
        "--exercise", type=uuid.UUID, help="exercise id (default: the server's demo exercise)"
    )
    demo.add_argument(
        "--speed", type=float, default=1.0, help="times real time to stream at (default: 1)"
    )
    add_server_arguments(demo)
    demo.set_defaults(run=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.speed <= 0:
        print("error: --speed must be positive", file=sys.stderr)
        return 2
    try:
        # Asked before the event loop starts: a password prompt blocks.
        credentials = Credentials.from_args(args)
        return asyncio.run(_demo(args, args.server or default_server(settings), credentials))
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


async def _demo(args: argparse.Namespace, server: str, credentials: Credentials) -> int:
    if args.file is None:
        recording = read_recording(DEMO_SAMPLE.wav(), DEMO_SAMPLE.file)
        name = DEMO_SAMPLE.file
    else:
        recording, name = read_recording(args.file, str(args.file)), args.file.name
    api = Api(server)
    try:
        await api.sign_in(credentials)
        if api.token is None:
            email = await register_learner(api)
            print(f"Registered demo learner {email}")
        exercise = await _exercise(api, args.exercise or DEMO_EXERCISE_ID, args.exercise is None)
    finally:
        await api.aclose()
    text = exercise.get("reference_text") or exercise.get("prompt") or ""
    print(f"Exercise: {exercise['title']} ({exercise['kind'].replace('_', ' ')})")
    if text:
        print(f"  {text}")
    pace = "real time" if args.speed == 1 else f"{args.speed:g}x real time"
    print(f"Streaming {name} ({recording.duration_s:.1f} s, {recording.sample_rate} Hz, {pace})")
    assert api.token is not None
    return await _practise(api.ws_url, api.token, exercise["id"], recording, args.speed)


async def _exercise(api: Api, exercise_id: uuid.UUID, is_demo: bool) -> dict[str, Any]:
    """The exercise, after enrolling in its course when the caller is a learner."""
    try:
        exercise: dict[str, Any] = await api.call("GET", f"/v1/exercises/{exercise_id}")
    except ApiError as exc:
        if exc.status != 404:
            raise
        if is_demo:
            raise CliError(
                "this server has no demo exercise (it seeds one when "
                "PARLEY_SERVER__SEED_DEMO is true); pass --exercise ID"
            ) from exc
        raise CliError(f"exercise {exercise_id} not found, or not visible to you") from exc
    try:
        await api.call("POST", f"/v1/courses/{exercise['course_id']}/enrol")
    except ApiError as exc:
        # Staff cannot enrol as learners, and need not: they may practise what they see.
        if exc.status != 403:
            raise
    return exercise


async def _practise(
    url: str, token: str, exercise_id: str, recording: Recording, speed: float
) -> int:
    # The token goes in a subprotocol rather than the query string, which proxies log.
    protocols = [Subprotocol("parley.v1"), Subprotocol(f"bearer.{token}")]
    try:
        async with connect(url, subprotocols=protocols, open_timeout=10) as ws:
            start = {
                "type": "start",
                "exercise_id": exercise_id,
                "audio": {"encoding": "pcm_s16le", "sample_rate": recording.sample_rate},
            }
            await ws.send(json.dumps(start))
            return await _converse(ws, recording, speed)
    except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
        raise CliError(f"cannot open the practice websocket at {url}: {exc}") from exc


async def _converse(ws: ClientConnection, recording: Recording, speed: float) -> int:
    view = InterimView(sys.stdout.isatty())
    sender: asyncio.Task[None] | None = None
    try:
        async with asyncio.timeout(recording.duration_s / speed + FINAL_WAIT_S):
            async for raw in ws:
                message: dict[str, Any] = json.loads(raw)
                kind = message.get("type")
                if kind == "ack" and sender is None:
                    sender = asyncio.create_task(_send_all(ws, recording, speed))
                elif kind == "interim_transcript":
                    view.show(message["committed"], message["tentative"], message["audio_ms"])
                elif kind == "processing":
                    view.done()
                    print("Processing...")
                elif kind == "final":
                    view.done()
                    print_result(message["transcript"], message["evaluation"])
                    return 0
                elif kind == "error":
                    view.done()
                    print(
                        f"server error: {message['message']} ({message['code']})", file=sys.stderr
                    )
                    if sender is None or message.get("fatal") or message["code"] in TERMINAL_ERRORS:
                        return 1
    except TimeoutError:
        view.done()
        raise CliError("no final result from the server in time") from None
    except ConnectionClosed:
        pass
    finally:
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
    view.done()
    reason = f" ({ws.close_code} {ws.close_reason})" if ws.close_code else ""
    raise CliError(f"the server closed the connection before the final result{reason}")


async def _stream(ws: ClientConnection, recording: Recording, speed: float) -> None:
    """Send 100 ms frames on a fixed schedule (so sleeps do not add up to drift), then stop."""
    frame = int(recording.sample_rate * CHUNK_S) * 2
    began = time.monotonic()
    for index, offset in enumerate(range(0, len(recording.pcm), frame)):
        await ws.send(recording.pcm[offset : offset + frame])
        due = began + (index + 1) * CHUNK_S / speed
        await asyncio.sleep(max(0.0, due - time.monotonic()))
    await ws.send(json.dumps({"type": "stop"}))


async def _send_all(ws: ClientConnection, recording: Recording, speed: float) -> None:
    # A closed connection is the reader's to report; the sender just stops.
    with contextlib.suppress(ConnectionClosed):
        await _stream(ws, recording, speed)


class InterimView:
    """Interim transcripts: one line rewritten in place on a terminal (the tentative words
    dimmed), else one plain line per update with the tentative words in brackets."""

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self._open = False

    def show(self, committed: str, tentative: str, audio_ms: int) -> None:
        if not committed and not tentative:
            return
        if not self.tty:
            rest = f" [{tentative}]" if tentative else ""
            print(f"  {audio_ms / 1000:5.1f}s  {committed}{rest}", flush=True)
            return
        # Keep the end of a long line in view: it is where the new words appear.
        over = len(committed) + 1 + len(tentative) - (shutil.get_terminal_size().columns - 1)
        if over > 0:
            cut = over + 1  # room for the ellipsis
            if cut < len(committed):
                committed = "…" + committed[cut:]
            else:
                committed, tentative = "", "…" + tentative[cut - len(committed) :]
        gap = " " if committed and tentative else ""
        sys.stdout.write(f"{CLEAR_LINE}{committed}{gap}{DIM}{tentative}{RESET}")
        sys.stdout.flush()
        self._open = True

    def done(self) -> None:
        if self._open:
            sys.stdout.write("\n")
            self._open = False
