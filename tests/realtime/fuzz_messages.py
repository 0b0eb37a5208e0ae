"""Generated websocket messages for fuzzing, and what the protocol says each must get.

`messages(fields)` draws text frames of every kind a careless or hostile client sends: text
that is no JSON, JSON that is no object, objects with an unknown or missing `type`, and
objects of a known `type` whose fields are right, wrong or unknown. `allowed` is the
oracle, written from docs/protocol.md rather than from the server's parser: which replies a
frame may get.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from hypothesis import strategies as st

Fields = dict[str, dict[str, st.SearchStrategy[Any]]]  # type -> field -> plausible values

JSON: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
UUIDS = st.uuids().map(str)
IDS = st.none() | st.text(max_size=64)


def mostly(valid: st.SearchStrategy[Any], edge: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`valid` three times in four, so that whole messages are often valid and get past
    validation to the server's logic; `edge` the rest of the time."""
    return st.one_of(valid, valid, valid, edge)


RESUME = mostly(
    st.fixed_dictionaries({"session_id": UUIDS, "token": st.text(min_size=1, max_size=200)}),
    st.dictionaries(st.sampled_from(["session_id", "token"]), st.text(max_size=220)),
)
PRACTICE: Fields = {
    "start": {
        "exercise_id": mostly(UUIDS, st.none() | st.text(max_size=40)),
        "audio": st.fixed_dictionaries(
            {},
            optional={
                "encoding": mostly(st.just("pcm_s16le"), st.sampled_from(["opus", "PCM_S16LE"])),
                "sample_rate": mostly(
                    st.integers(8000, 48000), st.integers(0, 100_000) | st.floats(0, 1e5)
                ),
                "channels": mostly(st.just(1), st.integers(-1, 3)),
            },
        ),
        "interim": st.booleans(),
        "resume": st.none() | RESUME,
    },
    "audio_chunk": {
        "seq": mostly(st.integers(0, 2**40), st.integers(max_value=-1)),
        "data": mostly(
            st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()),
            st.text(max_size=40),
        ),
    },
    "stop": {},
    "cancel": {},
    "ping": {"id": mostly(IDS, st.text(min_size=65, max_size=80))},
}
CHANNELS = st.fixed_dictionaries(
    {"kind": mostly(st.sampled_from(["session", "learner", "course", "all"]), st.text())},
    optional={"id": mostly(UUIDS | st.just("*"), st.text(max_size=70))},
)
OBSERVE: Fields = {
    "subscribe": {
        "channel": CHANNELS,
        "offset": st.integers(-1, 2**40),
        "epoch": st.text(max_size=70),
    },
    "unsubscribe": {"channel": CHANNELS},
    "ping": {"id": mostly(IDS, st.text(min_size=65, max_size=80))},
}


@st.composite
def _object(draw: st.DrawFn, fields: Fields, *, noisy: bool, extra: bool) -> str:
    """A JSON object: of a known type with plausible field values, or (`noisy`) of any type
    with any values; with `extra`, it has a field no message has."""
    types = st.sampled_from(sorted(fields))
    kind = draw(types | st.text(max_size=12) | JSON if noisy else types)
    body: dict[str, Any] = {"type": kind}
    if noisy and draw(st.integers(0, 9)) == 0:
        del body["type"]
    known = fields.get(kind, {}) if isinstance(kind, str) else {}
    for name in draw(st.lists(st.sampled_from(sorted(known)), unique=True)) if known else []:
        body[name] = draw(known[name] | JSON if noisy else known[name])
    if extra or (noisy and draw(st.integers(0, 5)) == 0):
        body["x_" + draw(st.text(max_size=8))] = draw(JSON)  # no message has such a field
    return json.dumps(body)


def messages(fields: Fields, *, valid_ones: bool = True) -> st.SearchStrategy[str]:
    """Text frames for an endpoint with these message types. Without `valid_ones`, every
    object of a known type carries a field the protocol does not have (so none is obeyed)."""
    extra = not valid_ones
    noisy = _object(fields, noisy=True, extra=extra)
    plausible = _object(fields, noisy=False, extra=extra)
    return st.one_of(
        st.text(max_size=60),
        JSON.map(json.dumps),
        noisy,
        noisy.map(lambda text: text[: len(text) // 2]),  # cut short
        # Half of all: messages that get past validation, into the server's logic.
        *[plausible] * 4,
    )


def reply_class(message: dict[str, Any]) -> str:
    """`error:<code>` for an error, else the message's type."""
    kind = str(message.get("type"))
    return f"error:{message.get('code')}" if kind == "error" else kind


def allowed(text: str, replies: dict[str, set[str]]) -> set[str]:
    """The reply classes docs/protocol.md allows for `text`, given what each message type may
    be answered with (`replies`). Text that is no JSON object is `bad_message`; an object
    whose `type` is missing or not one of the endpoint's is `unknown_message`; an unknown
    field is `bad_message` (though a bad `start.audio` may be reported first)."""
    try:
        value = json.loads(text)
    except ValueError:
        return {"error:bad_message"}
    if not isinstance(value, dict):
        return {"error:bad_message"}
    kind = value.get("type")
    if not isinstance(kind, str) or kind not in replies:
        return {"error:unknown_message"}
    if any(name.startswith("x_") for name in value):
        return {"error:bad_message"} | (replies[kind] & {"error:unsupported_audio"})
    return replies[kind]


def sentinel() -> str:
    return f"sentinel-{uuid.uuid4().hex}"
