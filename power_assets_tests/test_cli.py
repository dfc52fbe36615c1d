"""The `power-assets` command line: wrong values refused in one line (exit 2) before anything
runs; a backfill run in the project's instance with its progress shown; the real-time sensors
and day-ahead schedules switched where the UI sees them. Status, query and catalog are in
`test_cli_status.py`.
"""

import signal
import subprocess
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

import power_assets
from power_assets.cli import main as cli
from power_assets.cli.realtime import LOCATION, WORKSPACE
from power_assets.demo.pjm_server import FakeDataMiner
from power_assets.keys import partition_key
from power_assets_tests.cli_support import PJM_KEY, SCRIPT, cli_env, expected_da_rows, run_cli

DAYS = [date(2024, 11, 3), date(2024, 11, 4)]  # the fall-back day (25 hours) and a plain one
STAGES = ("raw_download", "raw_csv", "raw_parquet", "flattened", "warehouse")

WRONG = [
    (["bogus"], "invalid choice: 'bogus' (choose from 'backfill', 'status'"),
    ([], "choose a command: backfill, status, query, catalog, realtime"),
    (["backfill", "xyz", "2024-11-03", "2024-11-04"],
     "unknown ISO 'XYZ'; choose from CAISO, ERCOT, ISONE, MISO, NYISO, PJM, SPP"),
    (["backfill", "pjm", "2018-12-31", "2024-11-04"],
     "START 2018-12-31 has no partitions; dates are YYYY-MM-DD from 2019-01-01 to"),
    (["backfill", "pjm", "2024-11-03", "3 Nov"], "END '3 Nov' is not a date"),
    (["backfill", "pjm", "2024-11-04", "2024-11-03"], "START 2024-11-04 is after END 2024-11-03"),
    (["backfill", "pjm", "2024-11-03", "2024-11-04", "--dataset", "lmp_rt15"],
     "dataset 'lmp_rt15' is not published by PJM; they publish lmp_da, lmp_rt5,"),
    (["backfill", "pjm", "2024-11-03", "2024-11-04", "--dataset", "prices"],
     "unknown dataset 'prices'; choose from lmp_da,"),
    (["backfill", "pjm", "2024-11-03", "2024-11-04", "--stage", "parquet"],
     "unknown stage 'parquet'; choose from raw_download, raw_csv, raw_parquet, flattened, warehouse"),
    (["backfill", "pjm", "2024-11-03", "2024-11-04", "--chunk-days", "0"],
     "'0' is not a whole number >= 1"),
    (["backfill", "pjm"], "the following arguments are required: START, END"),
    (["status", "miso2"], "unknown ISO 'MISO2'; choose from CAISO, ERCOT, ISONE, MISO, NYISO, PJM, SPP"),
    (["query"], "the following arguments are required: SQL"),
    (["query", "SELECT 1", "--csv", "a.csv", "--parquet", "a.parquet"],
     "argument --parquet: not allowed with argument --csv"),
    (["catalog", "--rows", "none"], "'none' is not a whole number >= 1"),
    (["realtime", "maybe"], "invalid choice: 'maybe' (choose from 'on', 'off')"),
    (["realtime", "on", "ercott"], "unknown ISO 'ERCOTT'; choose from CAISO, ERCOT,"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "says"), WRONG, ids=[" ".join(a) or "nothing" for a, _ in WRONG])
def test_a_wrong_value_is_one_line_naming_the_choices_and_exit_2(
    argv, says, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1 and says in err, err
    assert err.startswith("power-assets")
    assert not list(tmp_path.iterdir()), "nothing is created before the values are checked"


def test_the_console_script_refuses_quietly(tmp_path):
    """The installed entry point: one line on stderr, no Dagster warning or banner before it."""
    ran = run_cli(tmp_path, cli_env(tmp_path), "backfill", "Pjm", "2024-11-03", "2024-11-04",
                  "--dataset", "lmp_da", "fuel", "--stage", "warehouse")  # fmt: skip
    assert ran.returncode == 2
    assert ran.stdout == ""
    assert ran.stderr.splitlines() == [
        "power-assets backfill: error: unknown dataset 'fuel'; choose from lmp_da, lmp_da_exante, lmp_rt5, "
        "lmp_rt15, lmp_rt_hourly, as_da, as_rt, as_cleared_da, load, load_forecast, fuel_mix"
    ]


def test_the_realtime_command_uses_the_code_location_the_ui_loads():
    workspace = yaml.safe_load(WORKSPACE.read_text())
    assert workspace["load_from"][0]["python_module"]["location_name"] == LOCATION


@pytest.mark.e2e
def test_backfill_runs_each_chunk_in_the_project_instance_with_progress(tmp_path):
    with FakeDataMiner(subscription_key=PJM_KEY) as fake:
        env = cli_env(tmp_path, fake.base_url)
        ran = run_cli(tmp_path, env, "backfill", "pjm", str(DAYS[0]), str(DAYS[-1]),
                      "--dataset", "lmp_da", "--chunk-days", "1")  # fmt: skip
    out = ran.stdout
    assert ran.returncode == 0, out + ran.stderr
    # Quiet: no Dagster warnings, no telemetry banner, no console log of every event.
    assert "Warning" not in ran.stderr and "Telemetry" not in out + ran.stderr
    assert "DEBUG" not in out + ran.stderr
    keys = {str(partition_key(day, "PJM")) for day in DAYS}
    for key in keys:
        for stage in STAGES:
            assert f"  ok      {key} {stage}/lmp_da\n" in out, out
    for day in DAYS:
        assert f"PJM {day}..{day}: 5/5 steps, 0 failed (run " in out
    assert "summary: 2 run(s) in" in out and "10 materialized, 0 failed, 0 not run" in out

    # The project's instance (./.dagster_home, prepared with its settings): one run per chunk.
    home = tmp_path / ".dagster_home"
    template = Path(power_assets.__file__).with_name("dagster_instance.yaml")
    assert (home / "dagster.yaml").read_text() == template.read_text()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_run_records()
        assert len(runs) == 2
        ranges = set()
        for record in runs:
            run = record.dagster_run
            assert run.job_name == "daily_pipeline__PJM"
            assert run.status == dg.DagsterRunStatus.SUCCESS
            start = run.tags["dagster/asset_partition_range_start"]
            assert run.tags["dagster/asset_partition_range_end"] == start
            assert run.tags["power_assets/iso"] == "PJM"
            ranges.add(start)
        assert ranges == keys
        for stage in STAGES:
            assert instance.get_materialized_partitions(dg.AssetKey.from_user_string(f"{stage}/lmp_da")) == keys
    database = tmp_path / "data" / "power.duckdb"
    with duckdb.connect(str(database), read_only=True) as con:
        count = con.execute("SELECT count(*) FROM lmp WHERE iso = 'PJM'").fetchone()[0]
    assert count == expected_da_rows(DAYS)


@pytest.mark.e2e
def test_a_failed_partition_is_named_with_its_reason_and_exits_1(tmp_path):
    with FakeDataMiner(subscription_key=PJM_KEY) as fake:
        env = cli_env(tmp_path, fake.base_url, key="not-the-key")
        ran = run_cli(tmp_path, env, "backfill", "PJM", str(DAYS[0]), str(DAYS[-1]),
                      "--dataset", "lmp_da")  # fmt: skip
    out = ran.stdout
    assert ran.returncode == 1, out + ran.stderr
    for day in DAYS:
        start = f"  failed  {partition_key(day, 'PJM')} raw_download/lmp_da: "
        (line,) = [line for line in out.splitlines() if line.startswith(start)]
        assert "POWER_ASSETS_PJM_SUBSCRIPTION_KEY" in line  # the reason, with what to fix
    assert "0 materialized, 2 failed, 8 not run" in out
    assert f"PJM {DAYS[0]}..{DAYS[-1]}: 2/10 steps, 2 failed, 8 not run (run " in out


@pytest.mark.e2e
def test_ctrl_c_stops_the_backfill_and_starts_no_further_chunk(tmp_path):
    chunks = 3
    with FakeDataMiner(subscription_key=PJM_KEY) as fake:
        env = cli_env(tmp_path, fake.base_url)
        command = [str(SCRIPT), "backfill", "PJM", "2024-10-01", "2024-10-03", "--chunk-days", "1"]
        with subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        ) as process:  # fmt: skip
            seen = []
            for line in process.stdout:  # the first chunk's first step done: interrupt it
                seen.append(line)
                if line.startswith("  ok"):
                    process.send_signal(signal.SIGINT)
                    break
            rest = process.communicate(timeout=120)[0]
    out = "".join(seen) + rest
    assert process.returncode == 130, out
    assert "interrupted" in out
    with dg.DagsterInstance.from_config(str(tmp_path / ".dagster_home")) as instance:
        runs = instance.get_run_records()
    assert 1 <= len(runs) < chunks, out
    assert runs[0].dagster_run.status != dg.DagsterRunStatus.SUCCESS


def _states(home: Path) -> dict[str, tuple[str, str]]:
    """Every stored sensor and schedule state: name -> (status, code location)."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return {
            state.instigator_name: (
                state.status.value,
                state.origin.repository_origin.code_location_origin.location_name,
            )
            for state in instance.all_instigator_state()
        }


@pytest.mark.e2e
def test_realtime_on_and_off_switch_the_iso_sensor_and_schedule_the_ui_shows(tmp_path):
    env = cli_env(tmp_path)
    home = tmp_path / ".dagster_home"
    on = run_cli(tmp_path, env, "realtime", "on", "pjm")
    assert on.returncode == 0, on.stdout + on.stderr
    assert "sensor realtime__PJM: RUNNING" in on.stdout
    assert "schedule day_ahead__PJM: RUNNING" in on.stdout
    states = _states(home)
    assert states["realtime__PJM"] == ("RUNNING", LOCATION)
    assert states["day_ahead__PJM"] == ("RUNNING", LOCATION)
    assert states["realtime_freshness"] == ("RUNNING", LOCATION)
    assert "realtime__CAISO" not in states or states["realtime__CAISO"][0] == "STOPPED"

    off = run_cli(tmp_path, env, "realtime", "off", "PJM")
    assert off.returncode == 0, off.stdout + off.stderr
    assert "sensor realtime__PJM: STOPPED" in off.stdout
    states = _states(home)
    assert states["realtime__PJM"] == ("STOPPED", LOCATION)
    assert states["day_ahead__PJM"] == ("STOPPED", LOCATION)
    # No real-time sensor is left on, so the freshness checks stop too.
    assert states["realtime_freshness"] == ("STOPPED", LOCATION)
