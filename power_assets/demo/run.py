"""The offline demo: the main job over two market days of all seven ISOs, on loopback.

Serves the CAISO recordings in `power_assets/demo/recordings` (generated OASIS and Today's Outlook
responses in CAISO's formats) and generated fakes of the other six ISOs in their published formats
and URL shapes: ERCOT's MIS, PJM's Data Miner 2 (paging and key check), NYISO's MIS, ISO-NE's
Express and Web Services (login), MISO's market reports and public API, SPP's file browser. It
points the ISOs' base URLs at them, runs `daily_pipeline__{ISO}` for each day and ISO through a
persistent Dagster instance (so `dagster dev` shows the materializations afterwards), rolls the
days up into the monthly and yearly files, and prints what was written and how to look at it.
"""

import argparse
import os
import sys
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
from dagster_duckdb import DuckDBResource

from power_assets import open_warehouse, settings
from power_assets.accounts import IsoAccounts
from power_assets.definitions import build_defs
from power_assets.demo.caiso_extra_fixtures import FakeOutlook
from power_assets.demo.ercot_fixtures import documents_for_day, settlement_points
from power_assets.demo.ercot_server import FakeErcot
from power_assets.demo.isone_server import FakeIsone
from power_assets.demo.miso_server import FakeMiso
from power_assets.demo.nyiso_server import FakeNyiso
from power_assets.demo.oasis_server import FakeOasis
from power_assets.demo.pjm_server import FakeDataMiner
from power_assets.demo.spp_server import FakeSpp
from power_assets.io.http import IsoHttpClient
from power_assets.isos import get_iso
from power_assets.keys import daily_job_name, partition_key, rollup_job_name
from power_assets.resources import StorageResource

RECORDINGS = Path(__file__).with_name("recordings")
# The fall-back day (25 hours; 24 for MISO, which keeps EST all year) and an ordinary day.
DEMO_DAYS = (date(2024, 11, 3), date(2024, 11, 4))
# The fakes' own accounts: the demo never sends a real key or password, even when one is set.
DEMO_PJM_KEY = "demo-pjm-subscription-key"
DEMO_ISONE_LOGIN = ("demo@example.com", "demo-password")
DEMO_LOCATIONS = 20
# Step-by-step DEBUG logs are for the UI; the terminal shows warnings and the summary.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
# The roll-ups warn that the month and year hold only the demo's days: the demo says so once.
QUIETER = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


@dataclass(frozen=True)
class DemoIso:
    """How the demo serves one ISO: the fake (started for the demo's days), the base URLs the
    ISO's requests go to, and whether each day runs as of the next morning in the ISO's time
    (MISO's public API only answers for today and yesterday, so its days are fetched the morning
    after, as a daily job would; the other fakes serve every day whatever the clock)."""

    iso: str
    serve: Callable[[tuple[date, ...]], Any]
    urls: Callable[[Any], dict[str, str]]
    describe: str
    morning_after: bool = False
    accounts: dict[str, str] = field(default_factory=dict)


def _ercot(days: tuple[date, ...]) -> FakeErcot:
    points = settlement_points(DEMO_LOCATIONS)
    return FakeErcot([doc for day in days for doc in documents_for_day(day, points)])


DEMO = (
    DemoIso("CAISO", lambda days: _CaisoFakes(), lambda f: f.urls(),
            "recorded OASIS and Today's Outlook responses"),
    DemoIso("ERCOT", _ercot, lambda f: {"ERCOT": f.base_url},
            f"a fake ERCOT MIS ({DEMO_LOCATIONS} settlement points)"),
    DemoIso("ISONE", lambda days: FakeIsone(username=DEMO_ISONE_LOGIN[0],
                                            password=DEMO_ISONE_LOGIN[1]),
            lambda f: {"ISONE": f.base_url, "ISONE:webservices": f.webservices_base_url},
            "a fake ISO Express and ISO-NE Web Services (the demo's own login)",
            accounts={"isone_username": DEMO_ISONE_LOGIN[0],
                      "isone_password": DEMO_ISONE_LOGIN[1]}),
    DemoIso("MISO", lambda days: FakeMiso(), lambda f: {"MISO": f.base_url,
                                                        "MISO:public_api": f.api_url},
            "fake MISO market reports and public API", morning_after=True),
    DemoIso("NYISO", lambda days: FakeNyiso(), lambda f: {"NYISO": f.base_url},
            "a fake NYISO MIS"),
    DemoIso("PJM", lambda days: FakeDataMiner(subscription_key=DEMO_PJM_KEY,
                                              node_count=DEMO_LOCATIONS),
            lambda f: {"PJM": f.base_url},
            f"a fake PJM Data Miner 2 ({DEMO_LOCATIONS} pnodes, the demo's own key)",
            accounts={"pjm_subscription_key": DEMO_PJM_KEY}),
    DemoIso("SPP", lambda days: FakeSpp(days, location_count=DEMO_LOCATIONS),
            lambda f: {"SPP": f.base_url},
            f"a fake SPP file browser ({DEMO_LOCATIONS} settlement locations)"),
)  # fmt: skip
DEMO_ISOS = tuple(entry.iso for entry in DEMO)


class _CaisoFakes:
    """OASIS and Today's Outlook, both from the recordings, as one context manager."""

    def __enter__(self) -> "_CaisoFakes":
        self._stack = ExitStack()
        self.oasis = self._stack.enter_context(FakeOasis(recordings_dir=RECORDINGS, generate=False))
        self.outlook = self._stack.enter_context(FakeOutlook(recordings_dir=RECORDINGS / "outlook"))
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def urls(self) -> dict[str, str]:
        return {"CAISO": self.oasis.base_url, "CAISO:outlook": self.outlook.base_url}


def _morning_after(iso_id: str, day: date) -> datetime:
    zone = ZoneInfo(get_iso(iso_id).timezone)
    return datetime.combine(day + timedelta(days=1), time(9, 0), tzinfo=zone)


def run_demo(data_dir: Path, days: tuple[date, ...] = DEMO_DAYS) -> int:
    data_dir = data_dir.resolve()
    database = data_dir / "power.duckdb"
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None
    with ExitStack() as stack:
        fakes = {entry.iso: stack.enter_context(entry.serve(days)) for entry in DEMO}
        base_urls: dict[str, str] = {}
        accounts: dict[str, str] = {}
        for entry in DEMO:
            base_urls.update(entry.urls(fakes[entry.iso]))
            accounts.update(entry.accounts)
            print(f"Serving {entry.describe} for {entry.iso}")
        defs = build_defs(
            resources={
                "storage": StorageResource(data_dir=str(data_dir)),
                # Everything is served on loopback, so the ISOs' request spacing is not needed.
                "iso_http": IsoHttpClient(
                    base_urls=base_urls,
                    min_spacing_s=dict.fromkeys(DEMO_ISOS, 0.0),
                    accounts=IsoAccounts(**accounts),
                ),
                "warehouse": DuckDBResource(database=str(database)),
            }
        )
        for entry in DEMO:
            for day in days:
                run_config: dict[str, Any] = dict(QUIET)
                if entry.morning_after:
                    now = _morning_after(entry.iso, day)
                    fakes[entry.iso].now = now
                    run_config["resources"] = {"clock": {"config": {"frozen_at": now.isoformat()}}}
                key = partition_key(day, entry.iso)
                job = defs.resolve_job_def(daily_job_name(entry.iso))
                result = job.execute_in_process(
                    partition_key=key, instance=instance, raise_on_error=False,
                    run_config=run_config,
                )  # fmt: skip
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
                partition_key=key, instance=instance, raise_on_error=False, run_config=QUIETER
            )
            status = f"ok (from the demo's {len(days)} days)" if result.success else "FAILED"
            print(f"{job_name} {key}: {status}")
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
        print(f"  {'iso':<6}{'dataset':<15}{'market':<12}{'first':<12}{'last':<12}"
              f"{'days':>5}{'rows':>9}{'locs':>6}")  # fmt: skip
        for iso, dataset, market, first, last, days, n, locs in rows:
            print(
                f"  {iso:<6}{dataset:<15}{market:<12}{first!s:<12}{last!s:<12}{days:>5}{n:>9}{locs:>6}"
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
