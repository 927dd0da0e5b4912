# data-sandbox: `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SANDBOX := $(BIN)/sandbox
# The demo keeps its state in the project.
export SANDBOX_STATE_DIR ?= $(CURDIR)/.state
# The registry tests run against SQLite and this PostgreSQL (tests/ensure-postgres.sh).
export SANDBOX_TEST_POSTGRES_URL ?= postgresql+psycopg://sandbox_test:sandbox_test@127.0.0.1:5432/postgres
PYTEST_ARGS ?=

.PHONY: demo demo-down test test-fast bench screenshots lint format system-deps clean help

help:
	@echo "make demo   provision and start the demo sandbox; prints URL and logins"
	@echo "make test   run every test (unit, CLI, integration, browser)"
	@echo "make lint   ruff, mypy, yamllint, ansible-lint"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip 'setuptools>=80.9'
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-fund --no-audit --silent
	touch $@

# Debian packages the integration and browser tests need (root, apt).
system-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  need=""; \
	  command -v dockerd >/dev/null || need="$$need docker.io"; \
	  command -v debootstrap >/dev/null || need="$$need debootstrap"; \
	  command -v chromium >/dev/null || need="$$need chromium"; \
	  command -v pg_lsclusters >/dev/null || need="$$need postgresql"; \
	  [ -x /usr/sbin/slapd ] || need="$$need slapd ldap-utils"; \
	  if [ -n "$$need" ]; then \
	    echo "installing:$$need"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; \
	  fi; \
	fi
	@tests/ensure-docker.sh
	@tests/ensure-postgres.sh

demo: $(VENV)/.installed node_modules/.installed
	$(SANDBOX) validate
	$(SANDBOX) up demo
	@echo
	@$(SANDBOX) credentials demo
	@echo
	@echo "The demo's state is in $(SANDBOX_STATE_DIR): \`.venv/bin/sandbox status\` run here finds it;"
	@echo "from elsewhere: export SANDBOX_STATE_DIR=$(SANDBOX_STATE_DIR) SANDBOX_CONFIG=$(CURDIR)/config/sandbox.yaml"

demo-down: $(VENV)/.installed
	$(SANDBOX) down demo

# Tiers: fast (no Docker, no database), database (SQLite and PostgreSQL),
# integration and browser (real hub, Docker, Chromium), then the drills that
# stop the host's dockerd (opt-in: SANDBOX_RUN_DRILLS=1, as .ci/run sets).
test: $(VENV)/.installed node_modules/.installed system-deps
	$(BIN)/pytest -n 2 tests/unit tests/cli tests/database $(PYTEST_ARGS)
	$(BIN)/pytest -m "not drill" tests/integration tests/e2e $(PYTEST_ARGS)
	$(BIN)/pytest -m drill tests/integration $(PYTEST_ARGS)

# Two workers for two cores (tests/conftest.py keeps the tests that import
# ACRO, jsonschema or JupyterHub each on one worker); schemathesis's pytest
# plugin (a second to load) serves only the integration tests.
test-fast: $(VENV)/.installed
	HYPOTHESIS_PROFILE=fast $(BIN)/pytest -n 2 -p no:schemathesis tests/unit tests/cli $(PYTEST_ARGS)

# Benchmarks: every figure beside its floor (bench/results.json).
bench: $(VENV)/.installed node_modules/.installed system-deps
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Regenerate the screenshots in docs/ from the browser tests.
screenshots: $(VENV)/.installed node_modules/.installed system-deps
	SANDBOX_SCREENSHOT_DIR=$(CURDIR)/docs $(BIN)/pytest tests/e2e $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check sandbox tests bench images
	$(BIN)/ruff format --check sandbox tests bench images
	$(BIN)/mypy
	$(BIN)/yamllint --strict playbooks config .yamllint .ansible-lint
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/ansible-lint playbooks

format: $(VENV)/.installed
	$(BIN)/ruff format sandbox tests bench images
	$(BIN)/ruff check --fix sandbox tests bench images

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
