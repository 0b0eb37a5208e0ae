"""The settings tree: environment names, nesting, and the table in docs/configuration.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from rest.settings import Settings
from rest.settings_doc import BEGIN, END, markdown

CONFIGURATION = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_nested_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLEY_DB__URL", "postgresql+asyncpg://u@h/db")
    monkeypatch.setenv("PARLEY_REDIS__URL", "redis://h:6379/1")
    monkeypatch.setenv("PARLEY_AUTH__SECRET_KEY", "s" * 40)
    monkeypatch.setenv("PARLEY_AUTH__OPEN_REGISTRATION", "false")
    settings = Settings(_env_file=None)
    assert settings.db.url == "postgresql+asyncpg://u@h/db"
    assert settings.redis.url == "redis://h:6379/1"
    assert settings.auth.open_registration is False
    secret = settings.auth.secret_key
    assert secret is not None and secret.get_secret_value() == "s" * 40
    assert "s" * 40 not in repr(settings)


def test_env_file_is_honoured(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("PARLEY_SERVER__PORT=9100\n")
    assert Settings(_env_file=env).server.port == 9100


def test_configuration_table_is_current() -> None:
    text = CONFIGURATION.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    assert text[start:end] == markdown(), "run: python -m rest.settings_doc --write"
