"""Model configuration: the bundled default, and clear errors for models that cannot load."""

from __future__ import annotations

import pytest

from speech.errors import ModelLoadError
from speech.model import SpeechModel, resolve_model_path
from speech.settings import SpeechSettings


def test_bundled_model_resolves_to_a_packaged_folder() -> None:
    path = resolve_model_path("bundled:tiny.en")
    assert path.endswith("model")
    with pytest.raises(ValueError, match=r"only bundled:tiny\.en"):
        resolve_model_path("bundled:large-v3")


@pytest.mark.parametrize("name", ["small.en", "/no/such/model/folder"])
def test_unloadable_model_is_a_clear_error(name: str) -> None:
    # Downloads are off by default: an uncached name fails at once instead of hanging.
    with pytest.raises(ModelLoadError, match="cannot load speech model"):
        SpeechModel.load(SpeechSettings(model=name))
