"""A Celery worker killed in the middle of a run: the step is handed to the other worker and the
run finishes; nothing is duplicated in the warehouse and no partial object is left in the bucket.

Real servers: RabbitMQ as the broker (a virtual host of this test's own; RabbitMQ gives a dead
consumer's unacknowledged task to another consumer as soon as its connection drops, where Redis
waits for the visibility timeout), Redis as the result backend, PostgreSQL for the Dagster
instance and the warehouse, the S3 server for the files. One chunk of four PJM days (a slow fake,
so the step is surely under way) goes to one of two workers; once PJM has answered a few of its
requests, that worker's whole process group is killed with SIGKILL (a host lost, no clean-up).
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import boto3
import dagster as dg
import polars as pl
import pytest

from power_assets import settings
from power_assets.demo.pjm_server import FakeDataMiner
from power_assets.io.objects import polars_storage_options
from power_assets.isos.pjm import SUBSCRIPTION_KEY_ENV
from power_assets.keys import MARKET_DAY_OP
from power_assets.store import postgres
from power_assets_tests.celery_support import (
    ROOT,
    celery_worker,
    deployment_environment,
    redis_database,
)
from power_assets_tests.servers import postgres_database, server_missing

pytestmark = pytest.mark.e2e

KEY = "worker-loss-key"
DAYS = [date(2024, 11, 2) + timedelta(days=n) for n in range(4)]
DATASETS = ("lmp_da", "load")
ANSWER_DELAY_S = 0.4  # per request: the chunk takes several seconds, so it is killed mid-step
REQUESTS_BEFORE_KILL = 3


class SlowDataMiner(FakeDataMiner):
    """The fake Data Miner, answering each request after ANSWER_DELAY_S."""

    def _take_fault(self, feed):
        time.sleep(ANSWER_DELAY_S)
        return super()._take_fault(feed)


@contextmanager
def rabbitmq_vhost() -> Iterator[str]:
    """A broker URL on a virtual host of its own (guest may use it), deleted afterwards."""
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        server_missing("RabbitMQ at 127.0.0.1:5672", "rabbitmqctl is not installed")
    vhost = f"pa_test_{uuid.uuid4().hex[:12]}"
    made = subprocess.run([ctl, "add_vhost", vhost], capture_output=True, text=True, timeout=60)
    if made.returncode != 0:
        server_missing("RabbitMQ at 127.0.0.1:5672", made.stderr.strip()[-300:] or "add_vhost failed")
    try:
        subprocess.run(
            [ctl, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        yield f"pyamqp://guest:guest@127.0.0.1:5672/{vhost}"
    finally:
        subprocess.run([ctl, "delete_vhost", vhost], capture_output=True, timeout=60)


def _worker_holding_the_task(logs: dict[str, str]) -> str | None:
    held = [name for name, path in logs.items() if "Task execute_plan[" in _read(path)]
    return held[0] if len(held) == 1 else None


def _read(path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def test_a_worker_killed_mid_step_loses_nothing_and_duplicates_nothing(
    postgres_url, s3_location, tmp_path, monkeypatch
):
    with (
        SlowDataMiner(subscription_key=KEY) as pjm,
        rabbitmq_vhost() as broker,
        redis_database() as backend,
        postgres_database() as warehouse_url,
    ):
        home = tmp_path / "dagster_home"
        env = deployment_environment(
            home, instance_url=postgres_url, warehouse_url=warehouse_url,
            data_location=s3_location, broker=broker, backend=backend,
            extra={SUBSCRIPTION_KEY_ENV: KEY, settings.base_url_env_var("PJM"): pjm.base_url},
        )  # fmt: skip
        logs = {name: tmp_path / f"{name}.log" for name in ("w1", "w2")}
        with (
            celery_worker({**env, settings.WORK_DIR_ENV: str(tmp_path / "w1")}, logs["w1"], "w1") as w1,
            celery_worker({**env, settings.WORK_DIR_ENV: str(tmp_path / "w2")}, logs["w2"], "w2") as w2,
        ):  # fmt: skip
            workers = {"w1": w1, "w2": w2}
            killed: list[str] = []

            def kill_when_under_way() -> None:
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    holder = _worker_holding_the_task(logs)
                    if holder and len(pjm.requests) >= REQUESTS_BEFORE_KILL:
                        os.killpg(workers[holder].pid, signal.SIGKILL)
                        killed.append(holder)
                        return
                    time.sleep(0.05)

            killer = threading.Thread(target=kill_when_under_way)
            killer.start()
            launcher = subprocess.run(
                [
                    sys.executable, "-m", "power_assets.scale.backfill", "PJM",
                    str(DAYS[0]), str(DAYS[-1]), "--chunk-days", str(len(DAYS)),
                    *[arg for d in DATASETS for arg in ("--dataset", d)],
                    "--retries", "0", "--log-dir", str(tmp_path / "chunks"),
                ],
                env={**env, settings.WORK_DIR_ENV: str(tmp_path / "launcher")},
                cwd=ROOT, capture_output=True, text=True, timeout=600,
            )  # fmt: skip
            killer.join()
            assert killed, "the step finished before a worker could be killed"
            survivor = "w2" if killed == ["w1"] else "w1"
            assert launcher.returncode == 0, (
                launcher.stdout[-3000:] + _read(logs[survivor])[-3000:]
            )
            # the survivor finished the step it was handed (no retry by the launcher)
            assert "succeeded in" in _read(logs[survivor])

        monkeypatch.setenv(settings.INSTANCE_DATABASE_URL_ENV, postgres_url)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            (run,) = instance.get_runs()
            assert run.is_success
            starts = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START)
            assert [e.step_key for e in starts] == [MARKET_DAY_OP, MARKET_DAY_OP]  # begun twice

        # the warehouse: every day once, whole
        with postgres.connect(warehouse_url) as con, con.cursor() as cur:
            cur.execute(
                "SELECT market_date, count(*), count(DISTINCT (location, interval_start)) "
                "FROM lmp GROUP BY market_date ORDER BY market_date"
            )
            per_day = cur.fetchall()
        assert [d for d, _, _ in per_day] == DAYS
        assert all(rows == distinct for _, rows, distinct in per_day), per_day
        hours = {date(2024, 11, 3): 25}
        assert [rows for _, rows, _ in per_day] == [8 * hours.get(d, 24) for d in DAYS]

        # the bucket: no temporaries, every parquet whole and readable
        bucket, prefix = s3_location.removeprefix("s3://").split("/", 1)
        client = boto3.client("s3")
        keys = [
            item["Key"]
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        ]
        assert keys
        assert not [k for k in keys if re.search(r"/\.", k)], "a temporary reached the bucket"
        for key in keys:
            if key.endswith(".parquet"):
                pl.read_parquet(f"s3://{bucket}/{key}", storage_options=polars_storage_options())
