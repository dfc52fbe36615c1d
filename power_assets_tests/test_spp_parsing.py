"""SPP parsers on generated files in SPP's formats: both 2024 DST days, header drift, bad input.

Files come from `spp_fixtures` (SPP's layouts written out literally); expected values from its
pure value functions and instants written out by hand, never from the parser.
"""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from power_assets.demo import spp_fixtures as fx
from power_assets.errors import MalformedFileError, SchemaDriftError
from power_assets.isos.base import PUBLISH_TIME_UNKNOWN
from power_assets.parsing import parse_file, parse_files_with_notes

SPRING, FALL = date(2024, 3, 10), date(2024, 11, 3)
# Central midnights in UTC: CST (-6) before spring-forward, CDT (-5) after, CST after fall-back.
BOUNDS = {
    SPRING: (datetime(2024, 3, 10, 6, tzinfo=UTC), datetime(2024, 3, 11, 5, tzinfo=UTC)),
    FALL: (datetime(2024, 11, 3, 5, tzinfo=UTC), datetime(2024, 11, 4, 6, tzinfo=UTC)),
}
HOURS = {SPRING: 23, FALL: 25}
HOUR, FIVE = timedelta(hours=1), timedelta(minutes=5)


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def hour_ends(day: date) -> list[datetime]:
    start = BOUNDS[day][0]
    return [start + HOUR * (n + 1) for n in range(HOURS[day])]


@pytest.mark.parametrize("day", [SPRING, FALL])
def test_day_ahead_lmp_on_dst_days(tmp_path, day) -> None:
    places = fx.locations(4)
    path = write(tmp_path, f"DA-LMP-SL-{day:%Y%m%d}0100.csv",
                 fx.lmp_csv("DAM", hour_ends(day), places, day))  # fmt: skip
    frame = parse_file("SPP", "lmp_da", path)
    assert frame.height == HOURS[day] * 4
    starts = sorted(set(frame.get_column("interval_start")))
    assert starts == [BOUNDS[day][0] + HOUR * n for n in range(HOURS[day])]
    for row in frame.iter_rows(named=True):
        want = fx.lmp_parts("DAM", row["location"], row["interval_end"])
        assert (row["lmp"], row["energy"], row["congestion"], row["loss"]) == (
            want["LMP"], want["MEC"], want["MCC"], want["MLC"])  # fmt: skip


def test_the_repeated_hour_is_told_apart_by_its_gmt_column(tmp_path) -> None:
    ends = hour_ends(FALL)
    content = fx.lmp_csv("DAM", ends, fx.locations(1), FALL)
    lines = content.decode().splitlines()
    # Local 01:00 appears twice (ends of 00-01 CDT... and the CST pass), GMT 06:00 and 07:00.
    assert [line.split(",")[0] for line in lines[1:4]] == [
        "11/03/2024 01:00:00", "11/03/2024 01:00:00", "11/03/2024 02:00:00"]  # fmt: skip
    frame = parse_file("SPP", "lmp_da", write(tmp_path, "da.csv", content))
    assert frame.get_column("interval_end").to_list()[:3] == [
        datetime(2024, 11, 3, 6, tzinfo=UTC), datetime(2024, 11, 3, 7, tzinfo=UTC),
        datetime(2024, 11, 3, 8, tzinfo=UTC)]  # fmt: skip


@pytest.mark.parametrize("day", [SPRING, FALL])
def test_rtbm_daily_file_padded_headers_on_dst_days(tmp_path, day) -> None:
    ends = [BOUNDS[day][0] + FIVE * (n + 1) for n in range(HOURS[day] * 12)]
    content = fx.lmp_csv("RTBM", ends, fx.locations(3), day, daily=True)
    assert b" GMT Interval" in content and b" Settlement Location Name" in content
    frame = parse_file("SPP", "lmp_rt5", write(tmp_path, "RTBM-LMP-DAILY-SL.csv", content))
    assert frame.height == HOURS[day] * 12 * 3
    assert frame.get_column("interval_start").min() == BOUNDS[day][0]
    assert frame.get_column("interval_end").max() == BOUNDS[day][1]
    assert set(frame.get_column("location")) == {"SPPNORTH_HUB", "SPPSOUTH_HUB", "AVA"}
    row = frame.filter(location="AVA").row(0, named=True)
    assert row["location_id"] == "AVA_PN" and row["market"] == "RTBM"
    assert row["lmp"] == fx.lmp_parts("RTBM", "AVA", BOUNDS[day][0] + FIVE)["LMP"]


def test_upper_case_and_baa_headers_match(tmp_path) -> None:
    day = date(2026, 6, 4)
    content = fx.lmp_csv("DAM", [datetime(2026, 6, 4, 6, tzinfo=UTC)], fx.locations(2), day)
    header, *rows = content.decode().splitlines()
    assert header.split(",")[2] == "BAA"
    upper = "INTERVAL,GMTINTERVALEND,BAA,SETTLEMENT_LOCATION,PNODE,LMP,MLC,MCC,MEC"
    frame = parse_file(
        "SPP", "lmp_da", write(tmp_path, "u.csv", "\n".join([upper, *rows]).encode())
    )
    assert frame.get_column("location").to_list() == ["SPPNORTH_HUB", "AVA"]


def test_schema_drift_and_bad_values_name_the_file(tmp_path) -> None:
    good = fx.lmp_csv("DAM", hour_ends(SPRING)[:1], fx.locations(1), SPRING).decode()
    renamed = write(tmp_path, "drift.csv", good.replace("MCC", "Congestion").encode())
    with pytest.raises(SchemaDriftError, match=r"drift\.csv.*missing column\(s\) congestion.*"
                       r"new column\(s\) Congestion"):  # fmt: skip
        parse_file("SPP", "lmp_da", renamed)
    header, row = good.splitlines()
    bad = write(
        tmp_path, "bad.csv", f"{header}\n{row.replace(row.split(',')[4], 'n/a')}\n".encode()
    )
    with pytest.raises(MalformedFileError, match=r"bad\.csv: row 2: 'lmp' value 'n/a'"):
        parse_file("SPP", "lmp_da", bad)
    odd = write(tmp_path, "odd.csv", f"{header}\n{row.replace('07:00:00', '07:02:00')}\n".encode())
    with pytest.raises(MalformedFileError, match=r"odd\.csv: row 2: interval end .* not on"):
        parse_file("SPP", "lmp_da", odd)
    alien = write(tmp_path, "baa.csv", b"Interval,GMTIntervalEnd,BAA,Settlement Location,Pnode,"
                  b"LMP,MLC,MCC,MEC\n06/04/2026 01:00:00,06/04/2026 06:00:00,MISO,A,B,1,0,0,1\n")  # fmt: skip
    with pytest.raises(MalformedFileError, match=r"BAA 'MISO' is neither SPP nor SWPW"):
        parse_file("SPP", "lmp_da", alien)


@pytest.mark.parametrize("day", [SPRING, FALL])
@pytest.mark.parametrize(("dataset", "market"), [("as_da", "DAM"), ("as_rt", "RTBM")])
def test_reserve_prices_map_to_common_names_keeping_spp_codes(
    tmp_path, dataset, market, day
) -> None:
    step = HOUR if market == "DAM" else FIVE
    ends = [BOUNDS[day][0] + step * (n + 1) for n in range(int(HOURS[day] * HOUR / step))]
    path = write(tmp_path, "mcp.csv", fx.mcp_csv(market, ends, day))
    frame = parse_file("SPP", dataset, path)
    products = fx.DA_PRODUCTS if market == "DAM" else fx.RT_PRODUCTS
    assert frame.height == len(ends) * len(fx.RESERVE_ZONES) * len(products)
    pairs = set(frame.select("iso_product", "product").unique().iter_rows())
    expected = {
        "RegUP": "REG_UP", "RegDN": "REG_DOWN", "RegUPService": "REG_UP",
        "RegDNService": "REG_DOWN", "RegUpMile": "REG_UP_MILEAGE", "RegDNMile": "REG_DOWN_MILEAGE",
        "Spin": "SPIN", "Supp": "NON_SPIN", "RampUP": "RAMP_UP", "RampDN": "RAMP_DOWN",
        "UncUP": "UNCERTAINTY_UP",
    }  # fmt: skip
    assert pairs == {(code, expected[code]) for code in products}
    for row in frame.head(40).iter_rows(named=True):
        assert row["price"] == fx.mcp(
            market, row["region"], row["iso_product"], row["interval_end"]
        )
    assert frame.get_column("interval_start").min() == BOUNDS[day][0]
    assert frame.get_column("interval_end").max() == BOUNDS[day][1]


@pytest.mark.parametrize("day", [SPRING, FALL, date(2026, 3, 24)])
def test_hourly_load_wide_and_long(tmp_path, day) -> None:
    path = write(tmp_path, f"DAILY_HOURLY_LOAD-{day:%Y%m%d}.csv", fx.hourly_load_csv(day))
    frame = parse_file("SPP", "load", path)
    hours = HOURS.get(day, 24)
    assert frame.height == hours * len(fx.LOAD_ZONES)
    assert set(frame.get_column("area")) == set(fx.LOAD_ZONES)  # " CSWS" headers stripped
    start = BOUNDS[day][0] if day in BOUNDS else datetime(2026, 3, 24, 5, tzinfo=UTC)
    assert frame.get_column("interval_start").min() == start
    for row in frame.head(20).iter_rows(named=True):
        assert row["load_mw"] == fx.zone_load(row["area"], row["interval_end"])


def test_mtlf_vintage_publish_time_from_its_name_and_d_suffix(tmp_path) -> None:
    # Issued 01:00 CST on the fall-back day (07:00 UTC): the second 01:00, so named ...0100d.
    issued = datetime(2024, 11, 3, 7, tzinfo=UTC)
    name = "OP-MTLF-202411030100d.csv"
    path = write(tmp_path, name, fx.mtlf_csv(issued))
    frame, notes = parse_files_with_notes("SPP", "load_forecast", [path])
    assert set(frame.get_column("publish_time")) == {issued}
    assert frame.get_column("interval_end").min() == issued + HOUR
    assert frame.height == 7 * 24  # the next seven days; the past 24 hours have no forecast
    assert notes == {"rows_without_forecast_value": 24}
    assert set(frame.get_column("area")) == {"SPP"}
    row = frame.row(0, named=True)
    assert row["load_mw"] == fx.mtlf("SPP", row["interval_end"], issued)
    assert row["forecast_type"] == "MTLF"
    renamed = write(tmp_path, "forecast.csv", fx.mtlf_csv(issued))
    _, notes = parse_files_with_notes("SPP", "load_forecast", [renamed])
    assert notes[PUBLISH_TIME_UNKNOWN] == 7 * 24


def test_mtlf_with_baa_and_blank_baa(tmp_path) -> None:
    issued = datetime(2026, 6, 4, 12, tzinfo=UTC)
    content = fx.mtlf_csv(issued).decode()
    assert content.splitlines()[0] == "Interval,GMTIntervalEnd,BAA,MTLF,Averaged Actual"
    blanked = content.replace(",SWPW,", ",,")  # gridstatus: BAA may be blank
    path = write(tmp_path, "OP-MTLF-202606040700.csv", blanked.encode())
    frame, notes = parse_files_with_notes("SPP", "load_forecast", [path])
    assert set(frame.get_column("area")) == {"SPP", "SWPW"}
    assert frame.filter(area="SWPW").height == frame.filter(area="SPP").height
    assert notes["rows_baa_inferred_from_size"] == 7 * 24


def test_fuel_mix_generated_day_with_blank_rows(tmp_path) -> None:
    path = write(tmp_path, "GenMix_2024.csv", fx.genmix_csv([FALL]))
    frame = parse_file("SPP", "fuel_mix", path)
    assert frame.height == 300 * len(fx.GENMIX_COLUMNS)
    gaps = frame.filter(pl.col("mw").is_null())
    # 06:00..06:55 UTC stamps are blank: 12 stamps, every fuel.
    assert gaps.height == 12 * len(fx.GENMIX_COLUMNS)
    assert gaps.get_column("interval_end").min() == datetime(2024, 11, 3, 6, tzinfo=UTC)
    assert "Natural Gas Self" in set(frame.get_column("fuel"))
    row = frame.filter(fuel="Coal Market").row(0, named=True)
    assert row["mw"] == fx.fuel_mw("Coal Market", row["interval_end"])


def test_local_and_gmt_columns_must_agree(tmp_path) -> None:
    good = fx.lmp_csv("DAM", hour_ends(SPRING)[:2], fx.locations(1), SPRING).decode()
    header, first, second = good.splitlines()
    # Spring-forward: the hour ending 08:00 UTC ends at 03:00 CDT (there is no 02:00).
    assert second.startswith("03/10/2024 03:00:00,03/10/2024 08:00:00,")
    # A UTC column shifted by an hour (as if it labelled the interval start) is refused.
    shifted = second.replace("03/10/2024 08:00:00", "03/10/2024 07:00:00")
    path = write(tmp_path, "shifted.csv", f"{header}\n{first}\n{shifted}\n".encode())
    with pytest.raises(MalformedFileError, match=r"shifted\.csv: row 3: Interval '03/10/2024 "
                       r"03:00:00' is not the Central time of GMT end"):  # fmt: skip
        parse_file("SPP", "lmp_da", path)


def test_mtlf_vintage_issued_on_the_spring_forward_day(tmp_path) -> None:
    issued = datetime(2024, 3, 10, 8, tzinfo=UTC)  # 03:00 CDT, the hour after the skipped 02:00
    path = write(tmp_path, "OP-MTLF-202403100300.csv", fx.mtlf_csv(issued))
    frame = parse_file("SPP", "load_forecast", path)
    assert set(frame.get_column("publish_time")) == {issued}
    ends = frame.get_column("interval_end")
    assert ends.min() == issued + HOUR and ends.n_unique() == frame.height == 7 * 24
