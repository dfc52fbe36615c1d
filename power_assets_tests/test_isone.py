"""Behaviour of the ISO-NE module: the record-format parser, requests, payload checks, every
dataset's parser on both 2024 DST days, credentials, and the loopback fake ISO-NE."""

import itertools
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import polars as pl
import pytest

from power_assets.demo.isone_fixtures import (
    DEMO_LOCATIONS,
    Faults,
    genfuelmix_json,
    hourly_lmp_csv,
    hourlysysload_json,
    record_file,
    reserve_price_json,
    rt5_lmp_csv,
)
from power_assets.demo.isone_server import FakeIsone
from power_assets.errors import (
    IsoErrorResponse,
    IsoNoDataError,
    MalformedFileError,
    SchemaDriftError,
)
from power_assets.io.http import IsoHttpClient
from power_assets.isos.base import DatasetKind
from power_assets.isos.isone import (
    PASSWORD_ENV,
    USERNAME_ENV,
    Isone,
    rt5_windows,
)
from power_assets.isos.isone.records import read_records
from power_assets.market_time import expected_interval_starts, market_day_bounds
from power_assets.schemas import (
    AsPriceSchema,
    FuelMixSchema,
    LmpSchema,
    LoadSchema,
    validate_standardized,
)

ISONE = Isone()
SPRING_FORWARD, FALL_BACK, ORDINARY = date(2024, 3, 10), date(2024, 11, 3), date(2024, 6, 12)
DST_DAYS = [(SPRING_FORWARD, 23), (FALL_BACK, 25), (ORDINARY, 24)]
HUB = ".H.INTERNAL_HUB"
DA_PATH = "/static-transform/csv/histRpts/da-lmp"
WEB = ("fuel_mix", "load", "as_rt")
MODELS = {
    DatasetKind.LMP: LmpSchema, DatasetKind.AS_PRICE: AsPriceSchema,
    DatasetKind.LOAD: LoadSchema, DatasetKind.FUEL_MIX: FuelMixSchema,
}  # fmt: skip


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


# Column headers as ISO Express publishes them (ISO_REFERENCE.md: the DA "H" line; the 5-minute
# preliminary files), written out here rather than taken from the parser.
HOURLY_LMP_COLUMNS = [
    "Date", "Hour Ending", "Location ID", "Location Name", "Location Type",
    "Locational Marginal Price", "Energy Component", "Congestion Component",
    "Marginal Loss Component",
]  # fmt: skip
RT5_LMP_COLUMNS = [
    "Location ID", "Local Time", "Energy Component", "Congestion Component", "Loss Component", "LMP",
]  # fmt: skip


def parsed(tmp_path: Path, dataset: str, name: str, content: bytes) -> pl.DataFrame:
    return ISONE.parse(dataset, [write(tmp_path, name, content)])


def grid(day: date, step: timedelta) -> list[datetime]:
    return expected_interval_starts("America/New_York", day, step).to_list()


def da_file(rows: list[list]) -> bytes:
    return record_file(["Day-Ahead Energy Market Hourly LMP Report"], HOURLY_LMP_COLUMNS, rows)


def da_row(day: date, hour: str, price: float = 30.0) -> list:
    return [f"{day:%m/%d/%Y}", hour, "4000", HUB, "HUB", price, price, 0.0, 0.0]


# -- record format ---------------------------------------------------------------------------


def test_record_parser_splits_comments_headers_data_and_trailer(tmp_path: Path) -> None:
    content = record_file(
        ["Some Report", "Report for 01/02/2024"], ["Name", "Value"],
        [["a", 1.5], ["b", -2.0], ["c", 3.0]], types=["String", "Number"],
    )  # fmt: skip
    records = read_records(content, "some.csv")
    assert records.comments == ["Some Report", "Report for 01/02/2024"]
    assert records.header == ["Name", "Value"] and records.types == ["String", "Number"]
    assert records.trailer_count == 3
    assert records.data.rows() == [("a", "1.50"), ("b", "-2.00"), ("c", "3.00")]
    assert records.data.schema == pl.Schema({"Name": pl.String, "Value": pl.String})


def test_record_parser_tolerates_blank_lines_and_lf_line_ends() -> None:
    content = b'"C","Report"\n\n"H","A","B"\n"D","x",1\n"D","y",2\n\n"T","2 lines"\n'
    assert read_records(content, "f.csv").data.rows() == [("x", "1"), ("y", "2")]


@pytest.mark.parametrize("delta", [1, -1])
def test_trailer_count_that_disagrees_names_the_file(delta: int) -> None:
    content = record_file(["R"], ["A"], [["x"], ["y"]], trailer_delta=delta)
    with pytest.raises(MalformedFileError, match=r"WW_DALMP_ISO_20241103\.csv.*trailer says"):
        read_records(content, "/raw/WW_DALMP_ISO_20241103.csv")


def test_missing_trailer_and_non_record_files_are_errors() -> None:
    truncated = record_file(["R"], ["A"], [["x"]]).rsplit(b'"T"', 1)[0]
    with pytest.raises(MalformedFileError, match=r'cut\.csv.*no "T" trailer'):
        read_records(truncated, "cut.csv")
    with pytest.raises(MalformedFileError, match=r"page\.csv.*not an ISO Express record-format"):
        read_records(b"<html><body>Login</body></html>", "page.csv")


def test_data_line_longer_than_the_header_is_an_error() -> None:
    content = b'"H","A","B"\n"D","x",1,99\n"T","1 lines"\n'
    with pytest.raises(MalformedFileError, match=r"long\.csv"):
        read_records(content, "long.csv")


# -- requests --------------------------------------------------------------------------------


def test_static_requests_urls_and_rt_hourly_final_or_prelim() -> None:
    (da,) = ISONE.requests_for_day("lmp_da", FALL_BACK)
    assert da.url(ISONE.default_base_url) == (
        "https://www.iso-ne.com/static-transform/csv/histRpts/da-lmp/WW_DALMP_ISO_20241103.csv"
    )
    assert (da.window_start, da.window_end) == market_day_bounds("America/New_York", FALL_BACK)
    (final,) = ISONE.requests_for_day("lmp_rt_hourly", FALL_BACK, today=date(2024, 11, 10))
    (prelim,) = ISONE.requests_for_day("lmp_rt_hourly", FALL_BACK, today=date(2024, 11, 5))
    assert final.path.endswith("rt-lmp/lmp_rt_final_20241103.csv") and final.final_after is None
    assert prelim.path.endswith("rt-lmp/lmp_rt_prelim_20241103.csv")
    assert prelim.final_from == utc(2024, 11, 10, 5)  # refetched until the final file is due
    assert not da.needs_auth and da.endpoint == "default"


def test_rt5_requests_are_the_six_local_four_hour_files() -> None:
    requests = ISONE.requests_for_day("lmp_rt5", ORDINARY)
    assert [r.file_name for r in requests] == [
        f"lmp_5min_20240612_{b}.csv" for b in ("00-04", "04-08", "08-12", "12-16", "16-20", "20-24")
    ]
    assert requests[0].path.endswith("histRpts/5min-rt-prelim/lmp_5min_20240612_00-04.csv")
    assert all(r.window_end - r.window_start == timedelta(hours=4) for r in requests)


@pytest.mark.parametrize(("day", "first_span"), [(SPRING_FORWARD, 3), (FALL_BACK, 5)])
def test_rt5_windows_follow_local_time_on_dst_days(day: date, first_span: int) -> None:
    windows = rt5_windows(day)
    start, end = market_day_bounds("America/New_York", day)
    assert windows[0][0] == start and windows[-1][1] == end
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))
    spans = [(e - s) / timedelta(hours=1) for s, e in windows]
    assert spans == [first_span, 4, 4, 4, 4, 4]
    # 04:00 local is EDT on the spring-forward day (08:00 UTC) and EST on the fall-back day.
    assert windows[1][0] == (utc(2024, 3, 10, 8) if day == SPRING_FORWARD else utc(2024, 11, 3, 9))


# -- LMP parsers -----------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "hours"), DST_DAYS)
def test_da_lmp_has_one_row_per_location_and_hour(tmp_path: Path, day: date, hours: int) -> None:
    path = write(tmp_path, f"WW_DALMP_ISO_{day:%Y%m%d}.csv", hourly_lmp_csv(day))
    frame = ISONE.parse("lmp_da", [path])
    validate_standardized(frame, LmpSchema, str(path))
    assert frame.height == hours * len(DEMO_LOCATIONS)
    hub = frame.filter(pl.col("location") == HUB).sort("interval_start")
    assert hub["interval_start"].to_list() == grid(day, timedelta(hours=1))
    assert set(frame["market"]) == {"DAM"} and set(hub["location_type"]) == {"HUB"}
    total = (pl.col("energy") + pl.col("congestion") + pl.col("loss")).round(2)
    assert frame.filter(pl.col("lmp") != total).is_empty()


def test_02x_is_the_second_one_oclock_hour_on_the_fall_back_day(tmp_path: Path) -> None:
    hours = [("01", 1.0), ("02", 2.0), ("02X", 3.0), ("03", 4.0)]
    rows = [da_row(FALL_BACK, hour, price) for hour, price in hours]
    frame = parsed(tmp_path, "lmp_da", "WW_DALMP_ISO_20241103.csv", da_file(rows))
    starts = dict(zip(frame["lmp"], frame["interval_start"], strict=True))
    assert starts == {
        1.0: utc(2024, 11, 3, 4), 2.0: utc(2024, 11, 3, 5),  # 00:00, 01:00 EDT
        3.0: utc(2024, 11, 3, 6), 4.0: utc(2024, 11, 3, 7),  # 01:00 EST, 02:00 EST
    }  # fmt: skip
    assert set(frame["interval_end"] - frame["interval_start"]) == {timedelta(hours=1)}


@pytest.mark.parametrize(
    ("day", "hour"), [(SPRING_FORWARD, "02"), (ORDINARY, "02X"), (ORDINARY, "25")]
)
def test_hour_that_cannot_exist_names_file_and_row(tmp_path: Path, day: date, hour: str) -> None:
    rows = [da_row(day, "01"), da_row(day, hour)]
    path = write(tmp_path, f"WW_DALMP_ISO_{day:%Y%m%d}.csv", da_file(rows))
    with pytest.raises(
        MalformedFileError, match=rf"WW_DALMP_ISO_{day:%Y%m%d}\.csv.*\(2, '[^']+', '{hour}'\)"
    ):
        ISONE.parse("lmp_da", [path])


@pytest.mark.parametrize(
    ("report", "market"), [("rt_final", "RTH_FINAL"), ("rt_prelim", "RTH_PRELIM")]
)
def test_rt_hourly_market_says_final_or_prelim(tmp_path: Path, report: str, market: str) -> None:
    name = f"lmp_{report}_20241103.csv"
    frame = parsed(tmp_path, "lmp_rt_hourly", name, hourly_lmp_csv(FALL_BACK, report))
    assert set(frame["market"]) == {market} and frame.height == 25 * len(DEMO_LOCATIONS)
    with pytest.raises(MalformedFileError, match=r"renamed\.csv.*final from prelim"):
        parsed(tmp_path, "lmp_rt_hourly", "renamed.csv", hourly_lmp_csv(FALL_BACK))


@pytest.mark.parametrize(("day", "hours"), DST_DAYS)
def test_rt5_six_files_give_every_five_minute_interval(
    tmp_path: Path, day: date, hours: int
) -> None:
    frames = []
    for request in ISONE.requests_for_day("lmp_rt5", day):
        block = request.file_name[-9:-4]
        frame = parsed(tmp_path, "lmp_rt5", request.file_name, rt5_lmp_csv(day, block))
        start, end = request.window_start, request.window_end
        assert frame["interval_start"].is_between(start, end, closed="left").all(), block
        frames.append(frame)
    frame = pl.concat(frames)
    validate_standardized(frame, LmpSchema, "rt5")
    assert frame.height == hours * 12 * len(DEMO_LOCATIONS)
    hub = frame.filter(pl.col("location") == HUB).sort("interval_start")
    assert hub["interval_start"].to_list() == grid(day, timedelta(minutes=5))
    assert set(frame["market"]) == {"RT5M"}
    assert set(frame.filter(pl.col("location") == "10501")["location_type"]) == {"NODE_ID"}


def test_rt5_repeated_one_oclock_is_daylight_first_per_location(tmp_path: Path) -> None:
    rows = [
        ["4000", "01:00:00", 1.0, 0.0, 0.0, 1.0], ["4001", "01:00:00", 1.0, 0.0, 0.0, 10.0],
        ["4000", "01:00:00", 2.0, 0.0, 0.0, 2.0], ["4001", "01:00:00", 2.0, 0.0, 0.0, 20.0],
    ]  # fmt: skip
    path = write(tmp_path, "lmp_5min_20241103_00-04.csv", record_file(["R"], RT5_LMP_COLUMNS, rows))
    starts = dict(ISONE.parse("lmp_rt5", [path]).select("lmp", "interval_start").rows())
    assert starts == {1.0: utc(2024, 11, 3, 5), 10.0: utc(2024, 11, 3, 5),
                      2.0: utc(2024, 11, 3, 6), 20.0: utc(2024, 11, 3, 6)}  # fmt: skip


def test_rt5_nonexistent_local_time_names_file_and_row(tmp_path: Path) -> None:
    rows = [["4000", "01:55:00", 1.0, 0.0, 0.0, 1.0], ["4000", "02:00:00", 1.0, 0.0, 0.0, 1.0]]
    content = record_file(["R"], RT5_LMP_COLUMNS, rows)
    path = write(tmp_path, "lmp_5min_20240310_00-04.csv", content)
    with pytest.raises(MalformedFileError, match=r"00-04\.csv.*\(2, '4000', '02:00:00'\)"):
        ISONE.parse("lmp_rt5", [path])


@pytest.mark.parametrize(
    ("dataset", "name", "make", "faults", "column"),
    [
        ("lmp_da", "WW_DALMP_ISO_20241103.csv", lambda f: hourly_lmp_csv(FALL_BACK, faults=f),
         Faults(extra_column="Reserve Component"), "Reserve Component"),
        ("lmp_da", "WW_DALMP_ISO_20241103.csv", lambda f: hourly_lmp_csv(FALL_BACK, faults=f),
         Faults(missing_column="Location Name"), "Location Name"),
        ("lmp_rt5", "lmp_5min_20241103_04-08.csv", lambda f: rt5_lmp_csv(FALL_BACK, "04-08", faults=f),
         Faults(missing_column="Loss Component"), "Loss Component"),
        ("fuel_mix", "genfuelmix_20241103.json", lambda f: genfuelmix_json(FALL_BACK, f),
         Faults(extra_column="GenMwh"), "GenMwh"),
        ("as_rt", "reserve_20241103.json", lambda f: reserve_price_json(FALL_BACK, f),
         Faults(missing_column="TmorClearingPrice"), "TmorClearingPrice"),
    ],
)  # fmt: skip
def test_schema_drift_names_column_and_file(
    tmp_path: Path, dataset: str, name: str, make, faults: Faults, column: str
) -> None:
    path = write(tmp_path, name, make(faults))
    with pytest.raises(SchemaDriftError, match=rf"{name}.*{column}") as caught:
        ISONE.parse(dataset, [path])
    assert column in caught.value.missing + caught.value.unexpected


def test_faults_duplicates_kept_absurd_price_kept_bad_trailer_rejected(tmp_path: Path) -> None:
    name = "WW_DALMP_ISO_20241103.csv"
    clean = parsed(tmp_path, "lmp_da", name, hourly_lmp_csv(FALL_BACK))
    drop = [utc(2024, 11, 3, 6)]
    faults = Faults(duplicate_rows=3, absurd_price=1e9, drop_intervals=drop, drop_locations=[HUB])
    bad = parsed(tmp_path, "lmp_da", name, hourly_lmp_csv(FALL_BACK, faults=faults))
    assert bad.height == clean.height - 1 + 3
    assert bad.filter(pl.col("lmp") == 1e9).height >= 1
    assert bad.filter(pl.col("location") == HUB).height == 25 - 1 + 1  # the first row is the hub's
    content = hourly_lmp_csv(date(2024, 11, 4), faults=Faults(wrong_trailer=2))
    with pytest.raises(MalformedFileError, match=r"WW_DALMP_ISO_20241104\.csv.*trailer"):
        parsed(tmp_path, "lmp_da", "WW_DALMP_ISO_20241104.csv", content)


# -- web-services parsers --------------------------------------------------------------------


def test_fuel_mix_snapshots_become_five_minute_values(tmp_path: Path) -> None:
    # Whole snapshots, as genfuelmix publishes them: every generating fuel at one BeginDate.
    snapshots = [
        ("2024-11-03T01:01:10.000-04:00", {"Wind": 100, "Oil": 20}),
        ("2024-11-03T01:03:50.000-04:00", {"Wind": 200, "Oil": 30}),
        ("2024-11-03T01:07:00.000-04:00", {"Wind": 50}),  # oil is off: 0 MW from here
        ("2024-11-03T01:02:00.000-05:00", {"Wind": 7, "Oil": 5}),  # the second 01:00 hour
    ]
    body = {"GenFuelMixes": {"GenFuelMix": [
        {"BeginDate": begin, "GenMw": mw, "FuelCategoryRollup": "Other", "FuelCategory": fuel,
         "MarginalFlag": "N"} for begin, mix in snapshots for fuel, mw in mix.items()
    ]}}  # fmt: skip
    frame = parsed(tmp_path, "fuel_mix", "genfuelmix_20241103.json", json.dumps(body).encode())
    validate_standardized(frame, FuelMixSchema, "fuel mix")
    rows = {(f, s): mw for f, s, mw in frame.select("fuel", "interval_start", "mw").rows()}
    assert rows[("Wind", utc(2024, 11, 3, 5, 0))] == 150.0  # mean of the interval's two snapshots
    assert rows[("Oil", utc(2024, 11, 3, 5, 0))] == 25.0
    assert rows[("Wind", utc(2024, 11, 3, 5, 5))] == 50.0
    assert rows[("Oil", utc(2024, 11, 3, 5, 5))] == 0.0  # not listed: 0 MW, not its old 30 MW
    assert rows[("Oil", utc(2024, 11, 3, 5, 55))] == 0.0  # held at 0 until the next snapshot
    assert rows[("Wind", utc(2024, 11, 3, 5, 55))] == 50.0
    assert rows[("Wind", utc(2024, 11, 3, 6, 0))] == 7.0
    assert rows[("Oil", utc(2024, 11, 3, 6, 0))] == 5.0
    assert len(rows) == 2 * 13  # 05:00 .. 06:00 for both fuels
    assert set(frame["interval_end"] - frame["interval_start"]) == {timedelta(minutes=5)}


def test_fuel_mix_empty_interval_holds_the_last_snapshot_not_the_interval_mean(
    tmp_path: Path,
) -> None:
    snapshots = [("2024-06-12T10:00:30.000-04:00", 100), ("2024-06-12T10:04:00.000-04:00", 300)]
    body = {"GenFuelMixes": {"GenFuelMix": [
        {"BeginDate": begin, "GenMw": mw, "FuelCategoryRollup": "Hydro", "FuelCategory": "Hydro",
         "MarginalFlag": "N"} for begin, mw in snapshots
    ] + [{"BeginDate": "2024-06-12T10:16:00.000-04:00", "GenMw": 10, "FuelCategoryRollup": "Hydro",
          "FuelCategory": "Hydro", "MarginalFlag": "N"}]}}  # fmt: skip
    frame = parsed(tmp_path, "fuel_mix", "genfuelmix_20240612.json", json.dumps(body).encode())
    mw = dict(zip(frame["interval_start"], frame["mw"], strict=True))
    assert mw == {
        utc(2024, 6, 12, 14, 0): 200.0,
        utc(2024, 6, 12, 14, 5): 300.0,
        utc(2024, 6, 12, 14, 10): 300.0,
        utc(2024, 6, 12, 14, 15): 10.0,
    }


def test_fuel_mix_one_fuel_twice_in_a_snapshot_is_an_error_naming_it(tmp_path: Path) -> None:
    body = {"GenFuelMixes": {"GenFuelMix": [
        {"BeginDate": "2024-06-12T10:00:30.000-04:00", "GenMw": mw, "FuelCategoryRollup": "Hydro",
         "FuelCategory": "Hydro", "MarginalFlag": "N"} for mw in (100, 120)
    ]}}  # fmt: skip
    with pytest.raises(
        MalformedFileError, match=r"genfuelmix_x\.json.*'Hydro' at 2024-06-12T14:00:30Z"
    ):
        parsed(tmp_path, "fuel_mix", "genfuelmix_x.json", json.dumps(body).encode())


@pytest.mark.parametrize(("day", "hours"), DST_DAYS)
def test_web_services_datasets_on_dst_days(tmp_path: Path, day: date, hours: int) -> None:
    start, end = market_day_bounds("America/New_York", day)
    fuel = parsed(tmp_path, "fuel_mix", "f.json", genfuelmix_json(day))
    validate_standardized(fuel, FuelMixSchema, "fuel")
    assert fuel["interval_start"].dt.minute().is_in(range(0, 60, 5)).all()
    assert fuel["interval_start"].dt.second().max() == 0
    assert fuel.select(pl.struct("fuel", "interval_start").is_unique().all()).item()
    assert fuel["interval_start"].min() >= start and fuel["interval_start"].max() < end
    assert fuel.filter(pl.col("fuel") == "Nuclear").height <= hours * 12
    load = parsed(tmp_path, "load", "l.json", hourlysysload_json(day))
    validate_standardized(load, LoadSchema, "load")
    assert load.sort("interval_start")["interval_start"].to_list() == grid(day, timedelta(hours=1))
    assert set(load["area"]) == {"NEPOOL AREA"}
    prices = parsed(tmp_path, "as_rt", "r.json", reserve_price_json(day))
    validate_standardized(prices, AsPriceSchema, "as")
    assert set(prices["product"]) == {"SPIN_10", "NON_SYNC_10", "OPERATING_30"}
    assert set(prices["region"]) == {"ROS", "SWCT", "CT", "NEMABSTN"}
    one = prices.filter((pl.col("region") == "CT") & (pl.col("iso_product") == "TMSR"))
    assert one.sort("interval_start")["interval_start"].to_list() == grid(day, timedelta(minutes=5))
    assert set(one["product"]) == {"SPIN_10"} and set(prices["market"]) == {"RT5M"}


# -- credentials and payload checks ----------------------------------------------------------


def test_web_services_need_credentials_named_in_the_reason() -> None:
    secrets = {"username": "", "password": "secret"}  # the account is half configured
    for dataset in WEB:
        reason = ISONE.unavailable_reason(dataset, secrets)
        assert reason and USERNAME_ENV in reason and PASSWORD_ENV in reason
        assert "secret" not in reason
        (request,) = ISONE.requests_for_day(dataset, FALL_BACK)
        assert ISONE.credentials(request, secrets) is None
    assert ISONE.unavailable_reason("lmp_da") is ISONE.unavailable_reason("lmp_rt5") is None


def test_with_credentials_web_requests_carry_auth_and_accept() -> None:
    secrets = {"username": "me@example.com", "password": "pw"}
    paths = {"fuel_mix": "genfuelmix/day/20241103", "load": "hourlysysload/day/20241103",
             "as_rt": "fiveminutereserveprice/final/day/20241103"}  # fmt: skip
    for dataset, path in paths.items():
        assert ISONE.unavailable_reason(dataset, secrets) is None
        (request,) = ISONE.requests_for_day(dataset, FALL_BACK)
        assert (request.path, request.endpoint, request.needs_auth) == (path, "webservices", True)
        assert ("Accept", "application/json") in request.headers
        assert ISONE.credentials(request, secrets) == ("me@example.com", "pw")
        url = request.url(ISONE.extra_base_urls["webservices"])
        assert url == f"https://webservices.iso-ne.com/api/v1.1/{path}"
    (static,) = ISONE.requests_for_day("lmp_da", FALL_BACK)
    assert ISONE.credentials(static, secrets) is None


@pytest.mark.parametrize(
    ("content", "error", "match"),
    [
        (b"", MalformedFileError, "empty response"),
        (b"<html><body>Please log in</body></html>", MalformedFileError, "HTML page"),
        (b"No data exists for this period.\n", IsoNoDataError, "No data exists"),
        (b"<html><body>Report not available.</body></html>", IsoNoDataError, "not available"),
        (b'{"error":"Bad Request","status":400}', IsoErrorResponse, "400"),
        (b'{"GenFuelMixes":""}', IsoNoDataError, "GenFuelMixes"),
        (b'{"GenFuelMixes":{"GenFuelMix":[]}}', IsoNoDataError, "GenFuelMixes"),
        (b"{not json", MalformedFileError, "unreadable JSON"),
    ],
)
def test_check_payload_rejects_error_pages(content: bytes, error: type, match: str) -> None:
    with pytest.raises(error, match=f"https://x.test/r.*{match}"):
        ISONE.check_payload(content, "https://x.test/r")


@pytest.mark.parametrize(
    "content",
    [hourly_lmp_csv(FALL_BACK), genfuelmix_json(FALL_BACK), b'\xef\xbb\xbf"C","report"\r\n'],
    ids=["csv-records", "web-services-json", "csv-with-bom"],
)
def test_check_payload_accepts_reports_and_refuses_them_cut_to_html(content: bytes) -> None:
    # A report passes untouched (check_payload returns None, raises nothing) ...
    assert ISONE.check_payload(content, "report") is None
    # ... and the same check refuses a login page of the same length, so passing means something.
    page = b"<html><body>Please log in</body></html>".ljust(len(content), b" ")
    with pytest.raises(MalformedFileError, match="HTML page"):
        ISONE.check_payload(page, "report")


def test_value_bounds_cover_every_kind() -> None:
    for dataset in ISONE.datasets.values():
        bound = ISONE.value_bound(dataset.kind, 2024)
        assert bound.minimum < bound.maximum and bound.reason
    assert ISONE.value_bound(DatasetKind.LMP, 2024).maximum >= 2_000


# -- the fake ISO-NE over HTTP ---------------------------------------------------------------


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(USERNAME_ENV, "user@example.com")
    monkeypatch.setenv(PASSWORD_ENV, "s3cret")
    with FakeIsone(username="user@example.com", password="s3cret") as server:
        yield server


def client(fake: FakeIsone, tmp_path: Path) -> IsoHttpClient:
    return IsoHttpClient(
        base_urls={"ISONE": fake.base_url, "ISONE:webservices": fake.webservices_base_url},
        min_spacing_s={"ISONE": 0.0}, max_retries=0, lock_dir=str(tmp_path / "locks"),
    )  # fmt: skip


@pytest.mark.parametrize("day", [SPRING_FORWARD, FALL_BACK])
def test_every_dataset_fetched_from_the_fake_parses(fake, tmp_path: Path, day: date) -> None:
    http = client(fake, tmp_path)
    for dataset, spec in ISONE.datasets.items():
        frames = []
        for request in ISONE.requests_for_day(dataset, day, today=date(2025, 1, 1)):
            result = http.fetch(ISONE, request)
            path = write(tmp_path, request.file_name, result.content)
            window = (request.window_start, request.window_end)
            in_window = pl.col("interval_start").is_between(*window, closed="left")
            frames.append(ISONE.parse(dataset, [path]).filter(in_window))
        frame = pl.concat(frames)
        validate_standardized(frame, MODELS[spec.kind], dataset)
        # Fuel mix has no row for 5-minute intervals without a genfuelmix snapshot.
        expected = len(grid(day, spec.interval))
        assert frame["interval_start"].n_unique() == expected or dataset == "fuel_mix"
    http.close()
    web = [r for r in fake.requests if r.path.startswith("/api/")]
    assert len(web) == 3 and all(r.user == "user@example.com" and r.status == 200 for r in web)
    assert all(r.accept == "application/json" for r in web)
    assert all(r.user is None for r in fake.requests if not r.path.startswith("/api/"))


def test_fake_rejects_missing_or_wrong_basic_auth(fake: FakeIsone) -> None:
    url = f"{fake.webservices_base_url}/hourlysysload/day/20241103"
    missing = httpx.get(url)
    assert missing.status_code == 401 and "Basic" in missing.headers["WWW-Authenticate"]
    assert httpx.get(url, auth=("user@example.com", "wrong")).status_code == 401
    good = httpx.get(url, auth=("user@example.com", "s3cret"))
    assert good.status_code == 200
    assert len(good.json()["HourlySystemLoads"]["HourlySystemLoad"]) == 25
    assert httpx.get(f"{fake.base_url}{DA_PATH}/WW_DALMP_ISO_20241103.csv").status_code == 200


def test_fake_unpublished_no_data_and_maintenance_days(tmp_path: Path) -> None:
    with FakeIsone(unpublished_days=[FALL_BACK], no_data_days=[ORDINARY]) as fake:
        base = f"{fake.base_url}{DA_PATH}"
        assert httpx.get(f"{base}/WW_DALMP_ISO_20241103.csv").status_code == 404
        no_data = httpx.get(f"{base}/WW_DALMP_ISO_20240612.csv")
        with pytest.raises(IsoNoDataError):
            ISONE.check_payload(no_data.content, "no-data")
        auth = ("demo@example.com", "demo-password")
        empty = httpx.get(f"{fake.webservices_base_url}/genfuelmix/day/20240612", auth=auth)
        with pytest.raises(IsoNoDataError):
            ISONE.check_payload(empty.content, "empty")
        assert httpx.get(f"{fake.base_url}/nothing/here").status_code == 404
    with FakeIsone(maintenance=True) as fake:
        page = httpx.get(f"{fake.base_url}{DA_PATH}/WW_DALMP_ISO_20240612.csv")
        with pytest.raises(MalformedFileError, match="HTML"):
            ISONE.check_payload(page.content, "maintenance")
