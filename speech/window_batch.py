"""Interim passes of many sessions in one batched Whisper call (blocking).

A decoding step costs little more for a dozen windows than for one: most of it is the
projection onto the 51,864-token vocabulary, whose weights are read once per step for the
whole batch (4 s windows, 15 tokens, on this 2-core box: one window 106 ms, eight 200 ms).
The encoder gains nothing from batching, so each window is encoded alone at its own
length (its audio plus one second of padding) and the batch is then filled to its longest
window with the encoder output of pure padding (`SpeechModel.padding_states`): any window
lengths share a batch without encoding padding they do not need. The filler is not what
the encoder would have made of that padding in context, but near it: on the native clips,
2.5-4.5 s windows filled to 8 s this way gave the text of windows encoded at 8 s in 48 of
63 cases, the rest differing mostly in punctuation; windows encoded at their own length
agreed in 36.

CTranslate2 wants the start-of-transcript token at one position in every prompt of a
batch, so every prompt is cut to the shortest previous text in the batch (the oldest
tokens go; none if one window has none). Padding a prompt instead (with more
start-of-previous tokens) derails the decoder; keeping windows with and without previous
text apart halves the batches under load (a session's first seconds have none), and
passes with and without it mostly differ in case and punctuation, which agreement
ignores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ctranslate2
import numpy as np

from speech.audio import SAMPLE_RATE, Samples
from speech.decoding import (
    EMPTY_PASS,
    Pass,
    alignment_words,
    drop_outside,
    drop_repeated_tail,
    generate,
    is_heard,
    mel_window,
    padded_length,
    prompt_for,
    scores,
    token_budget,
)
from speech.frames import HOP, MAX_FRAMES
from speech.model import SpeechModel

# `max_length` counts the prompt in a way that varies by a token or two; batched windows
# are cut to their own budget afterwards, so a little more room changes nothing.
_LENGTH_SLACK = 4


@dataclass(frozen=True, slots=True)
class Window:
    """The input of one interim pass: audio (16 kHz, at most 30 s), the tokens of the
    text before it (`speech.decoding.context_tokens`; empty: none) and the window's place
    in the utterance (shifts the word times)."""

    audio: Samples
    context: tuple[int, ...] = ()
    offset_s: float = 0.0

    @property
    def frames(self) -> int:
        """Content mel frames (what `feature_extractor(audio)[:, :-1]` yields)."""
        return min(len(self.audio) // HOP, MAX_FRAMES)


States = np.ndarray[Any, Any] | None
"""A window's encoder states [T, D]; None for a window too short to decode."""


def encode_window(model: SpeechModel, window: Window) -> States:
    """The encoder states of `window`: its audio plus one second of padding."""
    if len(window.audio) < SAMPLE_RATE // 10:
        return None
    return model.encoder_states(mel_window(model, window.audio)[0])


def decode_windows(model: SpeechModel, windows: Sequence[Window]) -> list[Pass]:
    """Encode and transcribe interim windows (see `decode_encoded`)."""
    return decode_encoded(model, windows, [encode_window(model, w) for w in windows])


def decode_encoded(
    model: SpeechModel, windows: Sequence[Window], states: Sequence[States]
) -> list[Pass]:
    """Transcribe encoded interim windows with one `generate` and one `align` call.

    Greedy decoding of a batch cut to each window's token budget is the decoding that
    budget would give; a window cut so reports an average log probability over the longer
    decode (it only feeds the no-speech test)."""
    passes = [EMPTY_PASS] * len(windows)
    live = [i for i, s in enumerate(states) if s is not None]
    if not live:
        return passes
    lengths = [padded_length(windows[i].frames) for i in live]
    batch = _filled(model, [s for s in states if s is not None])
    features = ctranslate2.StorageView.from_array(batch)
    shared = min(len(windows[i].context) for i in live)
    prompts = [
        prompt_for(model, windows[i].context[len(windows[i].context) - shared :]) for i in live
    ]
    budgets = [token_budget(windows[i].frames) for i in live]
    eot = model.tokenizer.eot
    longest = max(len(p) + b for p, b in zip(prompts, budgets, strict=True))
    results = generate(model, features, prompts, max_length=longest + _LENGTH_SLACK)
    heard: list[tuple[int, list[int]]] = []  # (index into live, tokens) of windows to align
    for k, (i, result) in enumerate(zip(live, results, strict=True)):
        tokens = [t for t in result.sequences_ids[0][: budgets[k]] if t < eot]
        no_speech, avg_logprob = scores(result, tokens)
        passes[i] = Pass((), no_speech, avg_logprob)
        if is_heard(model, tokens, no_speech, avg_logprob):
            heard.append((k, tokens))
    if not heard:
        return passes
    if len(heard) < len(live):
        features = ctranslate2.StorageView.from_array(batch[[k for k, _ in heard]])
    # Each window is aligned within its own frames, so words the audio does not hold land
    # in its own padding, where `drop_outside` finds them.
    alignments = model.whisper.find_alignment(
        model.tokenizer,
        [tokens for _, tokens in heard],
        features,
        [lengths[k] for k, _ in heard],  # one per window: CTranslate2 takes a list too
    )
    for (k, _), alignment in zip(heard, alignments, strict=True):
        window, before = windows[live[k]], passes[live[k]]
        duration_s = window.frames * HOP / SAMPLE_RATE
        words = drop_repeated_tail(drop_outside(alignment_words(alignment), duration_s))
        passes[live[k]] = Pass(
            tuple(w.shifted(window.offset_s) for w in words),
            before.no_speech_prob,
            before.avg_logprob,
        )
    return passes


def _filled(model: SpeechModel, states: Sequence[np.ndarray[Any, Any]]) -> np.ndarray[Any, Any]:
    """One [B, T, D] batch, each window's states continued with those of padding."""
    padding = model.padding_states()
    longest = max(len(s) for s in states)
    batch = np.repeat(padding[None, :longest], len(states), axis=0)
    for row, s in zip(batch, states, strict=True):
        row[: len(s)] = s
    return batch
