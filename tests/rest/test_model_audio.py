"""Model audio through the real app and the real espeak-ng: made once, served from the blob
store, made anew when the text or its settings change, and refused with a clear error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from rest.app import create_app
from rest.settings import Settings
from speech.audio import read_wav
from speech.tts.settings import TtsSettings
from speech.tts.voice import Voice
from storage.models import Role
from tests.rest.conftest import Account, Api, cheap_passwords
from tests.rest.test_courses import MISSING, new_course
from tests.rest.test_exercises import OPEN, new_exercise
from tests.services import require_program

TEXT = "Ask not what your country can do for you."


@pytest.fixture(autouse=True)
def espeak() -> None:
    require_program("espeak-ng")


class Counting:
    """The app's engine, counting what it is asked to say."""

    def __init__(self, inner: Voice) -> None:
        self.inner = inner
        self.said: list[tuple[str, str, int]] = []

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def default_voice(self) -> str:
        return self.inner.default_voice

    async def version(self) -> str:
        return await self.inner.version()

    async def synthesize(self, text: str, *, voice: str, rate: int) -> bytes:
        self.said.append((text, voice, rate))
        return await self.inner.synthesize(text, voice=voice, rate=rate)

    async def close(self) -> None:
        await self.inner.close()


def counting(api: Api) -> Counting:
    model_audio = api.state.model_audio
    assert model_audio is not None
    spy = Counting(model_audio.voice)
    model_audio.voice = spy
    return spy


def exercise(api: Api, **fields: Any) -> tuple[Account, Account, dict[str, Any]]:
    tutor, learner = api.account(Role.TUTOR), api.account(Role.LEARNER)
    course = new_course(api, tutor, status="published")
    return tutor, learner, new_exercise(api, tutor, course["id"], reference_text=TEXT, **fields)


def model_audio(api: Api, who: Account, exercise_id: str, query: str = "") -> dict[str, Any]:
    response = api.client.get(
        f"/v1/exercises/{exercise_id}/model-audio{query}", headers=who.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def play(api: Api, who: Account, info: dict[str, Any]) -> bytes:
    response = api.client.get(info["playback_url"], headers=who.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/wav"
    return response.content


def error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()["error"]
    return body


def test_model_audio_is_made_once_then_served_from_the_store(api: Api) -> None:
    spy = counting(api)
    _, learner, ex = exercise(api)

    info = model_audio(api, learner, ex["id"])
    assert info["text"] == TEXT
    assert (info["voice"], info["rate"]) == ("en-us", 100)
    assert info["engine"].startswith("espeak-ng ")
    assert info["playback_url"] == f"/v1/exercises/{ex['id']}/model-audio/wav"
    audio = read_wav(play(api, learner, info))
    assert audio.sample_rate == 16_000 and 1.0 < audio.duration_s < 5.0

    assert model_audio(api, learner, ex["id"]) == info
    play(api, learner, info)
    assert spy.said == [(TEXT, "en-us", 100)]


def test_an_edited_text_is_spoken_anew(api: Api) -> None:
    spy = counting(api)
    tutor, learner, ex = exercise(api)
    before = play(api, learner, model_audio(api, learner, ex["id"]))

    edited = "Ask what you can do for your country."
    patched = api.client.patch(
        f"/v1/exercises/{ex['id']}", json={"reference_text": edited}, headers=tutor.headers
    )
    assert patched.status_code == 200, patched.text

    info = model_audio(api, learner, ex["id"])
    assert info["text"] == edited
    assert play(api, learner, info) != before
    assert [text for text, _, _ in spy.said] == [TEXT, edited]


def test_voice_and_rate_are_exercise_settings(api: Api) -> None:
    spy = counting(api)
    tutor, learner, ex = exercise(api, tts_rate=60)
    assert (ex["tts_voice"], ex["tts_rate"]) == (None, 60)
    slow = model_audio(api, learner, ex["id"])
    assert slow["rate"] == 60
    # The API's URL plays the exercise's audio as it is set now: fetched before the change.
    slow_s = read_wav(play(api, learner, slow)).duration_s

    url = f"/v1/exercises/{ex['id']}"
    patched = api.client.patch(
        url, json={"tts_voice": "en-gb", "tts_rate": None}, headers=tutor.headers
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["tts_voice"], patched.json()["tts_rate"]) == ("en-gb", None)
    british = model_audio(api, learner, ex["id"])
    assert (british["voice"], british["rate"]) == ("en-gb", 100)
    assert slow_s > read_wav(play(api, learner, british)).duration_s * 1.3

    # Back to the first settings: that audio is still stored, so nothing is made again.
    api.client.patch(url, json={"tts_voice": None, "tts_rate": 60}, headers=tutor.headers)
    assert model_audio(api, learner, ex["id"]) == slow
    assert spy.said == [(TEXT, "en-us", 60), (TEXT, "en-gb", 100)]


def test_exercise_tts_settings_are_validated(api: Api) -> None:
    tutor, _, ex = exercise(api)
    url = f"/v1/exercises/{ex['id']}"
    for bad in (
        {"tts_voice": ""},
        {"tts_voice": "../voices/x"},
        {"tts_voice": "-v"},
        {"tts_voice": "en us"},
        {"tts_voice": "x" * 41},
        {"tts_rate": 49},
        {"tts_rate": 201},
        {"tts_rate": "90"},
    ):
        response = api.client.patch(url, json=bad, headers=tutor.headers)
        details = str(error(response, 422).get("details"))
        assert next(iter(bad)) in details, (bad, details)


def test_a_voice_the_engine_lacks_is_a_conflict(api: Api) -> None:
    _, learner, ex = exercise(api, tts_voice="xx-nowhere")
    response = api.client.get(f"/v1/exercises/{ex['id']}/model-audio", headers=learner.headers)
    body = error(response, 409)
    assert body["code"] == "unknown_voice" and "xx-nowhere" in body["message"]


def test_a_word_of_the_text_alone(api: Api) -> None:
    spy = counting(api)
    _, learner, ex = exercise(api)
    sentence = read_wav(play(api, learner, model_audio(api, learner, ex["id"])))

    # As a scored word's `expected` gives it: with its punctuation.
    word = model_audio(api, learner, ex["id"], "?word=you.")
    assert word["text"] == "you"
    assert word["playback_url"] == f"/v1/exercises/{ex['id']}/model-audio/wav?word=you."
    assert read_wav(play(api, learner, word)).duration_s < sentence.duration_s / 3
    # Case aside, the same word is the same stored audio.
    assert model_audio(api, learner, ex["id"], "?word=YOU")["playback_url"].endswith("YOU")
    assert [text for text, _, _ in spy.said] == [TEXT, "you"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("?word=tomato", "word_not_in_text"),
        ("?word=your%20country", "invalid_word"),
        ("?word=...", "invalid_word"),
        ("?word=" + "a" * 65, "invalid_input"),
        ("?word=", "invalid_input"),
        ("?voice=en-gb", "invalid_input"),
    ],
)
def test_word_is_validated(api: Api, query: str, code: str) -> None:
    _, learner, ex = exercise(api)
    for route in ("model-audio", "model-audio/wav"):
        response = api.client.get(
            f"/v1/exercises/{ex['id']}/{route}{query}", headers=learner.headers
        )
        assert error(response, 422)["code"] == code


def test_no_audio_without_a_reference_text_or_access(api: Api) -> None:
    tutor = api.account(Role.TUTOR)
    course = new_course(api, tutor, status="published")
    open_response = new_exercise(api, tutor, course["id"], **OPEN)
    draft = new_course(api, tutor)
    hidden = new_exercise(api, tutor, draft["id"])
    learner = api.account(Role.LEARNER)

    for route in ("model-audio", "model-audio/wav"):
        url = f"/v1/exercises/{open_response['id']}/{route}"
        assert (
            error(api.client.get(url, headers=learner.headers), 404)["code"] == "no_reference_text"
        )
        for exercise_id in (MISSING, hidden["id"]):
            url = f"/v1/exercises/{exercise_id}/{route}"
            assert error(api.client.get(url, headers=learner.headers), 404)["code"] == (
                "exercise_not_found"
            )
        assert api.client.get(url).status_code == 401


@pytest.fixture
def without_espeak(settings: Settings) -> Iterator[Api]:
    tts = TtsSettings(espeak_path="/nonexistent/espeak-ng")
    app = create_app(settings.model_copy(update={"tts": tts}), passwords=cheap_passwords())
    with TestClient(app) as client:
        yield Api(client)


def test_a_missing_engine_is_503_saying_what_to_install(
    without_espeak: Api, caplog: pytest.LogCaptureFixture
) -> None:
    api = without_espeak
    _, learner, ex = exercise(api)
    for route in ("model-audio", "model-audio/wav"):
        response = api.client.get(f"/v1/exercises/{ex['id']}/{route}", headers=learner.headers)
        body = error(response, 503)
        assert body["code"] == "model_audio_unavailable"
        assert body["message"].startswith("model audio unavailable: install espeak-ng")
    # Said once per request as a warning: no error, no traceback, as for a bug.
    said = [r for r in caplog.records if "install espeak-ng" in r.getMessage()]
    assert [(r.levelname, r.exc_info) for r in said] == [("WARNING", None)] * 2
