"""MISO's parsers on generated files in MISO's formats, on both 2024 DST days (always 24 EST hours
and 288 five-minute intervals), and on broken files that must fail naming the file."""

import io
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest

from power_assets.demo import miso_fixtures as gen
from power_assets.errors import MalformedFileError, SchemaDriftError
from power_assets.isos import get_iso
from power_assets.parsing import parse_file, parse_files_with_notes

DST_DAYS = (date(2024, 3, 10), date(2024, 11, 3))


def _write(tmp_path, name: str, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 5, tzinfo=UTC)  # 00:00 EST


@pytest.mark.parametrize("day", DST_DAYS)
@pytest.mark.parametrize(
    ("report", "dataset", "market"),
    [("da_expost_lmp", "lmp_da", "DAM"), ("da_exante_lmp", "lmp_da_exante", "DAM_EXANTE"),
     ("rt_lmp_final", "lmp_rt_hourly", "RTH"),
     ("rt_lmp_prelim", "lmp_rt_hourly", "RTH_PRELIM")],
)  # fmt: skip
def test_hourly_lmp_reports_have_24_hours_on_dst_days(tmp_path, day, report, dataset, market):
    path = _write(tmp_path, f"{day:%Y%m%d}_{report}.csv", gen.lmp_csv(report, day))
    frame = parse_file("MISO", dataset, path)
    starts = sorted(set(frame["interval_start"]))
    assert starts == [_midnight(day) + timedelta(hours=h) for h in range(24)]
    assert frame.height == 24 * len(gen.NODES) and set(frame["market"]) == {market}
    for row in frame.iter_rows(named=True):
        he = (row["interval_start"] - _midnight(day)) // timedelta(hours=1) + 1
        want = gen.lmp(report, row["location"], day, he)
        assert (row["lmp"], row["congestion"], row["loss"]) == (
            want["LMP"],
            want["MCC"],
            want["MLC"],
        )


@pytest.mark.parametrize("day", DST_DAYS)
def test_asm_reports_read_both_tables_and_map_products(tmp_path, day):
    path = _write(
        tmp_path, f"{day:%Y%m%d}_asm_rtmcp_final.csv", gen.asm_csv("asm_rtmcp_final", day)
    )
    frame = parse_file("MISO", "as_rt", path)
    assert set(frame["region"]) == {"MISO", "Zone 1", "Zone 2", "Zone 3"}
    assert frame.height == 4 * len(gen.MCP_TYPES) * 24
    products = dict(frame.select("iso_product", "product").unique().iter_rows())
    assert products == {
        "GENREGMCP": "REGULATION", "GENSPINMCP": "SPIN", "GENSUPPMCP": "NON_SPIN",
        "DEMREGMCP": "REGULATION_DEMAND", "DEMSPINMCP": "SPIN_DEMAND",
        "DEMSUPPMCP": "NON_SPIN_DEMAND", "STRMCP": "SHORT_TERM_RESERVE",
    }  # fmt: skip
    he24 = _midnight(day) + timedelta(hours=23)
    (price,) = frame.filter(region="Zone 3", iso_product="STRMCP", interval_start=he24)["price"]
    assert price == gen.mcp("asm_rtmcp_final", "Zone 3", "STRMCP", day, 24)
    assert set(frame["market"]) == {"RTH"}


@pytest.mark.parametrize("published", [date(2024, 11, 4), date(2026, 5, 4)])
def test_df_al_header_found_by_content_before_and_after_it_moved(tmp_path, published):
    rows = gen.df_al_rows(published)
    header_at = next(i for i, r in enumerate(rows, start=1) if r[0] == "Market Day")
    assert header_at == (7 if published >= date(2026, 4, 27) else 5)
    path = _write(tmp_path, f"{published:%Y%m%d}_df_al.xls", gen.df_al(published))
    load = parse_file("MISO", "load", path)
    actual_day = published - timedelta(days=1)
    assert sorted(set(load["interval_start"])) == [
        _midnight(actual_day) + timedelta(hours=h) for h in range(24)
    ]
    for row in load.iter_rows(named=True):
        he = (row["interval_start"] - _midnight(actual_day)) // timedelta(hours=1) + 1
        assert row["load_mw"] == gen.actual_load(row["area"], actual_day, he)
    forecast, notes = parse_files_with_notes("MISO", "load_forecast", [path])
    # The file holds MTLF of published-1 .. published+5; the hours of published-1 had begun
    # when it was published (00:00 EST): no forecast, dropped and counted.
    assert forecast.height == 6 * 24 * len(gen.LOAD_AREAS)
    assert notes == {"forecast_rows_before_publish_time": 24 * len(gen.LOAD_AREAS)}
    assert forecast["interval_start"].min() == _midnight(published)
    assert set(forecast["publish_time"]) == {_midnight(published)}
    last = published + timedelta(days=5)
    (mw,) = forecast.filter(area="LRZ6", interval_start=_midnight(last) + timedelta(hours=23))[
        "load_mw"
    ]
    assert mw == gen.forecast_load("LRZ6", last, 24, published)


def test_df_al_with_a_changed_repeated_header_is_schema_drift(tmp_path):
    rows = gen.df_al_rows(date(2024, 11, 4))
    second = [i for i, r in enumerate(rows) if r[0] == "Market Day"][1]
    rows[second] = [*rows[second][:-1], "MISO ActualLoad (GWh)"]
    path = _write(tmp_path, "20241104_df_al.xls", gen.xls_workbook(rows))
    with pytest.raises(SchemaDriftError, match=r"20241104_df_al\.xls"):
        parse_file("MISO", "load", path)


@pytest.mark.parametrize("day", DST_DAYS)
def test_five_minute_prices_from_the_api_and_the_weekly_zip_have_288_intervals(tmp_path, day):
    api = _write(tmp_path, "Previous.json", gen.five_minute_api(day, None))
    frame = parse_file("MISO", "lmp_rt5", api)
    assert frame["interval_start"].n_unique() == 288
    start = _midnight(day) + timedelta(hours=2, minutes=5)
    (price,) = frame.filter(location="INDIANA.HUB", interval_start=start)["lmp"]
    assert price == gen.five_minute_lmp("INDIANA.HUB", start)["LMP"]
    monday = day - timedelta(days=day.weekday()) + timedelta(days=14)
    archive = zipfile.ZipFile(io.BytesIO(gen.weekly_five_minute_zip(monday)))
    (member,) = archive.namelist()
    csv_path = _write(tmp_path, member, archive.read(member))
    weekly = parse_file("MISO", "lmp_rt5", csv_path)
    assert weekly["interval_start"].n_unique() == 7 * 288
    day_rows = weekly.filter(
        (weekly["interval_start"] >= _midnight(day))
        & (weekly["interval_start"] < _midnight(day) + timedelta(days=1))
    )
    assert day_rows.sort("location", "interval_start").equals(
        frame.sort("location", "interval_start")
    )


@pytest.mark.parametrize("day", DST_DAYS)
def test_fuel_mix_keeps_negative_storage_and_288_intervals(tmp_path, day):
    path = _write(tmp_path, "Yesterday.json", gen.fuel_mix_api(day, None))
    frame = parse_file("MISO", "fuel_mix", path)
    assert frame.height == 288 * len(gen.FUELS)
    storage = frame.filter(fuel="Storage")
    assert all(
        r["mw"] == gen.fuel_mw("Storage", r["interval_start"])
        for r in storage.iter_rows(named=True)
    )
    assert (storage["mw"] < 0).any()


def test_a_bad_number_names_the_file_and_line(tmp_path):
    content = gen.lmp_csv("da_expost_lmp", DST_DAYS[0]).replace(
        b"\nINDIANA.HUB,Hub,LMP,", b"\nINDIANA.HUB,Hub,LMP,n/a", 1
    )
    path = _write(tmp_path, "20240310_da_expost_lmp.csv", content)
    with pytest.raises(MalformedFileError, match=r"20240310_da_expost_lmp.csv: line 7: 'HE 1'"):
        parse_file("MISO", "lmp_da", path)


def test_a_missing_hour_column_is_schema_drift(tmp_path):
    lines = gen.lmp_csv("da_expost_lmp", DST_DAYS[1]).decode().splitlines()
    cut = "\n".join(line.rsplit(",", 1)[0] for line in lines[4:])
    path = _write(
        tmp_path, "20241103_da_expost_lmp.csv", ("\n".join(lines[:4]) + "\n" + cut).encode()
    )
    with pytest.raises(SchemaDriftError, match="HE24"):
        parse_file("MISO", "lmp_da", path)


def test_error_and_empty_api_answers_are_refused():
    miso = get_iso("MISO")
    with pytest.raises(MalformedFileError, match="markup"):
        miso.check_payload(b"<html>maintenance</html>", "https://x/marketreports/a.csv")
    from power_assets.errors import IsoNoDataError

    with pytest.raises(IsoNoDataError):
        miso.check_payload(b'{"headers": ["INTERVAL"], "data": []}', "https://x/api/Rolling")


def test_the_weekly_csv_ends_at_its_footer_and_refuses_rows_after_it(tmp_path):
    # The published layout written out: 4 preamble lines, the header, data, a blank line and
    # one disclaimer line.
    body = (
        "Real-Time 5 Minute Ex-Post LMPs\n11/04/2024 - 11/10/2024\n\n"
        "All times are Eastern Standard Time (EST)\n"
        "MKTHOUR_EST,PNODENAME,LMP,CON_LMP,LOSS_LMP\n"
        "11/04/2024 00:00,ALTW.WELLS1,21.50,-1.25,0.75\n"
        "11/04/2024 00:05,ALTW.WELLS1,22.00,-1.00,0.50\n"
        "\nMISO MAKES NO REPRESENTATIONS OR WARRANTIES.\n"
    )
    path = tmp_path / "20241118_5MIN_LMP.csv"
    path.write_text(body)
    frame = parse_file("MISO", "lmp_rt5", path)
    assert frame["lmp"].to_list() == [21.5, 22.0]
    # MKTHOUR_EST is EST (UTC-5) all year: 00:00 EST is 05:00 UTC
    assert frame["interval_start"].to_list() == [
        datetime(2024, 11, 4, 5, 0, tzinfo=UTC),
        datetime(2024, 11, 4, 5, 5, tzinfo=UTC),
    ]
    path.write_text(body + "a\nb\n11/04/2024 00:10,ALTW.WELLS1,1,1,1\n")
    with pytest.raises(
        MalformedFileError, match=r"20241118_5MIN_LMP\.csv: rows after the footer at data row 3"
    ):
        parse_file("MISO", "lmp_rt5", path)
    # A data row with an empty price, even just before the footer, is an error, never a footer.
    path.write_text(body.replace("22.00,-1.00", ",-1.00"))
    with pytest.raises(MalformedFileError, match=r"data row 2 after the header has an empty field"):
        parse_file("MISO", "lmp_rt5", path)
    # A row with more fields than the header is not trimmed to fit.
    path.write_text(body.replace("22.00,-1.00,0.50", "22.00,-1.00,0.50,9"))
    with pytest.raises(MalformedFileError, match="unreadable CSV"):
        parse_file("MISO", "lmp_rt5", path)
