"""The offline demo: the main job over two market days of CAISO, ERCOT and PJM, on loopback.

Serves the CAISO recordings in `power_assets/demo/recordings` (generated OASIS and Today's Outlook
responses in CAISO's formats), a fake ERCOT MIS with generated documents in ERCOT's real formats
and a fake PJM Data Miner 2 (generated rows, real URL shapes, paging and key check), points the
ISOs' base URLs at them, runs `daily_pipeline__{ISO}` for each day and ISO through a persistent Dagster instance
(so `dagster dev` shows the materializations afterwards), rolls the days up into the monthly and
yearly files, and prints what was written and how to look at it.
"""

import argparse
import os
import sys
from datetime import date
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from power_assets import open_warehouse, settings
from power_assets.accounts import IsoAccounts
from power_assets.definitions import build_defs
from power_assets.demo.caiso_extra_fixtures import FakeOutlook
from power_assets.demo.ercot_fixtures import documents_for_day, settlement_points
from power_assets.demo.ercot_server import FakeErcot
from power_assets.demo.oasis_server import FakeOasis
from power_assets.demo.pjm_server import FakeDataMiner
from power_assets.io.http import IsoHttpClient
from power_assets.keys import daily_job_name, partition_key, rollup_job_name
from power_assets.resources import StorageResource

RECORDINGS = Path(__file__).with_name("recordings")
# The fall-back day (25 hours) and an ordinary day.
DEMO_DAYS = (date(2024, 11, 3), date(2024, 11, 4))
DEMO_ISOS = ("CAISO", "ERCOT", "PJM")
# The fake Data Miner's own key: the demo never sends a real PJM key, even when one is set.
DEMO_PJM_KEY = "demo-pjm-subscription-key"
DEMO_PJM_NODES = 20
# Step-by-step DEBUG logs are for the UI; the terminal shows warnings and the summary.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def run_demo(data_dir: Path, days: tuple[date, ...] = DEMO_DAYS) -> int:
    data_dir = data_dir.resolve()
    database = data_dir / "power.duckdb"
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None
    points = settlement_points(20)
    ercot_documents = [doc for day in days for doc in documents_for_day(day, points)]
    with (
        FakeOasis(recordings_dir=RECORDINGS, generate=False) as oasis,
        FakeOutlook(recordings_dir=RECORDINGS / "outlook") as outlook,
        FakeErcot(ercot_documents) as ercot,
        FakeDataMiner(subscription_key=DEMO_PJM_KEY, node_count=DEMO_PJM_NODES) as pjm,
    ):
        print(f"Serving recorded CAISO OASIS responses at {oasis.base_url}")
        print(f"Serving recorded CAISO Today's Outlook files at {outlook.base_url}")
        print(f"Serving a fake ERCOT MIS ({len(ercot_documents)} generated documents) at "
              f"{ercot.base_url}")  # fmt: skip
        print(f"Serving a fake PJM Data Miner 2 ({DEMO_PJM_NODES} pnodes) at {pjm.base_url}")
        defs = build_defs(
            resources={
                "storage": StorageResource(data_dir=str(data_dir)),
                # Everything is served on loopback, so the ISOs' request spacing is not needed.
                "iso_http": IsoHttpClient(
                    base_urls={
                        "CAISO": oasis.base_url,
                        "CAISO:outlook": outlook.base_url,
                        "ERCOT": ercot.base_url,
                        "PJM": pjm.base_url,
                    },
                    min_spacing_s=dict.fromkeys(DEMO_ISOS, 0.0),
                    accounts=IsoAccounts(pjm_subscription_key=DEMO_PJM_KEY),
                ),
                "warehouse": DuckDBResource(database=str(database)),
            }
        )
        for day, iso in ((day, iso) for iso in DEMO_ISOS for day in days):
            key = partition_key(day, iso)
            job = defs.resolve_job_def(daily_job_name(iso))
            result = job.execute_in_process(
                partition_key=key, instance=instance, raise_on_error=False, run_config=QUIET
            )
            status = "ok" if result.success else "FAILED"
            print(f"{job.name} {key}: {status}")
            if not result.success:
                return 1
        rollups = [
            (job, key)
            for iso in DEMO_ISOS
            for job, key in (
                (rollup_job_name("monthly"), partition_key(days[0].replace(day=1), iso)),
                (rollup_job_name("yearly"), partition_key(date(days[0].year, 1, 1), iso)),
            )
        ]
        for job_name, key in rollups:
            result = defs.resolve_job_def(job_name).execute_in_process(
                partition_key=key, instance=instance, raise_on_error=False, run_config=QUIET
            )
            print(f"{job_name} {key}: {'ok' if result.success else 'FAILED'}")
            if not result.success:
                return 1
    print_summary(data_dir, database)
    return 0


def print_summary(data_dir: Path, database: Path) -> None:
    print("\nWritten:")
    for iso in DEMO_ISOS:
        for stage in ("raw_downloads", "csv_files", "raw_parquet", "flattened", "combined"):
            files = [p for p in (data_dir / iso / stage).rglob("*") if p.is_file()]
            size = sum(p.stat().st_size for p in files)
            print(f"  data/{iso}/{stage + '/':<15} {len(files):>5} files  {size / 1e6:8.2f} MB")
    with open_warehouse(database) as con:
        print(f"\nDuckDB {database}: catalog")
        rows = con.execute(
            "SELECT iso, dataset, coalesce(market, '-'), first_date, last_date, days, rows, "
            "locations FROM catalog"
        ).fetchall()
        print(f"  {'iso':<6}{'dataset':<15}{'market':<8}{'first':<12}{'last':<12}"
              f"{'days':>5}{'rows':>9}{'locs':>6}")  # fmt: skip
        for iso, dataset, market, first, last, days, n, locs in rows:
            print(
                f"  {iso:<6}{dataset:<15}{market:<8}{first!s:<12}{last!s:<12}{days:>5}{n:>9}{locs:>6}"
            )
    print(
        "\nNext:\n"
        "  UI:     python3 tasks.py ui        (then open http://127.0.0.1:3000)\n"
        "  SQL:    from power_assets import open_warehouse   (in .venv/bin/python)\n"
        f"          with open_warehouse('{database}') as con: con.sql('SELECT * FROM catalog').show()\n"
        "  polars: pl.scan_parquet('data/*/raw_parquet/lmp_da/*.parquet')"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=settings.data_dir())
    args = parser.parse_args(argv)
    return run_demo(args.data_dir)


if __name__ == "__main__":
    sys.exit(main())
