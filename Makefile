# Nexus: the everyday commands. Everything runs inside the virtual environment `.venv`,
# which `make run` and `make test` create and fill on first use.
#
#   make run      migrate, load demo data into an empty database, serve on 127.0.0.1:$PORT (8000)
#   make test     the whole test suite (PYTEST_ARGS="-k approve -x" passes arguments to pytest)
#   make worker   a Celery worker with beat (for the PostgreSQL + Redis set-up)
#   make lint     ruff (pyproject.toml), hadolint, actionlint, shellcheck, compose/workflow schemas
#   make lock     regenerate requirements.txt (every package pinned, with hashes) from pyproject.toml
#   make lock-check  fail when requirements.txt is stale (needs PyPI)
#   make bench    the benchmarks, when there are any
#   make bench-http  Nexus over HTTP (gunicorn + worker) next to pgbench and the library
#   make clean    remove .venv, var/ (the embedded SQLite databases) and caches

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
# Written after a successful install; pip runs again only when the lock or pyproject.toml is newer.
STAMP := $(VENV)/.installed
# The lock: every transitive package of pyproject.toml (all extras), pinned, with the hashes of
# its files, for every platform (--universal). make install, the Dockerfile and CI install it.
LOCK := requirements.txt
LOCK_ARGS ?=
UV := $(VENV)/bin/uv
LOCK_COMPILE = $(UV) pip compile pyproject.toml --all-extras --generate-hashes --universal \
	--custom-compile-command "make lock" --quiet $(LOCK_ARGS)
# The interpreter that creates the venv: the project needs Python 3.11.
PYTHON_FOR_VENV ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
PYTEST_ARGS ?=
# `make run PORT=9000`, PORT in the environment, or PORT= in .env; else 8000.
PORT ?= $(shell sed -n 's/^PORT=\([0-9][0-9]*\).*/\1/p' .env 2>/dev/null | tail -n 1)

.PHONY: help venv install run worker test lint lock lock-check bench bench-http clean

help:
	@sed -n 's/^#   make/make/p' $(firstword $(MAKEFILE_LIST))

$(PY):
	@test -n "$(PYTHON_FOR_VENV)" || { echo "Python 3.11 is needed (python3.11 or python3)."; exit 1; }
	$(PYTHON_FOR_VENV) -m venv $(VENV)

# Exactly the lock, hash-checked (a file whose hash is not in the lock is refused), then the
# project itself without dependencies (no build isolation: setuptools comes from the lock), then
# `pip check`: a lock that misses a dependency fails here, not at run time.
$(STAMP): $(LOCK) pyproject.toml | $(PY)
	@echo "Installing Nexus and its locked dependencies into $(VENV) (a minute the first time)..."
	$(PY) -m pip install -qq --progress-bar off --require-hashes --no-deps -r $(LOCK)
	$(PY) -m pip install -qq --progress-bar off --no-deps --no-build-isolation -e .
	@$(PY) -m pip check || { echo "$(LOCK) lacks what pyproject.toml needs: run 'make lock'."; exit 1; }
	@touch $@

venv install: $(STAMP)

# Demo data follows settings.NEXUS_SEED_DEMO, so NEXUS_SEED_DEMO=false also works from .env.
run: $(STAMP)
	$(PY) manage.py migrate --noinput
	@if $(PY) manage.py shell --verbosity 0 \
		--command 'from django.conf import settings; raise SystemExit(not settings.NEXUS_SEED_DEMO)'; \
	then $(PY) manage.py seed_demo --if-empty; \
	else echo "NEXUS_SEED_DEMO is false: no demo data loaded."; fi
	$(PY) manage.py runserver 127.0.0.1:$(or $(PORT),8000)

# The worker needs a real broker: set REDIS_URL (and DATABASE_URL) in the environment or .env.
# Without REDIS_URL, commands project in-process and there is nothing for a worker to do.
worker: $(STAMP)
	@[ -n "$${REDIS_URL:-}" ] || grep -qs '^REDIS_URL=.' .env || \
		echo "note: REDIS_URL is not set: the worker is for the PostgreSQL + Redis set-up (see README)."
	@mkdir -p "$${NEXUS_VAR_DIR:-var}"
	$(VENV)/bin/celery -A nexus.celery worker --beat --loglevel=INFO \
		--schedule "$${NEXUS_VAR_DIR:-var}/celerybeat-schedule"

# tests/services.py uses PostgreSQL (postgres://postgres@127.0.0.1:5432/nexus) and Redis (db 15)
# when they answer; otherwise SQLite and local memory, and the summary lists what was skipped.
test: $(STAMP)
	@$(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: that is a failure."; fi; \
	exit $$status

# The same checks as CI: Python (ruff, flake8's rules), the Dockerfile, the workflows (with
# shellcheck on their scripts), the CI scripts, and both compose files and the workflows
# against their published schemas (vendored in check-jsonschema: no download).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/hadolint --failure-threshold warning Dockerfile
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/actionlint
	$(VENV)/bin/shellcheck .ci/run .ci/compose-smoke
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec compose.yaml docker-compose.dev.yml

# uv keeps the versions already in the lock unless pyproject.toml needs others;
# `make lock LOCK_ARGS=--upgrade` moves every package to its newest allowed version.
# The lock's own uv when installed; else the version pyproject.toml pins (writing a lock must
# not need the lock to install).
$(UV): | $(PY)
	$(PY) -m pip install -qq "$$(grep -o 'uv==[0-9.]*' pyproject.toml)"

lock: | $(UV)
	$(LOCK_COMPILE) --output-file $(LOCK)

# The lock regenerated from pyproject.toml must pin the same packages at the same versions.
# Hash lines are left out of the comparison: a project that uploads one more wheel for a
# version we pin adds a hash without making the lock stale (pip ignores files it has no hash for).
lock-check: | $(UV)
	@fresh=$$(mktemp -d) && trap 'rm -rf "$$fresh"' EXIT && cp $(LOCK) "$$fresh/lock" && \
	$(LOCK_COMPILE) --output-file "$$fresh/lock" && \
	if diff -u <(grep -v -- '--hash=' $(LOCK)) <(grep -v -- '--hash=' "$$fresh/lock"); then \
		echo "$(LOCK) is current."; \
	else echo "$(LOCK) is stale: run 'make lock' and commit it."; exit 1; fi

bench: $(STAMP)
	@if [ -f bench/__main__.py ]; then $(PY) -m bench; else echo "no benchmarks yet"; fi

bench-http: $(STAMP)
	$(PY) -m bench.http

clean:
	rm -rf $(VENV) var/ staticfiles/ artifacts/ .pytest_cache/ .ruff_cache/ .hypothesis/ *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
