"""ERCOT report parsing: hour-ending and SCED time rules on DST days, LZ vs LZEW, SCED run
averaging, corrections superseding originals, header drift, and the long shapes of AS, load
and load forecast. Fixtures are written here in ERCOT's published CSV layouts."""

import io
import itertools
import zipfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import polars as pl
import pytest

from power_assets.errors import MalformedFileError, SchemaDriftError
from power_assets.isos.ercot.parsing import parse_ercot
from power_assets.schemas import (
    AS_PRICE_KEY,
    LMP_KEY,
    AsPriceSchema,
    LmpSchema,
    LoadForecastSchema,
    LoadSchema,
    validate_standardized,
)

OLD_DAM_HEADER = "DeliveryDate,HourEnding,SettlementPoint,SettlementPointPrice"  # before 2011
DAM_HEADER = OLD_DAM_HEADER + ",DSTFlag"
RT_HEADER = (
    "DeliveryDate,DeliveryHour,DeliveryInterval,SettlementPointName,SettlementPointType,"
    "SettlementPointPrice,DSTFlag"
)
SCED_HEADER = "SCEDTimestamp,RepeatedHourFlag,SettlementPoint,LMP"
AS_HEADER = "DeliveryDate,HourEnding,AncillaryType,MCPC,DSTFlag"
LOAD_HEADER = (
    "OperDay,HourEnding,COAST,EAST,FAR_WEST,NORTH,NORTH_C,SOUTHERN,SOUTH_C,WEST,TOTAL,DSTFlag"
)
FORECAST_HEADER = "DeliveryDate,HourEnding,North,South,West,Houston,SystemTotal,DSTFlag"
# The points of a real RT SPP file: a hub, a resource node, and one zone as LZ and as LZEW.
RT_POINTS = (("HB_NORTH", "HU"), ("AMISTAD_ALL", "RN"), ("LZ_AEN", "LZ"), ("LZ_AEN", "LZEW"))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def cdr(report: int, posted: datetime, friendly: str) -> str:
    return f"cdr.{report:08}.0000000000000000.{posted:%Y%m%d.%H%M%S}.{friendly}.csv"


def write(folder: Path, name: str, lines: list[str]) -> Path:
    path = folder / name
    path.write_text("\r\n".join(lines) + "\r\n")
    return path


def hour_endings(day: date) -> list[tuple[str, str]]:
    """(HourEnding, DSTFlag) of a market day as ERCOT writes them: HE 02 absent on the
    spring-forward day, HE 02 twice (N, then Y) on the fall-back day."""
    hours = [(f"{h:02}:00", "N") for h in range(1, 25)]
    if day == date(2024, 3, 10):
        hours.remove(("02:00", "N"))
    if day == date(2024, 11, 3):
        hours.insert(2, ("02:00", "Y"))
    return hours


def dam_file(folder: Path, day: date, points=("HB_NORTH", "LZ_AEN"), name=None) -> Path:
    rows = [
        f"{day:%m/%d/%Y},{he},{point}, {20 + i}.5,{flag}"
        for i, (he, flag) in enumerate(hour_endings(day))
        for point in points
    ]
    posted = datetime.combine(day - timedelta(days=1), time(13))
    return write(folder, name or cdr(12331, posted, "DAMSPNP4190"), [DAM_HEADER, *rows])


def rt_files(folder: Path, day: date) -> list[Path]:
    """One RT SPP file per 15-minute interval, named like ERCOT's (interval END in the name);
    every point's price is 10 + the file's index in the day."""
    paths, index = [], 0
    for he, flag in hour_endings(day):
        hour = int(he[:2])
        for interval in range(1, 5):
            end = datetime.combine(day, time()) + timedelta(hours=hour - 1, minutes=15 * interval)
            rows = [
                f"{day:%m/%d/%Y},{hour},{interval},{name},{kind},{10.0 + index},{flag}"
                for name, kind in RT_POINTS
            ]
            stamp = f"{end:%Y%m%d_%H%M}" + ("_Y" if flag == "Y" else "")
            posted = end + timedelta(minutes=2, seconds=index % 60)
            name = cdr(12301, posted, f"SPPHLZNP6905_{stamp}")
            paths.append(write(folder, name, [RT_HEADER, *rows]))
            index += 1
    return paths


def one(frame: pl.DataFrame, column: str, value: str, start: datetime) -> dict:
    hit = frame.filter((pl.col(column) == value) & (pl.col("interval_start") == start))
    assert hit.height == 1, hit
    return hit.row(0, named=True)


def starts(frame: pl.DataFrame, column: str, value: str) -> list[datetime]:
    return frame.filter(pl.col(column) == value)["interval_start"].to_list()


def contiguous(values: list[datetime], step: timedelta) -> bool:
    return all(b - a == step for a, b in itertools.pairwise(values))


# --- DAM settlement point prices ---------------------------------------------------------------


def test_dam_fall_back_day_has_25_distinct_hours_with_the_flagged_hour_repeated(tmp_path):
    frame, notes = parse_ercot("lmp_da", [dam_file(tmp_path, date(2024, 11, 3))])
    validate_standardized(frame, LmpSchema, "dam")
    types = dict(frame.select("location", "location_type").unique().iter_rows())
    assert types == {"HB_NORTH": "HU", "LZ_AEN": "LZ"}
    hours = starts(frame, "location", "HB_NORTH")
    assert len(hours) == 25 and len(set(hours)) == 25
    assert hours[0] == utc(2024, 11, 3, 5)  # local midnight CDT
    assert contiguous(hours, timedelta(hours=1))
    # HE 02 N is 01:00-02:00 CDT, HE 02 Y the repeated 01:00-02:00 CST.
    assert one(frame, "location", "HB_NORTH", utc(2024, 11, 3, 6))["lmp"] == 21.5
    repeated = one(frame, "location", "HB_NORTH", utc(2024, 11, 3, 7))
    assert (repeated["lmp"], repeated["interval_end"]) == (22.5, utc(2024, 11, 3, 8))
    assert one(frame, "location", "HB_NORTH", utc(2024, 11, 3, 8))["lmp"] == 23.5  # HE 03
    # HE 24 belongs to the delivery date itself: 23:00-24:00 CST.
    last = one(frame, "location", "HB_NORTH", utc(2024, 11, 4, 5))
    assert (last["lmp"], last["interval_end"]) == (44.5, utc(2024, 11, 4, 6))
    assert notes == {"files_without_dst_flag": 0, "rows_superseded": 0}


def test_dam_spring_forward_day_has_23_hours_and_no_he02(tmp_path):
    frame, _ = parse_ercot("lmp_da", [dam_file(tmp_path, date(2024, 3, 10))])
    hours = starts(frame, "location", "LZ_AEN")
    assert len(hours) == 23 and contiguous(hours, timedelta(hours=1))
    assert hours[0] == utc(2024, 3, 10, 6)  # local midnight CST
    he03 = one(frame, "location", "LZ_AEN", utc(2024, 3, 10, 7))  # 01:00 CST - 03:00 CDT
    assert (he03["lmp"], he03["interval_end"]) == (21.5, utc(2024, 3, 10, 8))
    assert hours[-1] == utc(2024, 3, 11, 4)  # HE 24: 23:00-24:00 CDT


def test_dam_strips_padded_header_and_values_and_reads_short_hour_endings(tmp_path):
    lines = [
        "DeliveryDate , HourEnding,SettlementPoint,SettlementPointPrice  ,DSTFlag    ",
        "09/29/2026,1:00, HB_BUSAVG, 26.19,N",
        "09/29/2026, 2:00,HB_HUBAVG,  -3.5 , N",
        "09/29/2026,24:00,7RNCHSLR_ALL,28.4,N",
    ]
    frame, _ = parse_ercot("lmp_da", [write(tmp_path, "padded.csv", lines)])
    assert frame.select("location", "location_type", "lmp", "interval_start").rows() == [
        ("7RNCHSLR_ALL", "RN", 28.4, utc(2026, 9, 30, 4)),
        ("HB_BUSAVG", "SH", 26.19, utc(2026, 9, 29, 5)),
        ("HB_HUBAVG", "AH", -3.5, utc(2026, 9, 29, 6)),
    ]
    assert frame["market"].unique().to_list() == ["DAM"]
    assert (
        frame.select(pl.col("energy", "congestion", "loss", "ghg").is_null().all()).row(0)
        == (True,) * 4
    )


def test_pre_2011_files_without_dst_flag_are_read_as_n_and_counted(tmp_path):
    old = write(tmp_path, "old.csv", [OLD_DAM_HEADER, "12/01/2010,01:00,HB_NORTH,30"])
    new = dam_file(tmp_path, date(2024, 7, 1), ("HB_WEST",))
    frame, notes = parse_ercot("lmp_da", [old, new])
    assert notes == {"files_without_dst_flag": 1, "rows_superseded": 0}
    assert one(frame, "location", "HB_NORTH", utc(2010, 12, 1, 6))["lmp"] == 30.0
    assert frame.height == 25


@pytest.mark.parametrize("he25", ["25", "25:00"])
def test_hour_ending_25_numbering_is_the_25th_hour_of_the_fall_back_day(tmp_path, he25):
    hours = [f"{h:02}:00" for h in range(1, 25)] + [he25]
    rows = [f"11/03/2024,{he},HB_NORTH,{i}" for i, he in enumerate(hours, start=1)]
    path = write(tmp_path, "he25.csv", [OLD_DAM_HEADER, *rows])
    frame, _ = parse_ercot("lmp_da", [path])
    # In 1..25 numbering HE n is just the n-th hour of the day: 25 distinct, in order.
    assert frame["interval_start"].to_list() == [
        utc(2024, 11, 3, 5) + timedelta(hours=k) for k in range(25)
    ]
    assert frame["lmp"].to_list() == [float(i) for i in range(1, 26)]


@pytest.mark.parametrize(
    ("header", "missing", "new"),
    [
        (DAM_HEADER + ",SettlementPointType", [], ["SettlementPointType"]),
        ("DeliveryDate,HourEnding,SettlementPoint,DSTFlag", ["SettlementPointPrice"], []),
    ],
)
def test_header_drift_is_schema_drift_naming_file_and_columns(tmp_path, header, missing, new):
    path = write(tmp_path, "drift.csv", [header, "07/01/2024,01:00,HB_NORTH,1,N,HU"])
    with pytest.raises(SchemaDriftError, match=r"drift\.csv") as caught:
        parse_ercot("lmp_da", [path])
    assert (caught.value.missing, caught.value.unexpected) == (missing, new)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("07/01/2024,01:00,HB_NORTH,abc,N", r"SettlementPointPrice value 'abc' is not a number"),
        ("2024-07-01,01:00,HB_NORTH,1,N", r"DeliveryDate '2024-07-01' is not a MM/DD/YYYY"),
        ("07/01/2024,1:30,HB_NORTH,1,N", r"HourEnding '1:30' is not an hour ending"),
        ("07/01/2024,01:00,HB_NORTH,1,X", r"DSTFlag 'X' is neither Y nor N"),
        # Hours that cannot exist that day: HE 02 when clocks spring forward, a repeated hour
        # or an HE 25 on a 24-hour day.
        ("03/10/2024,02:00,HB_NORTH,1,N", r"HourEnding '02:00' with DSTFlag 'N' does not exist"),
        ("07/01/2024,02:00,HB_NORTH,1,Y", r"HourEnding '02:00' with DSTFlag 'Y' does not exist"),
        ("07/01/2024,25:00,HB_NORTH,1,N", r"HourEnding '25:00' with DSTFlag 'N' does not exist"),
    ],
)
def test_bad_values_are_malformed_naming_the_file(tmp_path, row, message):
    good = dam_file(tmp_path, date(2024, 7, 1))
    bad = write(tmp_path, "bad_values.csv", [DAM_HEADER, "07/01/2024,02:00,HB_WEST,1,N", row])
    with pytest.raises(MalformedFileError, match=r"bad_values\.csv: " + message):
        parse_ercot("lmp_da", [good, bad])


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("07/01/2024,01:00,HB_NORTH,1,N,extra", r"unreadable CSV"),
        ("07/01/2024,01:00,HB_NORTH", r"a row has no DSTFlag"),
        ("07/01/2024,01:00,,1,N", r"a row has no SettlementPoint"),
    ],
)
def test_broken_rows_are_malformed_naming_the_file_among_many(tmp_path, row, message):
    good = [dam_file(tmp_path, date(2024, 7, d)) for d in (1, 2)]
    bad = write(tmp_path, "broken_row.csv", [DAM_HEADER, row])
    with pytest.raises(MalformedFileError, match=r"broken_row\.csv: " + message):
        parse_ercot("lmp_da", [*good, bad])


def test_empty_price_is_null_and_empty_file_is_malformed(tmp_path):
    gap = write(tmp_path, "gap.csv", [DAM_HEADER, "07/01/2024,01:00,HB_NORTH,,N"])
    frame, _ = parse_ercot("lmp_da", [gap])
    assert frame["lmp"].to_list() == [None]
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(MalformedFileError, match=r"empty\.csv: empty file"):
        parse_ercot("lmp_da", [tmp_path / "empty.csv"])


def test_no_files_give_an_empty_table_with_the_standard_columns():
    frame, notes = parse_ercot("lmp_da", [])
    assert frame.is_empty()
    validate_standardized(frame, LmpSchema, "none")
    assert notes == {"files_without_dst_flag": 0, "rows_superseded": 0}


def test_duplicate_rows_within_one_file_are_kept_for_the_duplicate_check(tmp_path):
    lines = [DAM_HEADER, "07/01/2024,01:00,HB_NORTH,1,N", "07/01/2024,01:00,HB_NORTH,2,N"]
    frame, notes = parse_ercot("lmp_da", [write(tmp_path, "dup.csv", lines)])
    assert frame["lmp"].to_list() == [1.0, 2.0]
    assert notes["rows_superseded"] == 0


def test_reposted_dam_day_supersedes_the_earlier_posting_whatever_the_order_given(tmp_path):
    day = date(2024, 7, 1)
    first = dam_file(tmp_path, day, name=cdr(12331, datetime(2024, 6, 30, 13), "DAMSPNP4190"))
    lines = [DAM_HEADER, "07/01/2024,01:00,HB_NORTH, 99.5,N"]
    later = write(tmp_path, cdr(12331, datetime(2024, 6, 30, 18), "DAMSPNP4190"), lines)
    frame, notes = parse_ercot("lmp_da", [later, first])
    assert one(frame, "location", "HB_NORTH", utc(2024, 7, 1, 5))["lmp"] == 99.5
    assert one(frame, "location", "HB_NORTH", utc(2024, 7, 1, 6))["lmp"] == 21.5
    assert notes["rows_superseded"] == 1
    assert frame.height == 48


def test_files_without_cdr_names_rank_by_their_position(tmp_path):
    a = write(tmp_path, "a.csv", [DAM_HEADER, "07/01/2024,01:00,HB_NORTH,1,N"])
    b = write(tmp_path, "b.csv", [DAM_HEADER, "07/01/2024,01:00,HB_NORTH,2,N"])
    assert parse_ercot("lmp_da", [a, b])[0]["lmp"].to_list() == [2.0]
    assert parse_ercot("lmp_da", [b, a])[0]["lmp"].to_list() == [1.0]


# --- zips ----------------------------------------------------------------------------------------


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_mis_document_zips_and_nested_archives_are_read(tmp_path):
    day = date(2024, 7, 1)
    csv_path = dam_file(tmp_path, day)
    mis = tmp_path / csv_path.name.replace(".csv", "_csv.zip")
    mis.write_bytes(zip_bytes({csv_path.name: csv_path.read_bytes()}))
    corrected = cdr(12331, datetime(2024, 6, 30, 20), "DAMSPNP4190")
    inner_zip = zip_bytes({corrected: f"{DAM_HEADER}\n07/01/2024,03:00,LZ_AEN,-1,N\n".encode()})
    bulk = tmp_path / "bulk.zip"
    bulk.write_bytes(
        zip_bytes({"day/" + corrected.replace(".csv", "_csv.zip"): inner_zip, "readme.txt": b"x"})
    )
    frame, notes = parse_ercot("lmp_da", [mis, bulk])
    assert frame.height == 48
    assert one(frame, "location", "LZ_AEN", utc(2024, 7, 1, 7))["lmp"] == -1.0
    assert notes["rows_superseded"] == 1


def test_members_of_other_reports_in_a_bulk_archive_are_skipped(tmp_path):
    dam = dam_file(tmp_path, date(2024, 7, 1))
    as_name = cdr(12329, datetime(2024, 6, 30, 13), "DAMCPCNP4188")
    day_zip = zip_bytes(
        {dam.name: dam.read_bytes(), as_name: f"{AS_HEADER}\n07/01/2024,01:00,RRS,1,N\n".encode()}
    )
    bulk = tmp_path / "history.zip"
    bulk.write_bytes(zip_bytes({"20240701.zip": day_zip}))
    assert parse_ercot("lmp_da", [bulk])[0].height == 48
    assert parse_ercot("as_da", [bulk])[0]["price"].to_list() == [1.0]
    with pytest.raises(MalformedFileError, match=r"history\.zip: .* no CSV of report 13101"):
        parse_ercot("load", [bulk])


def test_zip_without_csv_and_broken_zip_are_malformed(tmp_path):
    empty = tmp_path / "nothing.zip"
    empty.write_bytes(zip_bytes({"a.xml": b"<x/>"}))
    with pytest.raises(MalformedFileError, match=r"nothing\.zip: archive holds no CSV"):
        parse_ercot("lmp_da", [empty])
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(MalformedFileError, match=r"broken\.zip: unreadable zip"):
        parse_ercot("lmp_da", [broken])


# --- RT 15-minute settlement point prices --------------------------------------------------------


def test_rt_spp_96_files_of_a_day_give_96_intervals_per_location(tmp_path):
    paths = rt_files(tmp_path, date(2024, 11, 4))
    assert len(paths) == 96
    frame, notes = parse_ercot("lmp_rt15", paths)
    validate_standardized(frame, LmpSchema, "rt")
    assert notes == {"files_without_dst_flag": 0, "rows_superseded": 0}
    counts = dict(frame.group_by("location").len().iter_rows())
    assert counts == {"HB_NORTH": 96, "AMISTAD_ALL": 96, "LZ_AEN": 96, "LZ_AEN_LZEW": 96}
    types = dict(frame.select("location", "location_type").unique().iter_rows())
    assert types == {"HB_NORTH": "HU", "AMISTAD_ALL": "RN", "LZ_AEN": "LZ", "LZ_AEN_LZEW": "LZEW"}
    zone = starts(frame, "location", "LZ_AEN_LZEW")
    assert zone[0] == utc(2024, 11, 4, 6) and zone[-1] == utc(2024, 11, 5, 5, 45)
    assert contiguous(zone, timedelta(minutes=15))
    first = one(frame, "location", "LZ_AEN", utc(2024, 11, 4, 6))
    assert (first["interval_end"], first["lmp"]) == (utc(2024, 11, 4, 6, 15), 10.0)
    assert set(frame["market"]) == {"RTM"}
    assert frame.select(pl.struct(LMP_KEY).is_duplicated().any()).item() is False


@pytest.mark.parametrize(("day", "intervals"), [(date(2024, 11, 3), 100), (date(2024, 3, 10), 92)])
def test_rt_spp_dst_days(tmp_path, day, intervals):
    frame, _ = parse_ercot("lmp_rt15", rt_files(tmp_path, day))
    hub = starts(frame, "location", "HB_NORTH")
    assert len(hub) == len(set(hub)) == intervals
    assert contiguous(hub, timedelta(minutes=15))
    if day == date(2024, 11, 3):
        # Hour 2 flagged Y, interval 1: 01:00 CST.
        assert one(frame, "location", "HB_NORTH", utc(2024, 11, 3, 7))["lmp"] == 10.0 + 8


def test_rt_spp_retry_file_posted_later_supersedes_the_original(tmp_path):
    paths = rt_files(tmp_path, date(2024, 11, 4))
    lines = [RT_HEADER, "11/04/2024,1,2,LZ_AEN,LZEW,123.45,N", "11/04/2024,1,2,HB_NORTH,HU, 7,N"]
    name = cdr(12301, datetime(2024, 11, 4, 0, 45), "SPPHLZNP6905_retry_20241104_0030")
    retry = write(tmp_path, name, lines)
    frame, notes = parse_ercot("lmp_rt15", [*paths, retry])
    assert notes["rows_superseded"] == 2
    assert frame.height == 4 * 96
    assert one(frame, "location", "LZ_AEN_LZEW", utc(2024, 11, 4, 6, 15))["lmp"] == 123.45
    assert one(frame, "location", "LZ_AEN", utc(2024, 11, 4, 6, 15))["lmp"] == 11.0
    assert one(frame, "location", "HB_NORTH", utc(2024, 11, 4, 6, 15))["lmp"] == 7.0


def test_rt_spp_files_with_different_header_spellings_are_read_together(tmp_path):
    a = write(tmp_path, "a.csv", [RT_HEADER, "07/01/2024,1,1,HB_NORTH,HU,1,N"])
    lines = [RT_HEADER.replace(",", " ,"), "07/01/2024,1,2,HB_NORTH , HU, 2,N"]
    frame, _ = parse_ercot("lmp_rt15", [a, write(tmp_path, "b.csv", lines)])
    rows = frame.select("location", "location_type", "lmp").rows()
    assert rows == [("HB_NORTH", "HU", 1.0), ("HB_NORTH", "HU", 2.0)]


def test_rt_spp_interval_outside_1_to_4_is_malformed(tmp_path):
    path = write(tmp_path, "rt_bad.csv", [RT_HEADER, "07/01/2024,1,5,HB_NORTH,HU,1,N"])
    with pytest.raises(MalformedFileError, match=r"rt_bad\.csv: DeliveryInterval '5'"):
        parse_ercot("lmp_rt15", [path])


# --- SCED 5-minute LMPs --------------------------------------------------------------------------


def sced_file(folder: Path, stamp: str, flag: str, prices: dict[str, float]) -> Path:
    wall = datetime.strptime(stamp, "%m/%d/%Y %H:%M:%S")
    friendly = f"LMPSROSNODENP6788_{wall:%Y%m%d_%H%M%S}"
    rows = [f"{stamp},{flag},{point},{price}" for point, price in prices.items()]
    return write(folder, cdr(12300, wall + timedelta(seconds=30), friendly), [SCED_HEADER, *rows])


def test_sced_runs_in_one_interval_are_averaged_per_location(tmp_path):
    paths = [
        sced_file(tmp_path, "07/01/2024 10:00:14", "N", {"HB_NORTH": 20.0, "AMISTAD_ALL": 5.0}),
        sced_file(tmp_path, "07/01/2024 10:05:12", "N", {"HB_NORTH": 30.0, "AMISTAD_ALL": 6.0}),
        sced_file(tmp_path, "07/01/2024 10:07:40", "N", {"HB_NORTH": 40.0}),
    ]
    frame, notes = parse_ercot("lmp_rt5", paths)
    validate_standardized(frame, LmpSchema, "sced")
    assert notes == {"files_without_dst_flag": 0, "rows_superseded": 0}
    columns = ("location", "location_type", "interval_start", "interval_end", "lmp")
    assert frame.select(columns).rows() == [
        ("AMISTAD_ALL", "RN", utc(2024, 7, 1, 15), utc(2024, 7, 1, 15, 5), 5.0),
        ("AMISTAD_ALL", "RN", utc(2024, 7, 1, 15, 5), utc(2024, 7, 1, 15, 10), 6.0),
        ("HB_NORTH", "HU", utc(2024, 7, 1, 15), utc(2024, 7, 1, 15, 5), 20.0),
        ("HB_NORTH", "HU", utc(2024, 7, 1, 15, 5), utc(2024, 7, 1, 15, 10), 35.0),
    ]
    assert frame["market"].unique().to_list() == ["SCED"]


def test_sced_repeated_hour_flag_places_the_second_0130_in_standard_time(tmp_path):
    paths = [
        sced_file(tmp_path, "11/03/2024 01:30:12", "N", {"HB_NORTH": 1.0}),
        sced_file(tmp_path, "11/03/2024 01:30:15", "Y", {"HB_NORTH": 2.0}),
    ]
    frame, _ = parse_ercot("lmp_rt5", paths)
    assert frame.select("interval_start", "lmp").rows() == [
        (utc(2024, 11, 3, 6, 30), 1.0),  # 01:30 CDT
        (utc(2024, 11, 3, 7, 30), 2.0),  # 01:30 CST
    ]


def test_sced_file_without_repeated_hour_flag_is_counted(tmp_path):
    lines = ["SCEDTimestamp,SettlementPoint,LMP", "07/01/2010 10:00:14,HB_NORTH,3"]
    path = write(tmp_path, "old_sced.csv", lines)
    frame, notes = parse_ercot("lmp_rt5", [path])
    assert notes["files_without_dst_flag"] == 1
    assert frame["interval_start"].to_list() == [utc(2010, 7, 1, 15)]


@pytest.mark.parametrize(
    ("stamp", "flag", "message"),
    [
        ("03/10/2024 02:30:00", "N", r"does not exist in America/Chicago"),
        ("07/01/2024 01:30:00", "Y", r"not a repeated hour"),
        ("2024-07-01T01:30", "N", r"is not MM/DD/YYYY"),
    ],
)
def test_sced_impossible_timestamps_are_malformed(tmp_path, stamp, flag, message):
    path = write(tmp_path, "sced_bad.csv", [SCED_HEADER, f"{stamp},{flag},HB_NORTH,1"])
    with pytest.raises(MalformedFileError, match=r"sced_bad\.csv: .*" + message):
        parse_ercot("lmp_rt5", [path])


def test_sced_correction_of_a_run_supersedes_before_averaging(tmp_path):
    original = sced_file(tmp_path, "07/01/2024 10:00:14", "N", {"HB_NORTH": 20.0})
    other_run = sced_file(tmp_path, "07/01/2024 10:02:14", "N", {"HB_NORTH": 40.0})
    lines = [SCED_HEADER, "07/01/2024 10:00:14,N,HB_NORTH,30"]
    name = cdr(12300, datetime(2024, 7, 1, 11), "LMPSROSNODENP6788_20240701_100014")
    repost = write(tmp_path, name, lines)
    frame, notes = parse_ercot("lmp_rt5", [original, other_run, repost])
    assert frame["lmp"].to_list() == [35.0]
    assert notes["rows_superseded"] == 1


# --- AS clearing prices, load, load forecast -----------------------------------------------------


def test_as_mcpc_products_are_mapped_and_codes_kept(tmp_path):
    codes = ["REGUP", "REGDN", "RRS", "NSPIN", "ECRS", "NEWAS"]
    rows = [f"07/01/2024,01:00,{code}, {i}.25,N" for i, code in enumerate(codes)]
    frame, _ = parse_ercot("as_da", [write(tmp_path, "as.csv", [AS_HEADER, *rows])])
    validate_standardized(frame, AsPriceSchema, "as")
    got = {r["iso_product"]: (r["product"], r["price"]) for r in frame.iter_rows(named=True)}
    assert got == {
        "REGUP": ("REG_UP", 0.25), "REGDN": ("REG_DOWN", 1.25), "RRS": ("RRS", 2.25),
        "NSPIN": ("NON_SPIN", 3.25), "ECRS": ("ECRS", 4.25), "NEWAS": ("NEWAS", 5.25),
    }  # fmt: skip
    assert set(frame.select("region", "market", "interval_start").unique().rows()) == {
        ("ERCOT", "DAM", utc(2024, 7, 1, 5))
    }
    assert frame.select(pl.struct(AS_PRICE_KEY).is_duplicated().any()).item() is False


def test_load_is_long_by_weather_zone_and_total(tmp_path):
    rows = [
        f"11/03/2024,{he},{','.join(str(h * 100 + z) for z in range(9))},{flag}"
        for h, (he, flag) in enumerate(hour_endings(date(2024, 11, 3)))
    ]
    frame, _ = parse_ercot("load", [write(tmp_path, "load.csv", [LOAD_HEADER, *rows])])
    validate_standardized(frame, LoadSchema, "load")
    assert frame.height == 25 * 9
    assert sorted(frame["area"].unique()) == sorted(LOAD_HEADER.split(",")[2:-1])
    total = frame.filter(pl.col("area") == "TOTAL")
    assert total["interval_start"].n_unique() == 25
    assert one(frame, "area", "TOTAL", utc(2024, 11, 3, 7))["load_mw"] == 208.0  # HE 02 Y
    assert one(frame, "area", "COAST", utc(2024, 11, 3, 5))["load_mw"] == 0.0


def forecast_lines(first: date, days: int) -> list[str]:
    rows = [
        f"{first + timedelta(days=d):%m/%d/%Y},{h}:00,{h},{h + 0.5},1,2,3.25,N"
        for d in range(days)
        for h in range(1, 25)
    ]
    return [FORECAST_HEADER + "    ", *rows]  # ERCOT pads this header's last name


def test_load_forecast_is_long_with_publish_time_from_the_document_name(tmp_path):
    name = cdr(12311, datetime(2024, 7, 1, 12, 30), "LFCCONGESTNP3560")
    earlier = cdr(12311, datetime(2024, 7, 1, 6, 30), "LFCCONGESTNP3560")
    paths = [write(tmp_path, n, forecast_lines(date(2024, 7, 1), 2)) for n in (earlier, name)]
    frame, notes = parse_ercot("load_forecast", paths)
    validate_standardized(frame, LoadForecastSchema, "forecast")
    assert notes == {"files_without_dst_flag": 0, "rows_superseded": 0}
    assert frame.height == 2 * 48 * 5  # both vintages kept
    assert set(frame["area"]) == {"NORTH", "SOUTH", "WEST", "HOUSTON", "SYSTEMTOTAL"}
    assert set(frame["publish_time"]) == {utc(2024, 7, 1, 11, 30), utc(2024, 7, 1, 17, 30)}
    assert set(frame["forecast_type"]) == {"NP3-560-CD"}
    row = frame.filter(
        (pl.col("area") == "SOUTH")
        & (pl.col("interval_start") == utc(2024, 7, 2, 6))
        & (pl.col("publish_time") == utc(2024, 7, 1, 17, 30))
    )
    assert row["load_mw"].to_list() == [2.5]


def test_load_forecast_without_post_time_in_its_name_is_malformed(tmp_path):
    path = write(tmp_path, "forecast.csv", forecast_lines(date(2024, 7, 1), 1))
    with pytest.raises(MalformedFileError, match=r"forecast\.csv: no post time"):
        parse_ercot("load_forecast", [path])


def test_load_forecast_in_a_zip_takes_the_member_name_post_time(tmp_path):
    member = cdr(12311, datetime(2024, 12, 1, 9, 0), "LFCCONGESTNP3560")
    archive = tmp_path / "download.zip"
    lines = forecast_lines(date(2024, 12, 1), 1)
    archive.write_bytes(zip_bytes({member: "\n".join(lines).encode()}))
    frame, _ = parse_ercot("load_forecast", [archive])
    assert set(frame["publish_time"]) == {utc(2024, 12, 1, 15)}  # 09:00 CST
    assert frame.height == 24 * 5


def test_unknown_dataset_is_refused():
    with pytest.raises(KeyError, match="fuel_mix"):
        parse_ercot("fuel_mix", [])
