"""CAISO fuel mix, load (Today's Outlook) and load forecasts (SLD_FCST): parsers, requests, fakes."""

import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import polars as pl
import pytest

from power_assets.demo.caiso_extra_fixtures import (
    DEMO_TAC_AREAS,
    FakeOutlook,
    demand_csv,
    fuelsource_csv,
    sld_fcst_csv,
    sld_fcst_member_name,
    sld_fcst_response,
    sld_fcst_zip,
    sld_publish_time,
)
from power_assets.demo.oasis_fixtures import oasis_error_zip
from power_assets.errors import (
    IsoErrorResponse,
    IsoNoDataError,
    MalformedFileError,
    SchemaDriftError,
)
from power_assets.isos.caiso import Caiso
from power_assets.isos.caiso.definition import (
    EXTRA_DATASETS,
    EXTRA_PARSERS,
    extra_requests_for_day,
)
from power_assets.isos.caiso.outlook import (
    OUTLOOK_BASE_URL,
    check_outlook_payload,
    is_outlook_source,
    parse_demand,
    parse_fuel_mix,
)
from power_assets.isos.caiso.sld_fcst import oasis_publish_time, parse_sld_fcst
from power_assets.market_time import expected_interval_starts, market_day_bounds
from power_assets.parsing import ParseNote, parse_file, parse_files_with_notes
from power_assets.quality import duplicate_keys, interval_gaps
from power_assets.schemas import (
    FUEL_MIX_KEY,
    LOAD_FORECAST_KEY,
    LOAD_KEY,
    FuelMixSchema,
    LoadForecastSchema,
    LoadSchema,
    validate_standardized,
)
from power_assets.stages.standardize import refuse_null_keys
from power_assets_tests.samples import require_sample

TZ = "America/Los_Angeles"
SPRING, FALL = date(2024, 3, 10), date(2024, 11, 3)
FIVE = timedelta(minutes=5)


def _bounds(day: date) -> tuple[datetime, datetime]:
    return market_day_bounds(TZ, day)


def _write(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    path.write_bytes(content)
    return path


def _fuel(tmp_path: Path, day: date, **options) -> pl.DataFrame:
    path = _write(tmp_path, f"fuelsource_{day:%Y%m%d}.csv", fuelsource_csv(day, **options))
    return parse_fuel_mix([path])


def _demand(tmp_path: Path, day: date, **options) -> pl.DataFrame:
    return parse_demand([_write(tmp_path, f"demand_{day:%Y%m%d}.csv", demand_csv(day, **options))])


# -- Today's Outlook --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "intervals"), [(SPRING, 276), (FALL, 300), (date(2024, 7, 1), 288)]
)
def test_fuel_mix_covers_the_local_day_exactly(tmp_path, day, intervals):
    frame = _fuel(tmp_path, day)
    validate_standardized(frame, FuelMixSchema, "fuel mix")
    # The fuel columns as the Outlook's fuelsource.csv headed them in 2024, written out here.
    published = ["Solar", "Wind", "Geothermal", "Biomass", "Biogas", "Small hydro", "Coal",
                 "Nuclear", "Natural Gas", "Large Hydro", "Batteries", "Imports", "Other"]  # fmt: skip
    assert sorted(frame["fuel"].unique()) == sorted(published)  # names kept as published
    assert duplicate_keys(frame, FUEL_MIX_KEY).is_empty()
    grid = expected_interval_starts(TZ, day, FIVE)
    for fuel in ("Solar", "Batteries", "Natural Gas"):
        starts = frame.filter(pl.col("fuel") == fuel)["interval_start"]
        assert starts.len() == intervals
        assert starts.to_list() == grid.to_list()
    assert (frame["interval_end"] - frame["interval_start"] == FIVE).all()
    assert set(frame["iso"]) == {"CAISO"}


def test_negative_batteries_and_night_solar_are_kept(tmp_path):
    frame = _fuel(tmp_path, date(2024, 7, 1))
    assert frame.filter(pl.col("fuel") == "Batteries")["mw"].min() < -1_000
    assert frame.filter(pl.col("fuel") == "Solar")["mw"].min() < 0


def test_fall_back_repeated_hour_is_placed_by_file_order(tmp_path):
    raw = list(csv.DictReader(io.StringIO(fuelsource_csv(FALL).decode())))
    first, second = (i for i, row in enumerate(raw) if row["Time"] == "01:00")
    frame = _fuel(tmp_path, FALL).filter(pl.col("fuel") == "Wind").sort("interval_start")
    wind = dict(zip(frame["interval_start"], frame["mw"], strict=True))
    # 01:00 PDT is 08:00 UTC; the second 01:00 is PST, 09:00 UTC.
    assert wind[datetime(2024, 11, 3, 8, tzinfo=UTC)] == float(raw[first]["Wind"])
    assert wind[datetime(2024, 11, 3, 9, tzinfo=UTC)] == float(raw[second]["Wind"])
    assert raw[first]["Wind"] != raw[second]["Wind"]


def test_collapsed_fall_back_hour_reads_as_pdt_and_leaves_a_visible_gap(tmp_path):
    frame = _fuel(tmp_path, FALL, fall_back="collapsed").filter(pl.col("fuel") == "Solar")
    assert frame.height == 288
    gaps = interval_gaps(frame, "fuel", TZ, FALL, FIVE)
    missing = gaps["missing"][0].to_list()
    assert len(missing) == 12 and missing[0] == datetime(2024, 11, 3, 9, tzinfo=UTC)


@pytest.mark.parametrize("spring_gap", ["blank", "absent"])
def test_spring_forward_gap_blank_or_absent(tmp_path, spring_gap):
    raw = fuelsource_csv(SPRING, spring_gap=spring_gap).decode()
    assert ("\n02:00," in raw) is (spring_gap == "blank")
    frame = _fuel(tmp_path, SPRING, spring_gap=spring_gap)
    assert frame.filter(pl.col("fuel") == "Coal").height == 276


def test_values_in_the_spring_gap_are_refused(tmp_path):
    text = fuelsource_csv(SPRING).decode().replace("\n02:05,,", "\n02:05,5,")
    path = _write(tmp_path, "fuelsource_20240310.csv", text.encode())
    with pytest.raises(MalformedFileError, match=r"02:05.*does not exist"):
        parse_fuel_mix([path])


@pytest.mark.parametrize(("day", "intervals"), [(SPRING, 276), (FALL, 300)])
def test_demand_is_current_demand_per_interval(tmp_path, day, intervals):
    frame = _demand(tmp_path, day)
    validate_standardized(frame, LoadSchema, "load")
    assert frame.height == intervals
    assert frame["interval_start"].to_list() == expected_interval_starts(TZ, day, FIVE).to_list()
    assert duplicate_keys(frame, LOAD_KEY).is_empty()
    assert set(frame["area"]) == {"CAISO"}
    raw = list(csv.DictReader(io.StringIO(demand_csv(day).decode())))
    assert frame["load_mw"][0] == float(raw[0]["Current demand"])
    assert frame["load_mw"][-1] == float(raw[-2]["Current demand"])  # the last row is tomorrow's


def test_trailing_midnight_is_optional_and_only_allowed_last(tmp_path):
    day = date(2024, 7, 1)
    assert _demand(tmp_path, day, trailing_midnight=False).height == 288
    lines = demand_csv(day).decode().splitlines()
    moved = [*lines[:100], lines[-1], *lines[100:-1]]
    path = _write(tmp_path, "demand_20240701.csv", "\n".join(moved).encode())
    with pytest.raises(MalformedFileError, match="00:00 in the middle"):
        parse_demand([path])


def test_crlf_and_partial_day_files_parse(tmp_path):
    lines = demand_csv(date(2024, 7, 1)).decode().splitlines()
    # Today's file: future rows are empty, so they are simply not there yet.
    future = [line.split(",")[0] + ",,,," for line in lines[150:]]
    path = _write(tmp_path, "demand_20240701.csv", "\r\n".join([*lines[:150], *future]).encode())
    assert parse_demand([path]).height == 149


def test_the_day_comes_from_the_file_name(tmp_path):
    path = _write(tmp_path, "demand.csv", demand_csv(date(2024, 7, 1)))
    with pytest.raises(MalformedFileError, match="YYYYMMDD"):
        parse_demand([path])


def test_outlook_schema_drift_names_file_and_column(tmp_path):
    text = fuelsource_csv(date(2024, 7, 1)).decode().replace(",Biogas,", ",Hydrogen,", 1)
    path = _write(tmp_path, "fuelsource_20240701.csv", text.encode())
    with pytest.raises(SchemaDriftError, match=r"fuelsource_20240701\.csv.*Biogas.*Hydrogen"):
        parse_fuel_mix([path])
    text = demand_csv(date(2024, 7, 1)).decode().replace("Current demand", "Demand", 1)
    path = _write(tmp_path, "demand_20240701.csv", text.encode())
    with pytest.raises(SchemaDriftError, match="Current demand") as caught:
        parse_demand([path])
    assert str(path) in str(caught.value)


def test_older_header_case_is_accepted_and_kept(tmp_path):
    text = fuelsource_csv(date(2024, 7, 1)).decode().replace("Natural Gas", "Natural gas", 1)
    frame = parse_fuel_mix([_write(tmp_path, "fuelsource_20240701.csv", text.encode())])
    assert "Natural gas" in set(frame["fuel"])


def test_html_instead_of_csv_is_a_clear_error(tmp_path):
    page = b"\n<!DOCTYPE html><html><head><title>California ISO</title></head></html>"
    with pytest.raises(MalformedFileError, match="HTML page instead of CSV"):
        check_outlook_payload(page, "https://www.caiso.com/outlook/history/20241103/demand.csv")
    with pytest.raises(MalformedFileError, match="HTML page instead of CSV"):
        parse_fuel_mix([_write(tmp_path, "fuelsource_20241103.csv", page)])
    with pytest.raises(MalformedFileError, match="empty body"):
        check_outlook_payload(b"", "demand.csv")
    check_outlook_payload(demand_csv(FALL), "x")  # a real CSV passes


def test_outlook_sources_are_told_apart_from_oasis():
    assert is_outlook_source(f"{OUTLOOK_BASE_URL}/history/20241103/fuelsource.csv")
    assert is_outlook_source("http://127.0.0.1:9/outlook/history/20241103/demand.csv?x=1")
    assert not is_outlook_source("http://oasis.caiso.com/oasisapi/SingleZip?queryname=SLD_FCST")


# -- requests -------------------------------------------------------------------------------


def test_outlook_requests_for_a_fall_back_day():
    (request,) = extra_requests_for_day("CAISO", "fuel_mix", FALL, _bounds)
    assert request.url(OUTLOOK_BASE_URL) == (
        "https://www.caiso.com/outlook/history/20241103/fuelsource.csv"
    )
    assert (request.endpoint, request.file_name) == ("outlook", "fuelsource_20241103.csv")
    assert request.window_start == datetime(2024, 11, 3, 7, tzinfo=UTC)
    assert request.window_end - request.window_start == timedelta(hours=25)
    (load,) = extra_requests_for_day("CAISO", "load", SPRING, _bounds)
    assert load.path == "history/20240310/demand.csv" and load.file_name == "demand_20240310.csv"
    assert load.window_end - load.window_start == timedelta(hours=23)


def test_sld_fcst_requests_one_per_run_over_the_utc_day():
    requests = extra_requests_for_day("CAISO", "load_forecast", FALL, _bounds)
    assert [dict(r.params)["market_run_id"] for r in requests] == ["7DA", "2DA", "DAM"]
    assert len({r.file_name for r in requests}) == 3
    for request in requests:
        params = dict(request.params)
        assert params["queryname"] == "SLD_FCST" and params["version"] == "1"
        assert params["resultformat"] == "6" and request.endpoint == "default"
        assert (params["startdatetime"], params["enddatetime"]) == (
            "20241103T07:00-0000",
            "20241104T08:00-0000",
        )
        assert "startdatetime=20241103T07:00-0000" in request.url("http://oasis.caiso.com/oasisapi")
    assert requests[0].file_name == "SLD_FCST_7DA_20241103T0700Z_20241104T0800Z.zip"
    assert set(EXTRA_DATASETS) == set(EXTRA_PARSERS)
    with pytest.raises(KeyError):
        extra_requests_for_day("CAISO", "lmp_da", FALL, _bounds)


# -- SLD_FCST -------------------------------------------------------------------------------


@pytest.mark.parametrize("run", ["7DA", "2DA", "DAM"])
@pytest.mark.parametrize(("day", "hours"), [(SPRING, 23), (FALL, 25)])
def test_sld_fcst_runs_on_dst_days(tmp_path, run, day, hours):
    start, end = _bounds(day)
    path = _write(tmp_path, f"SLD_FCST_{run}.zip", sld_fcst_zip(run, start, end))
    frame = parse_sld_fcst([path])
    validate_standardized(frame, LoadForecastSchema, str(path))
    assert duplicate_keys(frame, LOAD_FORECAST_KEY).is_empty()
    counts = frame.group_by("area", "forecast_type").len()
    assert set(counts["forecast_type"]) == {run} and set(counts["len"]) == {hours}
    assert set(frame["area"]) == set(DEMO_TAC_AREAS)
    assert set(frame["publish_time"]) == {sld_publish_time(run, start, end)}
    expected = expected_interval_starts(TZ, day, timedelta(hours=1)).to_list()
    assert frame.filter(pl.col("area") == "CA ISO-TAC")["interval_start"].to_list() == expected


def test_extracted_csv_parses_like_the_zip(tmp_path):
    start, end = _bounds(FALL)
    zipped = _write(tmp_path, "a.zip", sld_fcst_zip("DAM", start, end))
    with zipfile.ZipFile(zipped) as archive:
        (name,) = archive.namelist()
        extracted = _write(tmp_path, name, archive.read(name))
    assert parse_sld_fcst([extracted]).equals(parse_sld_fcst([zipped]))


def test_rtm_executions_become_separate_forecast_types(tmp_path):
    start = datetime(2024, 11, 3, 8, tzinfo=UTC)
    frame = parse_sld_fcst(
        [_write(tmp_path, "r.zip", sld_fcst_zip("RTM", start, start + 2 * timedelta(hours=1)))]
    )
    assert sorted(frame["forecast_type"].unique()) == ["RTM/RTD", "RTM/RTPD"]
    assert duplicate_keys(frame, LOAD_FORECAST_KEY).is_empty()
    per_area = frame.filter(pl.col("area") == "PGE-TAC").group_by("forecast_type").len()
    assert dict(per_area.iter_rows()) == {"RTM/RTD": 24, "RTM/RTPD": 8}


def test_publish_time_is_pacific_in_the_name():
    assert oasis_publish_time("x_SLD_FCST_7DA_20250221_01_09_58_v1.csv") == datetime(
        2025, 2, 21, 9, 9, 58, tzinfo=UTC
    )
    assert oasis_publish_time("a!b_20160520_07_29_37_v1.xml") == datetime(
        2016, 5, 20, 14, 29, 37, tzinfo=UTC
    )
    start, end = _bounds(SPRING)
    name = sld_fcst_member_name("DAM", start, end)
    assert oasis_publish_time(name) == sld_publish_time("DAM", start, end)
    assert oasis_publish_time("renamed.csv") is None


def test_a_renamed_sld_fcst_csv_parses_with_a_null_publish_time_and_a_note(tmp_path):
    start, end = _bounds(SPRING)
    csv_bytes = sld_fcst_csv("7DA", start, end)
    renamed = tmp_path / "my_caiso_forecast.csv"
    renamed.write_bytes(csv_bytes)
    with pytest.warns(
        ParseNote, match=r"my_caiso_forecast\.csv: publish_time is null for \d+ rows"
    ):
        frame = parse_file("CAISO", "load_forecast", renamed)
    assert frame.height > 0 and frame["publish_time"].null_count() == frame.height
    frame, notes = parse_files_with_notes("CAISO", "load_forecast", [renamed])
    assert notes == {"rows_without_publish_time": frame.height}
    # The same bytes under OASIS's name, or renamed inside a ZIP that keeps the member's name,
    # say when OASIS built them, and no note is given.
    member = sld_fcst_member_name("7DA", start, end)
    zipped = tmp_path / "renamed.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr(member, csv_bytes)
    frame, notes = parse_files_with_notes("CAISO", "load_forecast", [zipped])
    assert notes == {} and set(frame["publish_time"]) == {sld_publish_time("7DA", start, end)}


def test_the_pipeline_refuses_forecast_rows_without_a_publish_time(tmp_path):
    frame = pl.DataFrame(
        {"area": ["CA ISO-TAC"], "publish_time": [None]},
        schema={"area": pl.String, "publish_time": pl.Datetime("us", "UTC")},
    )
    with pytest.raises(MalformedFileError, match=r"folder: 1 rows without publish_time"):
        refuse_null_keys(frame, ["area", "publish_time"], Path("folder"), {})


@pytest.mark.parametrize(("option", "column"), [("missing_column", "MW"), ("extra_column", "NEW")])
def test_sld_fcst_schema_drift_names_column_and_file(tmp_path, option, column):
    start, end = _bounds(FALL)
    path = _write(tmp_path, "d.zip", sld_fcst_zip("DAM", start, end, **{option: column}))
    with pytest.raises(SchemaDriftError, match=rf"d\.zip!.*SLD_FCST_DAM.*{column}") as caught:
        parse_sld_fcst([path])
    assert column in (caught.value.missing + caught.value.unexpected)


def test_oasis_error_zip_is_no_data_for_parser_and_payload_check(tmp_path):
    body = oasis_error_zip(when=datetime(2024, 11, 3, tzinfo=UTC))
    with pytest.raises(IsoNoDataError):
        parse_sld_fcst([_write(tmp_path, "e.zip", body)])
    with pytest.raises(IsoNoDataError):
        Caiso().check_payload(body, "SingleZip?queryname=SLD_FCST")


def test_sld_fcst_response_for_fake_oasis(tmp_path):
    start, end = _bounds(FALL)
    params = {
        key: value
        for request in extra_requests_for_day("CAISO", "load_forecast", FALL, _bounds)[:1]
        for key, value in request.params
    }
    assert sld_fcst_response({**params, "queryname": "PRC_LMP"}) is None
    body = sld_fcst_response(params)
    assert body == sld_fcst_zip("7DA", start, end)  # deterministic
    assert parse_sld_fcst([_write(tmp_path, "ok.zip", body)]).height == 25 * len(DEMO_TAC_AREAS)
    for bad in ({**params, "market_run_id": "HASP"}, {**params, "version": "2"}):
        with pytest.raises(IsoErrorResponse, match="1006"):
            parse_sld_fcst([_write(tmp_path, "bad.zip", sld_fcst_response(bad))])
    with pytest.raises(IsoNoDataError):
        Caiso().check_payload(sld_fcst_response(params, unpublished_days=[FALL]), "x")


# -- fake Outlook -----------------------------------------------------------------------------


def test_fake_outlook_serves_history_files_and_404s():
    with FakeOutlook(unpublished_days=[SPRING], html_days=[date(2024, 7, 1)]) as fake:
        (request,) = extra_requests_for_day("CAISO", "fuel_mix", FALL, _bounds)
        response = httpx.get(request.url(fake.base_url))
        assert response.status_code == 200 and response.content == fuelsource_csv(FALL)
        check_outlook_payload(response.content, str(response.url))
        (spring,) = extra_requests_for_day("CAISO", "load", SPRING, _bounds)
        assert httpx.get(spring.url(fake.base_url)).status_code == 404
        (july,) = extra_requests_for_day("CAISO", "load", date(2024, 7, 1), _bounds)
        page = httpx.get(july.url(fake.base_url))
        with pytest.raises(MalformedFileError, match="HTML"):
            check_outlook_payload(page.content, str(page.url))
        assert [r.status for r in fake.requests] == [200, 404, 200]
        assert fake.requests[0].path == "/outlook/history/20241103/fuelsource.csv"


# -- real samples -----------------------------------------------------------------------------


def _sample(samples: Path, name: str) -> Path:
    return require_sample(f"caiso/{name}")


def test_real_7da_zip_matches_the_raw_csv(samples):
    path = _sample(samples, "20250219_20250227_SLD_FCST_7DA_20250221_01_09_58_v1.zip")
    frame = parse_sld_fcst([path])
    with zipfile.ZipFile(path) as archive:
        raw = list(csv.DictReader(io.TextIOWrapper(archive.open(archive.namelist()[0]), "utf-8")))
    assert frame.height == len(raw) == 6_432
    assert set(frame["forecast_type"]) == {"7DA"} and frame["area"].n_unique() == 34
    assert set(frame["publish_time"]) == {datetime(2025, 2, 21, 9, 9, 58, tzinfo=UTC)}
    validate_standardized(frame, LoadForecastSchema, str(path))

    def mw(area: str, start: datetime) -> float:
        row = frame.filter((pl.col("area") == area) & (pl.col("interval_start") == start))
        return row["load_mw"].item()

    assert mw("CA ISO-TAC", datetime(2025, 2, 19, 8, tzinfo=UTC)) == 21213.16
    assert mw("AVA", datetime(2025, 2, 20, 1, tzinfo=UTC)) == 1614.2
    pick = raw[1234]
    start = datetime.fromisoformat(pick["INTERVALSTARTTIME_GMT"])
    assert mw(pick["TAC_AREA_NAME"], start) == float(pick["MW"])


def test_real_mixed_run_csv_has_unique_keys(samples):
    frame = parse_sld_fcst(
        [_sample(samples, "20250127_20250129_SLD_FCST_N_20250127_00_22_13_v1.csv")]
    )
    assert frame.height == 4_430
    assert sorted(frame["forecast_type"].unique()) == ["2DA", "7DA", "DAM", "RTM/RTD", "RTM/RTPD"]
    assert duplicate_keys(frame, LOAD_FORECAST_KEY).is_empty()
    validate_standardized(frame, LoadForecastSchema, "N sample")


def test_real_legacy_xml_report(samples):
    frame = parse_sld_fcst([_sample(samples, "SLD_FCST.zip")])
    assert frame.height == 128 and frame["area"].n_unique() == 8
    assert set(frame["forecast_type"]) == {"DAM"}
    assert set(frame["publish_time"]) == {datetime(2016, 5, 20, 14, 29, 37, tzinfo=UTC)}
    row = frame.filter(
        (pl.col("area") == "CA ISO-TAC")
        & (pl.col("interval_start") == datetime(2016, 5, 20, 19, tzinfo=UTC))
    )
    assert row["load_mw"].item() == 26127.08
    validate_standardized(frame, LoadForecastSchema, "xml sample")
