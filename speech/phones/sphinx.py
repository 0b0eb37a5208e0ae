"""Pocketsphinx's en-US acoustic model: forced alignment of given phones, and a free
phone loop, on 16 kHz audio. Everything it reads ships in the `pocketsphinx` wheel.

Scores are comparable between the two searches because both score every senone each
frame (`compallsen`) of the same features: pocketsphinx normalises each frame's senone
scores by the best one it computed, so with all computed the normaliser is the same for
the aligned and the free path, and their difference over a phone's frames is the classic
goodness of pronunciation. (With only the active senones scored, each search would be
normalised by its own few candidates and the difference would mean nothing.)

Every pass gets a new decoder (~10 ms to create, against ~0.035 s per second of audio to
decode), set to the reading's own cepstral mean: a used one carries its front end's
running means and search state into the next utterance, so the same reading would get
slightly different phones depending on what the decoder ran before (the forced pass
differed by whether the free loop had run on it first), and a resumed session's final
would not equal an undisturbed one's. Apart, the passes can run side by side
(`speech.phones.helper`). Pocketsphinx holds the GIL while it decodes.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pocketsphinx

from speech.audio import Samples
from speech.phones.arpabet import PHONES, SILENCE, base

FRAME_S = 0.01  # the model's 100 frames a second
# Search scores are base-1.0001 logs shifted right by 10 bits (pocketsphinx's SENSCR_SHIFT).
NATS_PER_UNIT = 1024 * math.log(1.0001)
_FREE = "free"
_FORCED = "forced"
_SILENCE_WORD = "SIL.w"
_NOISE_FLOOR = 1e-3  # -60 dBFS
_CHUNK_BYTES = 2 * 16000 // 4  # 0.25 s of 16-bit samples
# A word without a pronunciation is aligned to a chain of at most this many phones, each
# any phone. Not a loop: the search loses every path through a cycle of the grammar
# when it sits between two words.
_GARBAGE_PHONES = 10


@dataclass(frozen=True, slots=True)
class Segment:
    """A phone over frames [start, end) with its acoustic score (nats, higher is better)."""

    phone: str
    start: int
    end: int
    score: float


@dataclass(frozen=True, slots=True)
class AlignedWord:
    """One word of the forced alignment: its phones as the decoder aligned them (the
    pronunciation variant that fitted best)."""

    index: int  # position in the words given to `align`
    phones: tuple[Segment, ...]


@dataclass(frozen=True, slots=True)
class DecoderOptions:
    beam: float
    compute_all: bool
    downsample: int


class PendingFreeLoop(Protocol):
    def result(self) -> tuple[tuple[Segment, ...], int]: ...


class FreeLoopRunner(Protocol):
    """Runs the free loop elsewhere (`speech.phones.helper`); None when it cannot now."""

    def free_loop(
        self, options: DecoderOptions, pcm: bytes, mean: str
    ) -> PendingFreeLoop | None: ...


@dataclass(frozen=True, slots=True)
class Decoded:
    free: tuple[Segment, ...]  # the phone loop's best path, silences included
    words: tuple[AlignedWord, ...]  # None of the aligned words is silence
    frames: int


class Decoders:
    """Makes a decoder with the phone words and the free loop loaded for every `decode`
    call (see the module's note: a used one remembers what it heard)."""

    def __init__(
        self,
        *,
        beam: float = 1e-80,
        compute_all: bool = True,
        downsample: int = 1,
        helper: FreeLoopRunner | None = None,
    ) -> None:
        self.options = DecoderOptions(beam, compute_all, downsample)
        self._helper = helper

    def decode(self, audio16k: Samples, words: Sequence[Sequence[Sequence[str]]]) -> Decoded:
        """The free phone loop over `audio16k`, and the forced alignment onto it of
        `words`, each given as its pronunciations (ARPAbet, stress digits allowed).
        `Decoded.words` is empty if the words cannot be aligned (audio too short for
        their phones). Blocking."""
        # A microphone's noise floor, the same for every call: the front end misreads
        # digital silence (runs of exact zeros, as in synthetic or noise-gated audio).
        floor = np.random.default_rng(0).normal(0.0, _NOISE_FLOOR, len(audio16k))
        scaled = np.clip(np.round((audio16k + floor) * 32768.0), -32768, 32767)
        pcm = scaled.astype("<i2").tobytes()
        mean = cepstral_mean(pcm)
        if not any(any(p) for p in words):
            free, frames = _make(self.options).free(pcm, mean)
            return Decoded(free, (), frames)
        # Each pass on its own new decoder set to the same mean: a decoder that ran one
        # search carries front-end state into the next, so the forced pass would depend on
        # whether the free loop ran first on the same decoder. Apart, the two can run side
        # by side: the free loop in the helper process when it is idle, the forced pass here.
        pending = None if self._helper is None else self._helper.free_loop(self.options, pcm, mean)
        forced = _make(self.options).forced(pcm, mean, words)
        free, frames = _make(self.options).free(pcm, mean) if pending is None else pending.result()
        return Decoded(free, forced, frames)


class _Decoder:
    """Dictionary words are phones: "AA.i" begins a word, "AA.m" continues one, "AA.g"
    stands in a word with no known pronunciation, "SIL.w" is silence between words. Each
    word of a reference becomes a chain of them in the forced grammar (one branch per
    pronunciation; a few of any phone for a word without one, so its audio is not
    stretched over its neighbours' phones), so one pass aligns every phone and the
    word-initial marks tell where each word begins."""

    def __init__(self, decoder: pocketsphinx.Decoder) -> None:
        self._ps = decoder
        for phone in sorted(PHONES):
            decoder.add_word(f"{phone}.i", phone, False)
            decoder.add_word(f"{phone}.m", phone, False)
            decoder.add_word(f"{phone}.g", phone, False)
        decoder.add_word(_SILENCE_WORD, SILENCE, True)
        decoder.add_allphone_file(_FREE, None)  # no phone LM: the acoustically best phones

    def _run(self, pcm: bytes, mean: str) -> None:
        """Decode `pcm` in short chunks, normalised by `mean`: the same features as one
        whole-utterance call, but the GIL (which pocketsphinx holds while it works) is
        let go between chunks, so a long recording does not stall other threads."""
        self._ps.set_cmn(mean)
        self._ps.start_utt()
        for at in range(0, len(pcm), _CHUNK_BYTES):
            self._ps.process_raw(pcm[at : at + _CHUNK_BYTES])
        self._ps.end_utt()

    def _segments(self) -> list[Segment]:
        log = self._ps.logmath.log
        return [
            Segment(s.word, s.start_frame, s.end_frame + 1, _units(log(s.ascore)))
            for s in self._ps.seg() or ()  # None when the search found no complete path
            if s.ascore > 0 and s.end_frame >= s.start_frame
        ]

    def free(self, pcm: bytes, mean: str) -> tuple[tuple[Segment, ...], int]:
        """The free phone loop's best path and the number of frames."""
        self._ps.activate_search(_FREE)
        self._run(pcm, mean)
        return tuple(self._segments()), self._ps.n_frames()

    def forced(
        self, pcm: bytes, mean: str, words: Sequence[Sequence[Sequence[str]]]
    ) -> tuple[AlignedWord, ...]:
        """The forced alignment of `words`; () when no path goes through all of them."""
        ps = self._ps
        ps.add_fsg(_FORCED, _grammar(ps, words))
        ps.activate_search(_FORCED)
        self._run(pcm, mean)
        aligned: list[list[Segment]] = []
        for seg in self._segments():
            name, _, mark = seg.phone.partition(".")
            if mark not in ("i", "m"):
                continue  # silence, or a null transition of the grammar
            if mark == "i":
                aligned.append([])
            if aligned:
                aligned[-1].append(Segment(name, seg.start, seg.end, seg.score))
        if len(aligned) != sum(1 for p in words if any(p)):
            return ()  # no path through every phone
        indices = [i for i, p in enumerate(words) if any(p)]
        return tuple(AlignedWord(i, tuple(ph)) for i, ph in zip(indices, aligned, strict=True))


def cepstral_mean(pcm: bytes) -> str:
    """The utterance's cepstral mean (the model normalises by it): one pass of the front
    end and a trivial search, a few ms."""
    # A new decoder each time (~8 ms): a used one's front end starts from the mean of what
    # it heard before, and the same reading must give the same phones whatever the node
    # decoded earlier (a resumed session's final equals an undisturbed one's).
    means = pocketsphinx.Decoder(loglevel="FATAL", dict=os.devnull, lm=None)
    means.add_word(_SILENCE_WORD, SILENCE, True)
    means.set_align_text(_SILENCE_WORD)
    means.start_utt()
    means.process_raw(pcm, full_utt=True)
    means.end_utt()
    return str(means.get_cmn(False))


def _grammar(
    ps: pocketsphinx.Decoder, words: Sequence[Sequence[Sequence[str]]]
) -> pocketsphinx.FsgModel:
    """Optional silence, then each word's pronunciations side by side, then optional
    silence, and so on to the end. Every transition weighs 1: the acoustic score alone
    chooses a variant and where silences go."""
    transitions: list[tuple[int, int, float] | tuple[int, int, float, str]] = []
    state = 0
    count = 1

    def new() -> int:
        nonlocal count
        count += 1
        return count - 1

    for prons in words:
        variants = sorted({tuple(base(p) for p in pron) for pron in prons if pron})
        entry, end = new(), new()
        transitions += [(state, entry, 1.0), (state, entry, 1.0, _SILENCE_WORD)]
        at = entry
        for _ in range(0 if variants else _GARBAGE_PHONES):  # 1 to _GARBAGE_PHONES of any
            step = new()
            transitions += [(at, step, 1.0, f"{phone}.g") for phone in sorted(PHONES)]
            transitions.append((step, end, 1.0))
            at = step
        for variant in variants:
            at = entry
            for k, phone in enumerate(variant):
                to = end if k == len(variant) - 1 else new()
                transitions.append((at, to, 1.0, f"{phone}.{'i' if k == 0 else 'm'}"))
                at = to
        state = end
    final = new()
    transitions += [(state, final, 1.0), (state, final, 1.0, _SILENCE_WORD)]
    return ps.create_fsg(_FORCED, 0, final, transitions)


def _units(score: float) -> float:
    return float(score) * NATS_PER_UNIT


def is_silence(phone: str) -> bool:
    return phone == SILENCE or phone.startswith("+")


def _make(options: DecoderOptions) -> _Decoder:
    decoder = pocketsphinx.Decoder(
        loglevel="FATAL",
        dict=os.devnull,  # the only words are phones (see `_Decoder`)
        lm=None,
        compallsen=options.compute_all,
        fsgusefiller=False,  # silence only where the grammar allows it
        bestpath=False,  # segments from the search itself, in its own score units
        beam=options.beam,
        pbeam=options.beam,
        ds=options.downsample,
    )
    return _Decoder(decoder)


def free_loop(options: DecoderOptions, pcm: bytes, mean: str) -> tuple[tuple[Segment, ...], int]:
    """The free phone loop alone, on a new decoder (what the helper process runs)."""
    return _make(options).free(pcm, mean)
