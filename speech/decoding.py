"""One Whisper pass over a short window of audio, sized to the audio (blocking).

faster-whisper's `transcribe()` pads every window to 30 s. The CTranslate2 encoder accepts
shorter feature windows, and its cost grows with the window, so a pass here encodes the
audio plus one second of padding: without that padding the decoder, seeing speech run to
the very edge of the window, tends to loop ("ask not ask not ..."). Guards against what
remains of that: a token budget proportional to the audio, word timings from
cross-attention alignment (words placed in the padding were never said), and a trailing
repeated n-gram cut.

Interim passes (`decode_windows`) run many sessions' windows through one `generate` and
one `align` call: a decoding step costs little more for a dozen windows than for one
(16 windows of 5 s: `generate` ~140 ms against ~45 ms for one, on this 2-core box). The
encoder, whose cost does not shrink with batching, still runs once per window. A batch
needs one encoder length for all its windows, and that length changes the text a
little, so interim windows are padded to a multiple of a bucket (`padded_length`)
whether they are batched or not: a window gets the same result alone or in any batch of
its bucket.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ctranslate2
import numpy as np
import numpy.typing as npt
from faster_whisper.transcribe import merge_punctuations

from speech.audio import SAMPLE_RATE, Samples
from speech.transcript import Word

if TYPE_CHECKING:
    from speech.model import SpeechModel

HOP = 160
MAX_FRAMES = 3000
PAD_FRAMES = 100
MAX_PROMPT_TOKENS = 223
_TOKENS_PER_S = 6.0
# `max_length` counts the prompt in a way that varies by a token or two; batched windows
# are cut to their own budget afterwards, so a little more room changes nothing.
_LENGTH_SLACK = 4
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


@dataclass(frozen=True, slots=True)
class Window:
    """The input of one interim pass: audio (16 kHz, at most 30 s), the decoder prompt
    (`prompt_tokens` of the text before the window; empty: no previous text) and the
    window's place in the utterance (shifts the word times)."""

    audio: Samples
    prompt: tuple[int, ...] = ()
    offset_s: float = 0.0

    @property
    def frames(self) -> int:
        """Content mel frames (what `feature_extractor(audio)[:, :-1]` yields)."""
        return min(len(self.audio) // HOP, MAX_FRAMES)


def padded_length(frames: int, bucket_frames: int) -> int:
    """Encoder length for `frames` of content: one second more, rounded up to a multiple
    of `bucket_frames` (0: no rounding), even, at most 30 s."""
    padded = frames + PAD_FRAMES
    if bucket_frames > 1:
        padded = -(-padded // bucket_frames) * bucket_frames
    padded = min(MAX_FRAMES, padded)
    return padded + padded % 2


def mel_window(model: SpeechModel, audio: Samples) -> tuple[npt.NDArray[np.float32], int]:
    """Mel features of `audio` (at most 30 s) padded with one second, and the content frames."""
    feats = model.whisper.feature_extractor(audio)[:, :-1]
    frames = min(feats.shape[-1], MAX_FRAMES)
    padded = min(MAX_FRAMES, frames + PAD_FRAMES)
    padded += padded % 2
    window = np.zeros((feats.shape[0], padded), dtype=np.float32)
    window[:, :frames] = feats[:, :frames]
    return window, frames


def encode(model: SpeechModel, audio: Samples, *, reuse: bool = False) -> Encoded:
    """Encoder output for `audio`. `reuse`: share it through `model.encodings` with other
    callers over the same audio (the final decode and the evaluation of a recording:
    the encoder is most of either's cost)."""
    key = b""
    if reuse:
        samples = np.ascontiguousarray(audio, dtype=np.float32)
        key = hashlib.blake2b(samples.tobytes(), digest_size=16).digest()
        cached: Encoded | None = model.encodings.get(key)
        if cached is not None:
            return cached
    window, frames = mel_window(model, audio)
    storage = ctranslate2.StorageView.from_array(np.ascontiguousarray(window[None]))
    encoded = Encoded(model.ct2.encode(storage), frames, window.shape[-1])
    if reuse:
        model.encodings.put(key, encoded)
    return encoded


def prompt_tokens(
    model: SpeechModel, context: str, *, limit: int = MAX_PROMPT_TOKENS, step: int = 1
) -> list[int]:
    """The decoder prompt: the last `limit` tokens of `context`, their number rounded down
    to a multiple of `step` (none if fewer than `step`), then the start of transcript."""
    tok = model.tokenizer
    prompt: list[int] = []
    if context.strip() and limit > 0:
        tokens = tok.encode(" " + context.strip())[-limit:]
        tokens = tokens[len(tokens) % step :]
        if tokens:
            prompt = [tok.sot_prev, *tokens]
    return [*prompt, *tok.sot_sequence, tok.no_timestamps]


def decode(
    model: SpeechModel,
    audio: Samples,
    *,
    context: str = "",
    offset_s: float = 0.0,
    reuse: bool = False,
) -> Pass:
    """Transcribe `audio` (16 kHz, at most 30 s) with `context` as the previous text.

    Word times are shifted by `offset_s` (the window's place in the utterance); `reuse`
    as for `encode`.
    """
    if len(audio) < SAMPLE_RATE // 10:
        return EMPTY_PASS
    settings = model.settings
    enc = encode(model, audio, reuse=reuse)
    prompt = prompt_tokens(model, context)
    budget = int(enc.duration_s * _TOKENS_PER_S) + 4
    result = model.ct2.generate(
        enc.output,
        [prompt],
        beam_size=settings.beam_size,
        max_length=len(prompt) + budget,
        return_scores=True,
        return_no_speech_prob=True,
        suppress_blank=True,
        suppress_tokens=model.suppress_tokens,
    )[0]
    tokens = [t for t in result.sequences_ids[0] if t < model.tokenizer.eot]
    avg_logprob = float(result.scores[0]) * len(tokens) / (len(tokens) + 1)
    no_speech = float(result.no_speech_prob)
    if not tokens or (
        no_speech > settings.no_speech_threshold and avg_logprob < settings.logprob_threshold
    ):
        return Pass((), no_speech, avg_logprob)
    words = align_words(model, enc, tokens)
    words = drop_repeated_tail(drop_outside(words, enc.duration_s))
    return Pass(tuple(w.shifted(offset_s) for w in words), no_speech, avg_logprob)


def decode_windows(
    model: SpeechModel, windows: Sequence[Window], *, bucket_frames: int
) -> list[Pass]:
    """Transcribe several interim windows with one `generate` and one `align` call.

    CTranslate2 wants the start-of-transcript token at one position in every prompt of a
    batch, so batched prompts hold equally many previous-text tokens (see `prompt_tokens`'
    `step`). Each window's result depends on its own audio, prompt and `padded_length`
    only, not on the other windows of the batch: windows of one bucket pad to the same
    length, and greedy decoding of a longer batch cut to each window's token budget is
    the decoding that budget would give. (A window cut at its budget reports an average log
    probability over the longer decode; it only feeds the no-speech test.)
    """
    passes = [EMPTY_PASS] * len(windows)
    live = [i for i, w in enumerate(windows) if len(w.audio) >= SAMPLE_RATE // 10]
    if not live:
        return passes
    length = max(padded_length(windows[i].frames, bucket_frames) for i in live)
    encoded = [_encode_padded(model, windows[i].audio, length) for i in live]
    batch = encoded[0] if len(encoded) == 1 else _stack(encoded)
    sot_start = [*model.tokenizer.sot_sequence, model.tokenizer.no_timestamps]
    prompts = [list(windows[i].prompt) or sot_start for i in live]
    if len({p.index(model.tokenizer.sot) for p in prompts}) > 1:
        raise ValueError("batched windows need prompts with as many previous-text tokens")
    budgets = [_budget(windows[i].frames) for i in live]
    settings, eot = model.settings, model.tokenizer.eot
    results = model.ct2.generate(
        batch,
        prompts,
        beam_size=settings.beam_size,
        max_length=max(len(p) + b for p, b in zip(prompts, budgets, strict=True)) + _LENGTH_SLACK,
        return_scores=True,
        return_no_speech_prob=True,
        suppress_blank=True,
        suppress_tokens=model.suppress_tokens,
    )
    heard: list[tuple[int, list[int]]] = []  # (index into live, tokens) of windows to align
    for k, (i, result) in enumerate(zip(live, results, strict=True)):
        tokens = [t for t in result.sequences_ids[0][: budgets[k]] if t < eot]
        avg_logprob = float(result.scores[0]) * len(tokens) / (len(tokens) + 1)
        no_speech = float(result.no_speech_prob)
        passes[i] = Pass((), no_speech, avg_logprob)
        if tokens and not (
            no_speech > settings.no_speech_threshold and avg_logprob < settings.logprob_threshold
        ):
            heard.append((k, tokens))
    if not heard:
        return passes
    features = batch if len(heard) == len(live) else _stack([encoded[k] for k, _ in heard])
    alignments = model.whisper.find_alignment(
        model.tokenizer, [tokens for _, tokens in heard], features, length
    )
    for (k, _), alignment in zip(heard, alignments, strict=True):
        window, before = windows[live[k]], passes[live[k]]
        words = drop_repeated_tail(
            drop_outside(_words(alignment), window.frames * HOP / SAMPLE_RATE)
        )
        passes[live[k]] = Pass(
            tuple(w.shifted(window.offset_s) for w in words),
            before.no_speech_prob,
            before.avg_logprob,
        )
    return passes


def _budget(frames: int) -> int:
    return int(frames * HOP / SAMPLE_RATE * _TOKENS_PER_S) + 4


def _encode_padded(model: SpeechModel, audio: Samples, length: int) -> Any:
    """Encoder output of `audio` zero-padded to `length` mel frames. One call per window:
    the encoder costs as much per window in a batch as alone (more, at 8+ windows)."""
    feats = model.whisper.feature_extractor(audio)[:, :-1]
    frames = min(feats.shape[-1], MAX_FRAMES, length)
    window = np.zeros((feats.shape[0], length), dtype=np.float32)
    window[:, :frames] = feats[:, :frames]
    return model.ct2.encode(ctranslate2.StorageView.from_array(window[None]))


def _stack(outputs: Sequence[Any]) -> Any:
    """One [B, T, D] encoder batch from [1, T, D] outputs (through numpy, on the CPU)."""
    cpu = [o if o.device == "cpu" else o.to_device(ctranslate2.Device.cpu) for o in outputs]
    return ctranslate2.StorageView.from_array(np.concatenate([np.asarray(o) for o in cpu]))


def _words(alignment: list[dict[str, Any]]) -> list[Word]:
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
    return _words(alignment)


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
