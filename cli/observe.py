"""`parley observe`: print live session events from any node, for a person to read.

A tutor's terminal view, and a quick check that cross-node delivery works. After a dropped
connection it reconnects and resumes from the last offset it printed; when the server
cannot replay what was missed, it says so and carries on with live events.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from datetime import datetime
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

from cli.client import (
    TOKEN_ENV,
    Api,
    CliError,
    Credentials,
    add_server_arguments,
    default_server,
)
from rest.settings import Settings

RECONNECT_S = 1.0
FATAL_CLOSES = {4401: "the server refused the credentials", 4403: "not allowed"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    observe = sub.add_parser("observe", help="print live session events from any node")
    what = observe.add_mutually_exclusive_group(required=True)
    what.add_argument("--session", type=uuid.UUID, help="one session")
    what.add_argument("--learner", type=uuid.UUID, help="every session of one learner")
    what.add_argument("--course", type=uuid.UUID, help="every session in one course")
    what.add_argument("--all", action="store_true", help="every session (admins)")
    observe.add_argument(
        "--exit-on-end", action="store_true", help="exit when an observed session ends"
    )
    add_server_arguments(observe)
    observe.set_defaults(run=run)


def _channel(args: argparse.Namespace) -> dict[str, str]:
    for kind in ("session", "learner", "course"):
        if getattr(args, kind) is not None:
            return {"kind": kind, "id": str(getattr(args, kind))}
    return {"kind": "all", "id": "*"}


def run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        credentials = Credentials.from_args(args)
        server = args.server or default_server(settings)
        return asyncio.run(_observe(server, credentials, _channel(args), args.exit_on_end))
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


async def _observe(
    server: str, credentials: Credentials, channel: dict[str, str], exit_on_end: bool
) -> int:
    api = Api(server)
    try:
        await api.sign_in(credentials)
    finally:
        await api.aclose()
    if not api.token:
        raise CliError(f"observe needs credentials: --token (or ${TOKEN_ENV}), or --email")
    url = api.ws_url.removesuffix("/v1/ws/practice") + "/v1/ws/observe"
    protocols = [Subprotocol("parley.v1"), Subprotocol(f"bearer.{api.token}")]
    position: dict[str, Any] = {}
    while True:
        try:
            async with connect(url, subprotocols=protocols, open_timeout=10) as ws:
                await ws.send(json.dumps({"type": "subscribe", "channel": channel, **position}))
                async for raw in ws:
                    message = json.loads(raw)
                    if message["type"] == "reload":
                        print("(events were missed and cannot be replayed: see the history)")
                        position = {}
                        await ws.send(json.dumps({"type": "subscribe", "channel": channel}))
                    elif message["type"] == "error":
                        raise CliError(message["message"])
                    elif message["type"] == "subscribed" and not position:
                        print(f"watching {message['channel']} (Ctrl-C to stop)", flush=True)
                    elif message["type"] == "event":
                        if message["offset"] is not None:
                            position = {"offset": message["offset"], "epoch": message["epoch"]}
                        print(describe(message["event"]), flush=True)
                        if exit_on_end and message["event"]["message"]["type"] == "session_ended":
                            return 0
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else None
            if code in FATAL_CLOSES:
                reason = exc.rcvd.reason if exc.rcvd is not None else ""
                raise CliError(f"{FATAL_CLOSES[code]} ({reason})") from exc
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
            print(f"(cannot reach {url}: {exc}; retrying)", file=sys.stderr)
        print("(connection lost; reconnecting)", file=sys.stderr)
        await asyncio.sleep(RECONNECT_S)


def describe(event: dict[str, Any]) -> str:
    """One line per event: time, node, session, learner, then what happened."""
    message = event["message"]
    kind = message["type"]
    if kind == "rescore_progress":
        return (
            f"{datetime.now().strftime('%H:%M:%S')} {event['node']:<10} "
            f"rescore job {message['job_id'][:8]}  {message['done']}/{message['total']} done, "
            f"{message['failed']} failed ({message['status']})"
        )
    head = (
        f"{datetime.now().strftime('%H:%M:%S')} {event['node']:<10} "
        f"session {event['session_id'][:8]} learner {event['learner_id'][:8]}  "
    )
    if kind == "session_started":
        return f"{head}started   {message['exercise_title']!r}"
    if kind == "interim_transcript":
        tail = f" [{message['tentative']}]" if message["tentative"] else ""
        return f"{head}hearing   {message['committed']}{tail}  ({message['audio_ms'] / 1000:.1f} s)"
    if kind == "final":
        scores = message["evaluation"].get("scores", {})
        shown = ", ".join(f"{k} {v}" for k, v in scores.items() if v is not None)
        return f"{head}final     {message['transcript']!r}  ({shown})"
    if kind == "feedback":
        return f"{head}feedback  ({message['source']}) {message['feedback']['summary']}"
    if kind == "session_ended":
        return f"{head}ended     ({message['state']})"
    return f"{head}{kind}"
