"""Builds the feedback stage from settings: the OpenAI client, and in offline mode the local
llama.cpp server it talks to. Used by `parley serve` (in the lifespan) and `parley evaluate`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from openai import AsyncOpenAI

from speech.llm.result import FeedbackResult
from speech.llm.server import LocalLlamaServer, resolve_gguf
from speech.llm.settings import LlmSettings
from speech.llm.stage import FeedbackStage

# An OpenAI-compatible server without authentication still needs some key: the SDK refuses
# to start without one (and would otherwise read OPENAI_API_KEY from the environment).
NO_KEY = "not-needed"


def create_client(settings: LlmSettings, *, base_url: str | None = None) -> AsyncOpenAI:
    """The SDK client for `base_url` (default: the configured one; None means OpenAI's).

    The SDK's own retries are off: the stage has one retry policy of its own."""
    key = settings.api_key.get_secret_value() if settings.api_key else NO_KEY
    return AsyncOpenAI(
        base_url=base_url or settings.base_url,
        api_key=key,
        timeout=settings.timeout_s,
        max_retries=0,
    )


@contextlib.asynccontextmanager
async def open_stage(
    settings: LlmSettings, *, on_result: Callable[[FeedbackResult], None] | None = None
) -> AsyncIterator[FeedbackStage]:
    """The feedback stage with its client, and in offline mode (`local_gguf` set, no base URL)
    the local server it uses; all closed on exit. Not configured: a stage that answers
    locally. Raises `ModelLoadError` when the offline model cannot be served."""
    if not settings.configured:
        yield FeedbackStage(settings, client=None, on_result=on_result)
        return
    async with contextlib.AsyncExitStack() as stack:
        base_url = settings.base_url
        if base_url is None and settings.api_key is None and settings.local_gguf:
            server = LocalLlamaServer(
                resolve_gguf(settings.local_gguf),
                threads=settings.local_threads,
                context=settings.local_context,
            )
            base_url = await asyncio.to_thread(server.start)
            stack.push_async_callback(asyncio.to_thread, server.stop)
        client = create_client(settings, base_url=base_url)
        stack.push_async_callback(client.close)
        yield FeedbackStage(settings, client=client, on_result=on_result)
