"""The build installs from one lock: every install path reads it, and the runtime subset agrees
with it package for package, hash for hash."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"
RUNTIME = ROOT / "requirements" / "runtime.txt"

# A pinned entry: `name==version [; marker] \` followed by its `--hash=sha256:...` lines.
_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)(?: ; ([^\\]+?))?\s*\\$")


def pins(path: Path) -> dict[tuple[str, str], set[str]]:
    """(normalised name, marker) -> {"version", "sha256:..."...} of a requirements file."""
    entries: dict[tuple[str, str], set[str]] = {}
    current: set[str] | None = None
    for line in path.read_text().splitlines():
        match = _ENTRY.match(line)
        if match:
            name = re.sub(r"[-_.]+", "-", match[1]).lower()
            current = entries.setdefault((name, (match[3] or "").strip()), {match[2]})
        elif current is not None and line.strip().startswith("--hash="):
            current.add(line.strip().removeprefix("--hash=").rstrip(" \\"))
        elif not line.startswith(" "):
            current = None
    return entries


def test_every_locked_package_has_an_exact_version_and_hashes() -> None:
    entries = pins(LOCK)
    assert len(entries) > 50
    for key, values in entries.items():
        assert any(v.startswith("sha256:") for v in values), f"{key} has no hash"
    text = LOCK.read_text()
    # Every requirement line is pinned: a line naming a package without == would slip past.
    loose = [
        line
        for line in text.splitlines()
        if line and not line[0].isspace() and not line.startswith("#") and "==" not in line
    ]
    assert loose == []


def test_the_runtime_set_is_the_lock_s_own_subset() -> None:
    lock, runtime = pins(LOCK), pins(RUNTIME)
    assert set(runtime) < set(lock)
    for key, values in runtime.items():
        assert values == lock[key], f"{key} differs between runtime.txt and lock.txt"


def test_the_lock_covers_pyproject_s_requirements() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    locked = {name for name, _ in pins(LOCK)}
    runtime = {name for name, _ in pins(RUNTIME)}
    for requirement in wanted:
        name = re.sub(r"[-_.]+", "-", re.split(r"[\[<>=!~ ;]", requirement)[0]).lower()
        if name == "parley":
            continue
        assert name in locked, f"{name} is not in the lock"
        if requirement in project["dependencies"]:
            assert name in runtime, f"{name} is not in the runtime set"


def test_every_install_path_reads_the_lock() -> None:
    makefile = (ROOT / "Makefile").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "--require-hashes -r requirements/runtime.txt" in dockerfile
    assert "-r requirements/runtime.txt" in makefile
    assert "-r requirements/lock.txt" in makefile
    assert "make test" in ci
    # Nothing resolves on its own: every other pip install is of Parley itself, without deps.
    for text in (makefile, dockerfile):
        for line in text.splitlines():
            command = line.split("#", 1)[0]
            if "pip install" in command and "--require-hashes" not in command:
                assert "--no-deps" in command, line
