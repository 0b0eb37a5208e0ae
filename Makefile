# The two set-up commands: `make run` serves Parley with embedded defaults; `make test` runs the gate.
# Both install from the lock (requirements/lock.txt, runtime.txt its runtime subset); `make lock`
# refreshes it, `make test-latest` runs the gate against the newest releases pyproject allows.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# --no-deps: the lock lists every package already; pip only checks the hashes.
PIP_LOCKED := $(BIN)/pip install -q --no-deps --require-hashes
UV := $(BIN)/uv
COMPILE := $(UV) pip compile -q --universal --python-version 3.11 --generate-hashes

.PHONY: run test gate lint typecheck format lock test-latest web bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): requirements/runtime.txt pyproject.toml | $(BIN)/python
	$(PIP_LOCKED) -r requirements/runtime.txt
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $@

$(DEV_STAMP): requirements/lock.txt pyproject.toml | $(BIN)/python
	$(PIP_LOCKED) -r requirements/lock.txt
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $@ $(STAMP)

run: $(STAMP)
	$(BIN)/parley db upgrade
	$(BIN)/parley serve --host 0.0.0.0 --port 8000

test: $(DEV_STAMP)
	$(MAKE) gate BIN=$(BIN)

gate:
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy .
	$(BIN)/pytest --cov --cov-report=term

# uv resolves for every platform at once (--universal) and in seconds; the output is a plain
# requirements file that pip installs, so nothing but `make lock` needs uv.
lock: $(DEV_STAMP)
	$(COMPILE) pyproject.toml requirements/build.in requirements/extra.in --extra dev \
		--excludes requirements/excludes.txt -o requirements/lock.txt $(LOCK_ARGS)
	$(COMPILE) pyproject.toml requirements/build.in -c requirements/lock.txt \
		-o requirements/runtime.txt

# The gate against the newest releases: a scratch venv resolved fresh, the lock untouched.
LATEST := .venv-latest
test-latest: $(DEV_STAMP)
	rm -rf $(LATEST) && $(PY) -m venv $(LATEST)
	$(COMPILE) pyproject.toml requirements/build.in requirements/extra.in --extra dev \
		--excludes requirements/excludes.txt --upgrade --no-header -o $(LATEST)/lock.txt
	$(LATEST)/bin/pip install -q --no-deps --require-hashes -r $(LATEST)/lock.txt
	$(LATEST)/bin/pip install -q --no-deps --no-build-isolation -e .
	$(MAKE) gate BIN=$(LATEST)/bin

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) $(LATEST) .mypy_cache .ruff_cache .pytest_cache
