"""MISO inputs at their edges, each written out literally in MISO's published layout: a weekly
CSV whose stamps are not interval starts or whose names are Latin-1, report CSVs recognised by
their header (not by any "HE" in them), ZIPs checked without being decompressed, Data Exchange
pages recognised by name, a public-API answer for another day than asked, and parsers that
never hand the items of an answer to Python one by one."""

import io
import json
import types
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest

from power_assets.errors import MalformedFileError
from power_assets.isos import get_iso
from power_assets.isos.miso import data_exchange as miso_data_exchange
from power_assets.isos.miso import definition as miso_definition
from power_assets.parsing import parse_file

MISO = get_iso("MISO")
PREAMBLE = (
    "Real-Time 5 Minute Ex-Post LMPs\n11/04/2024 - 11/10/2024\n\n"
    "All times are Eastern Standard Time (EST)\n"
    "MKTHOUR_EST,PNODENAME,LMP,CON_LMP,LOSS_LMP\n"
)
FOOTER = "\nMISO MAKES NO REPRESENTATIONS OR WARRANTIES.\n"


def _week_lines(day: date, node: str, first_minute: int) -> str:
    start = datetime(day.year, day.month, day.day) + timedelta(minutes=first_minute)
    return "".join(
        f"{start + timedelta(minutes=5 * k):%m/%d/%Y %H:%M},{node},20.5,-1.25,.5\n"
        for k in range(288)
    )


def test_a_weekly_csv_whose_days_do_not_run_from_00_00_is_refused(tmp_path):
    path = tmp_path / "20241118_5MIN_LMP.csv"
    path.write_text(PREAMBLE + _week_lines(date(2024, 11, 4), "ALTW.WELLS1", 0) + FOOTER)
    assert MISO.span_file_days("lmp_rt5", path) == [date(2024, 11, 4)]
    # Stamped by interval end: 00:05 .. 24:00, the last one on the next day.
    path.write_text(PREAMBLE + _week_lines(date(2024, 11, 4), "ALTW.WELLS1", 5) + FOOTER)
    with pytest.raises(MalformedFileError, match=r"2024-11-04 runs 00:05 \.\. 23:55"):
        MISO.span_file_days("lmp_rt5", path)


def test_a_latin_1_weekly_csv_is_cut_and_read_with_its_names(tmp_path):
    path = tmp_path / "20241118_5MIN_LMP.csv"
    text = PREAMBLE + _week_lines(date(2024, 11, 4), "MONTRÉAL.HUB", 0) + FOOTER
    path.write_bytes(text.encode("latin-1"))
    assert MISO.span_file_days("lmp_rt5", path) == [date(2024, 11, 4)]
    target = tmp_path / "cut" / "20241118_5MIN_LMP.csv"
    target.parent.mkdir()
    assert MISO.cut_span_day("lmp_rt5", path, date(2024, 11, 4), target) == 288
    for table in (parse_file("MISO", "lmp_rt5", path), parse_file("MISO", "lmp_rt5", target)):
        assert set(table["location"]) == {"MONTRÉAL.HUB"} and table.height == 288


def test_a_report_csv_is_recognised_by_its_header_not_by_any_he():
    lmp = b"Day Ahead Market ExPost LMPs\n07/14/2026\n\n,,,All Hours\nNode,Type,Value,HE 1,HE 2\n"
    asm = b"Dayahead Market MCPs.\n07/14/2026,,All\n\n,,MCP Type, HE 1, HE 2\r\n"
    for content in (lmp, asm, PREAMBLE.encode()):
        MISO.check_payload(content, "https://x/marketreports/20260714_da_expost_lmp.csv")
    not_a_report = b"Notice\nTHE report you asked for has moved\nHERE\n"
    with pytest.raises(MalformedFileError, match="not a MISO report CSV"):
        MISO.check_payload(not_a_report, "https://x/marketreports/20260714_da_expost_lmp.csv")


def test_a_zip_is_checked_from_its_directory_without_decompressing(monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("20241118_5MIN_LMP.csv", PREAMBLE * 50)

    def no_testzip(self):
        raise AssertionError("testzip decompresses every member")

    monkeypatch.setattr(zipfile.ZipFile, "testzip", no_testzip)
    MISO.check_payload(buffer.getvalue(), "https://x/marketreports/20241118_5MIN_LMP.zip")
    with pytest.raises(MalformedFileError, match="not a readable ZIP"):
        MISO.check_payload(b"PK\x03\x04 broken", "https://x/marketreports/20241118_5MIN_LMP.zip")


def _exchange_page(page_first: bool) -> bytes:
    day = datetime(2024, 11, 3)
    rows = [
        {"timeInterval": {"resolution": "5min", "start": f"{day + timedelta(minutes=5 * k)}.000",
                          "end": "x", "value": "x"},
         "preliminaryFinal": "Final", "node": "ALTW.WELLS1", "lmp": 21.5, "mcc": 1.0,
         "mec": 20.0, "mlc": 0.5}
        for k in range(288)
    ]  # fmt: skip
    page = {"pageNumber": 1, "pageSize": 5000, "totalElements": 288, "totalPages": 1,
            "lastPage": True}  # fmt: skip
    body = {"page": page, "data": rows} if page_first else {"data": rows, "page": page}
    return json.dumps(body, indent=2).encode()


def test_a_data_exchange_page_is_known_by_its_name_or_its_page_block_at_either_end(tmp_path):
    for page_first in (True, False):
        path = tmp_path / f"first_{page_first}.json"
        path.write_bytes(_exchange_page(page_first))
        table = parse_file("MISO", "lmp_rt5", path)
        assert table.height == 288 and set(table["lmp"]) == {21.5}
    kept = tmp_path / "20241103_lmp-expost_5min_final.zip"
    with zipfile.ZipFile(kept, "w") as archive:
        archive.writestr("page_00001.json", _exchange_page(True))
    assert parse_file("MISO", "lmp_rt5", kept).height == 288


def test_a_public_api_answer_for_another_day_than_asked_is_refused(tmp_path):
    # FuelMix/Yesterday asked for 2026-07-26 just before EST midnight, sent just after: MISO
    # answered 2026-07-27's.
    body = {"RefId": "27-Jul-2026 - Interval 00:05 EST", "TotalMW": "90000", "Fuel": {"Type": [
        {"INTERVALEST": "2026-07-27 12:00:00 AM", "CATEGORY": "Coal", "ACT": "29517",
         "FUEL_CATEGORY": "Coal  (29,517 MW)"}]}}  # fmt: skip
    path = tmp_path / "20260726_FuelMix_Yesterday.json"
    path.write_text(json.dumps(body))
    with pytest.raises(MalformedFileError, match=r"holds 2026-07-27 \(EST\), not 2026-07-26"):
        parse_file("MISO", "fuel_mix", path)
    right = tmp_path / "20260727_FuelMix_Today.json"
    right.write_text(json.dumps(body))
    (row,) = parse_file("MISO", "fuel_mix", right).iter_rows(named=True)
    assert row["interval_start"] == datetime(2026, 7, 27, 5, tzinfo=UTC)


def test_the_json_answers_are_not_read_item_by_item_in_python(tmp_path, monkeypatch):
    fuel = tmp_path / "FuelMix.json"
    item = {"INTERVALEST": "2026-07-27 8:10:00 AM", "CATEGORY": "Storage", "ACT": "-12"}
    fuel.write_text(json.dumps({"RefId": "x", "Fuel": {"Type": [item]}}))
    load = tmp_path / "RealTimeTotalLoad.json"
    load.write_text(json.dumps({"LoadInfo": {"RefId": "27-Jul-2026 - Interval 00:05 EST",
        "FiveMinTotalLoad": [{"Load": {"Time": "00:00", "Value": "93419"}},
                             {"Load": {"Time": "00:05", "Value": "93087"}}]}}))  # fmt: skip
    prices = tmp_path / "Rolling.json"
    prices.write_text(json.dumps({"headers": ["INTERVAL", "CPNODE", "LMP", "MLC", "MCC"],
        "data": [["2026-07-27T00:00:00", "ALTW.WELLS1", 21.5, 0.5, -1]]}))  # fmt: skip
    page = tmp_path / "page_00001.json"
    page.write_bytes(_exchange_page(False))

    def refused(*args, **kwargs):
        raise AssertionError("json.loads builds Python objects for every item")

    # Refused in the MISO modules that import json (polars itself may use json for its settings).
    for module in (miso_data_exchange, miso_definition):
        stub = types.SimpleNamespace(**{**vars(json), "loads": refused})
        monkeypatch.setattr(module, "json", stub)
    assert parse_file("MISO", "fuel_mix", fuel)["mw"].to_list() == [-12.0]
    assert parse_file("MISO", "load", load)["load_mw"].to_list() == [(93419 + 93087) / 2]
    assert parse_file("MISO", "lmp_rt5", prices)["energy"].to_list() == [22.0]
    assert parse_file("MISO", "lmp_rt5", page).height == 288


def test_report_csvs_are_not_split_line_by_line_in_python(tmp_path, monkeypatch):
    import csv

    lmp = tmp_path / "20241103_da_expost_lmp.csv"
    lmp.write_text(
        "Day Ahead Market ExPost LMPs\n11/03/2024\n\n,,,All Hours-Ending are Eastern Standard "
        "Time (EST)\nNode,Type,Value," + ",".join(f"HE {n}" for n in range(1, 25)) + "\n"
        + "\n".join(f"ILLINOIS.HUB,Hub,{kind}," + ",".join([value] * 24)
                    for kind, value in (("LMP", "30.5"), ("MCC", ".92"), ("MLC", "-1.2")))
        + "\n"
    )  # fmt: skip
    asm = tmp_path / "20241103_asm_rtmcp_final.csv"
    hours = ",".join(f" HE {n}" for n in range(1, 25))
    asm.write_bytes(
        (
            "Real Time Final Market MCPs.\r\n11/03/2024,,All Hours-Ending are Eastern Standard "
            f"Time (EST)\r\n\r\n,,MCP Type,{hours}\r\nMISO Wide,-,GENREGMCP,"
            + ",".join(["9.5"] * 24) + f"\r\n\r\n\r\nPnode,Zone,MCP Type,{hours}\r\n"
            "ZONE1.RSV,Zone 1,STRMCP," + ",".join(["1.25"] * 24) + "\r\n"
        ).encode()
    )  # fmt: skip

    def refused(*args, **kwargs):
        raise AssertionError("csv.reader walks the file line by line in Python")

    monkeypatch.setattr(csv, "reader", refused)
    prices = parse_file("MISO", "lmp_da", lmp)
    assert prices.height == 24 and set(prices["congestion"]) == {0.92}
    midnight = datetime(2024, 11, 3, 5, tzinfo=UTC)  # HE 1 of 2024-11-03 EST
    assert prices["interval_start"].min() == midnight
    mcps = parse_file("MISO", "as_rt", asm)
    assert sorted(set(mcps.select("region", "product", "price").rows())) == [
        ("MISO", "REGULATION", 9.5), ("Zone 1", "SHORT_TERM_RESERVE", 1.25),
    ]  # fmt: skip
