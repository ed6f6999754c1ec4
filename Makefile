# Two commands matter (README): `make serve` sets up and runs the main job (the example chat app
# behind the local gateway), `make test` the tests. `make bench` measures against Mangum.
# One interpreter only: make test-one (or make test-one PYTHON=python3.12 VENV=.venv-3.12).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup test test-one bench fuzz serve

$(VENV)/.installed: pyproject.toml requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt -e .
	touch $@

setup: $(VENV)/.installed

# `make test` runs the suite on $(PYTHON), then on each Lambda runtime this machine has (pyenv's
# python3.12 and python3.13, each in its own venv); `make test-one` only on $(PYTHON).
PYENV_ROOT ?= $(HOME)/.pyenv
interpreter = $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/$(1).*/bin/python$(1)))),$(shell command -v python$(1) 2>/dev/null))
RUNTIMES ?= 3.12 3.13

test: test-one
	@for runtime in $(foreach version,$(RUNTIMES),$(version)=$(call interpreter,$(version))); do \
		version=$${runtime%%=*}; python=$${runtime#*=}; \
		if [ -z "$$python" ] || ! "$$python" -c "" 2>/dev/null; then \
			echo "python$$version is not installed here (pyenv install $$version)"; \
			if [ -n "$${CI:-}" ]; then exit 1; else continue; fi; \
		fi; \
		echo "== the suite on python$$version ($$python) =="; \
		$(MAKE) --no-print-directory test-one PYTHON="$$python" VENV=.venv-$$version || exit 1; \
	done

test-one: setup
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m mypy --strict layer/asgi_lambda
	$(BIN)/python -m pytest $(ARGS)

bench: setup
	$(BIN)/python -m benchmarks $(ARGS)

# 10,000 mutated events through the adapter (tests/test_fuzz.py), with the count of each outcome.
fuzz: setup
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-10000} $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz.py $(ARGS)

# `make serve` needs only the package with its [local] extra (uvicorn, websockets) and the chat's
# own requirements (fastapi): from a fresh clone it installs just those. Once `make setup` (or
# `make test`) has made the full install, it uses that one.
$(VENV)/.serve-installed: pyproject.toml examples/chat/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[local]' -r examples/chat/requirements.txt
	touch $@

serve: $(if $(wildcard $(VENV)/.installed),setup,$(VENV)/.serve-installed)
	WS_PATH=/ws $(BIN)/python -m asgi_lambda serve main:app --app-dir examples/chat $(ARGS)
