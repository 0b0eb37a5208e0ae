# syntax=docker/dockerfile:1
# Build stage: install Parley and its dependencies (including the bundled tiny.en model)
# into a virtual environment that the runtime stage copies whole.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/parley
ENV PATH=/opt/parley/bin:$PATH
WORKDIR /src
# The locked runtime set first (its own layer, cached while only the code changes); --no-deps:
# the lock lists every package, pip checks each hash.
COPY requirements/runtime.txt ./requirements/
RUN pip install --no-deps --require-hashes -r requirements/runtime.txt
COPY pyproject.toml README.md ./
COPY cli ./cli
COPY realtime ./realtime
COPY rest ./rest
COPY speech ./speech
COPY storage ./storage
COPY web ./web
COPY workers ./workers
RUN pip install --no-deps --no-build-isolation .

# Runtime stage: no compilers, no sources, a non-root user.
FROM python:3.11-slim AS runtime
ENV PATH=/opt/parley/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PARLEY_SERVER__DATA_DIR=/var/lib/parley \
    PARLEY_DB__URL=sqlite+aiosqlite:////var/lib/parley/parley.db \
    PARLEY_BLOBS__LOCAL_PATH=/var/lib/parley/blobs
# espeak-ng speaks the exercises' model audio (speech/tts); without it that one route answers 503.
# wordnet-base is the dictionary of text analysis without an LLM (speech/explain).
RUN apt-get update \
    && apt-get install -y --no-install-recommends espeak-ng wordnet-base \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /var/lib/parley --create-home parley
COPY --from=build /opt/parley /opt/parley
USER parley
WORKDIR /var/lib/parley
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
CMD ["parley", "serve", "--host", "0.0.0.0", "--port", "8000"]
