"""Speech settings refuse window limits that contradict each other."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from speech.settings import SpeechSettings


@pytest.mark.parametrize(
    ("trim", "cap"),
    [("window_trim_s", "max_window_s"), ("loaded_window_trim_s", "loaded_max_window_s")],
)
def test_a_window_cap_below_its_trim_length_is_refused(trim: str, cap: str) -> None:
    limit = SpeechSettings().model_dump()[cap]
    SpeechSettings(**{trim: limit})  # equal is allowed
    with pytest.raises(ValidationError, match=f"{trim} .* must not exceed {cap}"):
        SpeechSettings(**{trim: limit + 1.0})
