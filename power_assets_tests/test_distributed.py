"""The same backfill embedded and distributed, on real servers: the results are the same.

Three ISOs (PJM, NYISO, ISO-NE; their fakes on loopback) over three days with the fall-back day
(2024-11-02 to 2024-11-04), datasets `lmp_da` and `load`, every stage:

(a) embedded: in-process runs, local parquet, the DuckDB file, a SQLite instance;
(b) distributed: the Dagster instance on PostgreSQL (deploy/dagster.yaml), steps on two Celery
    workers (Redis broker; deploy/celery.yaml), one of them a "second host" in its own PID and
    mount namespaces (`unshare`) whose working folder is a private tmpfs (its own processes and
    files are its alone), files on an S3 server (moto, a bucket of this test's own), the
    warehouse on PostgreSQL, launched as chunked backfills (`python -m power_assets.scale.backfill`,
    one day per chunk): the downloads on both workers at once, then, with the first worker
    stopped, every later stage on the second, which can only read the first one's days from the
    bucket.

Then: every standardized parquet in the bucket equals the embedded run's (`DataFrame.equals`),
the warehouse tables hold the same rows key for key, both workers downloaded, and the fakes'
request logs show each ISO's request spacing held across both workers (the spacing is kept in
the instance's PostgreSQL).
"""

import itertools
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from power_assets import settings
from power_assets.demo.isone_server import FakeIsone
from power_assets.demo.nyiso_server import FakeNyiso
from power_assets.demo.pjm_server import FakeDataMiner
from power_assets.io.objects import polars_storage_options
from power_assets.isos import get_iso
from power_assets.isos.pjm import SUBSCRIPTION_KEY_ENV
from power_assets.store import postgres
from power_assets.store.warehouse import TABLES
from power_assets_tests.celery_support import (
    ROOT,
    celery_worker,
    deployment_environment,
    redis_database,
)
from power_assets_tests.e2e_support import loopback_defs, run_day
from power_assets_tests.servers import postgres_database

pytestmark = pytest.mark.e2e

ISOS = ("PJM", "NYISO", "ISONE")
DAYS = [date(2024, 11, 2) + timedelta(days=n) for n in range(3)]  # the fall-back day in the middle
DATASETS = ("lmp_da", "load")
KEY = "distributed-test-key"
SPACING_TOLERANCE_S = 0.03  # the fakes stamp arrival after the socket read; clocks are the same


def _selection() -> list[dg.AssetKey]:
    from power_assets.keys import stage_keys

    return stage_keys(DATASETS)


def _embedded(tmp_path: Path, fakes: dict[str, str]) -> Path:
    root = tmp_path / "embedded"
    defs = loopback_defs(root, fakes)
    with dg.instance_for_test() as instance:
        for iso in ISOS:
            for day in DAYS:
                result = run_day(defs, instance, f"{day}|{iso}", selection=_selection())
                assert result.success, (iso, day)
    return root


def _second_host(command: list[str], work_dir: Path) -> list[str]:
    """`command` in its own PID and mount namespaces, with a private tmpfs on its working folder:
    it sees none of the first worker's processes or local files, as on another machine."""
    work_dir.mkdir(parents=True, exist_ok=True)
    inner = f"mount -t tmpfs tmpfs {work_dir} && exec " + " ".join(command)
    return ["unshare", "--pid", "--mount", "--fork", "--mount-proc", "sh", "-c", inner]


def test_a_backfill_on_two_workers_equals_the_embedded_run(
    postgres_url, s3_location, tmp_path, monkeypatch
):
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is needed for the second host")
    monkeypatch.setenv(SUBSCRIPTION_KEY_ENV, KEY)
    with (
        FakeDataMiner(subscription_key=KEY) as pjm,
        FakeNyiso() as nyiso,
        FakeIsone() as isone,
        redis_database() as redis_url,
        postgres_database() as warehouse_url,
    ):
        fakes = {"PJM": pjm.base_url, "NYISO": nyiso.base_url, "ISONE": isone.base_url}
        embedded = _embedded(tmp_path, fakes)
        marks = {name: len(fake.requests) for name, fake in zip(ISOS, (pjm, nyiso, isone), strict=True)}

        env = deployment_environment(
            tmp_path / "dagster_home", instance_url=postgres_url, warehouse_url=warehouse_url,
            data_location=s3_location, broker=redis_url, backend=redis_url,
            extra={SUBSCRIPTION_KEY_ENV: KEY,
                   **{settings.base_url_env_var(iso): url for iso, url in fakes.items()}},
        )  # fmt: skip
        first_work, second_work = tmp_path / "host_1", tmp_path / "host_2"
        logs = tmp_path / "logs"
        logs.mkdir()
        def backfill(stages: tuple[str, ...], phase: str) -> None:
            launcher = subprocess.run(
                [
                    sys.executable, "-m", "power_assets.scale.backfill", ",".join(ISOS),
                    str(DAYS[0]), str(DAYS[-1]), "--chunk-days", "1", "--parallel", "4",
                    *[arg for d in DATASETS for arg in ("--dataset", d)],
                    *[arg for s in stages for arg in ("--stage", s)],
                    "--retries", "0", "--log-dir", str(logs / phase),
                ],
                env={**env, settings.WORK_DIR_ENV: str(tmp_path / "launcher")},
                cwd=ROOT, capture_output=True, text=True, timeout=900,
            )  # fmt: skip
            assert launcher.returncode == 0, launcher.stdout[-4000:] + launcher.stderr[-4000:]

        def chunks_run() -> dict[str, int]:
            return {w: (logs / f"{w}.log").read_text().count("succeeded in") for w in ("w1", "w2")}

        second_host = celery_worker(
            {**env, settings.WORK_DIR_ENV: str(second_work)}, logs / "w2.log", "w2",
            wrap=lambda command: _second_host(command, second_work),
        )  # fmt: skip
        with second_host:
            # (1) the downloads on both workers at once: each ISO's spacing must hold across them
            with celery_worker(
                {**env, settings.WORK_DIR_ENV: str(first_work)}, logs / "w1.log", "w1"
            ):
                backfill(("raw_download", "raw_csv"), "downloads")
            downloaded = chunks_run()
            assert downloaded["w1"] >= 1 and downloaded["w2"] >= 1, downloaded
            # (2) the first host is gone; the second does every later stage, so the days the
            # first one downloaded reach it only through the bucket
            backfill(("raw_parquet", "flattened", "warehouse"), "later_stages")
            assert chunks_run()["w2"] == downloaded["w2"] + len(ISOS) * len(DAYS)

        # the standardized files in the bucket are the embedded run's
        compared = 0
        for iso in ISOS:
            for dataset in DATASETS:
                for day in DAYS:
                    local = embedded / "data" / iso / "raw_parquet" / dataset / f"{day}.parquet"
                    if not local.exists():
                        continue  # the ISO does not publish it here (no account): neither side
                    remote = pl.read_parquet(
                        f"{s3_location}/{iso}/raw_parquet/{dataset}/{day}.parquet",
                        storage_options=polars_storage_options(),
                    )
                    assert remote.equals(pl.read_parquet(local)), (iso, dataset, day)
                    compared += 1
        assert compared >= len(DAYS) * 4, compared

        # the warehouse rows, key for key
        with duckdb.connect(str(embedded / "data" / "power.duckdb"), read_only=True) as con:
            con.execute("SET TimeZone = 'UTC'")
            names = {table.name for table in TABLES.values()}
            tables = [t for (t,) in con.execute("SHOW TABLES").fetchall() if t in names]
            assert tables
            stored: dict[str, int] = {}
            for table in tables:
                columns = [
                    c for (c,) in con.execute(
                        "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                        [table],
                    ).fetchall() if c != "loaded_at"
                ]  # fmt: skip
                quoted = ", ".join(f'"{c}"' for c in columns)
                sql = f'SELECT {quoted} FROM "{table}" ORDER BY {quoted}'
                local_rows = con.execute(sql).fetchall()
                with postgres.connect(warehouse_url) as pg, pg.cursor() as cur:
                    cur.execute(sql)
                    shared_rows = cur.fetchall()
                assert shared_rows == local_rows, table
                stored[table] = len(local_rows)
        assert stored["lmp"] and stored["load"], stored

        # each ISO's spacing held across both workers
        for iso, fake in zip(ISOS, (pjm, nyiso, isone), strict=True):
            # each fake logs its arrival times with time.monotonic() (PJM's as `time`)
            arrivals = sorted(
                getattr(r, "arrived", None) or r.time for r in list(fake.requests)[marks[iso] :]
            )
            assert arrivals, iso
            spacing = get_iso(iso).min_request_spacing_s
            gaps = [b - a for a, b in itertools.pairwise(arrivals)]
            assert not gaps or min(gaps) >= spacing - SPACING_TOLERANCE_S, (iso, spacing, min(gaps))
