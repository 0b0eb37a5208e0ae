"""`parley rescore`: create a rescoring job through the REST API and follow it to the end.

The scope options combine (every one must match). Progress is read from the job endpoint
every `--interval` seconds and drawn as a bar on stderr; the exit status is 0 when every
session got its new version, 1 when some failed or the job was cancelled.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from typing import Any

from cli.client import Api, CliError, Credentials, add_server_arguments, default_server
from rest.settings import Settings

FINISHED = {"completed", "failed", "cancelled"}
BAR = 30


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("rescore", help="rescore stored sessions and show the job's progress")
    scope = p.add_argument_group("scope (at least one; all given must match)")
    scope.add_argument("--course", type=uuid.UUID, help="sessions of this course")
    scope.add_argument("--exercise", type=uuid.UUID, help="sessions of this exercise")
    scope.add_argument("--learner", type=uuid.UUID, help="sessions of this learner")
    scope.add_argument(
        "--session", type=uuid.UUID, action="append", default=[], help="this session (repeat)"
    )
    scope.add_argument("--since", help="sessions started at or after (ISO 8601 with zone)")
    scope.add_argument("--until", help="sessions started before (ISO 8601 with zone)")
    p.add_argument("--model", help="Whisper model (default: the server's)")
    p.add_argument(
        "--evaluator",
        help="evaluator version to score with, e.g. 2.1.1+hand (default: the model's)",
    )
    p.add_argument("--llm", action="store_true", help="add LLM feedback")
    p.add_argument(
        "--keep-current", action="store_true", help="store new versions without making them current"
    )
    p.add_argument("--no-wait", action="store_true", help="print the job and return at once")
    p.add_argument("--interval", type=float, default=0.5, help="seconds between progress reads")
    p.add_argument("--json", action="store_true", help="print the finished job as JSON")
    add_server_arguments(p)
    p.set_defaults(run=run)


def job_body(args: argparse.Namespace) -> dict[str, Any]:
    scope: dict[str, Any] = {}
    for option, field in (("course", "course_id"), ("exercise", "exercise_id")):
        if getattr(args, option) is not None:
            scope[field] = str(getattr(args, option))
    if args.learner is not None:
        scope["learner_id"] = str(args.learner)
    if args.session:
        scope["session_ids"] = [str(s) for s in args.session]
    for name in ("since", "until"):
        if getattr(args, name):
            scope[name] = getattr(args, name)
    if not scope:
        raise CliError("name a scope: --course, --exercise, --learner, --session, --since/--until")
    options = {
        "model": args.model,
        "evaluator": args.evaluator,
        "llm": args.llm,
        "make_current": not args.keep_current,
    }
    return {"scope": scope, "options": options}


def run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        body = job_body(args)
        credentials = Credentials.from_args(args)
        return asyncio.run(
            _rescore(args, args.server or default_server(settings), credentials, body)
        )
    except CliError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1


def bar(job: dict[str, Any]) -> str:
    total = max(int(job["total"]), 1)
    finished = int(job["done"]) + int(job["failed"])
    filled = BAR * finished // total
    return (
        f"\r[{'#' * filled}{'.' * (BAR - filled)}] {finished}/{job['total']} "
        f"({job['done']} done, {job['failed']} failed) {job['status']:<10}"
    )


async def _rescore(
    args: argparse.Namespace, server: str, credentials: Credentials, body: dict[str, Any]
) -> int:
    api = Api(server)
    try:
        await api.sign_in(credentials)
        job = await api.call("POST", "/v1/rescore-jobs", body)
        print(f"job {job['id']}: {job['total']} sessions", file=sys.stderr)
        if args.no_wait:
            print(job["id"])
            return 0
        while job["status"] not in FINISHED:
            print(bar(job), end="", file=sys.stderr, flush=True)
            # The job endpoint is the source of truth; reading it is cheap.
            await asyncio.sleep(args.interval)
            job = await api.call("GET", f"/v1/rescore-jobs/{job['id']}")
        print(bar(job), file=sys.stderr)
    finally:
        await api.aclose()
    if args.json:
        print(json.dumps(job, indent=2))
    for failure in job["failures"]:
        print(f"failed: session {failure['session_id']}: {failure['reason']}", file=sys.stderr)
    return 0 if job["status"] == "completed" and not job["failed"] else 1
