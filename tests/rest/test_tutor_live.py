"""Live views in process (one node, in-memory hub): `GET /v1/tutor/live` and `/v1/ws/observe`."""

from __future__ import annotations

import math
import time
import uuid
from typing import Any

import jwt

from realtime.observe_protocol import SessionEnded, SessionStarted
from realtime.ports import SessionMeta
from rest.auth.tokens import ALGORITHM
from storage.models import Role
from tests.rest.conftest import SECRET, Account, Api


def course(api: Api, admin: Account, tutor: Account | None = None) -> dict[str, Any]:
    made = api.client.post("/v1/courses", json={"title": "Talks"}, headers=admin.headers)
    assert made.status_code == 201, made.text
    created: dict[str, Any] = made.json()
    if tutor is not None:
        attached = api.client.post(
            f"/v1/courses/{created['id']}/tutors",
            json={"user_id": str(tutor.id)},
            headers=admin.headers,
        )
        assert attached.status_code in (200, 201), attached.text
    return created


def start(api: Api, learner: Account, course_id: str) -> SessionMeta:
    meta = SessionMeta(uuid.uuid4(), learner.id, uuid.UUID(course_id), uuid.uuid4(), "Read")

    async def publish() -> None:
        assert api.state.hub is not None
        api.state.hub.publish(meta, SessionStarted(exercise_title="Read", started_at=NOW))

    api.run(publish)
    return meta


NOW = "2026-11-22T07:00:00+00:00"


def test_live_sessions_are_scoped_like_history(api: Api) -> None:
    admin, tutor = api.account(Role.ADMIN), api.account(Role.TUTOR)
    stranger, learner = api.account(Role.TUTOR), api.account(Role.LEARNER, "Lee")
    taught, other = course(api, admin, tutor), course(api, admin)
    mine = start(api, learner, taught["id"])
    start(api, learner, other["id"])

    seen = api.client.get("/v1/tutor/live", headers=tutor.headers)
    assert seen.status_code == 200
    assert seen.json() == {
        "items": [
            {
                "session_id": str(mine.session_id),
                "learner": {"id": str(learner.id), "display_name": "Lee"},
                "exercise": {"id": str(mine.exercise_id), "title": "Read"},
                "course_id": taught["id"],
                "node": api.state.node_id,
                "started_at": "2026-11-22T07:00:00Z",
                "audio_ms": 0,
                "last_activity": seen.json()["items"][0]["last_activity"],
            }
        ],
        "partial": False,
    }
    assert len(api.client.get("/v1/tutor/live", headers=admin.headers).json()["items"]) == 2
    assert api.client.get("/v1/tutor/live", headers=stranger.headers).json()["items"] == []
    refused = api.client.get("/v1/tutor/live", headers=learner.headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert api.client.get("/v1/tutor/live").status_code == 401

    async def end() -> None:
        assert api.state.hub is not None
        api.state.hub.publish(mine, SessionEnded(state="done"))

    api.run(end)
    assert api.client.get("/v1/tutor/live", headers=tutor.headers).json()["items"] == []


def test_observing_in_one_process_without_redis(api: Api) -> None:
    admin, tutor, learner = api.account(Role.ADMIN), api.account(Role.TUTOR), api.account()
    taught = course(api, admin, tutor)
    with api.client.websocket_connect(f"/v1/ws/observe?access_token={tutor.token}") as ws:
        ws.send_json({"type": "subscribe", "channel": {"kind": "course", "id": taught["id"]}})
        subscribed = ws.receive_json()
        assert subscribed["type"] == "subscribed" and subscribed["offset"] == 0
        ws.send_json({"type": "subscribe", "channel": {"kind": "all"}})
        assert ws.receive_json()["code"] == "forbidden"
        meta = start(api, learner, taught["id"])
        event = ws.receive_json()
        assert event["type"] == "event" and event["offset"] == 1
        assert event["epoch"] == subscribed["epoch"]
        assert event["event"]["session_id"] == str(meta.session_id)
        assert event["event"]["message"]["type"] == "session_started"
        scraped = api.client.get("/metrics").text
        assert "parley_hub_subscriptions 1.0" in scraped and "parley_hub_redis_up 1.0" in scraped
        assert "parley_hub_live_sessions 1.0" in scraped
        ws.send_json({"type": "unsubscribe", "channel": {"kind": "course", "id": taught["id"]}})
        assert ws.receive_json() == {"type": "unsubscribed", "channel": f"course:{taught['id']}"}

    with api.client.websocket_connect(
        "/v1/ws/observe", subprotocols=["parley.v1", f"bearer.{learner.token}"]
    ) as ws:
        ws.send_json({"type": "subscribe", "channel": {"kind": "learner", "id": str(learner.id)}})
        assert ws.receive_json()["type"] == "subscribed"
        ws.send_json({"type": "subscribe", "channel": {"kind": "course", "id": taught["id"]}})
        assert ws.receive_json()["code"] == "forbidden"
        ws.send_bytes(b"\x00")
        assert ws.receive_json()["code"] == "bad_message"
        ws.send_text("x" * 5000)
        assert ws.receive_json()["code"] == "frame_too_large"
        closed = ws.receive()
        assert closed["type"] == "websocket.close" and closed["code"] == 4413

    with api.client.websocket_connect("/v1/ws/observe?access_token=nope") as ws:
        closed = ws.receive()
        assert closed["type"] == "websocket.close" and closed["code"] == 4401


def test_a_token_that_expires_on_an_open_socket_ends_it_at_the_next_subscribe(api: Api) -> None:
    admin = api.account(Role.ADMIN)
    # Whole seconds (JWT), and at least 1.5 s away: the socket must first be let in.
    expires = math.ceil(time.time() + 1.5)
    claims = {
        "iss": "parley",
        "aud": "parley-api",
        "sub": str(admin.id),
        "role": "admin",
        "typ": "access",
        "iat": expires - 60,
        "exp": expires,
    }
    token = jwt.encode(claims, SECRET, algorithm=ALGORITHM)
    with api.client.websocket_connect(f"/v1/ws/observe?access_token={token}") as ws:
        ws.send_json({"type": "subscribe", "channel": {"kind": "all"}})
        assert ws.receive_json()["type"] == "subscribed"
        while time.time() <= expires + 0.05:  # wall-clock expiry: nothing to wait on but time
            time.sleep(0.05)
        ws.send_json({"type": "subscribe", "channel": {"kind": "all"}})
        refused = ws.receive_json()
        assert refused["code"] == "token_expired" and refused["fatal"] is True
        assert ws.receive()["code"] == 4401
