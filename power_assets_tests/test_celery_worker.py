"""A chunked backfill whose steps run on a real Celery worker.

Real servers: Redis as broker and result backend (a database of its own), PostgreSQL as the
Dagster instance (deploy/dagster.yaml); one `dagster-celery` worker started with the documented
command and deploy/celery.yaml; the launcher backfilling two PJM days of one dataset, one day per
chunk, against the fake Data Miner. Each chunk is a run in the PostgreSQL instance, and its one
step (`market_day_stages`) is executed by the worker, not by the launcher's processes.
"""

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from power_assets import settings
from power_assets.demo.pjm_server import FakeDataMiner
from power_assets.isos.pjm import SUBSCRIPTION_KEY_ENV
from power_assets.keys import MARKET_DAY_OP
from power_assets_tests.celery_support import (
    ROOT,
    celery_worker,
    redis_database,
    worker_environment,
)

DEPLOYED_INSTANCE = ROOT / "deploy" / "dagster.yaml"
KEY = "celery-test-key"
DAYS = ("2024-03-09", "2024-03-10")  # the second is the spring-forward day (23 hours)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database of this test's own: broker and result backend."""
    with redis_database() as url:
        yield url


def _environment(tmp_path: Path, home: Path, postgres_url: str, redis: str, pjm_url: str):
    # The caller's own POWER_ASSETS_* settings (a warehouse URL, ISO accounts) stay out.
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWER_ASSETS_")}
    return worker_environment(
        {
            **env,
            "DAGSTER_HOME": str(home),
            settings.INSTANCE_DATABASE_URL_ENV: postgres_url,
            settings.EXECUTOR_ENV: "celery",
            settings.CELERY_BROKER_ENV: redis,
            settings.CELERY_BACKEND_ENV: redis,
            settings.base_url_env_var("PJM"): pjm_url,
            SUBSCRIPTION_KEY_ENV: KEY,
            settings.DATA_DIR_ENV: str(tmp_path / "data"),
            settings.DUCKDB_PATH_ENV: str(tmp_path / "power.duckdb"),
        }
    )


@pytest.mark.e2e
def test_a_chunked_backfill_runs_each_chunk_on_the_celery_worker(
    postgres_url, redis_url, tmp_path, monkeypatch
):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOYED_INSTANCE, home / "dagster.yaml")
    worker_log = tmp_path / "worker.log"
    with FakeDataMiner(subscription_key=KEY) as fake:
        env = _environment(tmp_path, home, postgres_url, redis_url, fake.base_url)
        with celery_worker(env, worker_log, name="w1"):
            began = time.monotonic()
            launcher = subprocess.run(
                [
                    sys.executable, "-m", "power_assets.scale.backfill", "pjm", *DAYS,
                    "--chunk-days", "1", "--parallel", "2", "--dataset", "lmp_da",
                    "--retries", "0", "--log-dir", str(tmp_path / "chunks"),
                ],
                env=env, cwd=ROOT, capture_output=True, text=True, timeout=600,
            )  # fmt: skip
            seconds = time.monotonic() - began
    worker_output = worker_log.read_text(errors="replace")
    chunk_logs = "".join(p.read_text()[-2000:] for p in sorted((tmp_path / "chunks").glob("*")))
    assert launcher.returncode == 0, (
        f"{launcher.stdout}\n{launcher.stderr}\n{chunk_logs}\n{worker_output[-3000:]}"
    )
    print(f"2 one-day chunks on one Celery worker: {seconds:.1f} s")
    lines = launcher.stdout.splitlines()
    assert sum(line.startswith("ok ") for line in lines) == 2, launcher.stdout

    monkeypatch.setenv(settings.INSTANCE_DATABASE_URL_ENV, postgres_url)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        assert len(runs) == 2
        assert all(run.is_success for run in runs), [run.status for run in runs]
        ranges = sorted(
            (run.tags["dagster/asset_partition_range_start"],
             run.tags["dagster/asset_partition_range_end"])
            for run in runs
        )  # fmt: skip
        assert ranges == [(f"{day}|PJM", f"{day}|PJM") for day in DAYS]
        for run in runs:
            events = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
            on_worker = [e for e in events if "in celery worker" in e.dagster_event.message]
            assert len(on_worker) == 1, [e.dagster_event.message for e in events]
            metadata = on_worker[0].dagster_event.engine_event_data.metadata
            assert metadata["Celery worker"].value.startswith("w1@")
            assert on_worker[0].step_key == MARKET_DAY_OP
    assert worker_output.count("Task execute_plan[") >= 2, worker_output[-3000:]
    assert "succeeded in" in worker_output
    for day in DAYS:
        assert (tmp_path / "data" / "PJM" / "raw_parquet" / "lmp_da" / f"{day}.parquet").is_file()
        assert (tmp_path / "data" / "PJM" / "flattened" / "lmp_da" / f"{day}.parquet").is_file()
