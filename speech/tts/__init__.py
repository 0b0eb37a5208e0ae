"""Model audio: how a text sounds, spoken by a text-to-speech engine.

    voice.py     the `Voice` contract every engine meets, and its errors
    settings.py  `TtsSettings`, the `tts` section of the settings tree
    espeak.py    `EspeakVoice`: Debian's espeak-ng binary, offline (the default)
    polly.py     `PollyVoice`: Amazon Polly through boto3, for a school that wants a cloud voice
    factory.py   `create_voice` picks one from settings

Every engine answers 16-bit mono WAV at 16 kHz, the rate Parley records and recognises at,
so model audio and a learner's recording compare like for like.
"""
