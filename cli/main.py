"""The `parley` command: serve, db, users, demo, evaluate, worker, rescore, observe.

Settings are read once here, from the environment and `.env`, and passed down.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from cli import demo, evaluate, logging_setup, observe, rescore, worker
from rest.settings import Settings


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from rest.app import create_app

    host = args.host or settings.server.host
    port = args.port or settings.server.port
    uvicorn.run(
        create_app(settings, freeze_heap=True),
        host=host,
        port=port,
        log_level=settings.server.log_level.lower(),
        # The client address (rate limits, logs) comes from X-Forwarded-For only when the
        # peer is a configured proxy; from anyone else the header is ignored.
        proxy_headers=bool(settings.limits.trusted_proxies),
        forwarded_allow_ips=settings.limits.trusted_proxies or None,
        ws=settings.server.ws_protocol,
        ws_per_message_deflate=settings.server.ws_compression,
        # Logging is Parley's (cli.logging_setup), access lines included (rest.access_log).
        log_config=None,
        access_log=False,
    )
    return 0


def _db(settings: Settings, args: argparse.Namespace) -> int:
    from storage import migrate

    if args.db_command == "upgrade":
        migrate.upgrade(settings.db.url, args.revision)
        print(f"database at revision {args.revision}")
        return 0
    if args.db_command == "downgrade":
        migrate.downgrade(settings.db.url, args.revision)
        print(f"database at revision {args.revision}")
        return 0
    diffs = asyncio.run(migrate.schema_diff(settings.db.url))
    if diffs:
        print("models and database differ:")
        for diff in diffs:
            print(f"  {diff}")
        return 1
    print("models and database agree")
    return 0


async def _create_user(settings: Settings, args: argparse.Namespace, password: str) -> str:
    from rest.auth.passwords import Passwords
    from storage import users
    from storage.engine import create_engine, create_sessionmaker
    from storage.models import Role

    engine = create_engine(settings.db)
    try:
        async with create_sessionmaker(engine).begin() as db:
            user = await users.create(
                db,
                email=args.email,
                display_name=args.name or args.email.split("@")[0],
                password_hash=await asyncio.to_thread(Passwords().hash, password),
                role=Role(args.role),
            )
            return str(user.id)
    finally:
        await engine.dispose()


def _users(settings: Settings, args: argparse.Namespace) -> int:
    from rest.auth.passwords import MIN_LENGTH
    from storage.errors import ParleyError

    password = args.password or os.environ.get("PARLEY_PASSWORD") or ""
    if not password and sys.stdin.isatty():
        password = getpass.getpass("password: ")
    if len(password) < MIN_LENGTH:
        print(f"error: the password needs at least {MIN_LENGTH} characters", file=sys.stderr)
        return 2
    try:
        user_id = asyncio.run(_create_user(settings, args, password))
    except ParleyError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(f"created {args.role} {args.email} ({user_id})")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="parley", description="Parley speaking-practice server")
    sub = root.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP and websocket server")
    serve.add_argument("--host", help="interface to bind (default: settings)")
    serve.add_argument("--port", type=int, help="port to bind (default: settings)")
    serve.set_defaults(run=_serve)

    db = sub.add_parser("db", help="database migrations")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="apply migrations")
    up.add_argument("revision", nargs="?", default="head")
    down = db_sub.add_parser("downgrade", help="revert migrations")
    down.add_argument("revision")
    db_sub.add_parser("check", help="exit 1 when the models and the database differ")
    db.set_defaults(run=_db)

    users = sub.add_parser("users", help="user administration")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    create = users_sub.add_parser("create", help="create a user (e.g. the first admin)")
    create.add_argument("--role", choices=["learner", "tutor", "admin"], required=True)
    create.add_argument("--email", required=True)
    create.add_argument("--name", help="display name (default: from the email)")
    create.add_argument(
        "--password", help="password (default: $PARLEY_PASSWORD, else asked interactively)"
    )
    users.set_defaults(run=_users)

    demo.register(sub)
    evaluate.register(sub)
    worker.register(sub)
    rescore.register(sub)
    observe.register(sub)
    return root


def settings_errors(exc: ValidationError) -> str:
    """One line per error, named as the environment variable that sets it."""
    lines = []
    for error in exc.errors():
        name = "PARLEY_" + "__".join(str(part) for part in error["loc"]).upper()
        lines.append(f"  {name}: {error['msg']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"parley: invalid settings\n{settings_errors(exc)}", file=sys.stderr)
        return 2
    # The long-running services log for machines (by default); one-off commands for people.
    service = args.command in ("serve", "worker")
    logging_setup.configure(
        settings.server.log_level,
        settings.server.node_name(),
        settings.server.log_format if service else "text",
    )
    code: int = args.run(settings, args)
    return code


if __name__ == "__main__":
    sys.exit(main())
