"""The ISO-NE parsers against real ISO-NE payloads in ../shared/samples/isone (skipped if absent).

Expected values are computed here from the raw JSON with the standard library, independently of the
polars code under test, or copied from the sample files by hand.
"""

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from power_assets.errors import MalformedFileError
from power_assets.isos.isone import Isone
from power_assets.isos.isone.records import read_records
from power_assets.schemas import FuelMixSchema, LoadSchema, validate_standardized
from power_assets_tests.samples import require_sample

ISONE = Isone()


@pytest.fixture
def isone(samples: Path) -> Path:
    return require_sample("isone")


@pytest.mark.parametrize(
    ("kind", "day2_he01", "day2_he08", "day1_he11"),
    [("solar", "0", "173", "661"), ("wind", "205", "643", "234")],
)
def test_seven_day_forecasts_parse_with_the_record_parser(
    isone: Path, kind: str, day2_he01: str, day2_he08: str, day1_he11: str
) -> None:
    path = isone / f"seven_day_{kind}_power_forecast_20250225.csv"
    # The "Day" and "Date" lines are D records that the trailer does not count.
    records = read_records(path.read_bytes(), str(path), header_data_rows=2)
    assert records.trailer_count == 24 and records.data.height == 24
    assert (
        records.comments[0]
        == f"ISO New England Inc. Seven Day {kind.title()} Power Forecast Report"
    )
    assert records.header[2:4] == ["Day 1", "Day 2"]
    assert records.header_rows[1][:3] == ["Date", "Hour Ending", "02/25/2025"]
    data = records.data
    assert data["column_2"].to_list() == [f"{h:02d}" for h in range(1, 25)]
    assert data["Day 2"][0] == day2_he01 and data["Day 2"][7] == day2_he08
    assert data["Day 1"][10] == day1_he11 and data["Day 1"][0] is None  # past hours are empty
    with pytest.raises(MalformedFileError, match=rf"{path.name}.*trailer says 24.*26"):
        read_records(path.read_bytes(), str(path))


def raw_records(path: Path, wrapper: str, record: str) -> list[dict]:
    return json.loads(path.read_text())[wrapper][record]


def expected_fuel_mix(path: Path) -> dict[tuple[str, datetime], float]:
    """The 5-minute fuel mix computed straight from the JSON: a snapshot (one BeginDate) holds
    until the next, a fuel it does not list is at 0 MW, an interval with snapshots is their mean
    and an interval without one holds the latest earlier snapshot."""
    snapshots: dict[datetime, dict[str, float]] = defaultdict(dict)
    for item in raw_records(path, "GenFuelMixes", "GenFuelMix"):
        instant = datetime.fromisoformat(item["BeginDate"]).astimezone(UTC)
        snapshots[instant][item["FuelCategory"]] = float(item["GenMw"])
    fuels = {fuel for snapshot in snapshots.values() for fuel in snapshot}
    by_interval: dict[datetime, list[datetime]] = defaultdict(list)
    for instant in sorted(snapshots):
        floor = instant.replace(minute=instant.minute // 5 * 5, second=0, microsecond=0)
        by_interval[floor].append(instant)
    expected, latest = {}, None
    cursor, last = min(by_interval), max(by_interval)
    while cursor <= last:
        if cursor in by_interval:
            instants = by_interval[cursor]
            for fuel in fuels:
                values = [snapshots[i].get(fuel, 0.0) for i in instants]
                expected[(fuel, cursor)] = sum(values) / len(values)
            latest = snapshots[instants[-1]]
        else:
            for fuel in fuels:
                expected[(fuel, cursor)] = latest.get(fuel, 0.0)
        cursor += timedelta(minutes=5)
    return expected


@pytest.mark.parametrize("stamp", ["20241103", "20240310"])
def test_genfuelmix_matches_the_snapshots_in_the_raw_json(isone: Path, stamp: str) -> None:
    path = isone / f"isone_ws_genfuelmix_day_{stamp}.json"
    ISONE.check_payload(path.read_bytes(), str(path))
    frame = ISONE.parse("fuel_mix", [path])
    validate_standardized(frame, FuelMixSchema, str(path))
    expected = expected_fuel_mix(path)
    got = {
        (fuel, start): mw for fuel, start, mw in frame.select("fuel", "interval_start", "mw").rows()
    }
    assert got.keys() == expected.keys()
    assert got == pytest.approx(expected)
    assert set(frame["interval_end"] - frame["interval_start"]) == {timedelta(minutes=5)}


def test_genfuelmix_empty_interval_holds_the_last_snapshot_not_the_mean(isone: Path) -> None:
    # Every interval with two or more snapshots that is followed by an interval without one: the
    # following interval carries the later snapshot's value, read straight off the raw text.
    path = isone / "isone_ws_genfuelmix_day_20241103.json"
    frame = ISONE.parse("fuel_mix", [path]).filter(pl.col("fuel") == "Natural Gas")
    gas = dict(zip(frame["interval_start"], frame["mw"], strict=True))
    raw = {
        datetime.fromisoformat(item["BeginDate"]).astimezone(UTC): item["GenMw"]
        for item in raw_records(path, "GenFuelMixes", "GenFuelMix")
        if item["FuelCategory"] == "Natural Gas"
    }
    doubles = 0
    for start in sorted(gas):
        inside = [raw[i] for i in sorted(raw) if start <= i < start + timedelta(minutes=5)]
        after = start + timedelta(minutes=5)
        empty_after = not any(after <= i < after + timedelta(minutes=5) for i in raw)
        if len(inside) >= 2 and after in gas and empty_after:
            doubles += 1
            assert gas[after] == inside[-1], after  # the last snapshot, not the mean
    assert doubles > 0


@pytest.mark.parametrize(("stamp", "fuel"), [("20241103", "Other"), ("20240310", "Coal")])
def test_a_fuel_missing_from_a_snapshot_reads_zero_not_its_old_value(
    isone: Path, stamp: str, fuel: str
) -> None:
    path = isone / f"isone_ws_genfuelmix_day_{stamp}.json"
    snapshots: dict[datetime, set[str]] = defaultdict(set)
    for item in raw_records(path, "GenFuelMixes", "GenFuelMix"):
        instant = datetime.fromisoformat(item["BeginDate"]).astimezone(UTC)
        snapshots[instant].add(item["FuelCategory"])
    without = [i for i in sorted(snapshots) if fuel not in snapshots[i]]
    assert without, f"the sample lists {fuel} in every snapshot"
    values = ISONE.parse("fuel_mix", [path]).filter(pl.col("fuel") == fuel)
    mw = dict(zip(values["interval_start"], values["mw"], strict=True))
    lonely = 0
    for instant in without:
        start = instant.replace(minute=instant.minute // 5 * 5, second=0, microsecond=0)
        inside = [i for i in snapshots if start <= i < start + timedelta(minutes=5)]
        if all(fuel not in snapshots[i] for i in inside):
            lonely += 1
            assert mw[start] == 0.0, start
    assert lonely > 0


def test_genfuelmix_fall_back_hours_stay_apart(isone: Path) -> None:
    frame = ISONE.parse("fuel_mix", [isone / "isone_ws_genfuelmix_day_20241103.json"])
    hydro = frame.filter(pl.col("fuel") == "Hydro").sort("interval_start")
    # First snapshot 00:08:35 EDT = 04:08:35 UTC, Hydro 252 MW (and again at 00:10:32).
    assert hydro.row(0, named=True)["interval_start"] == datetime(2024, 11, 3, 4, 5, tzinfo=UTC)
    assert hydro["mw"][0] == 252.0
    # 01:08:00 EDT and 01:07:58 EST are an hour apart in UTC: 05:05 and 06:05.
    starts = set(hydro["interval_start"])
    assert {
        datetime(2024, 11, 3, 5, 5, tzinfo=UTC),
        datetime(2024, 11, 3, 6, 5, tzinfo=UTC),
    } <= starts
    assert set(frame["fuel"]) >= {
        "Landfill Gas",
        "Refuse",
        "Wood",
        "Wind",
        "Solar",
    }  # fine categories


@pytest.mark.parametrize(
    ("stamp", "hours", "first", "third_start", "third_load"),
    [
        ("20241103", 25, datetime(2024, 11, 3, 4, tzinfo=UTC), datetime(2024, 11, 3, 6, tzinfo=UTC), 9951.317),
        ("20240310", 23, datetime(2024, 3, 10, 5, tzinfo=UTC), datetime(2024, 3, 10, 7, tzinfo=UTC), 10790.338),
    ],
)  # fmt: skip
def test_hourlysysload_has_every_hour_of_the_dst_day(
    isone: Path, stamp: str, hours: int, first: datetime, third_start: datetime, third_load: float
) -> None:
    path = isone / f"isone_ws_hourlysysload_day_{stamp}.json"
    ISONE.check_payload(path.read_bytes(), str(path))
    frame = ISONE.parse("load", [path]).sort("interval_start")
    validate_standardized(frame, LoadSchema, str(path))
    assert frame.height == hours
    assert frame["interval_start"].to_list() == [first + timedelta(hours=k) for k in range(hours)]
    assert frame.row(2, named=True)["interval_start"] == third_start
    assert frame["load_mw"][2] == third_load
    raw = raw_records(path, "HourlySystemLoads", "HourlySystemLoad")
    assert frame["load_mw"].to_list() == [item["Load"] for item in raw]  # Load, not NativeLoad
    assert set(frame["area"]) == {"NEPOOL AREA"}
