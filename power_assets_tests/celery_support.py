"""Redis for the Celery tests (a database of its own per test) and a `dagster-celery` worker.

Redis has numbered databases (16 by default) but no `CREATE DATABASE`, so a test claims one: a key
`power_assets_tests:celery_db:{n}` set only if absent (with an expiry, so a killed test's claim
lapses) in database 0. A claimed database is used only when it is empty or holds the marker key a
test leaves in it (what a killed test left behind); it is flushed before and after. Database 0 is
never used, so whatever else talks to the server keeps its default database. Celery's broadcast
channels carry the database number (kombu's `fanout_prefix`), so tests never see each other's
workers either.

Skipped with one loud line when Redis is down, a failure in CI (`servers.server_missing`).
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from power_assets_tests.servers import server_missing

REDIS_SERVER_URL = os.environ.get("POWER_ASSETS_TEST_REDIS_URL", "redis://127.0.0.1:6379")
CLAIM_KEY = "power_assets_tests:celery_db:{}"
MARKER_KEY = "power_assets_tests:owner"
CLAIM_SECONDS = 3600
DATABASES = range(1, 16)

ROOT = Path(__file__).resolve().parents[1]
DEPLOYED_CELERY = ROOT / "deploy" / "celery.yaml"
BIN = Path(sys.executable).parent


@contextlib.contextmanager
def redis_database() -> Iterator[str]:
    """The URL of a Redis database no other test is using; emptied afterwards."""
    import redis

    server = REDIS_SERVER_URL.rstrip("/")
    admin = redis.Redis.from_url(f"{server}/0", socket_connect_timeout=3)
    try:
        admin.ping()
    except redis.exceptions.RedisError as exc:
        server_missing(f"Redis at {server}", str(exc).strip().splitlines()[0])
    token = uuid.uuid4().hex
    for number in DATABASES:
        claim = CLAIM_KEY.format(number)
        if not admin.set(claim, token, nx=True, ex=CLAIM_SECONDS):
            continue
        db = redis.Redis.from_url(f"{server}/{number}")
        if db.dbsize() and not db.exists(MARKER_KEY):
            admin.delete(claim)  # someone's own data: not ours to flush
            continue
        db.flushdb()
        db.set(MARKER_KEY, token)
        try:
            yield f"{server}/{number}"
        finally:
            db.flushdb()
            if admin.get(claim) == token.encode():
                admin.delete(claim)
        return
    pytest.fail(f"no free Redis database on {server} (1-15 claimed or holding other data)")


def worker_command(name: str, config: Path = DEPLOYED_CELERY) -> list[str]:
    """The documented worker command: one step at a time."""
    return [
        str(BIN / "dagster-celery"), "worker", "start", "-y", str(config),
        "-A", "dagster_celery.app", "--name", name, "--", "--concurrency", "1",
    ]  # fmt: skip


def worker_environment(env: Mapping[str, str]) -> dict[str, str]:
    """`env` with this virtualenv's bin first on PATH: `dagster-celery worker start` runs the
    `celery` command by name, which must be this environment's."""
    return {**env, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"}


def stop_process_group(process: subprocess.Popen, grace_s: float = 20.0) -> None:
    """SIGTERM to the whole group (dagster-celery, celery, its pool), SIGKILL if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def wait_for_line(log: Path, text: str, process: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        content = log.read_text(errors="replace") if log.exists() else ""
        if text in content:
            return
        if process.poll() is not None:
            pytest.fail(f"worker exited ({process.returncode}) before {text!r}:\n{content[-3000:]}")
        time.sleep(0.3)
    pytest.fail(f"no {text!r} from the worker in {timeout_s:.0f} s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def celery_worker(
    env: Mapping[str, str],
    log: Path,
    name: str = "w1",
    config: Path = DEPLOYED_CELERY,
    wrap: Callable[[list[str]], list[str]] = lambda command: command,
) -> Iterator[subprocess.Popen]:
    """A worker started with the documented command (inside whatever `wrap` puts around it, e.g.
    namespaces of its own), ready for tasks; its process group is always stopped afterwards."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            wrap(worker_command(name, config)),
            env=worker_environment(env),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group, so stopping it reaches every child
        )
    try:
        wait_for_line(log, " ready.", process, timeout_s=90)
        yield process
    finally:
        stop_process_group(process)


def deployment_environment(
    home: Path,
    *,
    instance_url: str,
    warehouse_url: str,
    data_location: str,
    broker: str,
    backend: str,
    extra: Mapping[str, str],
) -> dict[str, str]:
    """The settings of a distributed deployment (deploy/dagster.yaml copied into `home`, Celery,
    PostgreSQL instance and warehouse), for its workers and launcher alike; the caller's own
    POWER_ASSETS_* settings stay out."""
    from power_assets import settings

    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    base = {k: v for k, v in os.environ.items() if not k.startswith("POWER_ASSETS_")}
    return {
        **base,
        "DAGSTER_HOME": str(home),
        settings.INSTANCE_DATABASE_URL_ENV: instance_url,
        settings.WAREHOUSE_URL_ENV: warehouse_url,
        settings.DATA_DIR_ENV: data_location,
        settings.EXECUTOR_ENV: "celery",
        settings.CELERY_BROKER_ENV: broker,
        settings.CELERY_BACKEND_ENV: backend,
        **extra,
    }
