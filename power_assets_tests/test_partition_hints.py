"""A partition key that `dagster asset materialize` refuses is explained in one paragraph
(power_assets/partition_hints.py), not left as a traceback through Dagster's internals."""

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from power_assets.partition_hints import explain_partition_key

ISOS = ["CAISO", "ERCOT", "ISONE", "MISO", "NYISO", "PJM", "SPP"]
FIRST = date(2019, 1, 1)
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("2024-11-03", "names no ISO (2024-11-03|CAISO, ...)"),
        ("CAISO|2024-11-03", "the date comes first (2024-11-03|CAISO)"),
        ("2024-11-03|caiso", "ISO ids are upper case (2024-11-03|CAISO)"),
        ("2018-12-31|CAISO", "2018-12-31 has no partition"),
        ("2024-11-03|XYZ", "unknown ISO 'XYZ'"),
        ("2024-13-01|CAISO", "is not of the form {date}|{ISO}"),
        ("20241103|CAISO", "is not of the form {date}|{ISO}"),
        ("2024-11-03 | CAISO", "is not of the form {date}|{ISO} (2024-11-03|CAISO?)"),
        ("XYZ|2024-11-03|foo", "is not of the form {date}|{ISO}"),
    ],
)
def test_each_wrong_key_is_told_what_is_wrong_and_the_form(key, says):
    hint = explain_partition_key(key, ISOS, FIRST)
    assert hint.startswith(f"partition key {key!r}")
    assert says in hint
    assert "keys are {date}|{ISO} (e.g. 2024-11-03|CAISO)" in hint
    assert "from 2019-01-01 to " in hint and "(CAISO, ERCOT, ISONE, MISO, NYISO, PJM, SPP)" in hint


def test_no_suggestion_is_itself_a_wrong_key():
    for key in ("XYZ|2024-11-03|foo", "CAISO 2024-11-03", "nonsense|2018-01-01"):
        hint = explain_partition_key(key, ISOS, FIRST)
        assert "||" not in hint and "(2018-01-01|" not in hint, hint


def test_a_refused_range_is_explained_by_its_wrong_end_or_its_shape():
    # Dagster quotes only the range's first key, which may be the right one.
    hint = explain_partition_key(
        "2024-11-01|CAISO", ISOS, FIRST, "2024-11-01|CAISO...2024-11-03|caiso"
    )
    assert hint.startswith("partition key '2024-11-03|caiso': ISO ids are upper case")
    hint = explain_partition_key(
        "2024-11-01|CAISO", ISOS, FIRST, "2024-11-01|CAISO...2024-11-03|NYISO"
    )
    assert "spans several days and several ISOs" in hint


def test_a_good_daily_key_refused_by_a_rollup_says_what_rollups_take():
    hint = explain_partition_key("2024-11-03|CAISO", ISOS, FIRST)
    assert "not one of the selected assets' partitions" in hint
    assert "take the first day of their month or year (2024-11-01|CAISO, 2024-01-01|CAISO)" in hint


@pytest.mark.e2e
def test_dagster_asset_materialize_prints_the_hint_not_a_traceback(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "POWER_ASSETS_DATA_DIR": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    done = subprocess.run(
        [str(BIN / "dagster"), "asset", "materialize", "-m", "power_assets.definitions",
         "--select", "raw_download/lmp_da", "--partition", "2024-11-03|caiso"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.stderr.strip().splitlines()[-1] == (
        "error: " + explain_partition_key("2024-11-03|caiso", ISOS, FIRST)
    )
