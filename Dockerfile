# Nexus image: one image for the web (gunicorn), worker and beat processes of compose.yaml.
FROM python:3.11-slim

# PYTHONPATH: the project's modules are imported from the source tree (`packages = []`).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so that this layer survives code changes.
# Every dependency ships binary wheels for CPython 3.11 on glibc: no compiler is needed.
COPY pyproject.toml ./
RUN pip install . \
    && rm -rf build *.egg-info \
    && useradd --create-home --uid 10001 --user-group nexus

COPY . .
# var/: celery beat's schedule file and, without DATABASE_URL, the embedded SQLite databases.
# staticfiles/ (STATIC_ROOT) stays empty: WhiteNoise serves the assets from the packages.
RUN mkdir -p /app/var /app/staticfiles && chown nexus:nexus /app/var

USER nexus
EXPOSE 8000

# /healthz says the process answers; keep 127.0.0.1 in ALLOWED_HOSTS for this probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# gunicorn.conf.py: WEB_CONCURRENCY workers (default: the CPU count), GUNICORN_THREADS threads
# each; the connection budget is in docs/security.md. The non-root user has a home directory
# because gunicorn keeps its control socket there.
CMD ["gunicorn", "--config", "gunicorn.conf.py", "nexus.wsgi:application"]
