"""Running the `power-assets` console script as a user would, for the command-line tests.

The script runs as a subprocess (the installed entry point, `.venv/bin/power-assets`) with its
own DAGSTER_HOME and data folder under a test's temporary folder, and the current directory set
there, so the defaults (`./.dagster_home`, `./data`) are the test's.
"""

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from power_assets.demo import pjm_fixtures
from power_assets.isos.pjm import SUBSCRIPTION_KEY_ENV

SCRIPT = Path(sys.executable).with_name("power-assets")
PJM_KEY = "cli-test-pjm-key"
EASTERN = ZoneInfo("America/New_York")


def cli_env(root: Path, pjm_base_url: str | None = None, key: str | None = PJM_KEY) -> dict:
    """The environment of a user in `root`: no DAGSTER_HOME or data folder set (the defaults
    apply), PJM pointed at the fake, every other ISO at a closed loopback port."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("POWER_ASSETS_", "DAGSTER_"))
    }
    for iso in ("CAISO", "ERCOT", "ISONE", "NYISO", "PJM"):
        env[f"POWER_ASSETS_{iso}_BASE_URL"] = "http://127.0.0.1:9"
    if pjm_base_url:
        env["POWER_ASSETS_PJM_BASE_URL"] = pjm_base_url
    if key:
        env[SUBSCRIPTION_KEY_ENV] = key
    return env


def run_cli(root: Path, env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPT), *args], cwd=root, env=env, capture_output=True, text=True, timeout=timeout
    )


def pjm_hours(day: date) -> int:
    """Hours of an EPT market day (23, 24 or 25), from the clock, not from the project."""
    start = datetime(day.year, day.month, day.day, tzinfo=EASTERN)
    following = start + timedelta(days=1)
    end = datetime(following.year, following.month, following.day, tzinfo=EASTERN)
    return int((end.astimezone(UTC) - start.astimezone(UTC)) / timedelta(hours=1))


def expected_da_rows(days: list[date]) -> int:
    """Rows of `lmp_da` for `days` from the fake's generator: one per pnode and hour."""
    return len(pjm_fixtures.pnodes()) * sum(pjm_hours(day) for day in days)
