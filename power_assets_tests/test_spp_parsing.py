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
    # Local 02:00 appears twice (GMT 07:00 and 08:00), as SPP's real files write it.
    assert [line.split(",")[0] for line in lines[1:4]] == [
        "11/03/2024 01:00:00", "11/03/2024 02:00:00", "11/03/2024 02:00:00"]  # fmt: skip
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


# SPP's DA-MCP files as the reference records real 2025 files: `Interval` is local, and on the
# fall-back day local 02:00:00 appears twice (GMT 07:00 and 08:00); spring goes 01:00 -> 03:00.
MCP_HEADER = "Interval,GMTIntervalEnd,Reserve Zone,RegUP,RegDN,Spin,Supp,RampUP,RampDN,UncUP"
FALL_2025_MCP = f"""{MCP_HEADER}
11/02/2025 01:00:00,11/02/2025 06:00:00,1,7.5,3.25,1.1,0.5,0,0,2
11/02/2025 02:00:00,11/02/2025 07:00:00,1,7.75,3.5,1.2,0.6,0,0,2.5
11/02/2025 02:00:00,11/02/2025 08:00:00,1,8,3.75,1.3,0.7,0.1,0,3
11/02/2025 03:00:00,11/02/2025 09:00:00,1,8.25,4,1.4,0.8,0,0.2,3.5
"""
SPRING_2025_MCP = f"""{MCP_HEADER}
03/09/2025 01:00:00,03/09/2025 07:00:00,SPP,6,2,1,0.25,0,0,1
03/09/2025 03:00:00,03/09/2025 08:00:00,SPP,6.5,2.5,1.5,0.5,0,0,1.5
03/09/2025 04:00:00,03/09/2025 09:00:00,SPP,7,3,2,0.75,0,0,2
"""


@pytest.mark.parametrize(
    ("name", "content", "starts", "regup"),
    [
        ("DA-MCP-202511020100.csv", FALL_2025_MCP,
         [datetime(2025, 11, 2, h, tzinfo=UTC) for h in (5, 6, 7, 8)], [7.5, 7.75, 8.0, 8.25]),
        ("DA-MCP-202503090100.csv", SPRING_2025_MCP,
         [datetime(2025, 3, 9, h, tzinfo=UTC) for h in (6, 7, 8)], [6.0, 6.5, 7.0]),
    ],
)  # fmt: skip
def test_day_ahead_mcp_in_the_references_dst_layout(tmp_path, name, content, starts, regup):
    frame = parse_file("SPP", "as_da", write(tmp_path, name, content.encode()))
    reg = frame.filter(iso_product="RegUP").sort("interval_start")
    assert reg.get_column("interval_start").to_list() == starts
    assert reg.get_column("price").to_list() == regup
    assert frame.height == len(starts) * 7


def test_a_local_time_neither_end_nor_start_plus_step_is_refused(tmp_path) -> None:
    # GMT 08:00 on 2025-11-02 is 02:00 CST (end) and 01:00 CST + 1 h (start + step): not 01:00.
    wrong = FALL_2025_MCP.replace("11/02/2025 02:00:00,11/02/2025 08:00:00",
                                  "11/02/2025 01:00:00,11/02/2025 08:00:00")  # fmt: skip
    path = write(tmp_path, "DA-MCP-202511020100.csv", wrong.encode())
    with pytest.raises(MalformedFileError, match=r"DA-MCP-202511020100\.csv: row 4: Interval "
                       r"'11/02/2025 01:00:00' is not the Central time of GMT end"):  # fmt: skip
        parse_file("SPP", "as_da", path)


def test_the_fixtures_write_the_fall_back_hour_as_the_reference_says() -> None:
    five = [datetime(2024, 11, 3, 6, 55, tzinfo=UTC) + FIVE * n for n in range(3)]
    content = fx.lmp_csv("RTBM", five, fx.locations(1), FALL).decode()
    # 01:55 CDT, then the end at 07:00 UTC written 02:00 (not 01:00 CST), then 01:05 CST.
    assert [line.split(",")[0] for line in content.splitlines()[1:]] == [
        "11/03/2024 01:55:00", "11/03/2024 02:00:00", "11/03/2024 01:05:00"]  # fmt: skip


def test_a_date_without_time_is_no_interval_end_in_price_files(tmp_path) -> None:
    # Hourly load files drop a midnight's 00:00; an LMP file with a truncated stamp is broken.
    good = fx.lmp_csv("DAM", [datetime(2024, 11, 4, 6, tzinfo=UTC)], fx.locations(1), FALL)
    truncated = good.decode().replace(",11/04/2024 06:00:00,", ",11/04/2024,")
    path = write(tmp_path, "DA-LMP-SL-202411030100.csv", truncated.encode())
    with pytest.raises(MalformedFileError, match=r"DA-LMP-SL-202411030100\.csv: row 2: time "
                       r"'11/04/2024' is not a date-time"):  # fmt: skip
        parse_file("SPP", "lmp_da", path)
    load = b"MarketHour, CSWS\n11/04/2024,1500.5\n11/04/2024 01:00:00,1490\n"
    frame = parse_file("SPP", "load", write(tmp_path, "DAILY_HOURLY_LOAD-20241103.csv", load))
    assert frame.get_column("interval_end").to_list() == [
        datetime(2024, 11, 4, tzinfo=UTC), datetime(2024, 11, 4, 1, tzinfo=UTC)]  # fmt: skip


def test_a_name_in_latin_1_is_read_as_latin_1_not_replaced(tmp_path) -> None:
    content = (b"Interval,GMTIntervalEnd,Settlement Location,Pnode,LMP,MLC,MCC,MEC\n"
               b"11/03/2024 01:00:00,11/03/2024 06:00:00,CAF\xc9_SL,CAF\xc9,20,0,0,20\n")  # fmt: skip
    frame = parse_file("SPP", "lmp_da", write(tmp_path, "latin.csv", content))
    assert frame.get_column("location").to_list() == ["CAF\u00c9_SL"]
    assert frame.get_column("location_id").to_list() == ["CAF\u00c9"]
