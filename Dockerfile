# syntax=docker/dockerfile:1
# Nexus images. One Dockerfile, four stages; only two are images anyone runs:
#   runtime (the last stage, so the default target): web, worker and beat of compose.yaml.
#           Runtime packages only, no compiler, no pip cache, non-root, HEALTHCHECK.
#   dev     docker-compose.dev.yml: the runtime packages plus the test and lint extras
#           (`docker compose -f docker-compose.dev.yml exec web pytest`); the code is mounted.
# Every package comes from requirements.txt (`make lock`), hash-checked, as in `make install`.

FROM python:3.11-slim-trixie AS base
# PYTHONPATH: the project's modules are imported from the source tree (`packages = []`).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONPATH=/app
WORKDIR /app

# A wheelhouse of the whole lock: downloads checked against its hashes, and the one package that
# ships only as source (promise) built into a wheel. Nothing of this stage ships.
FROM base AS wheels
COPY requirements.txt /tmp/requirements.txt
RUN pip wheel --require-hashes --no-deps --wheel-dir /wheels -r /tmp/requirements.txt

# The runtime packages: the project's own requirements resolved against the wheelhouse alone
# (--no-index), so each package can only be the locked, hash-checked file, and the extras'
# packages are not installed. The wheelhouse is mounted, never copied into a layer.
FROM base AS packages
COPY pyproject.toml /tmp/project/pyproject.toml
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels /tmp/project \
    && rm -rf /tmp/project

# Development: runserver with reload, pytest, the linters. The code is mounted at /app by
# docker-compose.dev.yml, so it runs as root to write what the tests write into the checkout.
FROM packages AS dev
COPY pyproject.toml /tmp/project/pyproject.toml
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels '/tmp/project[test,lint]' \
    && rm -rf /tmp/project
EXPOSE 8000
CMD ["python", "manage.py", "runserver", "0.0.0.0:8000"]

FROM packages AS runtime
# The non-root user has a home directory because gunicorn keeps its control socket there.
RUN useradd --create-home --uid 10001 --user-group nexus
COPY . .
# var/ (NEXUS_VAR_DIR): celery beat's schedule file and, without DATABASE_URL, the embedded
# SQLite databases: the only place the user writes. The code stays root's, read-only to it.
# staticfiles/ (STATIC_ROOT) stays empty: WhiteNoise serves the assets from the packages.
RUN mkdir -p /app/var /app/staticfiles && chown nexus:nexus /app/var
ENV NEXUS_VAR_DIR=/app/var

USER 10001:10001
EXPOSE 8000

# /healthz says the process answers; keep 127.0.0.1 in ALLOWED_HOSTS for this probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# gunicorn.conf.py: WEB_CONCURRENCY workers (default from the CPU count), GUNICORN_THREADS
# threads each, the app preloaded, a graceful stop on SIGTERM within GUNICORN_GRACEFUL_TIMEOUT.
CMD ["gunicorn", "--config", "gunicorn.conf.py", "nexus.wsgi:application"]
