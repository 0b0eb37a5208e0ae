"""Shared parts of the websocket speech benchmarks (`ws_latency.py`, `ws_load.py`).

- the test programme: native clips joined with pauses, with reference word timings;
- a real `parley serve` child process on 127.0.0.1 (SQLite in a temporary folder), or an
  existing server, plus the REST set-up (a course, a read-aloud exercise, learners);
- a learner that streams at real-time pace and time-stamps everything it sends and gets;
- server CPU time from /proc (psutil is not a dependency).

Word timings: each clip is transcribed offline, on its own, by faster-whisper's standard
`transcribe(word_timestamps=True)` (the full 30 s window, beam 5, DTW over cross-attention)
with the same tiny.en model. This is independent of the streaming server under test (its
final words for a 40 s stream come from the interim passes being measured), is the most
accurate alignment available offline here, and is ~0.1 s exact, which bounds the error of
every latency below.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
import wave
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from speech.alignment import align
from speech.decoding import align_words, encode
from speech.model import SpeechModel
from speech.settings import SpeechSettings
from speech.text import normalize_text

NATIVE = Path(__file__).resolve().parents[2] / "shared" / "speech" / "native"
PROGRAMME = (
    "jfk.wav",
    "sense_and_sensibility_01_austen_64kb-0870.wav",
    "sense_and_sensibility_01_austen_64kb-0880.wav",
    "sense_and_sensibility_01_austen_64kb-0890.wav",
    "sense_and_sensibility_01_austen_64kb-0920.wav",
    "sense_and_sensibility_01_austen_64kb-0930.wav",
)
RATE = 16_000
CHUNK_S = 0.1
CHUNK_BYTES = int(RATE * CHUNK_S) * 2  # pcm_s16le mono
PAUSE_GAP_S = 0.4  # a silence this long between two words counts as a pause
ADMIN_EMAIL = "bench-admin@example.org"
ADMIN_PASSWORD = "bench admin password"


# the programme


@dataclass(frozen=True, slots=True)
class RefWord:
    """A normalised reference word, with times in seconds from the start of the stream."""

    text: str
    start: float
    end: float
    after_pause: bool = False
    before_pause: bool = False


@dataclass(frozen=True)
class Programme:
    pcm: bytes
    text: str
    words: tuple[RefWord, ...]

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / 2 / RATE

    @property
    def chunks(self) -> int:
        return -(-len(self.pcm) // CHUNK_BYTES)


def read_pcm(path: Path) -> bytes:
    with wave.open(str(path), "rb") as wav:
        if (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) != (RATE, 2, 1):
            raise ValueError(f"{path}: want 16 kHz 16-bit mono")
        return wav.readframes(wav.getnframes())


def manifest() -> dict[str, str]:
    lines = (NATIVE / "manifest.jsonl").read_text().splitlines()
    return {e["file"]: e["text"] for e in map(json.loads, lines)}


def voiced_frames(pcm: bytes) -> npt.NDArray[np.bool_]:
    """Voiced 10 ms frames: 12 dB over the clip's 10th-percentile level (its noise floor)."""
    audio = np.frombuffer(pcm, "<i2").astype(np.float64) / 32768
    frames = audio[: len(audio) // 160 * 160].reshape(-1, 160)
    levels = 20 * np.log10(np.maximum(np.sqrt((frames * frames).mean(axis=1)), 1e-6))
    voiced: npt.NDArray[np.bool_] = levels >= np.percentile(levels, 10) + 12
    return voiced


def forced_alignment(model: SpeechModel, pcm: bytes, text: str) -> list[tuple[str, float, float]]:
    """Times of the words of `text` in `pcm`: Whisper's cross-attention alignment of the
    known text (no recognition), then snapped to voiced frames, since the alignment
    stretches words over the pauses next to them ("ask" 2.3-3.9 s in jfk.wav)."""
    audio = (np.frombuffer(pcm, "<i2") / 32768).astype(np.float32)
    tokens = model.tokenizer.encode(" " + text.strip())
    words = align_words(model, encode(model, audio), tokens)
    voiced = voiced_frames(pcm)
    out: list[tuple[str, float, float]] = []
    prev_end = 0
    for w in words:
        end = min(len(voiced), math.ceil(w.end * 100))
        run = np.nonzero(voiced[prev_end:end])[0]
        if len(run):  # last voiced frame before the aligned end; first one after the last word
            end, start = prev_end + int(run[-1]) + 1, prev_end + int(run[0])
        else:
            start = max(prev_end, min(end - 1, int(w.start * 100)))
        prev_end = end
        for token in normalize_text(w.word):
            out.append((token, start / 100, end / 100))
    return out


def build_programme(files: tuple[str, ...], pause_s: float) -> Programme:
    """Join `files` with `pause_s` of near-silence between them."""
    texts = manifest()
    model = SpeechModel.load(SpeechSettings())
    clips: dict[str, tuple[bytes, list[tuple[str, float, float]]]] = {}
    try:
        for name in set(files):
            pcm = read_pcm(NATIVE / name)
            clips[name] = (pcm, forced_alignment(model, pcm, texts[name]))
    finally:
        model.close()
    return _joined(files, clips, _noise(pause_s), texts)


def _noise(pause_s: float) -> bytes:
    """`pause_s` of near-silence (-80 dBFS noise, as a microphone gives)."""
    return np.random.default_rng(7).normal(0, 3, int(pause_s * RATE)).astype("<i2").tobytes()


def shifted(programme: Programme, fraction: float, pause_s: float) -> Programme:
    """`programme` started at `fraction` of its length and run round to where it started,
    with `pause_s` of near-silence at the seam: cut in the middle of the pause between two
    words nearest that point (a cut between words spoken together would split sounds).
    Sessions streaming the shifts i/N of one programme hold each of its passages about
    equally often in each part of the session, so that a later part of the session is
    slower only if the node is."""
    words = programme.words
    cuts = [
        ((a.end + b.start) / 2, k)
        for k, (a, b) in enumerate(itertools.pairwise(words), 1)
        if b.start - a.end >= PAUSE_GAP_S
    ]
    if not 0 < fraction < 1 or not cuts:
        return programme
    cut_s, k = min(cuts, key=lambda c: abs(c[0] - fraction * programme.duration_s))
    cut = int(cut_s * RATE) * 2
    noise = _noise(pause_s)
    moved_s = (len(programme.pcm) - cut + len(noise)) / 2 / RATE
    start_s = cut / 2 / RATE
    order = [
        *(RefWord(w.text, w.start - start_s, w.end - start_s) for w in words[k:]),
        *(RefWord(w.text, w.start + moved_s, w.end + moved_s) for w in words[:k]),
    ]
    pcm = programme.pcm[cut:] + noise + programme.pcm[:cut]
    return Programme(pcm, " ".join(w.text for w in order), _marked(order))


def _marked(words: Sequence[RefWord]) -> tuple[RefWord, ...]:
    """`words` with the pauses before and after each marked."""
    marked = []
    for i, w in enumerate(words):
        gap_before = w.start - words[i - 1].end if i else 99.0
        gap_after = words[i + 1].start - w.end if i + 1 < len(words) else 99.0
        marked.append(
            RefWord(w.text, w.start, w.end, gap_before >= PAUSE_GAP_S, gap_after >= PAUSE_GAP_S)
        )
    return tuple(marked)


def _joined(
    files: tuple[str, ...],
    clips: dict[str, tuple[bytes, list[tuple[str, float, float]]]],
    noise: bytes,
    texts: dict[str, str],
) -> Programme:
    parts: list[bytes] = []
    words: list[RefWord] = []
    offset = 0.0
    for i, name in enumerate(files):
        if i:
            parts.append(noise)
            offset += len(noise) / 2 / RATE
        pcm, aligned = clips[name]
        for token, start, end in aligned:
            words.append(RefWord(token, offset + start, offset + end))
        parts.append(pcm)
        offset += len(pcm) / 2 / RATE
    text = " ".join(texts[name] for name in files)
    return Programme(b"".join(parts), text, _marked(words))


# statistics


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    """n, p50 and p95 in milliseconds."""
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values) * 1000) if values else float("nan"),
        "p95_ms": round(pct(values, 0.95) * 1000) if values else float("nan"),
    }


def word_errors(reference: str, heard: str) -> tuple[int, int]:
    ref, hyp = normalize_text(reference), normalize_text(heard)
    return sum(p.op != "match" for p in align(ref, hyp)), len(ref)


def error_rate(counts: list[tuple[int, int]]) -> float:
    """Word error rate pooled over `word_errors` results (errors, reference words)."""
    return sum(e for e, _ in counts) / max(1, sum(n for _, n in counts))


# the server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    admin_token: str
    pid: int | None = None

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)


def server_env(data_dir: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    return env | {
        "PARLEY_SERVER__DATA_DIR": str(data_dir),
        "PARLEY_DB__URL": f"sqlite+aiosqlite:///{data_dir / 'parley.db'}",
        "PARLEY_BLOBS__LOCAL_PATH": str(data_dir / "blobs"),
        "PARLEY_AUTH__SECRET_KEY": "bench-secret-" + "b" * 60,
        "PARLEY_SERVER__LOG_LEVEL": "warning",
        **extra,
    }


@contextmanager
def local_server(data_dir: Path, extra: dict[str, str]) -> Iterator[Server]:
    """`parley serve` on a free 127.0.0.1 port, stopped (terminate, then kill) on exit."""
    env = server_env(data_dir, extra)
    parley = str(Path(sys.executable).parent / "parley")
    subprocess.run([parley, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(
        [parley, "users", "create", "--role", "admin", "--email", ADMIN_EMAIL],
        env={**env, "PARLEY_PASSWORD": ADMIN_PASSWORD},
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = data_dir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [parley, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:  # bounded by the deadline
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/readyz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)  # a child process has no readiness signal but the endpoint
        login = httpx.post(
            f"{url}/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        login.raise_for_status()
        yield Server(url, login.json()["access_token"], process.pid)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(15)


def create_exercise(server: Server, reference_text: str) -> str:
    headers = {"Authorization": f"Bearer {server.admin_token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        course = http.post("/v1/courses", json={"title": "Bench", "status": "published"})
        course.raise_for_status()
        body = {"kind": "read_aloud", "title": "Bench read-aloud", "reference_text": reference_text}
        exercise = http.post(f"/v1/courses/{course.json()['id']}/exercises", json=body)
        exercise.raise_for_status()
        exercise_id: str = exercise.json()["id"]
        return exercise_id


def register_learner(server: Server, tag: str) -> str:
    email = f"bench-{tag}-{os.urandom(4).hex()}@example.org"
    body = {"email": email, "password": "bench learner password", "display_name": "Bench"}
    response = httpx.post(f"{server.url}/v1/auth/register", json=body, timeout=30)
    response.raise_for_status()
    token: str = response.json()["tokens"]["access_token"]
    return token


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process `pid` (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds spent busy by the whole machine (all cores), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# a learner


@dataclass
class Record:
    """Everything one streamed session sent and received, on one `perf_counter` clock."""

    sent: list[float] = field(default_factory=list)  # when chunk k went out
    received: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    stop_at: float = 0.0
    final_at: float = 0.0
    final: dict[str, Any] | None = None
    error: str | None = None

    @property
    def stop_to_final(self) -> float | None:
        return self.final_at - self.stop_at if self.final is not None else None


async def stream_session(
    server: Server,
    token: str,
    exercise_id: str,
    pcm: bytes,
    *,
    delay_s: float = 0.0,
    final_timeout_s: float = 120.0,
) -> Record:
    """Stream `pcm` in 100 ms frames at real-time pace, then `stop` and await `final`."""
    record = Record()
    await asyncio.sleep(delay_s)
    url = f"{server.ws_url}/v1/ws/practice?access_token={token}"
    try:
        async with connect(url, max_size=2**22, open_timeout=30) as ws:
            got_final = asyncio.Event()

            async def read() -> None:
                try:
                    async for raw in ws:
                        now = time.perf_counter()
                        message = json.loads(raw)
                        record.received.append((now, message))
                        if message["type"] == "final":
                            record.final, record.final_at = message, now
                            got_final.set()
                        elif message["type"] == "error" and message.get("fatal"):
                            record.error = f"{message['code']}: {message['message']}"
                except ConnectionClosed:
                    pass
                finally:
                    got_final.set()

            reader = asyncio.create_task(read())
            start = {"type": "start", "exercise_id": exercise_id, "audio": {"sample_rate": RATE}}
            await ws.send(json.dumps(start))
            t0 = time.perf_counter()
            for k, offset in enumerate(range(0, len(pcm), CHUNK_BYTES)):
                pause = t0 + k * CHUNK_S - time.perf_counter()
                if pause > 0:
                    await asyncio.sleep(pause)
                await ws.send(pcm[offset : offset + CHUNK_BYTES])
                record.sent.append(time.perf_counter())
            record.stop_at = time.perf_counter()
            await ws.send(json.dumps({"type": "stop"}))
            try:
                async with asyncio.timeout(final_timeout_s):
                    await got_final.wait()
            except TimeoutError:
                record.error = f"no final within {final_timeout_s} s"
            await ws.close()
            async with asyncio.timeout(10):
                await reader
    except (OSError, ConnectionClosed, TimeoutError) as exc:
        record.error = record.error or f"{type(exc).__name__}: {exc}"
    if record.final is None and record.error is None:
        record.error = "closed without a final"
    return record


class CpuMeter:
    """Server CPU use, and the rest of the machine's (to spot a disturbed measurement),
    as shares of all cores between construction and `read()`."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.cores = os.cpu_count() or 1
        self._wall = time.perf_counter()
        self._server = cpu_seconds(pid) if pid else 0.0
        self._machine = machine_busy_seconds()

    def read(self) -> dict[str, float]:
        wall = (time.perf_counter() - self._wall) * self.cores
        machine = (machine_busy_seconds() - self._machine) / wall
        if not self.pid:
            return {"machine_util": round(machine, 3)}
        server = (cpu_seconds(self.pid) - self._server) / wall
        return {"server_util": round(server, 3), "other_util": round(machine - server, 3)}
