"""ERCOT's 2-Day AS Reports: cleared and self-arranged DAM AS MW per product and hour, with the
fall-back day numbered 1..25 and no DSTFlag, read from the report's ZIP of CSVs."""

import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest

from power_assets.demo.ercot_disclosure_fixtures import as_quantity, disclosure_doc
from power_assets.demo.ercot_fixtures import doc_zip
from power_assets.errors import MalformedFileError, SchemaDriftError
from power_assets.isos import get_iso
from power_assets.parsing import parse_files

ERCOT = get_iso("ERCOT")
SPRING, FALL = date(2024, 3, 10), date(2024, 11, 3)


def _parse(tmp_path, day):
    path = tmp_path / disclosure_doc(day).constructed_name
    path.write_bytes(doc_zip(disclosure_doc(day)))
    return ERCOT.parse_with_notes("as_cleared_da", [path])


@pytest.mark.parametrize(("day", "hours"), [(SPRING, 23), (FALL, 25), (date(2024, 11, 4), 24)])
def test_every_hour_of_the_day_once_per_product_and_quantity(tmp_path, day, hours):
    frame, notes = _parse(tmp_path, day)
    assert notes == {"offer_curve_files_skipped": 1}
    assert frame.height == hours * 8  # 5 cleared + 3 self-arranged products
    per_series = frame.group_by("product", "quantity_type").agg(
        n=frame["interval_start"].n_unique()
    )
    assert set(per_series["n"]) == {hours}
    start = frame["interval_start"].min()
    assert frame["interval_start"].max() == start + timedelta(hours=hours - 1)


def test_fall_back_hours_are_placed_by_position_not_wall_clock(tmp_path):
    frame, _ = _parse(tmp_path, FALL)
    reg_up = frame.filter(
        (frame["product"] == "REG_UP") & (frame["quantity_type"] == "cleared")
    ).sort("interval_start")
    # HE 2 is 01:00 CDT (06:00Z), HE 3 the repeated 01:00 CST (07:00Z), HE 25 23:00 CST.
    assert reg_up["interval_start"][1] == datetime(2024, 11, 3, 6, tzinfo=UTC)
    assert reg_up["interval_start"][2] == datetime(2024, 11, 3, 7, tzinfo=UTC)
    assert reg_up["interval_start"][24] == datetime(2024, 11, 4, 5, tzinfo=UTC)
    instant = datetime(2024, 11, 3, 7, tzinfo=UTC)
    assert reg_up["mw"][2] == as_quantity("REGUP", "cleared", instant)
    assert set(reg_up["iso_product"]) == {"REGUP"} and set(reg_up["region"]) == {"ERCOT"}


def test_a_changed_value_column_is_schema_drift_naming_the_member(tmp_path):
    path = tmp_path / "doc.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "2d_Cleared_DAM_AS_REGUP-05-NOV-24.csv",
            "Delivery Date,Hour Ending,Cleared MW\n11/03/2024,1,10\n",
        )
    with pytest.raises(SchemaDriftError, match=r"REGUP-05-NOV-24\.csv.*Cleared MW"):
        ERCOT.parse_with_notes("as_cleared_da", [path])


def test_an_hour_the_day_does_not_have_is_an_error(tmp_path):
    path = tmp_path / "2d_Cleared_DAM_AS_REGUP-12-MAR-24.csv"
    path.write_text("Delivery Date,Hour Ending,Total Cleared AS - RegUp\n03/10/2024,24,10\n")
    with pytest.raises(MalformedFileError, match="hour ending 24 does not exist on 2024-03-10"):
        ERCOT.parse_with_notes("as_cleared_da", [path])


def test_dropped_members_are_matched_to_the_operating_day_two_days_before_posting():
    assert ERCOT.dropped_file_day("2d_Self_Arranged_AS_NSPIN-05-NOV-24.csv") == (
        "as_cleared_da", FALL,
    )  # fmt: skip
    assert ERCOT.dropped_file_day("2d_Agg_AS_Offers_REGUP-05-NOV-24.csv") is None


def test_real_2024_11_03_archive_hour_ending_1_to_25(samples, tmp_path):
    source = samples / "ercot" / "np3-911-er_archive_download_1049861718.zip"
    frame = parse_files("ERCOT", "as_cleared_da", [source])
    assert frame.height == 425  # 8 cleared + 9 self-arranged products x 25 hours
    cleared = frame.filter(frame["quantity_type"] == "cleared")
    assert sorted(set(cleared["iso_product"])) == [
        "ECRSM", "ECRSS", "NSPIN", "REGDN", "REGUP", "RRSFFR", "RRSPFR", "RRSUFR",
    ]  # fmt: skip
    reg_up = cleared.filter(cleared["product"] == "REG_UP").sort("interval_start")
    assert reg_up.height == 25
    assert reg_up["interval_start"][0] == datetime(2024, 11, 3, 5, tzinfo=UTC)
    assert reg_up["mw"][0] == 162.9
    assert reg_up["mw"][16] == 917.1  # HE 17
    assert reg_up["interval_start"][24] == datetime(2024, 11, 4, 5, tzinfo=UTC)
    assert reg_up["mw"][24] == 224.0
    assert ERCOT.dropped_file_day("2d_Cleared_DAM_AS_REGUP-05-NOV-24.csv")[1] == FALL
