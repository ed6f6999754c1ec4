# Two commands matter (README): `make serve` sets up and runs the main job (the example chat app
# behind the local gateway), `make test` the tests. `make check` is the quick loop while working
# (lint and the unit tests, on one interpreter). `make bench` measures against Mangum.
# One interpreter only: make test-one (or make test-one PYTHON=python3.12 VENV=.venv-3.12).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The tests import this checkout's package (layer/), whatever a venv's editable install points at.
export PYTHONPATH := $(CURDIR)/layer

.PHONY: setup lint check test test-runs test-one bench fuzz serve docs docs-serve dist

# The release tests' tools (requirements-release.txt, 0.6 GB) go into $(VENV); `make test` sets up
# the other interpreters' venvs with RELEASE_TOOLS empty, as it runs the release tests on $(VENV) only.
RELEASE_TOOLS ?= -r requirements-release.txt
$(VENV)/.installed: pyproject.toml requirements-dev.txt requirements-release.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt $(RELEASE_TOOLS) -e .
	touch $@

setup: $(VENV)/.installed

# pytest-xdist runs each test file on one of its processes (--dist loadfile), so that a module's
# fixtures (a built layer, a published layer, a server) are made once: make check and make test-one
# on one process per core (-n auto); make test on WORKERS per run, for its four runs at once.
WORKERS ?= 1
PYTEST = -m pytest --dist loadfile

lint: setup
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m mypy --strict layer/asgi_lambda

# The quick loop: lint, then tests/unit/ (the `unit` marker: no server, no subprocess of the runtime).
check: lint
	$(BIN)/python $(PYTEST) -n auto tests/unit $(ARGS)

# `make test` runs lint and every test on $(PYTHON) and on each Lambda runtime this machine has
# (pyenv's python3.12 and python3.13, each in its own venv; a runtime missing here fails under CI),
# all at once, its output shown when each run ends:
# - tests/unit and tests/integration, and Mangum's own suite (it runs the adapter), on every interpreter;
# - the rest of tests/release once, on $(PYTHON): building, publishing and packaging the layer, CDK,
#   osls and cfn-lint run the same tools whatever the interpreter, and with three runs of them
#   `make test` would not end within 10 minutes on a 2-core machine.
# The four runs use both cores already; with more processes (WORKERS=2) the integration tests that
# bound a duration (an unreachable store refused within 5 s, a WebSocket handshake within 10 s, a
# soak's descriptor count) start to fail on a 2-core machine. Raise WORKERS on a bigger one.
# `make test-one` runs lint and every test on $(PYTHON).
# On disk: each venv is about 1.4 GB with the release tools, 0.8 GB without; a full `make test` from a
# fresh clone leaves about 3 GB (docs/running-locally.md, "The project's own tests").
PYENV_ROOT ?= $(HOME)/.pyenv
interpreter = $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/$(1).*/bin/python$(1)))),$(shell command -v python$(1) 2>/dev/null))
RUNTIMES ?= 3.12 3.13
FOUND = $(foreach version,$(RUNTIMES),$(if $(shell "$(call interpreter,$(version))" -c "" 2>/dev/null && echo yes),$(version)))
MISSING = $(filter-out $(FOUND),$(RUNTIMES))
EVERY_INTERPRETER = tests/unit tests/integration tests/release/test_mangum_suite.py
ONCE = tests/release --ignore=tests/release/test_mangum_suite.py

test:
	@for version in $(MISSING); do echo "python$$version is not installed here (pyenv install $$version)"; done
	@if [ -n "$(MISSING)" ] && [ -n "$${CI:-}" ]; then exit 1; fi
	@$(MAKE) --no-print-directory -j setup $(addprefix venv/,$(FOUND))
	@$(MAKE) --no-print-directory test-runs

# make test's runs, once the venvs are there (a make of its own: it reads their Pythons' versions).
test-runs:
	@echo "== at once: lint; the documentation site; the suite on $(call version_of,$(VENV)) $(addprefix python,$(FOUND)); the release tests on $(call version_of,$(VENV)) =="
	@$(MAKE) --no-print-directory -j --output-sync=target lint docs release/$(VENV) $(addprefix suite/,$(VENV) $(addprefix .venv-,$(FOUND)))

# The venv of the Lambda runtime python$* (3.12, 3.13), without the release tools; made beside $(VENV),
# at once (a fresh clone's three venvs take about as long as the largest).
venv/%:
	@$(MAKE) --no-print-directory -q setup PYTHON="$(call interpreter,$*)" VENV=.venv-$* RELEASE_TOOLS= \
		|| $(MAKE) --no-print-directory setup PYTHON="$(call interpreter,$*)" VENV=.venv-$* RELEASE_TOOLS=

version_of = python$(shell $(1)/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')

# Every interpreter's tests on the venv $*, with a pytest cache of its own (the runs are at once).
suite/%:
	@echo "== the suite on $(call version_of,$*) ($*) =="
	$*/bin/python $(PYTEST) -n $(WORKERS) -o cache_dir=.pytest_cache/$(notdir $*) $(EVERY_INTERPRETER) $(ARGS)

release/%:
	@echo "== the release tests on $(call version_of,$*) ($*) =="
	$*/bin/python $(PYTEST) -n $(WORKERS) -o cache_dir=.pytest_cache/release $(ONCE) $(ARGS)

test-one: lint
	$(BIN)/python $(PYTEST) -n auto $(ARGS)

# The package as PyPI would take it, not published yet: the wheel and the sdist in $(DIST), built
# with this venv's setuptools (no download) and checked with `twine check --strict`.
# `pip install dist/asgi_lambda-*.whl` (or `'...whl[local]'`) installs it.
DIST ?= dist
dist: setup
	rm -f $(DIST)/asgi_lambda-*.whl $(DIST)/asgi_lambda-*.tar.gz
	$(BIN)/python -m build --no-isolation --outdir $(DIST) .
	$(BIN)/python -m twine check --strict $(DIST)/asgi_lambda-*.whl $(DIST)/asgi_lambda-*.tar.gz

bench: setup
	$(BIN)/python -m benchmarks $(ARGS)

# 10,000 mutated events through the adapter (tests/unit/test_fuzz.py), with the count of each outcome.
fuzz: setup
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-10000} $(BIN)/python -m pytest -q -p no:cacheprovider tests/unit/test_fuzz.py $(ARGS)

# `make serve` needs only the package with its [local] extra (uvicorn, websockets) and the chat's
# own requirements (fastapi): from a fresh clone it installs just those. Once `make setup` (or
# `make test`) has made the full install, it uses that one.
$(VENV)/.serve-installed: pyproject.toml examples/chat/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[local]' -r examples/chat/requirements.txt
	touch $@

serve: $(if $(wildcard $(VENV)/.installed),setup,$(VENV)/.serve-installed)
	WS_PATH=/ws $(BIN)/python -m asgi_lambda serve main:app --app-dir examples/chat $(ARGS)

# The documentation site (mkdocs.yml, docs/): built with --strict, so a broken link, an anchor that is
# not there or a page missing from the navigation fails, into site/ (gitignored). make test builds it too.
# docs-serve serves it on http://127.0.0.1:8001 (make serve has 8000), rebuilt as the pages change.
export NO_MKDOCS_2_WARNING := 1
docs: setup
	$(BIN)/python -m mkdocs build --strict --site-dir site

docs-serve: setup
	$(BIN)/python -m mkdocs serve --strict --dev-addr 127.0.0.1:8001
