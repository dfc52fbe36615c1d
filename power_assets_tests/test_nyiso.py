"""NYISO parsers, request building and the fake MIS, on generated files in NYISO's formats."""

import csv
import io
import math
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import polars as pl
import pytest

from power_assets.demo.nyiso_fixtures import (
    EXTERNALS,
    GENERATORS,
    ZONES,
    Faults,
    daily_name,
    monthly_name,
    nyiso_csv,
    nyiso_month_zip,
)
from power_assets.demo.nyiso_server import FakeNyiso
from power_assets.errors import IsoNoDataError, MalformedFileError, SchemaDriftError
from power_assets.isos.base import DatasetKind
from power_assets.isos.nyiso import Nyiso
from power_assets.market_time import market_day_bounds
from power_assets.schemas import (
    AS_PRICE_KEY,
    FUEL_MIX_KEY,
    LMP_KEY,
    LOAD_FORECAST_KEY,
    LOAD_KEY,
    AsPriceSchema,
    FuelMixSchema,
    LmpSchema,
    LoadForecastSchema,
    LoadSchema,
    validate_standardized,
)

NYISO = Nyiso()
SPRING_FORWARD, FALL_BACK = date(2024, 3, 10), date(2024, 11, 3)
HOURS = {SPRING_FORWARD: 23, FALL_BACK: 25}
MODELS = {
    DatasetKind.LMP: (LmpSchema, LMP_KEY, "location"),
    DatasetKind.AS_PRICE: (AsPriceSchema, AS_PRICE_KEY, "region"),
    DatasetKind.LOAD: (LoadSchema, LOAD_KEY, "area"),
    DatasetKind.LOAD_FORECAST: (LoadForecastSchema, LOAD_FORECAST_KEY, "area"),
    DatasetKind.FUEL_MIX: (FuelMixSchema, FUEL_MIX_KEY, "fuel"),
}
# (dataset, MIS folder, suffix, locations expected in the file)
FILES = [
    ("lmp_da", "damlbmp", "_zone", 15),
    ("lmp_da", "damlbmp", "_gen", 5),
    ("lmp_rt5", "realtime", "_zone", 15),
    ("lmp_rt5", "realtime", "_gen", 5),
    ("lmp_rt_hourly", "rtlbmp", "_zone", 15),
    ("lmp_rt_hourly", "rtlbmp", "_gen", 5),
    ("as_da", "damasp", "", 11),
    ("as_rt", "rtasp", "", 11),
    ("load", "pal", "", 11),
    ("load_forecast", "isolf", "", 12),
    ("fuel_mix", "rtfuelmix", "", 7),
]


def write(tmp_path: Path, folder: str, day: date, suffix: str = "", **variants) -> Path:
    path = tmp_path / daily_name(folder, day, suffix)
    path.write_bytes(nyiso_csv(folder, day, suffix, **variants))
    return path


def market_day(frame: pl.DataFrame, day: date) -> pl.DataFrame:
    """What stage 2 keeps: rows whose interval starts in the market day."""
    start, end = market_day_bounds("America/New_York", day)
    return frame.filter(pl.col("interval_start").is_between(start, end, closed="left"))


def raw_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text().lstrip())))


@pytest.mark.parametrize("day", [SPRING_FORWARD, FALL_BACK], ids=["spring", "fall"])
@pytest.mark.parametrize(("dataset", "folder", "suffix", "locations"), FILES)
def test_every_dataset_has_every_interval_of_a_dst_day_once(
    tmp_path, dataset, folder, suffix, locations, day
):
    spec = NYISO.dataset(dataset)
    model, key, by = MODELS[spec.kind]
    frame = NYISO.parse(dataset, [write(tmp_path, folder, day, suffix)])
    validate_standardized(frame, model, folder)
    kept = market_day(frame, day)
    per_location = timedelta(hours=HOURS[day]) // spec.interval
    counts = kept.group_by([k for k in key if k != "interval_start"]).len()
    assert kept[by].n_unique() == locations
    assert set(counts["len"]) == {per_location}  # 23/25 hourly, 276/300 five-minute
    assert kept.select(pl.struct(key).is_duplicated().any()).item() is False
    if dataset != "load_forecast":  # a daily file holds exactly its market day
        assert kept.height == frame.height


@pytest.mark.parametrize("folder", ["damlbmp", "rtlbmp", "realtime"])
def test_congestion_is_sign_flipped_and_components_add_up(tmp_path, folder):
    path = write(tmp_path, folder, date(2024, 7, 15), "_zone")
    dataset = {"damlbmp": "lmp_da", "rtlbmp": "lmp_rt_hourly", "realtime": "lmp_rt5"}[folder]
    frame = NYISO.parse(dataset, [path])
    raw = raw_rows(path)
    assert frame.height == len(raw)
    congested = [r for r in raw if float(r["Marginal Cost Congestion ($/MWHr)"]) != 0]
    assert congested, "fixture should have congested hours"
    row = congested[0]
    stamp = datetime.strptime(
        row["Time Stamp"], "%m/%d/%Y %H:%M" + (":%S" * (folder == "realtime"))
    )
    hit = frame.filter(pl.col("location") == row["Name"]).filter(
        (pl.col("interval_end") if folder == "realtime" else pl.col("interval_start"))
        == stamp.replace(tzinfo=UTC) + timedelta(hours=4)  # EDT in July
    )
    assert hit.height == 1
    published = float(row["Marginal Cost Congestion ($/MWHr)"])
    assert hit["congestion"][0] == -published > 0  # NYISO publishes added congestion negative
    assert hit["lmp"][0] == float(row["LBMP ($/MWHr)"])
    assert hit["loss"][0] == float(row["Marginal Cost Losses ($/MWHr)"])
    gap = frame.select(
        (pl.col("energy") + pl.col("congestion") + pl.col("loss") - pl.col("lmp")).abs().max()
    )
    assert gap.item() < 1e-9
    zeros = frame.filter(pl.col("congestion") == 0)["congestion"].to_list()
    assert zeros and all(math.copysign(1.0, z) == 1.0 for z in zeros)  # no -0.0 from the flip


def test_location_types(tmp_path):
    zone = NYISO.parse("lmp_da", [write(tmp_path, "damlbmp", FALL_BACK, "_zone")])
    types = dict(zone.select("location", "location_type").unique().iter_rows())
    assert {n for n, t in types.items() if t == "EXTERNAL"} == set(EXTERNALS)
    assert {n for n, t in types.items() if t == "ZONE"} == set(ZONES)
    gen = NYISO.parse("lmp_da", [write(tmp_path, "damlbmp", FALL_BACK, "_gen")])
    assert set(gen["location_type"]) == {"GENERATOR"}
    assert set(gen["location"]) == set(GENERATORS)


@pytest.mark.parametrize(
    ("dataset", "folder", "suffix"),
    [("lmp_rt5", "realtime", "_zone"), ("as_rt", "rtasp", ""), ("fuel_mix", "rtfuelmix", ""),
     ("load", "pal", ""), ("lmp_da", "damlbmp", "_zone")],
)  # fmt: skip
@pytest.mark.parametrize("day", [SPRING_FORWARD, FALL_BACK, date(2024, 1, 9)])
def test_first_interval_starts_at_local_midnight_whatever_the_label(
    tmp_path, dataset, folder, suffix, day
):
    frame = NYISO.parse(dataset, [write(tmp_path, folder, day, suffix)])
    start, end = market_day_bounds("America/New_York", day)
    assert frame["interval_start"].min() == start
    assert frame["interval_end"].max() == end
    assert (frame["interval_end"] - frame["interval_start"]).unique().to_list() == [
        NYISO.dataset(dataset).interval
    ]


def test_end_labelled_stamp_is_the_interval_end(tmp_path):
    path = write(tmp_path, "realtime", date(2024, 1, 9), "_zone")
    first = raw_rows(path)[0]
    assert first["Time Stamp"] == "01/09/2024 00:05:00"
    frame = NYISO.parse("lmp_rt5", [path]).filter(pl.col("location") == first["Name"])
    row = frame.sort("interval_start").row(0, named=True)
    assert row["interval_start"] == datetime(2024, 1, 9, 5, tzinfo=UTC)
    assert row["interval_end"] == datetime(2024, 1, 9, 5, 5, tzinfo=UTC)
    assert row["lmp"] == float(first["LBMP ($/MWHr)"])


@pytest.mark.parametrize(
    ("dataset", "folder"), [("load", "pal"), ("as_da", "damasp"), ("fuel_mix", "rtfuelmix")]
)
def test_time_zone_column_and_file_order_agree_on_the_fall_back_day(tmp_path, dataset, folder):
    labelled = NYISO.parse(dataset, [write(tmp_path, folder, FALL_BACK)])
    bare_path = tmp_path / "bare" / daily_name(folder, FALL_BACK)
    bare_path.parent.mkdir()
    bare_path.write_bytes(nyiso_csv(folder, FALL_BACK, time_zone_column=False))
    assert b"EDT" not in bare_path.read_bytes()
    bare = NYISO.parse(dataset, [bare_path])
    assert labelled.equals(bare)
    assert labelled["interval_start"].n_unique() == 25 * NYISO.dataset(dataset).intervals_per_hour


def test_time_zone_column_wins_over_file_order(tmp_path):
    """Rows listed out of order: the EST copy first. Only the Time Zone column places it right."""
    path = write(tmp_path, "pal", FALL_BACK)
    lines = path.read_text().splitlines()
    est = [i for i, line in enumerate(lines) if '"11/03/2024 01:00:00","EST","CAPITL"' in line]
    edt = [i for i, line in enumerate(lines) if '"11/03/2024 01:00:00","EDT","CAPITL"' in line]
    lines[est[0]], lines[edt[0]] = lines[edt[0]], lines[est[0]]
    path.write_text("\n".join(lines) + "\n")
    capitl = NYISO.parse("load", [path]).filter(pl.col("area") == "CAPITL")
    assert capitl["interval_start"].n_unique() == 300
    assert (
        capitl.filter(pl.col("interval_start") == datetime(2024, 11, 3, 6, tzinfo=UTC)).height == 1
    )


def test_irregular_rtd_stamps_go_to_the_interval_containing_them(tmp_path):
    irregular = [
        datetime(2024, 11, 3, 5, 57, 48, tzinfo=UTC),  # 01:57:48 EDT
        datetime(2024, 11, 3, 6, 2, 48, tzinfo=UTC),
    ]  # 01:02:48 EST, seen only once
    path = write(tmp_path, "realtime", FALL_BACK, "_zone", irregular=irregular)
    text = path.read_text()
    assert '"11/03/2024 01:57:48"' in text and '"11/03/2024 01:02:48"' in text
    (tmp_path / "regular").mkdir()
    raw = NYISO.parse("lmp_rt5", [write(tmp_path / "regular", "realtime", FALL_BACK, "_zone")])
    frame = NYISO.parse("lmp_rt5", [path]).filter(pl.col("location") == "WEST")
    # Folded into the intervals containing them: still 300 intervals, no duplicate keys, and
    # those two intervals now hold the mean of their regular and irregular readings.
    assert frame.height == 300 and frame["interval_start"].n_unique() == 300
    regular = raw.filter(pl.col("location") == "WEST")
    changed = frame.join(regular, on="interval_start").filter(pl.col("lmp") != pl.col("lmp_right"))
    assert changed["interval_start"].to_list() == [
        datetime(2024, 11, 3, 5, 55, tzinfo=UTC), datetime(2024, 11, 3, 6, 0, tzinfo=UTC)
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("dataset", "folder", "suffix"), [("lmp_da", "damlbmp", "_zone"), ("fuel_mix", "rtfuelmix", "")]
)
def test_old_headers_and_leading_empty_line_parse_the_same(tmp_path, dataset, folder, suffix):
    new = NYISO.parse(dataset, [write(tmp_path, folder, FALL_BACK, suffix)])
    for variant in ({"old_headers": True}, {"leading_blank_line": True}):
        sub = tmp_path / next(iter(variant))
        sub.mkdir()
        path = write(sub, folder, FALL_BACK, suffix, **variant)
        header = path.read_text().lstrip().splitlines()[0]
        if "old_headers" in variant:
            assert '($/MWH"' in header or "Gen MWh" in header
        else:
            assert path.read_bytes().startswith(b"\r\n")
        assert NYISO.parse(dataset, [path]).equals(new)


@pytest.mark.parametrize(
    ("faults", "missing", "unexpected"),
    [(Faults(extra_column="Marginal Cost Emissions ($/MWHr)"), [], ["Marginal Cost Emissions ($/MWHr)"]),
     (Faults(missing_column="Marginal Cost Losses ($/MWHr)"), ["marginal cost losses"], [])],
)  # fmt: skip
def test_schema_drift_names_the_column_and_the_file(tmp_path, faults, missing, unexpected):
    path = write(tmp_path, "damlbmp", FALL_BACK, "_zone", faults=faults)
    with pytest.raises(SchemaDriftError) as info:
        NYISO.parse("lmp_da", [path])
    assert info.value.missing == missing and info.value.unexpected == unexpected
    assert str(path) in str(info.value)
    assert (missing or unexpected)[0] in str(info.value)


def test_bad_numbers_and_stamps_name_the_file(tmp_path):
    path = write(tmp_path, "pal", FALL_BACK)
    text = path.read_text()
    path.write_text(text.replace("61757,", "61757,n/a_", 1))
    with pytest.raises(MalformedFileError, match=r"20241103pal\.csv: row 2: 'value'"):
        NYISO.parse("load", [path])
    path.write_text(text.replace('"11/03/2024 00:00:00"', '"2024-11-03 00:00"', 1))
    with pytest.raises(MalformedFileError, match="not MM/DD/YYYY"):
        NYISO.parse("load", [path])
    gap = write(tmp_path, "damlbmp", SPRING_FORWARD, "_zone")
    gap.write_text(gap.read_text().replace('"03/10/2024 03:00"', '"03/10/2024 02:00"'))
    with pytest.raises(MalformedFileError, match="does not exist"):
        NYISO.parse("lmp_da", [gap])


def test_faults_are_kept_not_dropped(tmp_path):
    dropped = datetime(2024, 11, 3, 10, tzinfo=UTC)
    faults = Faults(
        duplicate_rows=3, drop_intervals=[dropped], drop_names=["WEST"], absurd_value=1e9
    )
    frame = NYISO.parse("lmp_da", [write(tmp_path, "damlbmp", FALL_BACK, "_zone", faults=faults)])
    assert frame.height == 25 * 15 - 1 + 3
    assert frame.select(pl.struct(LMP_KEY).is_duplicated().sum()).item() == 6
    assert frame["lmp"].max() == 1e9


def test_monthly_archive_parses_directly_with_all_its_days(tmp_path):
    path = tmp_path / monthly_name("rtfuelmix", date(2024, 2, 1))
    path.write_bytes(nyiso_month_zip("rtfuelmix", date(2024, 2, 1)))
    with zipfile.ZipFile(path) as archive:
        assert len(archive.namelist()) == 29
    frame = NYISO.parse("fuel_mix", [path])
    assert frame.height == 29 * 288 * 7
    assert frame["interval_start"].min() == datetime(2024, 2, 1, 5, tzinfo=UTC)


def test_load_forecast_keeps_every_vintage_of_the_target_day(tmp_path):
    target = FALL_BACK
    paths = []
    for n in range(6):
        sub = tmp_path / str(n)
        sub.mkdir()
        paths.append(write(sub, "isolf", target - timedelta(days=n)))
    frame = market_day(NYISO.parse("load_forecast", paths), target)
    assert frame["publish_time"].n_unique() == 6
    assert frame["publish_time"].max() == datetime(2024, 11, 3, 4, tzinfo=UTC)  # EDT midnight
    assert (
        frame.filter(pl.col("area") == "NYISO").group_by("publish_time").len()["len"].to_list()
        == [25] * 6
    )
    totals = frame.filter(pl.col("area") == "NYISO")["load_mw"].sum()
    zones = frame.filter(pl.col("area") != "NYISO")["load_mw"].sum()
    assert totals == zones
    assert set(frame["area"]) >= {"CAPITL", "HUD VL", "N.Y.C.", "NYISO"}


def test_requests_current_month_are_daily_csvs():
    today = date(2024, 11, 20)
    requests = NYISO.requests_for_day("lmp_da", FALL_BACK, today=today)
    assert [r.path for r in requests] == [
        "csv/damlbmp/20241103damlbmp_zone.csv", "csv/damlbmp/20241103damlbmp_gen.csv"
    ]  # fmt: skip
    start, end = market_day_bounds("America/New_York", FALL_BACK)
    for r in requests:
        assert not r.shared and r.member is None and r.file_name == r.path.rsplit("/", 1)[1]
        assert (r.window_start, r.window_end) == (start, end)
        assert r.url("http://mis.nyiso.com/public") == f"http://mis.nyiso.com/public/{r.path}"


def test_every_day_of_a_past_month_shares_one_monthly_archive():
    today = date(2024, 12, 2)
    names, members = set(), []
    for n in range(30):
        day = date(2024, 11, 1) + timedelta(days=n)
        (request,) = NYISO.requests_for_day("load", day, today=today)
        assert request.shared and request.path == "csv/pal/20241101pal_csv.zip"
        assert request.final_after == datetime(2024, 12, 1, 5, tzinfo=UTC)
        assert (request.window_start, request.window_end) == market_day_bounds(
            "America/New_York", day
        )
        names.add(request.file_name)
        members.append(request.member)
    assert names == {"20241101pal_csv.zip"}
    assert members == [f"202411{d:02d}pal.csv" for d in range(1, 31)]


def test_load_forecast_requests_are_the_files_published_up_to_the_target_day():
    requests = NYISO.requests_for_day("load_forecast", date(2024, 12, 3), today=date(2024, 12, 10))
    assert [r.member or r.file_name for r in requests] == [
        f"202411{d}isolf.csv" for d in (28, 29, 30)
    ] + [f"2024120{d}isolf.csv" for d in (1, 2, 3)]
    assert [r.shared for r in requests] == [True] * 3 + [False] * 3
    assert {(r.window_start, r.window_end) for r in requests} == {
        market_day_bounds("America/New_York", date(2024, 12, 3))
    }
    future = NYISO.requests_for_day("load_forecast", date(2024, 12, 12), today=date(2024, 12, 10))
    assert [r.file_name for r in future] == [f"202412{d:02d}isolf.csv" for d in (7, 8, 9, 10)]


def test_check_payload_refuses_html_and_broken_zips():
    url = "http://mis.nyiso.com/public/csv/pal/20241103pal.csv"
    NYISO.check_payload(nyiso_csv("pal", FALL_BACK), url)
    with pytest.raises(IsoNoDataError):
        NYISO.check_payload(b"<html><body>404 Not Found</body></html>", url)
    with pytest.raises(MalformedFileError, match="HTML page"):
        NYISO.check_payload(b"<!DOCTYPE html><html>maintenance</html>", url)
    zip_url = "http://mis.nyiso.com/public/csv/pal/20241101pal_csv.zip"
    NYISO.check_payload(nyiso_month_zip("pal", date(2024, 2, 1)), zip_url)
    with pytest.raises(MalformedFileError, match="expected a ZIP"):
        NYISO.check_payload(nyiso_csv("pal", FALL_BACK), zip_url)
    with pytest.raises(MalformedFileError, match="corrupt"):
        NYISO.check_payload(b"PK\x03\x04" + b"\x00" * 64, zip_url)


@pytest.mark.parametrize("dataset", list(NYISO.datasets))
@pytest.mark.parametrize("today", [date(2024, 11, 20), date(2024, 12, 5)], ids=["daily", "monthly"])
def test_request_urls_against_the_fake_return_parseable_files(tmp_path, dataset, today):
    spec = NYISO.dataset(dataset)
    with FakeNyiso() as fake:
        frames = []
        for request in NYISO.requests_for_day(dataset, FALL_BACK, today=today):
            response = httpx.get(request.url(fake.base_url))
            assert response.status_code == 200, request.path
            NYISO.check_payload(response.content, request.url(fake.base_url))
            content = response.content
            if request.shared:
                with zipfile.ZipFile(io.BytesIO(content)) as archive:
                    content = archive.read(request.member)
            path = tmp_path / f"{len(frames)}" / (request.member or request.file_name)
            path.parent.mkdir()
            path.write_bytes(content)
            frames.append(market_day(NYISO.parse(dataset, [path]), FALL_BACK))
        assert [r.status for r in fake.requests] == [200] * len(frames)
    frame = pl.concat(frames)
    model, key, _ = MODELS[spec.kind]
    validate_standardized(frame, model, dataset)
    assert frame["interval_start"].n_unique() == 25 * spec.intervals_per_hour
    assert frame.select(pl.struct(key).is_duplicated().any()).item() is False


def test_fake_answers_404_for_unpublished_days_and_unknown_files():
    with FakeNyiso(unpublished_days=[FALL_BACK], html_with_200=["20241104pal.csv"]) as fake:
        base = fake.base_url
        assert httpx.get(f"{base}/csv/pal/20241103pal.csv").status_code == 404
        assert httpx.get(f"{base}/csv/pal/20241102pal.csv").status_code == 200
        assert httpx.get(f"{base}/csv/damlbmp/20241102damlbmp.csv").status_code == 404  # no suffix
        assert httpx.get(f"{base}/csv/nope/20241102nope.csv").status_code == 404
        assert httpx.get(f"{base}/csv/pal/20241102pal_csv.zip").status_code == 404  # not the 1st
        html = httpx.get(f"{base}/csv/pal/20241104pal.csv")
        assert html.status_code == 200 and html.content.startswith(b"<!DOCTYPE html>")
        archive = httpx.get(f"{base}/csv/pal/20241101pal_csv.zip")
        with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
            assert "20241103pal.csv" not in z.namelist() and len(z.namelist()) == 29
        assert [r.status for r in fake.requests] == [404, 200, 404, 404, 404, 200, 200]
