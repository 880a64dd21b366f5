"""Every environment variable the code reads is documented and reaches the containers.

The variables are found by reading the code (``os.environ.get``, ``os.environ[...]``,
``os.getenv``, settings' ``env_bool``, ``env_list`` and ``env_lines``) in the settings,
gunicorn.conf.py and every application package, so a variable added there without a line in
``.env.example`` fails here. Both compose files must hand ``.env`` whole to every process of the
image, may set themselves only the variables they own (the URLs they build, the development
stack's choices), and may interpolate only documented variables.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["gunicorn.conf.py", "manage.py", "nexus", "commands", "events", "projections",
           "readapi", "workers"]
READERS = {"env_bool", "env_list", "env_lines", "getenv"}
COMPOSE_FILES = ["compose.yaml", "docker-compose.dev.yml"]
# What each compose file sets itself instead of taking it from .env, and why.
COMPOSE_OWNED = {
    # Built from POSTGRES_* and the service names: .env's own URLs would point elsewhere.
    "compose.yaml": {"DATABASE_URL", "REDIS_URL",
                     "GUNICORN_BIND"},  # the container's port: .env's PORT is the host's
    "docker-compose.dev.yml": {
        "DATABASE_URL", "REDIS_URL",
        "DEBUG",  # development pages
        "NEXUS_VAR_DIR",  # outside the mounted checkout
        "EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS",  # every email to Mailpit
        "NEXUS_TEST_DATABASE_URL", "NEXUS_TEST_REDIS_URL",  # `exec web pytest`
    },
}
# The seed's .env: these must come from .env in both stacks, never be overridden.
SEED_VARIABLES = {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD", "EMAIL_HOST_USER",
                  "EMAIL_HOST_PASSWORD"}
# Read by the test suite's plugin (tests/services.py), documented in the README.
TEST_VARIABLES = {"NEXUS_TEST_DATABASE_URL", "NEXUS_TEST_REDIS_URL"}


def _variable_name(call: ast.Call) -> str | None:
    """The variable a call reads, when it is one of the readers with a literal name."""
    function = call.func
    reads = (
        (isinstance(function, ast.Name) and function.id in READERS)
        or (isinstance(function, ast.Attribute) and function.attr == "getenv")
        or (isinstance(function, ast.Attribute) and function.attr == "get"
            and ast.unparse(function.value) == "os.environ")
    )
    if reads and call.args and isinstance(call.args[0], ast.Constant):
        return str(call.args[0].value)
    return None


def variables_read_by(path: Path) -> set[str]:
    """Names of the environment variables that one module reads."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Call) and (name := _variable_name(node)):
            names.add(name)
        elif (isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ"
              and isinstance(node.ctx, ast.Load) and isinstance(node.slice, ast.Constant)):
            names.add(str(node.slice.value))
    return names


def variables_read_by_the_code() -> dict[str, set[str]]:
    """Each variable the application reads, with the files that read it."""
    readers: dict[str, set[str]] = {}
    for source in SOURCES:
        path = ROOT / source
        for module in [path] if path.is_file() else sorted(path.rglob("*.py")):
            for name in variables_read_by(module):
                readers.setdefault(name, set()).add(str(module.relative_to(ROOT)))
    return readers


def documented() -> set[str]:
    """Variables with a line of their own in .env.example, commented out or not."""
    pattern = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
    return set(pattern.findall((ROOT / ".env.example").read_text()))


def compose(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / name).read_text())


def image_services(name: str) -> dict[str, dict[str, Any]]:
    """The services that run the Nexus image (the ones with a build section)."""
    return {service: spec for service, spec in compose(name)["services"].items()
            if "build" in spec}


def test_the_reader_finds_what_the_settings_read() -> None:
    found = variables_read_by(ROOT / "nexus" / "settings.py")
    # One of each reader: os.environ.get, env_bool, env_list.
    assert {"DATABASE_URL", "DEBUG", "ALLOWED_HOSTS"} <= found
    assert {"WEB_CONCURRENCY", "GUNICORN_THREADS"} <= variables_read_by(ROOT / "gunicorn.conf.py")


def test_the_reader_finds_every_form_of_read(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text("import os\nfrom os import getenv\n"
                      "A = os.environ.get('A_VAR')\nB = os.environ['B_VAR']\n"
                      "C = getenv('C_VAR')\nD = os.getenv('D_VAR', '1')\n"
                      "E = env_bool('E_VAR', True)\nF = env_list('F_VAR')\n"
                      "os.environ['NOT_READ'] = 'written'\n"
                      "os.environ.setdefault('NOT_READ_EITHER', 'x')\n")
    assert variables_read_by(module) == {"A_VAR", "B_VAR", "C_VAR", "D_VAR", "E_VAR", "F_VAR"}


def test_every_variable_the_code_reads_is_in_env_example() -> None:
    missing = {name: sorted(files) for name, files in variables_read_by_the_code().items()
               if name not in documented()}
    assert missing == {}, f"document these in .env.example: {missing}"


def test_env_example_documents_nothing_that_nobody_reads() -> None:
    used = set(variables_read_by_the_code()) | SEED_VARIABLES
    for name in COMPOSE_FILES:
        used |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (ROOT / name).read_text()))
    # createsuperuser --noinput reads DJANGO_SUPERUSER_<field>, gunicorn GUNICORN_CMD_ARGS.
    used |= {"DJANGO_SUPERUSER_USERNAME", "DJANGO_SUPERUSER_EMAIL", "DJANGO_SUPERUSER_PASSWORD"}
    assert documented() - used == set()


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_every_image_service_gets_the_whole_env_file(name: str) -> None:
    services = image_services(name)
    assert {"web", "worker"} <= set(services)
    for service, spec in services.items():
        env_files = [entry["path"] if isinstance(entry, dict) else entry
                     for entry in spec.get("env_file", [])]
        assert ".env" in env_files, f"{name}: {service} does not read .env"


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_sets_only_the_variables_it_owns(name: str) -> None:
    known = set(variables_read_by_the_code()) | TEST_VARIABLES
    for service, spec in image_services(name).items():
        environment = set(spec.get("environment", {}))
        assert environment - known == set(), f"{name}: {service} sets what nobody reads"
        assert environment <= COMPOSE_OWNED[name], f"{name}: {service} hides .env's values"
        assert not environment & SEED_VARIABLES


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_interpolates_only_documented_variables(name: str) -> None:
    interpolated = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (ROOT / name).read_text()))
    assert {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"} <= interpolated
    assert interpolated - documented() == set()


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_the_database_url_is_built_from_the_seed_variables(name: str) -> None:
    postgres = compose(name)["services"]["postgres"]["environment"]
    assert postgres == {"POSTGRES_DB": "${POSTGRES_DB:-nexus}",
                        "POSTGRES_USER": "${POSTGRES_USER:-nexus}",
                        "POSTGRES_PASSWORD": "${POSTGRES_PASSWORD:-nexus}"}
    for spec in image_services(name).values():
        assert spec["environment"]["DATABASE_URL"] == (
            "postgres://${POSTGRES_USER:-nexus}:${POSTGRES_PASSWORD:-nexus}"
            "@postgres:5432/${POSTGRES_DB:-nexus}")


@pytest.mark.redis
def test_the_suite_prefers_its_own_variables_to_the_stack_s(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``exec web pytest`` in the development stack, where both are set: the suite takes
    NEXUS_TEST_REDIS_URL (database 15), never the REDIS_URL its running worker reads."""
    from tests import services

    test_url = os.environ["REDIS_URL"]  # a Redis that answers, so _choose keeps it
    monkeypatch.setenv("NEXUS_DEPLOY_CHECK_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("NEXUS_DEPLOY_CHECK_TEST_URL", test_url)
    assert services._choose("NEXUS_DEPLOY_CHECK_URL", "NEXUS_DEPLOY_CHECK_TEST_URL", "")
    assert os.environ["NEXUS_DEPLOY_CHECK_URL"] == test_url


def test_web_listens_where_compose_publishes_and_the_healthcheck_probes() -> None:
    """PORT in .env moves the host's port only: .env reaches the container too, and gunicorn
    would otherwise bind PORT inside it, where neither the mapping nor the probe looks."""
    web = compose("compose.yaml")["services"]["web"]
    container_port = web["ports"][0].rsplit(":", 1)[1]
    assert web["environment"]["GUNICORN_BIND"] == f"0.0.0.0:{container_port}"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"http://127.0.0.1:{container_port}/healthz" in dockerfile
    assert f"EXPOSE {container_port}" in dockerfile
