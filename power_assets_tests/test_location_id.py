"""`location_id` in the standardized LMP table: the ISO's own id of a location where it publishes
one (NYISO PTID, ISO-NE location id), null where it does not (CAISO, ERCOT).

Expectations come from the raw bytes (real NYISO samples read with the stdlib csv module) or from
files written out literally in the ISO's published format, never from the parsers' constants.
"""

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from power_assets import parse_file
from power_assets.demo.oasis_fixtures import oasis_zip
from power_assets.errors import MalformedFileError
from power_assets.isos.caiso import Caiso
from power_assets.isos.ercot.parsing import parse_ercot
from power_assets.isos.isone import Isone
from power_assets.isos.nyiso import Nyiso
from power_assets.market_time import market_day_bounds
from power_assets.schemas import LMP_COLUMNS, LmpSchema, validate_standardized
from power_assets_tests.samples import require_sample

NYISO, ISONE = Nyiso(), Isone()
SPRING_FORWARD, FALL_BACK = date(2024, 3, 10), date(2024, 11, 3)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def ids_by_location(frame: pl.DataFrame) -> dict[str, set[str | None]]:
    pairs = frame.select("location", "location_id").unique().rows()
    out: dict[str, set[str | None]] = {}
    for location, location_id in pairs:
        out.setdefault(location, set()).add(location_id)
    return out


def test_location_id_follows_location_type_and_is_nullable_text():
    at = LMP_COLUMNS.index("location_type")
    assert LMP_COLUMNS[at + 1] == "location_id"
    column = LmpSchema.to_schema().columns["location_id"]
    assert column.nullable and str(column.dtype) in {"String", "Utf8"}


# -- NYISO: the PTID -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dataset", "name"),
    [("lmp_da", "nyiso/nyiso_20251102damlbmp_zone_sample.csv"),
     ("lmp_rt_hourly", "nyiso/nyiso_20251102rtlbmp_zone_sample.csv"),
     ("lmp_rt5", "nyiso/lmp.csv")],
)  # fmt: skip
def test_nyiso_real_samples_carry_each_rows_ptid(samples, dataset, name):
    path = require_sample(name)
    text = path.read_bytes().decode("utf-8-sig").lstrip("\r\n")  # lmp.csv opens with an empty line
    raw = list(csv.DictReader(io.StringIO(text)))
    expected = {}
    for record in raw:
        expected.setdefault(record["Name"], set()).add(record["PTID"])
    frame = NYISO.parse(dataset, [path])
    validate_standardized(frame, LmpSchema, name)
    assert ids_by_location(frame) == expected
    assert frame["location_id"].null_count() == 0


def test_nyiso_real_sample_ptids_are_the_published_digits(samples):
    # "11/02/2025 00:00,N.Y.C.,61761,..." / "...,PJM,61847,..." / "...,WEST,61752,..."
    path = require_sample("nyiso/nyiso_20251102damlbmp_zone_sample.csv")
    frame = NYISO.parse("lmp_da", [path])
    assert dict(frame.select("location", "location_id").unique().rows()) == {
        "N.Y.C.": "61761", "PJM": "61847", "WEST": "61752",
    }  # fmt: skip


# The realtime LBMP layout as NYISO publishes it (ISO_REFERENCE.md), on the fall-back day: the
# "Time Zone" column tells the two 01:xx hours apart, and one irregular RTD stamp (01:57:48 EDT)
# is folded into its 5-minute interval; the PTID rides through both.
NYISO_HEADER = (
    '"Time Stamp","Time Zone","Name","PTID","LBMP ($/MWHr)",'
    '"Marginal Cost Losses ($/MWHr)","Marginal Cost Congestion ($/MWHr)"'
)


def test_nyiso_ptid_survives_dst_and_irregular_stamps_as_integer_text(tmp_path):
    lines = [
        NYISO_HEADER,
        '"11/03/2024 01:55:00","EDT","CAPITL",61757,20.00,1.00,0.00',
        '"11/03/2024 01:55:00","EDT","N.Y.C.",61761,30.00,2.00,0.00',
        '"11/03/2024 01:57:48","EDT","CAPITL",61757,22.00,1.00,0.00',
        '"11/03/2024 01:57:48","EDT","N.Y.C.", 61761.0 ,32.00,2.00,0.00',
        '"11/03/2024 01:00:00","EST","CAPITL",61757,24.00,1.00,0.00',
        '"11/03/2024 01:00:00","EST","N.Y.C.",61761,34.00,2.00,0.00',
    ]
    path = write(tmp_path, "20241103realtime_zone.csv", "\r\n".join(lines) + "\r\n")
    frame = NYISO.parse("lmp_rt5", [path])
    validate_standardized(frame, LmpSchema, path.name)
    got = sorted(frame.select("location", "location_id", "interval_start", "lmp").rows())
    assert got == [
        # 01:55 EDT ends 05:55 UTC (END-labelled). 01:57:48 EDT falls in 01:55-02:00 EDT, the
        # interval that 01:00 EST ends (05:55-06:00 UTC): the two are averaged (22, 24 -> 23).
        ("CAPITL", "61757", utc(2024, 11, 3, 5, 50), 20.0),
        ("CAPITL", "61757", utc(2024, 11, 3, 5, 55), 23.0),
        ("N.Y.C.", "61761", utc(2024, 11, 3, 5, 50), 30.0),
        ("N.Y.C.", "61761", utc(2024, 11, 3, 5, 55), 33.0),
    ]


def test_nyiso_spring_forward_day_keeps_the_ptid(tmp_path):
    # Hourly DAM: 01:00 EST then 03:00 EDT (02:00 does not exist on 2024-03-10).
    lines = [
        '"Time Stamp","Name","PTID","LBMP ($/MWHr)","Marginal Cost Losses ($/MWHr)",'
        '"Marginal Cost Congestion ($/MWHr)"',
        '"03/10/2024 01:00","WEST",61752,20.00,1.00,0.00',
        '"03/10/2024 03:00","WEST",61752,21.00,1.00,0.00',
    ]
    frame = NYISO.parse("lmp_da", [write(tmp_path, "20240310damlbmp_zone.csv", "\n".join(lines))])
    assert frame.select("location_id", "interval_start").rows() == [
        ("61752", utc(2024, 3, 10, 6)),
        ("61752", utc(2024, 3, 10, 7)),
    ]


def test_nyiso_ptid_that_is_not_an_integer_names_the_file_and_row(tmp_path):
    lines = [
        '"Time Stamp","Name","PTID","LBMP ($/MWHr)","Marginal Cost Losses ($/MWHr)",'
        '"Marginal Cost Congestion ($/MWHr)"',
        '"07/01/2024 00:00","WEST",61752,20.00,1.00,0.00',
        '"07/01/2024 00:00","CAPITL",6175x,20.00,1.00,0.00',
    ]
    path = write(tmp_path, "20240701damlbmp_zone.csv", "\n".join(lines))
    with pytest.raises(MalformedFileError, match=r"20240701damlbmp_zone\.csv: row 3: PTID '6175x'"):
        NYISO.parse("lmp_da", [path])


# -- ISO-NE: the location id -----------------------------------------------------------------


def isone_record_file(header: list[str], rows: list[str]) -> str:
    """An ISO Express record-format file written out literally: "C" comment, "H" header,
    "D" data lines, "T" trailer counting the data lines."""
    lines = ['"C","Day-Ahead Energy Market Hourly LMP Report"']
    lines.append('"H",' + ",".join(f'"{h}"' for h in header))
    lines += [f'"D",{row}' for row in rows]
    lines.append(f'"T","{len(rows)} lines"')
    return "\r\n".join(lines) + "\r\n"


ISONE_HOURLY = [
    "Date", "Hour Ending", "Location ID", "Location Name", "Location Type",
    "Locational Marginal Price", "Energy Component", "Congestion Component",
    "Marginal Loss Component",
]  # fmt: skip
ISONE_RT5 = [
    "Location ID", "Local Time", "Energy Component", "Congestion Component", "Loss Component", "LMP",
]  # fmt: skip


def test_isone_hourly_location_id_on_the_fall_back_day(tmp_path):
    rows = [
        '"11/03/2024","01",4000,".H.INTERNAL_HUB","HUB",30.00,30.00,0.00,0.00',
        '"11/03/2024","01",321,"UN.FRNKLNSQ13.810CC","NETWORK NODE",31.00,30.00,0.50,0.50',
        '"11/03/2024","02",4000,".H.INTERNAL_HUB","HUB",32.00,32.00,0.00,0.00',
        '"11/03/2024","02X",4000,".H.INTERNAL_HUB","HUB",33.00,33.00,0.00,0.00',
        '"11/03/2024","02X",4001,".Z.MAINE","LOAD ZONE",34.00,33.00,0.50,0.50',
    ]
    path = write(tmp_path, "WW_DALMP_ISO_20241103.csv", isone_record_file(ISONE_HOURLY, rows))
    frame = ISONE.parse("lmp_da", [path])
    validate_standardized(frame, LmpSchema, path.name)
    got = sorted(frame.select("location", "location_id", "interval_start").rows())
    assert got == [
        (".H.INTERNAL_HUB", "4000", utc(2024, 11, 3, 4)),
        (".H.INTERNAL_HUB", "4000", utc(2024, 11, 3, 5)),
        (".H.INTERNAL_HUB", "4000", utc(2024, 11, 3, 6)),
        (".Z.MAINE", "4001", utc(2024, 11, 3, 6)),
        ("UN.FRNKLNSQ13.810CC", "321", utc(2024, 11, 3, 4)),
    ]


def test_isone_rt5_location_id_on_the_spring_forward_day(tmp_path):
    # The 00-04 file of 2024-03-10: 01:55 EST is followed by 03:00 EDT.
    rows = [
        '4000,"01:55:00",20.00,0.00,0.10,20.10',
        '10501,"01:55:00",21.00,0.00,0.10,21.10',
        '4000,"03:00:00",22.00,0.00,0.10,22.10',
        '10501,"03:00:00",23.00,0.00,0.10,23.10',
    ]
    content = isone_record_file(ISONE_RT5, rows)
    path = write(tmp_path, "lmp_5min_20240310_00-04.csv", content)
    frame = ISONE.parse("lmp_rt5", [path])
    validate_standardized(frame, LmpSchema, path.name)
    got = sorted(frame.select("location", "location_id", "interval_start", "lmp").rows())
    assert got == [
        (".H.INTERNAL_HUB", "4000", utc(2024, 3, 10, 6, 55), 20.1),
        (".H.INTERNAL_HUB", "4000", utc(2024, 3, 10, 7), 22.1),
        ("10501", "10501", utc(2024, 3, 10, 6, 55), 21.1),
        ("10501", "10501", utc(2024, 3, 10, 7), 23.1),
    ]


# -- CAISO and ERCOT publish no separate id: null --------------------------------------------


@pytest.mark.parametrize("day", [SPRING_FORWARD, FALL_BACK])
@pytest.mark.parametrize(
    ("dataset", "report"),
    [("lmp_da", "PRC_LMP"), ("lmp_rt15", "PRC_RTPD_LMP"), ("lmp_rt5", "PRC_INTVL_LMP")],
)
def test_caiso_location_id_is_null(tmp_path, day, dataset, report):
    path = tmp_path / f"{report}.zip"
    path.write_bytes(oasis_zip(report, *market_day_bounds(Caiso.timezone, day)))
    frame = parse_file("CAISO", dataset, path)
    validate_standardized(frame, LmpSchema, path.name)
    assert frame.height > 0
    assert frame["location_id"].null_count() == frame.height
    assert frame.schema["location_id"] == pl.String


def test_caiso_real_sample_location_id_is_null(samples):
    frame = parse_file("CAISO", "lmp_da", require_sample("caiso/temp.zip"))
    assert frame.height > 0 and frame["location_id"].null_count() == frame.height


def _ercot_files(folder: Path) -> dict[str, list[Path]]:
    """One literal file per ERCOT LMP report, on the fall-back day (DSTFlag / RepeatedHourFlag Y
    for the second 01:xx), with headers as ERCOT publishes them (ISO_REFERENCE.md)."""
    texts = {
        "lmp_da": (
            "cdr.00012331.0000000000000000.20241102.130000.DAMSPNP4190.csv",
            "DeliveryDate,HourEnding,SettlementPoint,SettlementPointPrice,DSTFlag\r\n"
            "11/03/2024,02:00,HB_NORTH,20.50,N\r\n"
            "11/03/2024,02:00,HB_NORTH,21.50,Y\r\n",
        ),
        "lmp_rt15": (
            "cdr.00012301.0000000000000000.20241103.011702.SPPHLZNP6905_20241103_0115_Y.csv",
            "DeliveryDate,DeliveryHour,DeliveryInterval,SettlementPointName,SettlementPointType,"
            "SettlementPointPrice,DSTFlag\r\n"
            "11/03/2024,2,1,LZ_AEN,LZ,10.00,Y\r\n"
            "11/03/2024,2,1,LZ_AEN,LZEW,10.50,Y\r\n",
        ),
        "lmp_rt5": (
            "cdr.00012300.0000000000000000.20241103.013045.LMPSROSNODENP6788_20241103_013015.csv",
            "SCEDTimestamp,RepeatedHourFlag,SettlementPoint,LMP\r\n"
            "11/03/2024 01:30:15,Y,HB_NORTH,2.00\r\n",
        ),
    }
    out = {}
    for dataset, (name, text) in texts.items():
        out[dataset] = [write(folder, name, text)]
    return out


@pytest.mark.parametrize("dataset", ["lmp_da", "lmp_rt15", "lmp_rt5"])
def test_ercot_location_id_is_null(tmp_path, dataset):
    frame, _ = parse_ercot(dataset, _ercot_files(tmp_path)[dataset])
    validate_standardized(frame, LmpSchema, dataset)
    assert frame.height > 0
    assert frame["location_id"].null_count() == frame.height
    assert frame.columns == LMP_COLUMNS


@pytest.mark.parametrize(("dataset", "name"), [("lmp_da", "np4-190-cd.csv")])
def test_ercot_real_sample_location_id_is_null(samples, tmp_path, dataset, name):
    path = tmp_path / name
    path.write_bytes(require_sample(f"ercot/{name}").read_bytes())
    frame, _ = parse_ercot(dataset, [path])
    assert frame.height > 0 and frame["location_id"].null_count() == frame.height
