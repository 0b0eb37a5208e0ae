"""JWT access and refresh tokens (pyjwt, HS256 pinned on decode).

Claims: `iss`, `aud`, `sub` (user id), `role`, `typ` ("access" or "refresh"), `iat`, `exp`,
`jti`, `ver` (the user's token version when issued: bumping it revokes every earlier token) and,
on refresh tokens, `fam` (the refresh family, see `storage.refresh_tokens`). The role claim is a
hint for clients: requests take the role from the account (`rest.auth.accounts`). The same
`TokenService.claims` serves REST (Authorization header) and the websocket endpoints (query
parameter or subprotocol, since a browser cannot set headers there).
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import jwt

from rest.settings import AuthSettings
from storage.access import Principal
from storage.errors import Unauthenticated
from storage.models import Role

ALGORITHM = "HS256"
TokenType = Literal["access", "refresh"]
# Verified tokens kept by their text: a client sends the same access token with every request
# until it expires, and checking its signature and claims again cost more than the rest of a
# cheap read. Only what verified is kept, with its expiry, so a hit is as strict as a miss.
VERIFIED_CACHE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_jti: str
    family: str
    refresh_expires_at: datetime


@dataclass(frozen=True, slots=True)
class Claims:
    """What a verified token says; the account behind it is checked apart."""

    user_id: uuid.UUID
    role: Role
    version: int
    jti: str
    family: str | None


def load_or_create_secret(settings: AuthSettings, data_dir: Path) -> bytes:
    """The configured key, or a random one kept in the data folder across restarts."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = data_dir / "jwt-secret"
    if path.exists():
        return path.read_bytes().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48).encode()
    path.touch(mode=0o600)
    path.write_bytes(secret)
    return secret


class TokenService:
    def __init__(self, settings: AuthSettings, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the JWT secret must be at least 32 bytes")
        self._settings = settings
        self._secret = secret
        self._verified: OrderedDict[tuple[str, str], tuple[Claims, float]] = OrderedDict()

    def issue(
        self,
        user_id: uuid.UUID,
        role: Role,
        token_type: TokenType,
        *,
        version: int = 0,
        family: str | None = None,
        jti: str | None = None,
        now: datetime | None = None,
    ) -> str:
        now = now or datetime.now(UTC)
        ttl = (
            self._settings.access_ttl_s if token_type == "access" else self._settings.refresh_ttl_s
        )
        claims: dict[str, object] = {
            "iss": self._settings.issuer,
            "aud": self._settings.audience,
            "sub": str(user_id),
            "role": role.value,
            "typ": token_type,
            "iat": now,
            "exp": now + timedelta(seconds=ttl),
            "jti": jti or uuid.uuid4().hex,
            "ver": version,
        }
        if family is not None:
            claims["fam"] = family
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def issue_pair(
        self, user_id: uuid.UUID, role: Role, *, version: int = 0, family: str | None = None
    ) -> TokenPair:
        """A new access token and the next refresh token of `family` (a new family if None);
        the caller records the refresh token (`storage.refresh_tokens.record`)."""
        now = datetime.now(UTC)
        family = family or uuid.uuid4().hex
        jti = uuid.uuid4().hex
        return TokenPair(
            access_token=self.issue(user_id, role, "access", version=version, now=now),
            refresh_token=self.issue(
                user_id, role, "refresh", version=version, family=family, jti=jti, now=now
            ),
            expires_in=self._settings.access_ttl_s,
            refresh_jti=jti,
            family=family,
            refresh_expires_at=now + timedelta(seconds=self._settings.refresh_ttl_s),
        )

    def verify(self, token: str, token_type: TokenType = "access") -> Principal:
        """The principal a token claims, without the account check (see `claims`)."""
        claims = self.claims(token, token_type)
        return Principal(user_id=claims.user_id, role=claims.role)

    def claims(
        self, token: str, token_type: TokenType = "access", *, verify_exp: bool = True
    ) -> Claims:
        """`verify_exp=False`: a token past its expiry still names its caller (for re-checks
        of a socket opened with it, which then rest on the account alone)."""
        key = (token, token_type)
        hit = self._verified.get(key)
        if hit is not None:
            if not verify_exp or time.time() < hit[1]:
                return hit[0]
            del self._verified[key]
        claims, expires = self._decode(token, token_type, verify_exp=verify_exp)
        if expires > time.time():
            self._verified[key] = (claims, expires)
            if len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return claims

    def _decode(
        self, token: str, token_type: TokenType, *, verify_exp: bool
    ) -> tuple[Claims, float]:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self._settings.audience,
                issuer=self._settings.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"], "verify_exp": verify_exp},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("token expired", code="token_expired") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"invalid token: {exc}", code="invalid_token") from exc
        if claims.get("typ") != token_type:
            raise Unauthenticated(f"not an {token_type} token", code="invalid_token")
        version, family = claims.get("ver", 0), claims.get("fam")
        if type(version) is not int or not (family is None or isinstance(family, str)):
            raise Unauthenticated("malformed token claims", code="invalid_token")
        try:
            found = Claims(
                user_id=uuid.UUID(claims["sub"]),
                role=Role(claims["role"]),
                version=version,
                jti=str(claims.get("jti", "")),
                family=family,
            )
            return found, float(claims["exp"])
        except (KeyError, ValueError, TypeError) as exc:
            raise Unauthenticated("malformed token claims", code="invalid_token") from exc
