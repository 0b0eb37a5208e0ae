"""Recordings shipped with Parley, with the text each one reads.

Loaded through `importlib.resources`, so they are found in an installed wheel as well as in
a source checkout. Sources and licences are listed in this folder's README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True, slots=True)
class Sample:
    """A bundled 16-bit mono WAV file and the text spoken in it."""

    file: str
    text: str

    def wav(self) -> bytes:
        return resources.files(__name__).joinpath(self.file).read_bytes()


JFK = Sample(
    file="jfk.wav",
    text=(
        "And so my fellow Americans, ask not what your country can do for you, "
        "ask what you can do for your country."
    ),
)
