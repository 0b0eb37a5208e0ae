"""Parley's web app: static files (plain ES modules, no build step) that `parley serve`
serves at `/`. They speak only the public API: REST under /v1 and the practice websocket."""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
