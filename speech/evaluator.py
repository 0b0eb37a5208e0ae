"""The local evaluator: scores a recording against a reference text, or on its own.

Blocking work (one encoder pass, shared with the final decode of the same recording, and
one forced alignment) runs in the model's pool.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from speech.alignment import Pair, align
from speech.audio import SAMPLE_RATE, Samples
from speech.evaluation import EVALUATOR_VERSION, ErrorType, Evaluation, Scores, WordResult
from speech.feedback import local_feedback
from speech.fluency import measure_fluency, measure_lexicon
from speech.frames import HOP, MAX_FRAMES
from speech.model import SpeechModel
from speech.phones import PhoneAligner, PhonesOfWord
from speech.pronunciation import ForcedWord, force, forced_text
from speech.prosody import mark_prosody
from speech.scorer.features import evidence
from speech.scorer.intonation import INTONATION
from speech.scorer.linear import TrainedScorer
from speech.scoring import (
    fluency_score,
    overall_score,
    utterance_scores,
    word_accuracy,
    word_goodness,
)
from speech.segment_batch import segment_encoding
from speech.text import FILLERS, Token, normalize, source_words
from speech.transcript import FinalTranscript, Word

_MAX_FORCED_SAMPLES = MAX_FRAMES * HOP
_REPEAT_REACH = 2
INTONATION_SET = frozenset(INTONATION)


def evaluator_version(scorer: TrainedScorer | None) -> str:
    """What evaluations are marked with: the code's version and the trained scorer's, or
    `hand` for the hand-tuned formulas (no scorer)."""
    return f"{EVALUATOR_VERSION}+{'hand' if scorer is None else scorer.version}"


HAND_TUNED_VERSION = evaluator_version(None)
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReadAloudAnalysis:
    """Everything measured before scoring (what the benchmark fits the formulas on)."""

    words: tuple[WordResult, ...]
    goodness: tuple[float | None, ...]  # per reference word, None when omitted
    completeness: float
    # Per reference word, None when omitted or not measured: evidence for the scorer.
    forced: tuple[ForcedWord | None, ...] = ()


class LocalEvaluator:
    """`scorer`: the trained utterance scorer (default: the committed artefact, loaded
    now); `hand_tuned`: score with `speech.scoring`'s formulas alone (the baseline the
    trained scorer is measured against). Word-level results come from those formulas
    either way. `phones`: what gives a reading's words their phones (`speech.phones`);
    None, words have none. The trained scorer reads the phones' goodness of pronunciation
    (`speech.scorer.features.PHONES`); a reading without phones is scored without them."""

    def __init__(
        self,
        model: SpeechModel,
        scorer: TrainedScorer | None = None,
        *,
        hand_tuned: bool = False,
        phones: PhoneAligner | None = None,
    ) -> None:
        self._model = model
        self._phones = phones
        self._scorer = None if hand_tuned else scorer or TrainedScorer.load()
        if self._scorer is not None and self._scorer.model != model.name:
            # Its weights read another model's evidence (the encoder states above all).
            log.warning(
                "scorer %s was trained on %s, not %s: hand-tuned scores instead",
                self._scorer.version,
                self._scorer.model,
                model.name,
            )
            self._scorer = None

    @property
    def version(self) -> str:
        """What every evaluation is marked with (`evaluator_version`)."""
        return evaluator_version(self._scorer)

    async def evaluate_read_aloud(
        self, audio16k: Samples, transcript: FinalTranscript, reference: str
    ) -> Evaluation:
        return await self._model.run(self.read_aloud, audio16k, transcript, reference)

    async def evaluate_open_response(
        self, audio16k: Samples, transcript: FinalTranscript, prompt: str | None = None
    ) -> Evaluation:
        return await self._model.run(self.open_response, transcript)

    def read_aloud(
        self, audio16k: Samples, transcript: FinalTranscript, reference: str
    ) -> Evaluation:
        """Blocking form of `evaluate_read_aloud`."""
        analysis = self.analyse(audio16k, transcript, reference)
        fluency = measure_fluency(transcript.words)
        hand = utterance_scores(analysis.words, analysis.completeness, fluency)
        scores = Scores(
            accuracy=round(hand.accuracy),
            fluency=round(hand.fluency),
            completeness=round(100.0 * analysis.completeness),
            overall=round(hand.overall),
        )
        if self._scorer is not None and fluency.word_count:
            features = evidence(
                self._model,
                audio16k,
                transcript,
                analysis,
                fluency,
                hand,
                intonation=not INTONATION_SET.isdisjoint(self._scorer.features),
            )
            predicted = self._scorer.predict(features)
            scores = Scores(
                accuracy=round(predicted["accuracy"]),
                fluency=round(predicted["fluency"]),
                completeness=scores.completeness,
                overall=round(predicted["total"]),
                prosody=round(predicted["prosody"]),
            )
        elif self._scorer is not None:  # nothing heard: the hand-tuned zeros stand
            scores = replace(scores, prosody=0)
        return Evaluation(
            kind="read_aloud",
            scores=scores,
            words=analysis.words,
            fluency=fluency,
            lexical=None,
            feedback=local_feedback(scores, analysis.words, fluency),
            transcript=transcript.text,
            reference=reference,
            model=transcript.model or self._model.name,
            evaluator_version=self.version,
        )

    def open_response(self, transcript: FinalTranscript) -> Evaluation:
        """Blocking form of `evaluate_open_response`: no reference, so no completeness."""
        spoken = [w for w in transcript.words if w.key and w.key not in FILLERS]
        accuracy = (
            sum(word_accuracy(word_goodness(None, w.probability)) for w in spoken) / len(spoken)
            if spoken
            else 0.0
        )
        fluency = measure_fluency(transcript.words)
        fluency_points = fluency_score(fluency, accuracy)
        scores = Scores(
            accuracy=round(accuracy),
            fluency=fluency_points,
            completeness=None,
            overall=overall_score(accuracy, fluency_points, None),
        )
        words = tuple(
            WordResult(None, w.word.strip(), "none", None, round(w.start, 2), round(w.end, 2))
            for w in transcript.words
        )
        return Evaluation(
            kind="open_response",
            scores=scores,
            words=words,
            fluency=fluency,
            lexical=measure_lexicon(transcript.words),
            feedback=local_feedback(scores, words, fluency),
            transcript=transcript.text,
            reference=None,
            model=transcript.model or self._model.name,
            evaluator_version=self.version,
        )

    def read_aloud_features(
        self, audio16k: Samples, transcript: FinalTranscript, reference: str
    ) -> dict[str, float]:
        """The trained scorer's features of a reading (blocking; what the benchmark fits)."""
        analysis = self.analyse(audio16k, transcript, reference)
        fluency = measure_fluency(transcript.words)
        hand = utterance_scores(analysis.words, analysis.completeness, fluency)
        return evidence(self._model, audio16k, transcript, analysis, fluency, hand)

    def analyse(
        self, audio16k: Samples, transcript: FinalTranscript, reference: str
    ) -> ReadAloudAnalysis:
        ref_words = source_words(reference)
        ref_tokens = normalize(ref_words)
        heard = list(transcript.words)
        heard_tokens = [t for t in normalize([w.word for w in heard]) if t.text not in FILLERS]
        pairs = align([t.text for t in ref_tokens], [t.text for t in heard_tokens])
        per_word = _pairs_by_reference_word(pairs, ref_tokens, len(ref_words))
        forced = self._force(
            audio16k, transcript.segments, ref_words, pairs, ref_tokens, heard_tokens, heard
        )
        phones = self._phones_of(audio16k, ref_words, pairs, ref_tokens, heard_tokens, heard)

        results: list[WordResult] = []
        goodness: list[float | None] = []
        said = 0
        for index, word in enumerate(ref_words):
            mine = per_word[index]
            heard_idx = sorted({heard_tokens[p.heard].source for p in mine if p.heard is not None})
            for pair in _insertions_before(pairs, ref_tokens, index):
                results.append(_inserted(pair, heard_tokens, heard))
            if not heard_idx:
                goodness.append(None)
                results.append(WordResult(word, None, "omission", 0, None, None))
                continue
            said += 1
            heard_words = [heard[i] for i in heard_idx]
            exact = all(p.op == "match" for p in mine)
            prob = min(w.probability for w in heard_words)
            figures = forced[index]
            g = word_goodness(None if figures is None else figures.logprob, prob)
            goodness.append(g)
            error: ErrorType = "none" if exact else "mispronunciation"
            results.append(
                WordResult(
                    expected=word,
                    heard=" ".join(w.word.strip() for w in heard_words),
                    error_type=error,
                    accuracy=word_accuracy(g, substituted=not exact),
                    start=round(heard_words[0].start, 2),
                    end=round(heard_words[-1].end, 2),
                    phones=phones[index],
                )
            )
        for pair in _insertions_before(pairs, ref_tokens, len(ref_words)):
            results.append(_inserted(pair, heard_tokens, heard))
        completeness = said / len(ref_words) if ref_words else 0.0
        words = _with_prosody(tuple(results), reference, audio16k)
        return ReadAloudAnalysis(words, tuple(goodness), completeness, tuple(forced))

    def _phones_of(
        self,
        audio16k: Samples,
        ref_words: list[str],
        pairs: list[Pair],
        ref_tokens: list[Token],
        heard_tokens: list[Token],
        heard: list[Word],
    ) -> list[PhonesOfWord]:
        """Per reference word, its phones; none at all rather than a failed evaluation."""
        none: list[PhonesOfWord] = [()] * len(ref_words)
        if self._phones is None:
            return none
        try:
            return self._phones.reading(audio16k, ref_words, pairs, ref_tokens, heard_tokens, heard)
        except Exception:
            log.warning("phones of a reading failed", exc_info=True)
            return none

    def _force(
        self,
        audio16k: Samples,
        segments: tuple[tuple[float, float], ...],
        ref_words: list[str],
        pairs: list[Pair],
        ref_tokens: list[Token],
        heard_tokens: list[Token],
        heard: list[Word],
    ) -> list[ForcedWord | None]:
        """Forced-alignment figures per reference word (None: omitted or not measured).

        The forced text is what was read, word for word: heard forms for matched and
        inserted words (so "ten" for "10", and an extra word does not make the next one
        look wrong), the reference form where another word was heard; omitted words are
        left out.

        A transcript decoded in segments is forced segment by segment, each form onto the
        segment its heard word lies in (the final decode's encodings of them are shared);
        one decoded whole, onto the whole recording (at most 30 s).
        """
        none: list[ForcedWord | None] = [None] * len(ref_words)
        spans = segments or ((0.0, len(audio16k) / SAMPLE_RATE),)
        too_long = any((b - a) * SAMPLE_RATE > _MAX_FORCED_SAMPLES for a, b in spans)
        if not ref_words or len(audio16k) < SAMPLE_RATE // 10 or too_long:
            return none
        ref_forms = forced_text(ref_words)
        forms: list[str] = []
        owner: list[int | None] = []
        at: list[float] = []  # where the form was heard (s)
        last_heard: int | None = None
        for pair in pairs:
            ref_index = None if pair.ref is None else ref_tokens[pair.ref].source
            if pair.op == "omit":
                continue
            if pair.op == "substitute" and ref_index is not None:
                if owner and owner[-1] == ref_index:
                    continue
                forms.append(ref_forms[ref_index])
                owner.append(ref_index)
                at.append(
                    0.0 if pair.heard is None else heard[heard_tokens[pair.heard].source].start
                )
                continue
            assert pair.heard is not None
            source = heard_tokens[pair.heard].source
            if source == last_heard:
                continue
            last_heard = source
            forms.append(heard[source].word.strip().strip('.,;:!?"“”'))
            owner.append(ref_index)
            at.append(heard[source].start)
        if not forms:
            return none
        forced = self._force_by_segment(audio16k, spans, forms, at)
        out = none
        for index, figures in zip(owner, forced, strict=True):
            if index is not None and out[index] is None:
                out[index] = figures
        return out

    def _force_by_segment(
        self,
        audio16k: Samples,
        spans: tuple[tuple[float, float], ...],
        forms: list[str],
        at: list[float],
    ) -> list[ForcedWord]:
        """`force` each form onto the span it was heard in; results in the forms' order."""
        owners = [max([0, *(k for k, (a, _) in enumerate(spans) if a <= t)]) for t in at]
        out: list[ForcedWord | None] = [None] * len(forms)
        for k, (a, b) in enumerate(spans):
            mine = [i for i, owner in enumerate(owners) if owner == k]
            if not mine:
                continue
            words = [forms[i] for i in mine]
            words[0] = words[0][:1].upper() + words[0][1:]
            part = audio16k[round(a * SAMPLE_RATE) : round(b * SAMPLE_RATE)]
            # The final transcript's decode has usually just encoded this audio.
            enc = segment_encoding(self._model, part)
            for i, figures in zip(mine, force(self._model, enc, words), strict=True):
                out[i] = figures
        return [f for f in out if f is not None]


def _with_prosody(
    words: tuple[WordResult, ...], reference: str, audio16k: Samples
) -> tuple[WordResult, ...]:
    """The words with their prosodic flags; without them rather than a failed evaluation."""
    try:
        return mark_prosody(words, reference, audio16k)
    except Exception:
        log.warning("prosody of a reading failed", exc_info=True)
        return words


def _pairs_by_reference_word(pairs: list[Pair], ref: list[Token], count: int) -> list[list[Pair]]:
    grouped: list[list[Pair]] = [[] for _ in range(count)]
    for pair in pairs:
        if pair.ref is not None:
            grouped[ref[pair.ref].source].append(pair)
    return grouped


def _insertions_before(pairs: list[Pair], ref: list[Token], word_index: int) -> list[Pair]:
    """Inserted heard tokens that sit right before reference word `word_index`."""
    out: list[Pair] = []
    pending: list[Pair] = []
    for pair in pairs:
        if pair.ref is None:
            pending.append(pair)
            continue
        if ref[pair.ref].source == word_index:
            out = pending
            break
        pending = []
    else:
        out = pending if word_index >= len({t.source for t in ref}) else []
    return out


def _inserted(pair: Pair, heard_tokens: list[Token], heard: list[Word]) -> WordResult:
    assert pair.heard is not None
    word = heard[heard_tokens[pair.heard].source]
    text = heard_tokens[pair.heard].text
    # Said again next to itself: a repeated word or a restarted two-word phrase.
    near = heard_tokens[max(0, pair.heard - _REPEAT_REACH) : pair.heard + _REPEAT_REACH + 1]
    repeated = sum(t.text == text for t in near) > 1
    kind: ErrorType = "repetition" if repeated else "insertion"
    return WordResult(None, word.word.strip(), kind, None, round(word.start, 2), round(word.end, 2))
