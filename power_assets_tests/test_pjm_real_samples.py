"""The PJM parsers against real Data Miner 2 files in ../shared/samples/pjm (skipped if absent).

Two CSV exports of the web site (da_hrl_lmps, rt_hrl_lmps: 12 hubs, 2025-05-01 00:00 to
2025-08-01 00:00 EPT, all in EDT) and three API JSON pages (a da_hrl_lmps zone day, a window of
rt_unverified_fivemin_lmps, gen_by_fuel), the pages asked with a `fields` subset. Expected values
are computed here from the raw bytes with the csv and json modules, independently of the parser.
"""

import csv
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from power_assets.errors import MalformedFileError
from power_assets.isos import get_iso
from power_assets.isos.pjm.parsing import parse_files
from power_assets.schemas import (
    FUEL_MIX_KEY,
    LMP_COLUMNS,
    LMP_KEY,
    FuelMixSchema,
    LmpSchema,
    validate_standardized,
)
from power_assets_tests.samples import require_sample

EDT = timedelta(hours=-4)


@pytest.fixture
def pjm(samples: Path) -> Path:
    return require_sample("pjm")


def export_time(text: str) -> datetime:
    return datetime.strptime(text, "%m/%d/%Y %I:%M:%S %p")


def number(text: str) -> float | None:
    return float(text) if text else None


def by_key(frame: pl.DataFrame) -> dict[tuple[str, datetime], dict]:
    rows = {(r["location"], r["interval_start"]): r for r in frame.iter_rows(named=True)}
    assert len(rows) == frame.height
    return rows


@pytest.mark.parametrize(
    ("dataset", "name", "m", "market"),
    [("lmp_da", "da_hrl_lmps.csv", "da", "DAM"), ("lmp_rt_hourly", "rt_hrl_lmps.csv", "rt", "RTH")],
)
def test_data_miner_csv_exports(pjm: Path, dataset: str, name: str, m: str, market: str) -> None:
    path = pjm / name
    with path.open(newline="") as handle:
        raw = list(csv.DictReader(handle))
    current = [row for row in raw if row["row_is_current"] != "False"]
    frame, notes = parse_files(dataset, [path])
    validate_standardized(frame, LmpSchema, str(path))
    assert frame.columns == LMP_COLUMNS
    assert notes["rows_superseded"] == len(raw) - len(current)
    assert frame.height == len(current) == 26_508
    assert set(frame["market"]) == {market} and set(frame["iso"]) == {"PJM"}

    got = by_key(frame)
    for row in current:
        utc = export_time(row["datetime_beginning_utc"]).replace(tzinfo=UTC)
        # The file spans May to August: EDT, so the UTC column is the EPT column + 4 h.
        assert utc.replace(tzinfo=None) + EDT == export_time(row["datetime_beginning_ept"])
        parsed = got[(row["pnode_name"], utc)]
        assert parsed["interval_end"] == utc + timedelta(hours=1)
        assert parsed["location_id"] == row["pnode_id"]
        assert parsed["location_type"] == row["type"]
        assert parsed["lmp"] == number(row[f"total_lmp_{m}"])
        assert parsed["energy"] == number(row[f"system_energy_price_{m}"])
        assert parsed["congestion"] == number(row[f"congestion_price_{m}"])
        assert parsed["loss"] == number(row[f"marginal_loss_price_{m}"])
        assert parsed["ghg"] is None

    # First and last rows, read off the files by hand.
    first = got[("EASTERN HUB", datetime(2025, 5, 1, 4, tzinfo=UTC))]
    last = got[("ATSI GEN HUB", datetime(2025, 8, 1, 4, tzinfo=UTC))]
    if m == "da":
        assert (first["lmp"], first["energy"], first["congestion"], first["loss"]) == (
            24.966949, 30.98, -6.094939, 0.081888,
        )  # fmt: skip
        assert (last["lmp"], last["location_id"]) == (32.285455, "116013751")
    else:
        assert (first["lmp"], first["energy"]) == (24.065135, 23.71)
        assert (last["lmp"], last["loss"]) == (28.070208, -0.862519)

    # Hours per hub and local day: 24 on every (non-DST) day, 1 on the closing 2025-08-01.
    expected = Counter(
        (row["pnode_name"], export_time(row["datetime_beginning_ept"]).date()) for row in current
    )
    local = frame.select(
        "location", pl.col("interval_start").dt.convert_time_zone("America/New_York").dt.date()
    )
    assert Counter(local.rows()) == expected
    assert set(expected.values()) == {24, 1} and len({name for name, _ in expected}) == 12


def test_api_page_of_day_ahead_zone_lmps(pjm: Path) -> None:
    path = pjm / "da_hrl_lmps_2026-06-09.json"
    items = json.loads(path.read_bytes())["items"]
    frame, notes = parse_files("lmp_da", [path])
    validate_standardized(frame, LmpSchema, str(path))
    assert frame.height == len(items) == 552 and notes == {"rows_superseded": 0}
    got = by_key(frame)
    for item in items:
        utc = datetime.fromisoformat(item["datetime_beginning_utc"]).replace(tzinfo=UTC)
        row = got[(item["pnode_name"], utc)]
        assert row["lmp"] == item["total_lmp_da"]
        assert row["location_id"] == str(item["pnode_id"])
        assert row["location_type"] == item["type"] == "ZONE"
        # The page was asked without components: they are null, not zero.
        assert (row["energy"], row["congestion"], row["loss"]) == (None, None, None)
    assert got[("PJM-RTO", datetime(2026, 6, 9, 4, tzinfo=UTC))]["lmp"] == 31.862345
    assert got[("OVEC", datetime(2026, 6, 10, 3, tzinfo=UTC))]["lmp"] == 43.169104
    local_days = frame.group_by(
        "location", pl.col("interval_start").dt.convert_time_zone("America/New_York").dt.date()
    ).len()
    assert set(local_days["interval_start"]) == {datetime(2026, 6, 9).date()}
    assert set(local_days["len"]) == {24} and local_days.height == 23


def test_api_page_of_unverified_five_minute_lmps(pjm: Path) -> None:
    path = pjm / "rt_unverified_fivemin_lmps_2026-06-10.json"
    items = json.loads(path.read_bytes())["items"]
    frame, notes = parse_files("lmp_rt5", [path])
    validate_standardized(frame, LmpSchema, str(path))
    assert frame.height == len(items) == 154 and notes == {"rows_superseded": 0}
    assert set(frame["market"]) == {"RT5M_PRELIM"}
    expected = {
        (
            item["pnode_name"],
            datetime.fromisoformat(item["datetime_beginning_utc"]).replace(tzinfo=UTC),
        ): item["total_lmp_rt"]
        for item in items
    }
    got = by_key(frame)
    assert {key: row["lmp"] for key, row in got.items()} == expected
    assert got[("PJM-RTO", datetime(2026, 6, 10, 19, 10, tzinfo=UTC))]["lmp"] == 545.53
    assert got[("OVEC", datetime(2026, 6, 10, 18, 40, tzinfo=UTC))]["lmp"] == 425.52
    # Asked without `type` and the components: type UNKNOWN, energy not computable (null).
    assert set(frame["location_type"]) == {"UNKNOWN"}
    assert frame["energy"].null_count() == frame.height
    assert set(frame["interval_end"] - frame["interval_start"]) == {timedelta(minutes=5)}
    # 14:40..15:10 EPT: seven 5-minute intervals for each of the 22 nodes that answered.
    per_node = Counter(item["pnode_name"] for item in items)
    assert set(per_node.values()) == {7} and len(per_node) == 22
    assert set(frame.group_by("location").len()["len"]) == {7}


def test_api_page_of_generation_by_fuel(pjm: Path) -> None:
    path = pjm / "gen_by_fuel.json"
    items = json.loads(path.read_bytes())["items"]
    frame, notes = parse_files("fuel_mix", [path])
    validate_standardized(frame, FuelMixSchema, str(path))
    assert notes == {}
    assert frame.height == len(items) == 220
    assert frame.select(FUEL_MIX_KEY).is_duplicated().sum() == 0
    expected = {
        (
            item["fuel_type"],
            datetime.fromisoformat(item["datetime_beginning_utc"]).replace(tzinfo=UTC),
        ): float(item["mw"])
        for item in items
    }
    got = dict(
        zip(zip(frame["fuel"], frame["interval_start"], strict=True), frame["mw"], strict=True)
    )
    assert got == expected
    assert got[("Coal", datetime(2025, 2, 9, tzinfo=UTC))] == 16908.0
    assert got[("Wind", datetime(2025, 2, 9, 21, tzinfo=UTC))] == 1341.0
    assert Counter(frame["interval_start"]).most_common(1)[0][1] == 10  # ten fuels an hour
    assert set(frame["interval_end"] - frame["interval_start"]) == {timedelta(hours=1)}


def test_json_and_csv_files_mix_in_one_call(pjm: Path) -> None:
    frame, _ = parse_files("lmp_da", [pjm / "da_hrl_lmps.csv", pjm / "da_hrl_lmps_2026-06-09.json"])
    validate_standardized(frame, LmpSchema, "mixed")
    assert frame.height == 26_508 + 552
    assert frame.select(LMP_KEY).is_duplicated().sum() == 0


@pytest.mark.parametrize(
    ("name", "feed"),
    [
        ("pjm_api_da_marginal_value_2023-11-05_2023-11-07.json", "da_marginal_value"),
        ("pjm_api_rt_marginal_value_2023-11-05_2023-11-07.json", "rt_marginal_value"),
        ("five_min_solar_power_forecast_20241001_truncated.json", "five_min_solar_power_forecast"),
    ],
)
def test_real_pages_of_feeds_this_project_does_not_load_are_refused_by_name(
    pjm: Path, name: str, feed: str
) -> None:
    # Constraint shadow prices and solar forecasts are not among PJM's eight datasets here: a
    # page of them given as LMPs or load forecasts is refused, naming its feed (from its own
    # self link), and a drop folder does not take it for a PJM dataset.
    path = pjm / name
    self_link = json.loads(path.read_bytes())["links"][0]["href"]
    assert f"/api/v1/{feed}?" in self_link
    for dataset in ("lmp_da", "load_forecast"):
        with pytest.raises(MalformedFileError, match=f"a page of feed '{feed}'"):
            parse_files(dataset, [path])
    pjm_iso = get_iso("PJM")
    assert pjm_iso.dropped_file_day(name) is None
    assert pjm_iso.dropped_span_dataset(name) is None
