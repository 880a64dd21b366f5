"""The containers' commands, run outside Docker, exactly as the Dockerfile and compose name them.

There is no Docker engine on the machines that run this suite, so each test reads the command
from the Dockerfile or a compose file, runs it here against the test database and Redis, and
waits for what the container would be judged by: ``/readyz`` answering 200, the image's
HEALTHCHECK passing, the worker answering compose's health check, the beat's periodic task
reaching the worker and running. Every process is stopped, and waited for, at the end.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import pytest
import yaml

from tests.live import answers, free_port, stop, test_database_url

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
START_SECONDS = 90.0


def dockerfile_instruction(keyword: str) -> str:
    """The last ``keyword`` instruction of the Dockerfile (the runtime stage's), joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    found = re.findall(rf"^{keyword} (.+)$", text, flags=re.MULTILINE)
    assert found, f"no {keyword} in the Dockerfile"
    return found[-1]


def runtime_cmd() -> list[str]:
    """The image's CMD, in exec form."""
    return json.loads(dockerfile_instruction("CMD"))


def compose_command(name: str, service: str) -> list[str]:
    command = yaml.safe_load((ROOT / name).read_text())["services"][service]["command"]
    return command if isinstance(command, list) else shlex.split(command)


def here(argv: list[str]) -> list[str]:
    """A container command with its program taken from this virtual environment."""
    program = BIN / argv[0]
    return [str(program) if program.exists() else argv[0], *argv[1:]]


def private_redis_url() -> str:
    """Another database of the tests' Redis, since the suite's ``store`` fixture flushes its
    own: two below it (13 for the usual 15; tests/workers take the one below), never the
    database 0 that the development stack's worker reads beside ``exec web pytest``."""
    parsed = urlparse(os.environ["REDIS_URL"])
    current = int((parsed.path or "/0").strip("/") or 0)
    return urlunparse(parsed._replace(path=f"/{(current - 2) % 16}"))


def process_env(**overrides: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": test_database_url(), "DEBUG": "false",
           "NEXUS_SEED_DEMO": "false", "PYTHONUNBUFFERED": "1", **overrides}
    env.pop("NEXUS_HTTPS", None)
    return env


def wait_for(condition: Callable[[], Any], what: str, process: subprocess.Popen[bytes],
             log: Path, seconds: float = START_SECONDS) -> None:
    """Poll ``condition`` until true; fail early when ``process`` exits, with its log."""
    deadline = time.monotonic() + seconds
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached (exit {process.poll()}):\n"
                                 f"{log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.1)  # polling the process from outside


@contextmanager
def started(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``argv`` in its own process group from the project root; always stop it."""
    with log.open("wb") as output:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        stop(process)


def established_peer_ports(pid: int) -> set[int]:
    """Remote ports of the TCP connections process ``pid`` holds open (from /proc)."""
    inodes = set()
    for descriptor in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(descriptor)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "01" and fields[9] in inodes:  # 01: ESTABLISHED
                ports.add(int(fields[2].rsplit(":", 1)[1], 16))
    return ports


def children(pid: int) -> list[int]:
    return [int(child) for child in
            Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_the_image_command_serves_readyz_with_a_master_that_holds_no_connection(
        store: Any, people: Any, tmp_path: Path) -> None:
    from nexus.accounts.models import AccessToken

    token = AccessToken.issue(people.admin)  # /readyz shows its checks to staff only
    argv = runtime_cmd()
    assert argv[:3] == ["gunicorn", "--config", "gunicorn.conf.py"]
    assert compose_command("compose.yaml", "web") == argv  # compose runs the image's command
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = process_env(GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2",
                      REDIS_URL=os.environ["REDIS_URL"])
    with started(here(argv), env, log) as master:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: answers(base + "/healthz"), "gunicorn answers /healthz", master, log)
        request = urllib.request.Request(base + "/readyz",
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
            checks = json.load(response)["checks"]
        assert checks["database"] == "ok" and checks["cache"] == "ok", checks
        assert checks["event_store_position"].isdigit(), checks
        # preload_app: the master loaded the app and forked; the workers opened the
        # connections; the master holds none that a fork could have shared.
        wait_for(lambda: len(children(master.pid)) == 2, "two workers", master, log)
        workers = children(master.pid)
        database_port = int(urlparse(env["DATABASE_URL"]).port or 5432)
        redis_port = int(urlparse(env["REDIS_URL"]).port or 6379)
        assert any(database_port in established_peer_ports(pid) for pid in workers)
        assert established_peer_ports(master.pid) & {database_port, redis_port} == set()
        log_text = log.read_text()
    assert re.search(r'"GET /readyz HTTP/1.1" 200 \d+ \d+ms rid=', log_text), log_text[-2000:]


def test_the_image_healthcheck_passes_on_a_serving_process_and_fails_without_one(
        store: Any, tmp_path: Path) -> None:
    healthcheck = dockerfile_instruction("HEALTHCHECK")
    probe = json.loads(healthcheck.split(" CMD ", 1)[1])
    assert "http://127.0.0.1:8000/healthz" in probe[-1]
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = process_env(GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1")
    with started(here(runtime_cmd()), env, log) as master:
        wait_for(lambda: answers(f"http://127.0.0.1:{port}/healthz"), "gunicorn answers",
                 master, log)
        on_port = [part.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for part in probe]
        assert subprocess.run(here(on_port), timeout=30).returncode == 0
    # The server is gone: the same probe fails.
    assert subprocess.run(here(on_port), timeout=30, capture_output=True).returncode != 0


def test_the_migrate_service_runs(store: Any, tmp_path: Path) -> None:
    argv = compose_command("compose.yaml", "migrate")
    result = subprocess.run(here(argv), cwd=ROOT, env=process_env(), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No migrations to apply" in result.stdout


def worker_answers_compose_healthcheck(env: dict[str, str]) -> Callable[[], bool]:
    """compose.yaml's worker health check (``celery inspect ping -d celery@$HOSTNAME``)."""
    test = yaml.safe_load((ROOT / "compose.yaml").read_text()
                          )["services"]["worker"]["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL"
    command = test[1].replace("$$", "$")  # compose's escape for a literal $
    probe_env = {**env, "PATH": f"{BIN}:{env.get('PATH', '')}"}

    def check() -> bool:
        return subprocess.run(["sh", "-c", command], cwd=ROOT, env=probe_env, timeout=60,
                              capture_output=True).returncode == 0
    return check


CATCH_UP_RAN = re.compile(r"Task workers\.tasks\.catch_up_projections\[[^]]+\] succeeded")


@pytest.mark.parametrize("stack,services", [
    ("compose.yaml", ["worker", "beat"]),
    ("docker-compose.dev.yml", ["worker"]),  # the worker runs its beat in-process
])
def test_the_worker_and_beat_commands_run_the_periodic_catch_up(
        store: Any, tmp_path: Path, stack: str, services: list[str]) -> None:
    env = process_env(REDIS_URL=private_redis_url(), NEXUS_CATCH_UP_SECONDS="1",
                      NEXUS_VAR_DIR=str(tmp_path), HOSTNAME=socket.gethostname(),
                      NEXUS_CACHE_PREFIX=f"nexus-deploy-{os.getpid()}",
                      NEXUS_WORKER_CONCURRENCY="3")  # not Celery's default, the CPU count
    logs = {service: tmp_path / f"{service}.log" for service in services}
    with ExitStack() as stack_of_processes:
        processes = {service: stack_of_processes.enter_context(started(
            here(compose_command(stack, service)), env, logs[service])) for service in services}
        worker, worker_log = processes["worker"], logs["worker"]
        if stack == "compose.yaml":
            wait_for(worker_answers_compose_healthcheck(env), "the worker's health check",
                     worker, worker_log)
            # The connection budget counts on NEXUS_WORKER_CONCURRENCY pool processes.
            wait_for(lambda: len(children(worker.pid)) == 3, "3 pool processes", worker,
                     worker_log)
        wait_for(lambda: CATCH_UP_RAN.search(worker_log.read_text(errors="replace")),
                 "a catch-up sent by the beat, run by the worker", worker, worker_log)
        for process in processes.values():
            assert process.poll() is None
        # The connection budget counts the pool processes only: the worker's parent and the
        # beat hold no PostgreSQL connection. (A pool process gives its connection back to
        # Django's pool after each task; the gunicorn test shows the port check itself finds
        # a worker's connections.)
        database_port = int(urlparse(env["DATABASE_URL"]).port or 5432)
        assert database_port not in established_peer_ports(worker.pid)
        if "beat" in processes:
            assert database_port not in established_peer_ports(processes["beat"].pid)
        processes["worker"].send_signal(signal.SIGTERM)  # warm shutdown, as `docker stop`
        assert processes["worker"].wait(timeout=60) == 0
    assert (tmp_path / "celerybeat-schedule").exists() or any(
        tmp_path.glob("celerybeat-schedule*"))  # in NEXUS_VAR_DIR, as in the image


def test_the_dev_web_command_serves_readyz(store: Any, tmp_path: Path) -> None:
    argv = compose_command("docker-compose.dev.yml", "web")
    assert argv[-1] == "0.0.0.0:8000"
    port = free_port()
    argv = [*argv[:-1], f"127.0.0.1:{port}"]  # the container's port, on loopback here
    log = tmp_path / "runserver.log"
    env = process_env(DEBUG="true", REDIS_URL=os.environ["REDIS_URL"])
    with started(here(argv), env, log) as server:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: answers(base + "/readyz"), "runserver answers /readyz", server, log)
    assert "StatReloader" in log.read_text() or "autoreload" in log.read_text().lower()


def test_the_compose_stack_outside_docker_passes_the_ci_smoke_test(
        store: Any, tmp_path: Path) -> None:
    """compose.yaml's migrate, web, worker and beat commands, then what .ci/compose-smoke
    runs against the stack on GitHub: seed_demo, then .ci/smoke.py (health, login, a command,
    a query that waits for the worker's projection)."""
    port = free_port()
    env = process_env(REDIS_URL=private_redis_url(), GUNICORN_BIND=f"127.0.0.1:{port}",
                      WEB_CONCURRENCY="2", NEXUS_VAR_DIR=str(tmp_path),
                      NEXUS_CACHE_PREFIX=f"nexus-smoke-{os.getpid()}")
    run = {"cwd": ROOT, "env": env, "capture_output": True, "text": True, "timeout": 300}
    migrated = subprocess.run(here(compose_command("compose.yaml", "migrate")), **run)
    assert migrated.returncode == 0, migrated.stderr
    with ExitStack() as processes:
        web, *_ = [processes.enter_context(started(
            here(compose_command("compose.yaml", service)), env, tmp_path / f"{service}.log"))
            for service in ("web", "worker", "beat")]
        seeded = subprocess.run(here(["python", "manage.py", "seed_demo", "--if-empty"]), **run)
        assert seeded.returncode == 0, seeded.stderr
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: answers(base + "/healthz"), "gunicorn answers", web,
                 tmp_path / "web.log")
        smoke = subprocess.run([sys.executable, ".ci/smoke.py", base], **run)
    logs = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}"
                     for log in tmp_path.glob("*.log"))
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr + logs
    assert "a query (GraphQL client) reads it back" in smoke.stdout
