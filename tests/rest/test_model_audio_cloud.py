"""Model audio from Amazon Polly, kept in S3 and played from a presigned URL, with moto's
server standing in for both services (its Polly answers silence: the request and the
storage are what is tested here, not the voice)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from rest.app import create_app
from rest.settings import Settings
from speech.audio import read_wav
from speech.tts.settings import TtsSettings
from tests.rest.conftest import Api, cheap_passwords
from tests.rest.test_model_audio import TEXT, counting, exercise, model_audio, play
from tests.storage.test_blobs import s3_settings

TESTING = SecretStr("testing")


@pytest.fixture
def cloud(settings: Settings, moto_endpoint: str) -> Iterator[Api]:
    blobs = s3_settings(moto_endpoint)
    tts = TtsSettings(
        provider="polly",
        polly_endpoint_url=moto_endpoint,
        polly_access_key_id=TESTING,
        polly_secret_access_key=TESTING,
        polly_voice="Matthew",
    )
    app = create_app(
        settings.model_copy(update={"blobs": blobs, "tts": tts}), passwords=cheap_passwords()
    )
    with TestClient(app) as client:
        yield Api(client)


def test_polly_audio_is_stored_in_s3_and_played_from_a_presigned_url(
    cloud: Api, moto_endpoint: str
) -> None:
    spy = counting(cloud)
    _, learner, ex = exercise(cloud, tts_rate=80)

    info = model_audio(cloud, learner, ex["id"])
    assert (info["voice"], info["rate"], info["engine"]) == ("Matthew", 80, "polly standard")
    url = urlsplit(info["playback_url"])
    assert f"{url.scheme}://{url.netloc}" == moto_endpoint
    assert url.path.startswith("/parley-test-") and "/tts/" in url.path
    assert "X-Amz-Signature=" in url.query

    # Fetched without Parley's token: the signature is the permission.
    fetched = httpx.get(info["playback_url"], timeout=10)
    assert fetched.status_code == 200
    assert read_wav(fetched.content).sample_rate == 16_000
    assert play(cloud, learner, {"playback_url": f"/v1/exercises/{ex['id']}/model-audio/wav"}) == (
        fetched.content
    )

    again = model_audio(cloud, learner, ex["id"])
    assert urlsplit(again["playback_url"]).path == url.path
    assert spy.said == [(TEXT, "Matthew", 80)]


def test_a_voice_polly_lacks_is_a_conflict(cloud: Api) -> None:
    _, learner, ex = exercise(cloud, tts_voice="en-us")
    response = cloud.client.get(f"/v1/exercises/{ex['id']}/model-audio", headers=learner.headers)
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "unknown_voice"
