"""Whisper's feature frames: a 10 ms hop (160 samples at 16 kHz) and at most 3000 frames
(30 s) in one encoder window. Below both the model and the decoding, which share them."""

from __future__ import annotations

HOP = 160
MAX_FRAMES = 3000
