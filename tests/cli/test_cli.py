"""The client commands: `parley evaluate` offline and `parley demo` against a real server.

The commands run as child processes, as a user runs them, in an empty folder (no `.env`)
with no PARLEY_ variables from the developer's shell.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from cli.client import read_recording
from cli.main import main
from rest.demo_seed import DEMO_COURSE_ID, DEMO_EXERCISE_ID, ensure_demo
from storage.engine import create_engine, create_sessionmaker
from storage.migrate import upgrade_async
from storage.models import Course, CourseStatus, Exercise
from storage.settings import DatabaseSettings
from tests.realtime.server import free_port, running_server

PARLEY = str(Path(sys.executable).parent / "parley")
SPEECH = Path(__file__).resolve().parents[2].parent / "shared" / "speech"
JFK = SPEECH / "native" / "jfk.wav"
JFK_TEXT = (
    "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country."
)


def parley(cwd: Path, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    return subprocess.run(
        [PARLEY, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def write_wav(path: Path, samples: np.ndarray, *, rate: int, channels: int = 1) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.astype("<i2").tobytes())


@pytest.mark.slow
def test_evaluate_prints_the_evaluation_as_json(tmp_path: Path) -> None:
    done = parley(tmp_path, "evaluate", "--json", "--reference", JFK_TEXT, str(JFK))
    assert done.returncode == 0, done.stderr
    evaluation = json.loads(done.stdout)
    assert "ask not what your country" in evaluation["transcript"].lower()
    assert evaluation["kind"] == "read_aloud" and evaluation["reference"] == JFK_TEXT
    scores = evaluation["scores"]
    assert set(scores) == {"accuracy", "fluency", "prosody", "completeness", "overall"}
    assert all(0 <= value <= 100 for value in scores.values())  # prosody too: not null
    assert scores["completeness"] == 100
    assert [w["expected"] for w in evaluation["words"]][:3] == ["And", "so", "my"]


@pytest.mark.slow
def test_evaluate_prints_every_score_for_a_person(tmp_path: Path) -> None:
    done = parley(tmp_path, "evaluate", "--reference", JFK_TEXT, str(JFK))
    assert done.returncode == 0, done.stderr
    shown = dict(re.findall(r"^  (\w+) +(\d+)  #*$", done.stdout, re.MULTILINE))
    assert list(shown) == ["accuracy", "fluency", "prosody", "completeness", "overall"]
    assert all(0 <= int(value) <= 100 for value in shown.values()), done.stdout


@pytest.mark.parametrize("content", [None, b"not a wav file at all"], ids=["missing", "garbage"])
def test_evaluate_refuses_an_unreadable_file(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "speech.wav"
    if content is not None:
        path.write_bytes(content)
    done = parley(tmp_path, "evaluate", "--reference", "hello", str(path))
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and str(path) in done.stderr
    assert "Traceback" not in done.stderr


def test_recordings_are_made_mono_and_in_range(tmp_path: Path) -> None:
    tone = (np.sin(np.arange(9600) / 10) * 8000).astype(np.int16)
    stereo = tmp_path / "stereo.wav"
    write_wav(stereo, np.stack([tone, tone // 2], axis=1), rate=96_000, channels=2)
    converted = read_recording(stereo, "stereo.wav")
    assert converted.sample_rate == 16_000
    assert converted.duration_s == pytest.approx(0.1, abs=0.002)
    native = tmp_path / "native.wav"
    write_wav(native, tone, rate=44_100)
    kept = read_recording(native, "native.wav")
    assert (kept.sample_rate, kept.pcm) == (44_100, tone.astype("<i2").tobytes())


@pytest.mark.slow
def test_demo_streams_the_bundled_recording_to_a_server(tmp_path: Path, sqlite_url: str) -> None:
    with running_server(tmp_path, sqlite_url) as server:
        # No credentials and no exercise: the demo registers a learner and uses the
        # exercise the server seeded at start-up.
        done = parley(tmp_path, "demo", "--server", server.url, "--speed", "4")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "Registered demo learner" in out and "Exercise: Ask not (read aloud)" in out
    interims = re.findall(r"^ +\d+\.\ds  (.+)$", out, re.MULTILINE)
    assert interims, out
    assert "ask not what your country" in out.split("Transcript:")[1].lower()
    assert re.search(r"^  overall +\d+", out, re.MULTILINE), out
    assert "Word errors" in out and "Feedback" in out


def test_demo_reports_an_unreachable_server(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = parley(tmp_path, "demo", "--server", url)
    assert done.returncode == 1
    assert f"cannot reach the Parley server at {url}" in done.stderr
    assert "Traceback" not in done.stderr


async def test_demo_seeding_is_idempotent_and_safe_to_race(db_url: str) -> None:
    await upgrade_async(db_url)
    engine = create_engine(DatabaseSettings(url=db_url))
    try:
        sessions = create_sessionmaker(engine)
        # Two nodes starting at once: both succeed, one of them writes.
        first = await asyncio.gather(ensure_demo(sessions), ensure_demo(sessions))
        assert sorted(first) == [False, True]
        assert await ensure_demo(sessions) is False
        async with sessions() as db:
            exercise = await db.get(Exercise, DEMO_EXERCISE_ID)
            course = await db.get(Course, DEMO_COURSE_ID)
        assert exercise is not None and exercise.reference_text == JFK_TEXT
        assert course is not None and course.status == CourseStatus.PUBLISHED.value
    finally:
        await engine.dispose()


def test_invalid_settings_are_named_not_dumped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PARLEY_SPEECH__LOADED_WINDOW_TRIM_S", "6")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "invalid settings" in err and "PARLEY_SPEECH" in err
    assert "loaded_window_trim_s (6.0) must not exceed loaded_max_window_s (5.0)" in err
    assert "Traceback" not in err
    monkeypatch.setenv("PARLEY_SPEECH__MAX_WINDOW_S", "3")
    assert main(["serve"]) == 2
    assert "PARLEY_SPEECH__MAX_WINDOW_S: Input should be greater than 5" in capsys.readouterr().err
