"""When each reference word was first shown (and first committed) in a streamed session.

A word's latency runs from the moment the client sent the 100 ms chunk that holds the
word's end to the first `interim_transcript` whose text holds the word. Each interim's
words (normalised) are matched in order to the reference words by a longest common
subsequence, so repeated words ("ask not what your country ... for your country") pair
with the right occurrence; only reference words that start before the interim's
`audio_ms` (plus alignment slack) may match, since later audio cannot have been heard.
Latencies may be negative: Whisper sometimes completes a word from its first part.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.learner import Record
from bench.programme import CHUNK_S, Programme, RefWord
from bench.stats import error_rate, summary, word_errors
from speech.text import normalize_text

_SLACK_S = 0.2


@dataclass(frozen=True, slots=True)
class WordLatency:
    word: RefWord
    shown_s: float | None
    committed_s: float | None


def _lcs(ref: list[str], hyp: list[str]) -> list[int]:
    """Indices of `ref` in one longest common subsequence with `hyp`."""
    head = 0
    while head < len(ref) and head < len(hyp) and ref[head] == hyp[head]:
        head += 1  # a common prefix is part of some longest common subsequence
    matched = list(range(head))
    a, b = ref[head:], hyp[head:]
    n, m = len(a), len(b)
    if not n or not m:
        return matched
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, below = table[i], table[i + 1]
        for j in range(m - 1, -1, -1):
            row[j] = below[j + 1] + 1 if a[i] == b[j] else max(below[j], row[j + 1])
    i = j = 0
    while i < n and j < m:
        if a[i] == b[j]:
            matched.append(head + i)
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return matched


def _chunk_of(end_s: float, chunks: int) -> int:
    return min(chunks - 1, max(0, math.ceil(end_s / CHUNK_S - 1e-6) - 1))


def word_latencies(record: Record, programme: Programme) -> list[WordLatency]:
    ref = programme.words
    texts = [w.text for w in ref]
    starts = [w.start for w in ref]
    shown: list[float | None] = [None] * len(ref)
    committed: list[float | None] = [None] * len(ref)
    for at, message in record.received:
        if message["type"] != "interim_transcript":
            continue
        eligible = bisect.bisect_left(starts, message["audio_ms"] / 1000 + _SLACK_S)
        both = normalize_text(f"{message['committed']} {message['tentative']}")
        for seen, hyp in ((shown, both), (committed, normalize_text(message["committed"]))):
            for i in _lcs(texts[:eligible], hyp):
                if seen[i] is None:
                    seen[i] = at
    out = []
    for i, word in enumerate(ref):
        if word.end > len(record.sent) * CHUNK_S:
            continue
        sent = record.sent[_chunk_of(word.end, len(record.sent))]
        first, settled = shown[i], committed[i]
        out.append(
            WordLatency(
                word,
                None if first is None else first - sent,
                None if settled is None else settled - sent,
            )
        )
    return out


def interim_lag(record: Record) -> list[tuple[float, float]]:
    """(audio position sent, how far the interim's `audio_ms` trails it) per interim."""
    lags = []
    for at, message in record.received:
        if message["type"] == "interim_transcript":
            sent_s = bisect.bisect_right(record.sent, at) * CHUNK_S
            lags.append((sent_s, sent_s - message["audio_ms"] / 1000))
    return lags


def last_interim_errors(record: Record, programme: Programme) -> tuple[int, int]:
    """Word errors of the last interim (committed and tentative text) against the reference
    words that end within the audio it covers: what the learner last saw live."""
    interims = [m for _, m in record.received if m["type"] == "interim_transcript"]
    if not interims:
        return 0, 0
    last = interims[-1]
    heard_to = last["audio_ms"] / 1000
    reference = " ".join(w.text for w in programme.words if w.end <= heard_to)
    return word_errors(reference, f"{last['committed']} {last['tentative']}")


def report(sessions: Sequence[tuple[Record, Programme]]) -> dict[str, Any]:
    """Latency summaries over the words of all sessions (a record and the programme it
    streamed; programmes of one length, as `bench.programme.shifted` makes)."""
    records = [r for r, _ in sessions]
    words = [w for r, p in sessions if r.final is not None for w in word_latencies(r, p)]
    third = max(p.duration_s for _, p in sessions) / 3 if sessions else 0.0

    def shown(keep: Any = lambda w: True) -> dict[str, float]:
        return summary([w.shown_s for w in words if w.shown_s is not None and keep(w.word)])

    lags = [lag for r in records for lag in interim_lag(r)]
    finals = [r.stop_to_final for r in records if r.stop_to_final is not None]
    errors = [word_errors(p.text, r.final["transcript"]) for r, p in sessions if r.final]
    live = [last_interim_errors(r, p) for r, p in sessions]
    return {
        "sessions": len(records),
        "failed": [r.error for r in records if r.error],
        "interim": shown(),
        "interim_after_pause": shown(lambda w: w.after_pause),
        "interim_before_pause": shown(lambda w: w.before_pause),
        "interim_mid_phrase": shown(lambda w: not (w.after_pause or w.before_pause)),
        "interim_first_third": shown(lambda w: w.end < third),
        "interim_last_third": shown(lambda w: w.end >= 2 * third),
        "never_shown": sum(w.shown_s is None for w in words),
        "committed": summary([w.committed_s for w in words if w.committed_s is not None]),
        "not_committed_before_stop": sum(w.committed_s is None for w in words),
        "interim_lag_first_third": summary([lag for at, lag in lags if at < third]),
        "interim_lag_last_third": summary([lag for at, lag in lags if at >= 2 * third]),
        "stop_to_final": summary(finals),
        "wer": round(error_rate(errors), 3),
        "interim_wer": round(error_rate(live), 3),
        "interims_per_session": round(
            sum(
                len([m for _, m in r.received if m["type"] == "interim_transcript"])
                for r in records
            )
            / max(1, len(records)),
            1,
        ),
    }
