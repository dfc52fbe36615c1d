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
from power_assets.isos.isone_records import read_records
from power_assets.schemas import FuelMixSchema, LoadSchema, validate_standardized

ISONE = Isone()


@pytest.fixture
def isone(samples: Path) -> Path:
    folder = samples / "isone"
    if not folder.is_dir():
        pytest.skip("no ISO-NE samples")
    return folder


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


@pytest.mark.parametrize("stamp", ["20241103", "20240310"])
def test_genfuelmix_resampled_means_match_the_raw_json(isone: Path, stamp: str) -> None:
    path = isone / f"isone_ws_genfuelmix_day_{stamp}.json"
    ISONE.check_payload(path.read_bytes(), str(path))
    frame = ISONE.parse("fuel_mix", [path])
    validate_standardized(frame, FuelMixSchema, str(path))
    buckets: dict[tuple[str, datetime], list[float]] = defaultdict(list)
    for item in raw_records(path, "GenFuelMixes", "GenFuelMix"):
        instant = datetime.fromisoformat(item["BeginDate"]).astimezone(UTC)
        floor = instant.replace(minute=instant.minute // 5 * 5, second=0, microsecond=0)
        buckets[(item["FuelCategory"], floor)].append(item["GenMw"])
    expected = {key: sum(v) / len(v) for key, v in buckets.items()}
    got = {
        (fuel, start): mw for fuel, start, mw in frame.select("fuel", "interval_start", "mw").rows()
    }
    # Every interval with snapshots holds their mean ...
    assert {k: got[k] for k in expected} == pytest.approx(expected)
    # ... and every other interval holds the fuel's latest earlier snapshot (sample and hold).
    last = max(start for _, start in expected)
    for fuel in {f for f, _ in expected}:
        held, cursor = None, min(s for f, s in expected if f == fuel)
        while cursor <= last:
            held = expected.get((fuel, cursor), held)
            assert got[(fuel, cursor)] == pytest.approx(held), (fuel, cursor)
            cursor += timedelta(minutes=5)
    assert len(got) == frame.height
    assert set(frame["interval_end"] - frame["interval_start"]) == {timedelta(minutes=5)}


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
