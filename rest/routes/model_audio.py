"""How an exercise sounds: its reference text, or one of its words, spoken by the server's
text-to-speech engine (`rest.model_audio`).

Whoever may practise the exercise may hear it (`storage.practice.exercise_for`: the same
404 and 403 `exercise_not_available` as the practice socket). Audio is made on the first
request and stored; each later one is served from the blob store.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from rest import deps
from rest.api import Router
from rest.model_audio import Clip, reference_word
from rest.schemas.model_audio import ModelAudioOut, ModelAudioQuery
from storage import practice
from storage.blobs import LocalBlobStore
from storage.errors import NotFound
from storage.models import Exercise

router = Router("exercises")

MODEL_AUDIO = "/v1/exercises/{exercise_id:uuid}/model-audio"
ERRORS = (404, 409)  # 409 unknown_voice; 503 model_audio_unavailable comes with `database`


async def _clip(request: Request, query: ModelAudioQuery) -> Clip:
    who = await deps.principal(request)
    exercise_id = deps.path_id(request, "exercise_id")
    app = deps.state(request)
    async with app.sessions() as db:
        info = await practice.exercise_for(db, exercise_id, who)
        # Loaded by the lookup above: this reads the session's identity map, not the database.
        exercise = await db.get(Exercise, exercise_id)
    text = info.read_aloud_text
    if text is None or exercise is None:
        raise NotFound("this exercise has no reference text to speak", code="no_reference_text")
    if query.word is not None:
        text = reference_word(text, query.word)
    assert app.model_audio is not None  # built in the lifespan
    return await app.model_audio.clip(text, voice=exercise.tts_voice, rate=exercise.tts_rate)


@router.route(
    "GET",
    MODEL_AUDIO,
    summary="How the exercise's reference text (or one word of it) sounds, and where to play it",
    query=ModelAudioQuery,
    response=ModelAudioOut,
    errors=ERRORS,
)
async def get_model_audio(request: Request) -> Response:
    query = deps.query(request, ModelAudioQuery)
    clip = await _clip(request, query)
    url = await deps.state(request).blobs.playback_url(clip.key)
    if url is None:
        # The local store has no URL of its own: this API serves the file.
        exercise_id = deps.path_id(request, "exercise_id")
        words = "" if query.word is None else "?" + urlencode({"word": query.word})
        url = f"/v1/exercises/{exercise_id}/model-audio/wav{words}"
    out = ModelAudioOut(
        text=clip.text, voice=clip.voice, rate=clip.rate, engine=clip.engine, playback_url=url
    )
    return deps.respond(out)


@router.route(
    "GET",
    f"{MODEL_AUDIO}/wav",
    summary="The model audio itself (audio/wav, 16 kHz mono)",
    query=ModelAudioQuery,
    media_type="audio/wav",
    errors=ERRORS,
)
async def get_model_audio_wav(request: Request) -> Response:
    clip = await _clip(request, deps.query(request, ModelAudioQuery))
    blobs = deps.state(request).blobs
    if isinstance(blobs, LocalBlobStore):
        return FileResponse(blobs.path(clip.key), media_type="audio/wav")
    return Response(await blobs.get(clip.key), media_type="audio/wav")
