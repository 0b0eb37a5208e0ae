"""The rate-limit section of the settings tree (`PARLEY_LIMITS__*`)."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from realtime.throttle import parse_limit


def _limit(text: str) -> str:
    try:
        parse_limit(text)
    except ValueError as exc:
        raise ValueError(f"not a rate limit such as '10/minute': {text!r}") from exc
    return text


Limit = Annotated[str, AfterValidator(_limit)]


def _network(text: str) -> str:
    ipaddress.ip_network(text, strict=False)
    return text


class LimitSettings(BaseModel):
    enabled: bool = Field(default=True, description="Apply the rate limits below.")
    login_per_account: Limit = Field(
        default="10/minute",
        description=(
            "Sign-in attempts for one e-mail address, from anywhere: password guessing against "
            "one account."
        ),
    )
    login_per_address: Limit = Field(
        default="60/minute",
        description=(
            "Sign-in attempts from one client address (a school behind one NAT address shares "
            "it). Each costs ~0.1 s of Argon2 CPU."
        ),
    )
    register_per_address: Limit = Field(
        default="30/hour", description="Registrations from one client address."
    )
    refresh_per_address: Limit = Field(
        default="120/minute", description="Token refreshes and sign-outs from one client address."
    )
    ws_connect_per_user: Limit = Field(
        default="60/minute", description="Websocket connections one user opens."
    )
    ws_connect_per_address: Limit = Field(
        default="300/minute", description="Websocket connections from one client address."
    )
    session_start_per_user: Limit = Field(
        default="30/minute", description="Practice sessions one user starts."
    )
    rescore_jobs_per_user: Limit = Field(
        default="20/hour",
        description=(
            "Rescoring jobs one tutor or admin starts: each may re-run Whisper and the LLM "
            "over hundreds of stored sessions (live sessions' LLM feedback is bounded by "
            "session_start_per_user)."
        ),
    )
    text_analyses_per_user: Limit = Field(
        default="60/hour",
        description=(
            "Text analyses one user asks for (`POST /v1/text/analyse`): each new text may cost "
            "an LLM request; answers from the cache count too."
        ),
    )
    ws_messages_per_socket: Limit = Field(
        default="100/second",
        description=(
            "Messages one websocket sends, apart from the audio of a streaming session (bounded "
            "by the audio limit, and free to come as fast as a client uploads it). Past it "
            "the socket is closed with 4429."
        ),
    )
    trusted_proxies: list[Annotated[str, AfterValidator(_network)]] = Field(
        default_factory=list,
        description=(
            "Addresses or networks of reverse proxies (e.g. `10.0.0.0/8`) whose "
            "X-Forwarded-For is believed; from anyone else the header is ignored."
        ),
    )
