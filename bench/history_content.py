"""What a seeded session holds: names, passages, a transcript's timed words and an evaluation's
details, shaped by Parley's own value types (`speech.evaluation.Evaluation.to_dict`, the
local feedback, and an LLM's structured feedback merged in as `storage.practice` does), so a
stored row weighs what a real one does (a few KB of JSON each for words and details).
"""

from __future__ import annotations

import random
from typing import Any

from speech.evaluation import Evaluation, ExerciseKind, Scores, WordResult
from speech.feedback import local_feedback
from speech.fluency import measure_fluency, measure_lexicon
from speech.llm.schema import Correction, LlmFeedback
from speech.scoring import fluency_score, overall_score
from speech.transcript import Word
from storage.practice import merge_feedback

FIRST = "Ada Ben Chloé Dario Emma Farid Greta Hugo Ines Jonas Kemal Lena Mateo Nora Omar Priya"
LAST = "Ahmed Berg Costa Dubois Evans Fischer García Haddad Ivanova Jensen Kowalski Lindqvist"
FIRST_NAMES, LAST_NAMES = FIRST.split(), LAST.split()

PASSAGES = [
    "The morning train to the coast was late again, so we waited on the cold platform and "
    "watched the gulls argue over a paper bag until the station master finally waved us on.",
    "My grandmother keeps a small garden behind her house where she grows tomatoes, beans "
    "and a few stubborn roses that bloom every summer no matter how little rain there is.",
    "Scientists believe that the deepest parts of the ocean hold thousands of species that "
    "nobody has ever seen, living in darkness under a pressure that would crush a submarine.",
    "When you travel abroad, it helps to learn a few polite phrases, because people are "
    "usually kind to visitors who make an effort to speak their language, however badly.",
    "The library opens at nine on weekdays and at ten on Saturdays; it closes early on the "
    "last Friday of every month so that the staff can repair books and sort new arrivals.",
    "Although the recipe looked simple, the bread refused to rise, and after three attempts "
    "we decided to buy a loaf from the bakery on the corner and call the experiment a success.",
]
PROMPTS = [
    "Describe a place you would like to visit and explain why.",
    "Talk about a skill you learned recently and how you practised it.",
    "What did you do last weekend? Give as many details as you can.",
]
ANSWER = (
    "I would really like to visit Lisbon because um my friend lived there for a year and she "
    "told me about the old trams the hills and the food which sounds amazing I think I would "
    "spend most of the time walking around the the old town and trying pastries"
).split()
TIPS = [
    "Slow down slightly on long words so that every syllable is heard.",
    "Pause at commas: it gives the listener time and you a breath.",
    "Stress the content words; the small words can stay light.",
]


def display_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _timed(tokens: list[str], rng: random.Random) -> list[Word]:
    at, words = round(rng.uniform(0.2, 0.8), 2), []
    for token in tokens:
        length = 0.12 + 0.06 * len(token) + rng.uniform(-0.05, 0.1)
        words.append(Word(" " + token, at, at + length, rng.uniform(0.55, 0.99)))
        at += length + (rng.uniform(0.5, 1.1) if rng.random() < 0.08 else rng.uniform(0.03, 0.2))
    return words


def _llm(rng: random.Random, words: list[WordResult], kind: ExerciseKind) -> dict[str, Any]:
    wrong = [w for w in words if w.error_type != "none" and w.expected][:3]
    return LlmFeedback(
        summary="A clear reading overall. A few words were rushed or dropped, which made the "
        "middle of the passage harder to follow; the ending was confident and well paced.",
        strengths=["Steady pace through the first sentence.", "Clear final consonants."],
        corrections=[
            Correction(
                original=str(w.expected),
                suggestion=str(w.expected),
                explanation="Say every syllable; it was shortened or left out.",
            )
            for w in wrong
        ],
        pronunciation_tips=rng.sample(TIPS, 2),
        next_exercise="Read the passage again, pausing at each comma, then record it once more.",
        rubric=None if kind == "read_aloud" else {"grammar": 70, "vocabulary": 65, "relevance": 80},
    ).model_dump(mode="json")


def recording(
    rng: random.Random, kind: ExerciseKind, text: str, *, llm: bool
) -> tuple[str, list[dict[str, Any]], dict[str, Any], Scores]:
    """(transcript text, its timed words, evaluation details, scores) of one attempt."""
    reference = text.split() if kind == "read_aloud" else ANSWER
    heard = _timed([t.strip(".,;?").lower() for t in reference], rng)
    fluency = measure_fluency(heard)
    results: list[WordResult] = []
    for ref, word in zip(reference, heard, strict=True):
        if kind == "open_response":
            results.append(WordResult(None, word.word.strip(), "none", None, word.start, word.end))
            continue
        error = rng.choices(["none", "mispronunciation", "omission"], [88, 8, 4])[0]
        by_error = {"none": rng.randint(70, 100), "mispronunciation": rng.randint(25, 60)}
        results.append(
            WordResult(
                ref,
                None if error == "omission" else word.word.strip(),
                error,  # type: ignore[arg-type]
                by_error.get(error, 0),
                None if error == "omission" else round(word.start, 2),
                None if error == "omission" else round(word.end, 2),
            )
        )
    scored = [w.accuracy for w in results if w.accuracy is not None] or [rng.randint(40, 95)]
    accuracy = sum(scored) / len(scored)
    completeness = None
    if kind == "read_aloud":
        completeness = round(100 * sum(w.error_type != "omission" for w in results) / len(results))
    points = fluency_score(fluency, accuracy)
    scores = Scores(
        round(accuracy), points, completeness, overall_score(accuracy, points, completeness)
    )
    evaluation = Evaluation(
        kind=kind,
        scores=scores,
        words=tuple(results),
        fluency=fluency,
        lexical=measure_lexicon(heard) if kind == "open_response" else None,
        feedback=local_feedback(scores, results, fluency),
        transcript=" ".join(w.word.strip() for w in heard),
        reference=text if kind == "read_aloud" else None,
        model="small.en",
    )
    details = evaluation.to_dict()
    if llm:
        details = merge_feedback(details, _llm(rng, results, kind))
    return evaluation.transcript, [w.to_dict() for w in heard], details, scores
