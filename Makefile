# Herald: `make run` starts everything locally, `make test` runs the whole suite,
# `make test-fast` only the pure units (seconds), `make typecheck` runs mypy.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PROVIDER_PORT ?= 8001

.PHONY: run password test test-fast lint typecheck format install schema clean ops-check bench chaos

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade "pip>=25.1"
	$(BIN)/pip install -q --group dev
	touch $@

install: $(BIN)/.installed

# Local settings every manage.py command reads (config/settings/base.py): DEBUG on and a
# generated SECRET_KEY. Git-ignored; written once, delete it to get a new key.
.env:
	@printf '# Local settings written by make run (git-ignored); the environment wins.\nDEBUG=1\nSECRET_KEY=%s\n' \
		"$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" > $@
	@echo "wrote .env: DEBUG=1 and a generated SECRET_KEY for local use"

# Metrics of every local process add up in one directory, emptied at each start.
run: export PROMETHEUS_MULTIPROC_DIR := $(CURDIR)/db/prometheus
run: install .env
	rm -rf $(PROMETHEUS_MULTIPROC_DIR) && mkdir -p $(PROMETHEUS_MULTIPROC_DIR)
	$(BIN)/python manage.py migrate --no-input -v 0
	$(BIN)/python manage.py create_signin_user
	$(BIN)/python manage.py runlocal --addr $(HOST):$(PORT) --provider-port $(PROVIDER_PORT)

# A new password for the sign-in user make run created (it keeps its password otherwise).
password: install .env
	$(BIN)/python manage.py create_signin_user --reset

# axe-core for the accessibility browser test, pinned in package-lock.json (needs npm;
# without it that one test is skipped locally and fails in CI).
node_modules/.package-lock.json: package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the accessibility test will be skipped"; fi

# The whole suite; PYTEST_ARGS narrows it (e.g. PYTEST_ARGS="-m 'not browser'").
test: install node_modules/.package-lock.json
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

# The pure units (marker `fast`: no database, no processes, no browser), in seconds.
test-fast: install
	$(BIN)/pytest -m fast $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy over the product code ([tool.mypy] in pyproject.toml). DEBUG=1 and no .env: the
# Django plugin loads the settings, which want a SECRET_KEY otherwise.
typecheck: install
	DEBUG=1 HERALD_ENV_FILE= $(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# No .env here: CI runs it, and a .env in CI's checkout would turn DEBUG on for later steps.
schema: install
	DEBUG=1 $(BIN)/python manage.py spectacular --validate --fail-on-warn --file schema.yml

# Benchmarks and resilience runs: quick sizes by default, BENCH_FULL=1 for the full ones;
# BENCH_DBS="sqlite" narrows the databases (default: sqlite postgres). Figures are printed.
bench: install
	$(BIN)/python -m bench --suite bench

chaos: install
	$(BIN)/python -m bench --suite chaos

# Offline checks of Dockerfile, docker-compose.yml and k8s/ (no Docker engine or cluster).
ops-check: install
	BIN=$(BIN) scripts/ops_check.sh

clean:
	rm -rf $(VENV) db staticfiles
