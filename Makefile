# Two commands matter (README): `make serve` sets up and runs the main job (the example chat app
# behind the local gateway), `make test` the tests. `make bench` measures against Mangum.
# Another interpreter: make test PYTHON=/root/.pyenv/versions/3.12.1/bin/python3.12 VENV=.venv-3.12
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup test bench fuzz serve

$(VENV)/.installed: pyproject.toml requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt -e .
	touch $@

setup: $(VENV)/.installed

test: setup
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m mypy --strict layer/asgi_lambda
	$(BIN)/python -m pytest $(ARGS)

bench: setup
	$(BIN)/python -m benchmarks $(ARGS)

# 10,000 mutated events through the adapter (tests/test_fuzz.py), with the count of each outcome.
fuzz: setup
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-10000} $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz.py $(ARGS)

serve: setup
	$(BIN)/python -m asgi_lambda serve main:app --app-dir examples/chat $(ARGS)
