"""CAISO OASIS parsing: every dataset on both 2024 DST days, error documents, drift and bad values."""

import io
import zipfile
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from power_assets import parse_file
from power_assets.demo.oasis_fixtures import (
    DEMO_NODES,
    THROTTLE_HTML,
    Faults,
    oasis_csv,
    oasis_error_zip,
    oasis_zip,
)
from power_assets.errors import (
    IsoErrorResponse,
    IsoNoDataError,
    IsoRateLimitedError,
    MalformedFileError,
    SchemaDriftError,
)
from power_assets.isos.caiso import Caiso
from power_assets.market_time import market_day_bounds

SPRING, FALL = date(2024, 3, 10), date(2024, 11, 3)
CAISO = Caiso()


def _day(day):
    return market_day_bounds(Caiso.timezone, day)


def _write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(("day", "hours"), [(SPRING, 23), (FALL, 25), (date(2024, 7, 1), 24)])
def test_dam_day_has_23_24_or_25_hours_per_node(tmp_path, day, hours):
    path = _write(tmp_path, "dam.zip", oasis_zip("PRC_LMP", *_day(day)))
    frame = parse_file("CAISO", "lmp_da", path)
    per_node = frame.group_by("location").agg(pl.col("interval_start").n_unique().alias("n"))
    assert per_node["n"].to_list() == [hours] * len(DEMO_NODES)
    assert frame.height == hours * len(DEMO_NODES)
    assert frame["market"].unique().to_list() == ["DAM"]
    assert (frame["interval_end"] - frame["interval_start"]).unique().to_list() == [
        timedelta(hours=1)
    ]


def test_fall_back_day_keeps_both_one_am_hours_distinct(tmp_path):
    path = _write(tmp_path, "dam.zip", oasis_zip("PRC_LMP", *_day(FALL)))
    hub = parse_file("CAISO", "lmp_da", path).filter(pl.col("location") == "TH_NP15_GEN-APND")
    one_am = hub.filter(
        pl.col("interval_start").is_in(
            [datetime(2024, 11, 3, 8, tzinfo=UTC), datetime(2024, 11, 3, 9, tzinfo=UTC)]
        )
    )
    assert one_am.height == 2
    assert one_am["lmp"].is_not_null().all()


def test_components_are_pivoted_into_columns_that_add_up(tmp_path):
    path = _write(tmp_path, "dam.zip", oasis_zip("PRC_LMP", *_day(SPRING)))
    frame = parse_file("CAISO", "lmp_da", path)
    total = frame["energy"] + frame["congestion"] + frame["loss"] + frame["ghg"]
    assert ((frame["lmp"] - total).abs() < 1e-6).all()
    assert frame.filter(pl.col("location") == "DLAP_PGAE-APND")["location_type"][0] == "DLAP"


@pytest.mark.parametrize(
    ("queryname", "dataset", "market", "minutes"),
    [("PRC_INTVL_LMP", "lmp_rt5", "RT5M", 5), ("PRC_RTPD_LMP", "lmp_rt15", "RT15M", 15)],
)
def test_real_time_hour_chunk_on_the_repeated_hour(tmp_path, queryname, dataset, market, minutes):
    start = datetime(2024, 11, 3, 9, tzinfo=UTC)  # the second 01:00 (PST) of the fall-back day
    path = _write(tmp_path, "rt.zip", oasis_zip(queryname, start, start + timedelta(hours=1)))
    frame = parse_file("CAISO", dataset, path)
    assert frame["interval_start"].n_unique() == 60 // minutes
    assert frame["interval_start"].min() == start
    assert frame["market"].unique().to_list() == [market]
    assert frame["lmp"].null_count() == 0


def test_extracted_csv_parses_like_the_zip(tmp_path):
    start, end = _day(SPRING)
    from_zip = parse_file(
        "CAISO", "lmp_da", _write(tmp_path, "a.zip", oasis_zip("PRC_LMP", start, end))
    )
    from_csv = parse_file(
        "CAISO", "lmp_da", _write(tmp_path, "a.csv", oasis_csv("PRC_LMP", start, end))
    )
    assert from_zip.equals(from_csv)


@pytest.mark.parametrize("day", [SPRING, FALL])
def test_as_prices_per_region_and_product(tmp_path, day):
    path = _write(tmp_path, "as.zip", oasis_zip("PRC_AS", *_day(day)))
    frame = parse_file("CAISO", "as_da", path)
    hours = 23 if day == SPRING else 25
    assert frame.height == hours * 6 * 6
    assert set(frame["product"]) == {
        "REG_UP",
        "REG_DOWN",
        "SPIN",
        "NON_SPIN",
        "REG_UP_MILEAGE",
        "REG_DOWN_MILEAGE",
    }
    spin = frame.filter((pl.col("iso_product") == "SR") & (pl.col("region") == "AS_CAISO"))
    assert spin["product"].unique().to_list() == ["SPIN"]
    assert spin["interval_start"].n_unique() == hours


def test_no_data_error_zip_is_a_no_data_error_not_an_empty_table(tmp_path):
    content = oasis_error_zip()
    with pytest.raises(IsoNoDataError, match="1000"):
        CAISO.check_payload(content, "req")
    with pytest.raises(IsoNoDataError, match="No data returned"):
        parse_file("CAISO", "lmp_da", _write(tmp_path, "e.zip", content))


def test_invalid_request_zip_names_the_code_and_description():
    content = oasis_error_zip("1002", "Invalid datetime format, please use valid datetime format")
    with pytest.raises(IsoErrorResponse) as info:
        CAISO.check_payload(content, "http://x/SingleZip?q")
    assert not isinstance(info.value, IsoNoDataError)
    assert "1002" in str(info.value) and "Invalid datetime format" in str(info.value)
    assert "INVALID_REQUEST.xml" in str(info.value)


def test_throttle_page_is_a_rate_limit_and_garbage_is_malformed():
    with pytest.raises(IsoRateLimitedError):
        CAISO.check_payload(THROTTLE_HTML, "req")
    with pytest.raises(MalformedFileError, match="should answer a ZIP"):
        CAISO.check_payload(b"not a zip at all", "req")


@pytest.mark.parametrize(
    ("faults", "named"),
    [
        (Faults(extra_column="NEW_FIELD"), "new column(s) NEW_FIELD"),
        (Faults(missing_column="PNODE_RESMRID"), "missing column(s) PNODE_RESMRID"),
    ],
)
def test_schema_drift_fails_loudly_naming_the_column_and_file(tmp_path, faults, named):
    path = _write(tmp_path, "drift.zip", oasis_zip("PRC_LMP", *_day(SPRING), faults=faults))
    with pytest.raises(SchemaDriftError) as info:
        parse_file("CAISO", "lmp_da", path)
    assert named in str(info.value)
    assert "drift.zip" in str(info.value)


def test_text_in_the_price_column_names_file_and_column(tmp_path):
    csv = oasis_csv("PRC_LMP", *_day(SPRING)).decode().splitlines()
    fields = csv[1].split(",")
    fields[14] = "2024-03-10T08:00:00-00:00"
    path = _write(tmp_path, "bad.csv", "\n".join([csv[0], ",".join(fields), *csv[2:]]).encode())
    with pytest.raises(MalformedFileError, match=r"bad\.csv.*'MW'"):
        parse_file("CAISO", "lmp_da", path)


def test_unknown_component_is_refused_rather_than_dropped(tmp_path):
    csv = oasis_csv("PRC_LMP", *_day(SPRING)).decode().replace(",MGHG,", ",MXYZ,", 1)
    with pytest.raises(MalformedFileError, match="MXYZ"):
        parse_file("CAISO", "lmp_da", _write(tmp_path, "x.csv", csv.encode()))


def test_duplicate_raw_rows_stay_visible_as_duplicate_keys(tmp_path):
    path = _write(
        tmp_path, "d.zip", oasis_zip("PRC_LMP", *_day(SPRING), faults=Faults(duplicate_rows=2))
    )
    frame = parse_file("CAISO", "lmp_da", path)
    assert frame.select(pl.struct("location", "interval_start").is_duplicated().sum()).item() >= 2


def test_legacy_xml_report_parses_into_the_same_table(tmp_path):
    rows = []
    for item, value in (
        ("LMP_PRC", "30.5"),
        ("LMP_ENE_PRC", "31"),
        ("LMP_CONG_PRC", "0"),
        ("LMP_LOSS_PRC", "-0.5"),
    ):
        rows.append(
            f"<REPORT_DATA><DATA_ITEM>{item}</DATA_ITEM><RESOURCE_NAME>TH_NP15_GEN-APND"
            "</RESOURCE_NAME><OPR_DATE>2016-05-20</OPR_DATE><INTERVAL_NUM>13</INTERVAL_NUM>"
            "<INTERVAL_START_GMT>2016-05-20T19:00:00-00:00</INTERVAL_START_GMT>"
            "<INTERVAL_END_GMT>2016-05-20T20:00:00-00:00</INTERVAL_END_GMT>"
            f"<VALUE>{value}</VALUE></REPORT_DATA>"
        )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><OASISReport xmlns="http://www.caiso.com/soa/'
        'OASISReport_v1.xsd"><MessagePayload><RTO><name>CAISO</name><REPORT_ITEM>'
        + "".join(rows)
        + "</REPORT_ITEM></RTO></MessagePayload></OASISReport>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("20160520_20160520_PRC_LMP_DAM_v1.xml", xml)
    frame = parse_file("CAISO", "lmp_da", _write(tmp_path, "old.zip", buffer.getvalue()))
    assert frame.select("lmp", "energy", "congestion", "loss").row(0) == (30.5, 31.0, 0.0, -0.5)
    assert frame["interval_start"][0] == datetime(2016, 5, 20, 19, tzinfo=UTC)
