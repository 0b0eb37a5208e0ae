"""What speech offers the packages above it, as protocols: a live transcriber of one
utterance, the audio it works on, and the feedback stage that follows an evaluation.

Live sessions (`realtime`) and rescoring workers (`workers`) both program against these, and
are tested with small fakes of them.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from speech.llm.request import FeedbackRequest
from speech.llm.result import FeedbackResult
from speech.transcript import FinalTranscript, Interim

Samples = npt.NDArray[np.float32]


class Transcriber(Protocol):
    @property
    def audio_ms(self) -> int: ...

    def audio(self) -> Samples: ...

    @property
    def pace(self) -> float:
        """How many times the interim interval after the last update began the next
        should come: over 1 on a busy node, a fraction while speech after a pause is
        unheard."""
        ...

    def feed(self, pcm16k: Samples) -> None: ...

    async def update(self) -> Interim: ...

    async def finalize(self) -> FinalTranscript: ...

    def close(self) -> None:
        """The session ended without asking for its final: drop any work towards it."""


class FeedbackStage(Protocol):
    """Feedback after the local evaluation (`speech.llm.stage.FeedbackStage`)."""

    async def run(self, request: FeedbackRequest) -> FeedbackResult:
        """Always a result, from the LLM or local; bounded in time; never raises."""
        ...
