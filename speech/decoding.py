"""One Whisper pass over a short window of audio, sized to the audio (blocking).

faster-whisper's `transcribe()` pads every window to 30 s. The CTranslate2 encoder accepts
shorter feature windows, and its cost grows with the window, so a pass here encodes the
audio plus one second of padding: without that padding the decoder, seeing speech run to
the very edge of the window, tends to loop ("ask not ask not ..."). Guards against what
remains of that: a token budget proportional to the audio, word timings from
cross-attention alignment (words placed in the padding were never said), and a trailing
repeated n-gram cut.

Interim passes of many sessions are batched in `speech.window_batch`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ctranslate2
import numpy as np
import numpy.typing as npt
from faster_whisper.transcribe import merge_punctuations

from speech.audio import SAMPLE_RATE, Samples
from speech.frames import HOP, MAX_FRAMES
from speech.model import SpeechModel
from speech.transcript import Word

PAD_FRAMES = 100
MAX_PROMPT_TOKENS = 223
_TOKENS_PER_S = 6.0
_INSTANT_S = 0.02
_PACKED_ZONE_S = 0.6
_PREPEND = "\"'\u201c\u00bf([{-"
_APPEND = "\"'.\u3002,\uff0c!\uff01?\uff1f:\uff1a\u201d)]}\u3001"


@dataclass(frozen=True, slots=True)
class Encoded:
    """Encoder output for a window of `frames` content mel frames (10 ms each)."""

    output: Any
    frames: int
    padded_frames: int

    @property
    def duration_s(self) -> float:
        return self.frames * HOP / SAMPLE_RATE


@dataclass(frozen=True, slots=True)
class Pass:
    words: tuple[Word, ...]
    no_speech_prob: float
    avg_logprob: float

    @property
    def silent(self) -> bool:
        return not self.words


EMPTY_PASS = Pass((), 1.0, 0.0)


def padded_length(frames: int, *, step: int = 2) -> int:
    """Encoder length for `frames` of content: at least one second more, rounded up to a
    multiple of `step` frames (even), at most 30 s."""
    step += step % 2
    return min(MAX_FRAMES, -(-(frames + PAD_FRAMES) // step) * step)


def mel_window(
    model: SpeechModel, audio: Samples, *, step: int = 2
) -> tuple[npt.NDArray[np.float32], int]:
    """Mel features of `audio` (at most 30 s) padded as `padded_length` says, and the
    content frames."""
    feats = model.whisper.feature_extractor(audio)[:, :-1]
    frames = min(feats.shape[-1], MAX_FRAMES)
    window = np.zeros((feats.shape[0], padded_length(frames, step=step)), dtype=np.float32)
    window[:, :frames] = feats[:, :frames]
    return window, frames


def encode(model: SpeechModel, audio: Samples, *, reuse: bool = False, step: int = 2) -> Encoded:
    """Encoder output for `audio`, padded as `padded_length` says. `reuse`: share it
    through `model.encodings` with other callers over the same audio and padding (the
    final decode and the evaluation of a recording: the encoder is most of either's cost)."""
    key = b""
    if reuse:
        samples = np.ascontiguousarray(audio, dtype=np.float32)
        key = hashlib.blake2b(samples.tobytes(), digest_size=16).digest() + step.to_bytes(4)
        cached: Encoded | None = model.encodings.get(key)
        if cached is not None:
            return cached
    window, frames = mel_window(model, audio, step=step)
    storage = ctranslate2.StorageView.from_array(np.ascontiguousarray(window[None]))
    encoded = Encoded(model.ct2.encode(storage), frames, window.shape[-1])
    if reuse:
        model.encodings.put(key, encoded)
    return encoded


def context_tokens(model: SpeechModel, context: str, *, limit: int, step: int = 1) -> list[int]:
    """The last `limit` tokens of `context`, their number rounded down to a multiple of
    `step` (none if fewer than `step`)."""
    if not context.strip() or limit <= 0:
        return []
    tokens = model.tokenizer.encode(" " + context.strip())[-limit:]
    return list(tokens[len(tokens) % step :])


def prompt_tokens(
    model: SpeechModel, context: str, *, limit: int = MAX_PROMPT_TOKENS, step: int = 1
) -> list[int]:
    """The decoder prompt with the last `limit` tokens of `context` (see `context_tokens`)."""
    return prompt_for(model, context_tokens(model, context, limit=limit, step=step))


def prompt_for(model: SpeechModel, context: Sequence[int]) -> list[int]:
    """The decoder prompt: previous-text tokens (if any), then the start of transcript."""
    tok = model.tokenizer
    previous = [tok.sot_prev, *context] if context else []
    return [*previous, *tok.sot_sequence, tok.no_timestamps]


def token_budget(frames: int) -> int:
    """Most text tokens `frames` of speech can hold; more is a decoding loop."""
    return int(frames * HOP / SAMPLE_RATE * _TOKENS_PER_S) + 4


def decode(
    model: SpeechModel,
    audio: Samples,
    *,
    context: str = "",
    offset_s: float = 0.0,
) -> Pass:
    """Transcribe `audio` (16 kHz, at most 30 s) with `context` as the previous text.

    Word times are shifted by `offset_s` (the window's place in the utterance).
    """
    if len(audio) < SAMPLE_RATE // 10:
        return EMPTY_PASS
    enc = encode(model, audio)
    prompt = prompt_tokens(model, context)
    budget = token_budget(enc.frames)
    (result,) = generate(model, enc.output, [prompt], max_length=len(prompt) + budget)
    tokens = [t for t in result.sequences_ids[0] if t < model.tokenizer.eot]
    no_speech, avg_logprob = scores(result, tokens)
    if not is_heard(model, tokens, no_speech, avg_logprob):
        return Pass((), no_speech, avg_logprob)
    words = align_words(model, enc, tokens)
    words = drop_repeated_tail(drop_outside(words, enc.duration_s))
    return Pass(tuple(w.shifted(offset_s) for w in words), no_speech, avg_logprob)


def generate(
    model: SpeechModel, features: Any, prompts: Sequence[list[int]], *, max_length: int
) -> list[Any]:
    """Greedy (or `beam_size`) decoding of encoder output `features` [B, T, D] from
    `prompts`, with the scores and no-speech probabilities the silence test needs."""
    results: list[Any] = model.ct2.generate(
        features,
        list(prompts),
        beam_size=model.settings.beam_size,
        max_length=max_length,
        return_scores=True,
        return_no_speech_prob=True,
        suppress_blank=True,
        suppress_tokens=model.suppress_tokens,
    )
    return results


def scores(result: Any, tokens: list[int]) -> tuple[float, float]:
    """No-speech probability and average token log probability of a decoding result."""
    avg_logprob = float(result.scores[0]) * len(tokens) / (len(tokens) + 1)
    return float(result.no_speech_prob), avg_logprob


def is_heard(model: SpeechModel, tokens: list[int], no_speech: float, avg_logprob: float) -> bool:
    """Whether a pass heard speech: some text, and not both likely silence and doubtful."""
    settings = model.settings
    silence = no_speech > settings.no_speech_threshold and avg_logprob < settings.logprob_threshold
    return bool(tokens) and not silence


def alignment_words(alignment: list[dict[str, Any]]) -> list[Word]:
    merge_punctuations(alignment, _PREPEND, _APPEND)
    return [
        Word(a["word"], float(a["start"]), float(a["end"]), float(a["probability"]))
        for a in alignment
        if a["word"].strip()
    ]


def align_words(model: SpeechModel, enc: Encoded, tokens: list[int]) -> list[Word]:
    """Word timings from cross-attention (faster-whisper's own `find_alignment`).

    Aligned against the padded window so that words the audio does not hold land in the
    padding, where `drop_outside` finds them.
    """
    alignment = model.whisper.find_alignment(
        model.tokenizer, [tokens], enc.output, enc.padded_frames
    )[0]
    return alignment_words(alignment)


def drop_outside(words: list[Word], duration_s: float) -> list[Word]:
    """Drop words that start in the padding, or that alignment packs into one instant at
    the end of the audio (a decoding loop squeezed into the last frames); clip ends."""
    kept = [w for w in words if w.start < duration_s - 0.04]
    for i in range(len(kept) - 1):
        a, b = kept[i], kept[i + 1]
        if a.start > duration_s - _PACKED_ZONE_S and a.end - a.start < _INSTANT_S > b.end - b.start:
            kept = kept[:i]
            break
    return [Word(w.word, w.start, min(w.end, duration_s), w.probability) for w in kept]


def drop_repeated_tail(words: list[Word], *, max_n: int = 12) -> list[Word]:
    """Cut a trailing n-gram that repeats back to back (a decoding loop), keeping one copy.

    A single word is a loop from its third copy; longer n-grams from their second, since
    people do repeat a word ("the the") but rarely a phrase twice at the very end.
    """
    keys = [w.key for w in words]
    changed = True
    while changed:
        changed = False
        for n in range(1, max_n + 1):
            copies = 3 if n == 1 else 2
            if len(keys) < n * copies:
                continue
            tail = keys[-n:]
            if all(keys[-n * (c + 1) : len(keys) - n * c] == tail for c in range(copies)):
                keys, words = keys[:-n], words[:-n]
                changed = True
                break
    return words
