"""`EspeakVoice`: model audio from the espeak-ng binary (Debian's `espeak-ng` package).

A subprocess rather than a binding: the package is one `apt-get install` everywhere Parley
runs, its library is GPL and stays out of Parley's process, and a hung synthesis is killed
without harm to the server. Its absence is not a crash: every call raises TtsUnavailable,
which the server answers as 503 until the package is installed (no restart needed).
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Sequence

from speech.audio import read_wav, wav_bytes
from speech.errors import AudioFormatError
from speech.tts.settings import TtsSettings
from speech.tts.voice import TtsError, TtsUnavailable, UnknownVoice

NORMAL_WPM = 175  # espeak-ng's own default speed, which rate 100 % keeps
MIN_WPM, MAX_WPM = 80, 450  # what espeak-ng accepts
# Voice names and variants ("en-us", "en-gb-x-rp", "en+f3"); never a path nor an option.
VOICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+-]{0,39}")
INSTALL = "model audio unavailable: install espeak-ng"


def words_per_minute(rate: int) -> int:
    return max(MIN_WPM, min(MAX_WPM, round(NORMAL_WPM * rate / 100)))


def to_wav_16k(output: bytes) -> bytes:
    """espeak-ng's WAV (22.05 kHz, streamed, so its header gives no length) at 16 kHz."""
    try:
        audio = read_wav(output)
    except AudioFormatError as exc:
        raise TtsError(f"espeak-ng answered no readable audio: {exc}") from exc
    if not len(audio.samples):
        raise TtsError("espeak-ng answered no audio")
    return wav_bytes(audio.to_16k())


class EspeakVoice:
    """At most `max_concurrent` espeak-ng processes at once, each killed after `timeout_s`."""

    name = "espeak-ng"

    def __init__(self, settings: TtsSettings) -> None:
        self.path = settings.espeak_path
        self.default_voice = settings.espeak_voice
        self.timeout_s = settings.timeout_s
        self._limit = asyncio.Semaphore(settings.max_concurrent)
        self._version: str | None = None

    async def version(self) -> str:
        if self._version is None:
            out = (await self._run(["--version"], None)).decode(errors="replace")
            # "eSpeak NG text-to-speech: 1.51  Data at: /usr/lib/.../espeak-ng-data"
            found = re.search(r"text-to-speech:\s*(\S+)", out)
            self._version = found.group(1) if found else out.strip()[:40]
        return self._version

    async def synthesize(self, text: str, *, voice: str, rate: int) -> bytes:
        if VOICE_NAME.fullmatch(voice) is None:
            raise UnknownVoice(voice, self.name)
        wpm = str(words_per_minute(rate))
        # The text goes in on stdin: an argument starting with "-" would read as an option.
        args = ["-v", voice, "-s", wpm, "--stdout", "--stdin"]
        output = await self._run(args, text.encode(), voice=voice)
        return await asyncio.to_thread(to_wav_16k, output)

    async def close(self) -> None:
        return None

    async def _run(self, args: Sequence[str], stdin: bytes | None, *, voice: str = "") -> bytes:
        # Looked up on every call, so installing the package takes effect without a restart.
        binary = shutil.which(self.path)
        if binary is None:
            raise TtsUnavailable(f"{INSTALL} ({self.path!r} is not an executable)")
        async with self._limit:
            try:
                process = await asyncio.create_subprocess_exec(
                    binary,
                    *args,
                    # No input: no pipe that a fast exit could close under our write.
                    stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
            except OSError as exc:
                raise TtsUnavailable(f"{INSTALL} ({binary} cannot run: {exc})") from exc
            try:
                async with asyncio.timeout(self.timeout_s):
                    out, err = await self._communicate(process, stdin)
            except TimeoutError as exc:
                raise TtsUnavailable(
                    f"model audio unavailable: espeak-ng took over {self.timeout_s:g} s"
                ) from exc
            finally:
                # A time-out or a cancelled request must not leave the process running.
                if process.returncode is None:
                    process.kill()
                    await process.wait()
        if process.returncode != 0:
            message = err.decode(errors="replace").strip()
            if "voice does not exist" in message:
                raise UnknownVoice(voice, self.name)
            raise TtsError(f"espeak-ng failed ({process.returncode}): {message[:200]}")
        return out

    @staticmethod
    async def _communicate(
        process: asyncio.subprocess.Process, stdin: bytes | None
    ) -> tuple[bytes, bytes]:
        try:
            return await process.communicate(stdin)
        except (BrokenPipeError, ConnectionResetError, RuntimeError):
            # It exited before taking its input (uvloop reports the closed pipe with a
            # RuntimeError): its exit status and stderr say why, as after any failure.
            assert process.stdout is not None and process.stderr is not None
            out, err = await process.stdout.read(), await process.stderr.read()
            await process.wait()
            return out, err
