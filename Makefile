# Every target creates the virtualenv it needs; `make demo` and `make test` work from a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# the demo installs only what it runs (the package and the demo extra), not the development toolchain
DEMO_STAMP := $(VENV)/.demo-stamp
DEMO_HOST ?= 127.0.0.1
DEMO_PORT ?= 8000
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=
# test-fast's pytest-xdist workers: one per core
FAST_WORKERS ?= auto
# pyproject.toml turns these pytest plugins off (start-up time); the resilience suite's API fuzzing needs them
RESILIENCE_PLUGINS := -p schemathesis -p hypothesispytest

.PHONY: help venv demo demo-data test test-fast test-sqlite test-postgres test-resilience bench lint typecheck format build check-migrations messages compilemessages clean

help:
	@echo "make demo           run the example site with qcluster (SQLite, ORM broker, sandbox provider) on"
	@echo "                    http://DEMO_HOST:DEMO_PORT/ (default 127.0.0.1:8000; e.g. make demo DEMO_PORT=8001)"
	@echo "make test           the whole test suite (SQLite; includes the real qcluster and Redis broker tests)"
	@echo "make test-fast      the quick loop: no browser, qcluster, gunicorn, packaging or resilience tests; every core"
	@echo "make test-postgres  the whole suite on PostgreSQL ($(POSTGRES_URL)), including concurrency tests"
	@echo "make test-resilience  the resilience suite (tests/resilience) on PostgreSQL ($(POSTGRES_URL))"
	@echo "make bench          the benchmarks (gunicorn, wrk, PostgreSQL, Redis); report in artifacts/bench/, see docs/benchmarks.md"
	@echo "make lint           ruff, mypy, the import-cycle check and the migrations check"
	@echo "make build          build the sdist and wheel into dist/"
	@echo "make messages       extract the marked strings into the de/es catalogs (django_kyc's and the demo page's,"
	@echo "                    Python, templates and JavaScript); needs GNU gettext. See CONTRIBUTING.md, Translations"
	@echo "make compilemessages  compile the catalogs into the .mo files that are committed and shipped"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# no pip upgrade here: the venv's own pip installs the demo's few packages, and upgrading it costs seconds
$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[demo]'
	@touch $(DEMO_STAMP)

demo-data: $(DEMO_STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py kyc_load_lists
	$(BIN)/python manage.py kyc_demo --base-url http://$(DEMO_HOST):$(DEMO_PORT)

demo: demo-data
	DEMO_HOST=$(DEMO_HOST) DEMO_PORT=$(DEMO_PORT) ./scripts/demo.sh

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# while working: --fast leaves out the tests marked browser, cluster, server, packaging and resilience
test-fast: $(STAMP)
	$(BIN)/python -m pytest --fast -n $(FAST_WORKERS) $(PYTEST_ARGS)

test-sqlite: test

test-postgres: $(STAMP)
	DATABASE_URL=$(POSTGRES_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)

test-resilience: $(STAMP)
	DATABASE_URL=$(POSTGRES_URL) $(BIN)/python -m pytest -q tests/resilience --run-resilience $(RESILIENCE_PLUGINS) $(PYTEST_ARGS)

BENCH_STAMP := $(VENV)/.bench-stamp
BENCH ?=

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	@command -v wrk >/dev/null || (apt-get install -y -q wrk >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null))
	@touch $(BENCH_STAMP)

# every benchmark (or BENCH="ingest latency"); the report is printed and kept in artifacts/bench/
bench: $(BENCH_STAMP)
	@mkdir -p artifacts/bench
	@bash -o pipefail -c '$(BIN)/python -m bench $(BENCH) | tee artifacts/bench/report-$$(date -u +%Y%m%dT%H%M%SZ).md'

lint: $(STAMP) check-migrations
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy django_kyc
	$(BIN)/python scripts/check_import_cycles.py django_kyc

typecheck: $(STAMP)
	$(BIN)/mypy django_kyc

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-migrations: $(STAMP)
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/python -m django makemigrations django_kyc --check --dry-run

# the translation catalogs (scripts/messages.sh; GNU gettext); translate what `messages` added, then compile
messages: $(STAMP)
	DJANGO_ADMIN=$(BIN)/django-admin ./scripts/messages.sh make

compilemessages: $(STAMP)
	DJANGO_ADMIN=$(BIN)/django-admin ./scripts/messages.sh compile

build: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

clean:
	rm -rf $(VENV) dist build .demo .pytest_cache .mypy_cache .ruff_cache
