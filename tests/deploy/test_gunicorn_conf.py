"""gunicorn.conf.py as gunicorn reads it: workers, preloading, timeouts, gc.freeze.

The file is loaded the way gunicorn loads it (a module executed from its path, the settings
taken from its globals) under a chosen environment; the serving itself is tested in
test_container_commands.py.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import re
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from gunicorn.config import Config

ROOT = Path(__file__).resolve().parents[2]


def load(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    """gunicorn.conf.py executed under ``env`` (other gunicorn variables unset)."""
    for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_BIND", "PORT",
                 "GUNICORN_GC_FREEZE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("nexus_gunicorn_conf", ROOT / "gunicorn.conf.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def gunicorn_config(module: ModuleType) -> Config:
    """The settings gunicorn takes from the module (it ignores names it does not know)."""
    config = Config()
    for name, value in vars(module).items():
        if name in config.settings:
            config.set(name, value)
    return config


def test_web_concurrency_sets_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    config = gunicorn_config(load(monkeypatch, WEB_CONCURRENCY="3", GUNICORN_THREADS="6"))
    assert (config.workers, config.threads, config.worker_class_str) == (3, 6, "gthread")


def test_the_default_workers_follow_the_cpus_this_process_may_use(
        monkeypatch: pytest.MonkeyPatch) -> None:
    module = load(monkeypatch)
    assert gunicorn_config(module).workers == max(2, module.available_cpus())
    assert module.available_cpus() <= len(os.sched_getaffinity(0))


@pytest.mark.parametrize("cpu_max,expected", [
    ("100000 100000\n", 1),  # --cpus 1
    ("150000 100000\n", 2),  # --cpus 1.5: rounded up
    ("max 100000\n", None),  # no limit: the affinity mask
    ("garbage\n", None),
])
def test_a_container_cpu_limit_caps_the_cpus(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cpu_max: str,
        expected: int | None) -> None:
    module = load(monkeypatch)
    affinity = len(os.sched_getaffinity(0))
    limit = tmp_path / "cpu.max"
    limit.write_text(cpu_max)
    assert module.available_cpus(limit) == (min(expected, affinity) if expected else affinity)
    assert module.available_cpus(tmp_path / "missing") == affinity


def test_the_bind_defaults_to_all_interfaces_on_port(monkeypatch: pytest.MonkeyPatch) -> None:
    assert gunicorn_config(load(monkeypatch, PORT="9123")).bind == ["0.0.0.0:9123"]
    bound = gunicorn_config(load(monkeypatch, GUNICORN_BIND="127.0.0.1:9124")).bind
    assert bound == ["127.0.0.1:9124"]


def test_preloaded_with_a_graceful_stop_inside_compose_s_grace_period(
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = gunicorn_config(load(monkeypatch))
    assert config.preload_app is True
    assert config.timeout == 30 and config.graceful_timeout == 25
    grace = yaml.safe_load((ROOT / "compose.yaml").read_text()
                           )["services"]["web"]["stop_grace_period"]
    assert int(re.fullmatch(r"(\d+)s", grace)[1]) > config.graceful_timeout  # type: ignore[index]
    assert "%(M)sms" in config.access_log_format and config.accesslog == "-"


@pytest.mark.parametrize("setting,frozen", [("true", True), ("false", False)])
def test_post_fork_freezes_what_the_worker_inherited(
        monkeypatch: pytest.MonkeyPatch, setting: str, frozen: bool) -> None:
    module = load(monkeypatch, GUNICORN_GC_FREEZE=setting)
    gc.unfreeze()
    try:
        module.post_fork(server=None, worker=None)
        assert (gc.get_freeze_count() > 0) is frozen
    finally:
        gc.unfreeze()
