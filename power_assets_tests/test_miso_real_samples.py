"""MISO's parsers on the real payloads in ../shared/samples/miso, with every expected value read
from the raw bytes here (csv, json, fastexcel cell by cell), never from the parser under test."""

import csv
import json
from datetime import UTC, datetime, timedelta

import fastexcel
import pytest

from power_assets.errors import PowerAssetsError
from power_assets.parsing import parse_file
from power_assets_tests.samples import require_sample

EST = timedelta(hours=5)  # EST = UTC-5, all year


def test_day_ahead_expost_lmp_csv_every_value_from_the_raw_bytes():
    path = require_sample("miso/miso_da_expost.csv")
    frame = parse_file("MISO", "lmp_da", path)
    lines = path.read_text().splitlines()
    assert lines[1] == "07/14/2026"
    rows = list(csv.reader(lines[5:]))
    want = {}
    for node, kind, value, *hours in rows:
        for he, text in enumerate(hours, start=1):
            start = datetime(2026, 7, 14, tzinfo=UTC) + EST + timedelta(hours=he - 1)
            want.setdefault((node, start), {"type": kind})[value] = float(text)
    assert frame.height == len(want) == 3 * 24
    assert set(frame["market"]) == {"DAM"} and set(frame["iso"]) == {"MISO"}
    for row in frame.iter_rows(named=True):
        expected = want[(row["location"], row["interval_start"])]
        assert (row["lmp"], row["congestion"], row["loss"]) == (
            expected["LMP"], expected["MCC"], expected["MLC"],
        )  # fmt: skip
        assert row["energy"] == pytest.approx(expected["LMP"] - expected["MCC"] - expected["MLC"])
        assert row["location_type"] == expected["type"]
        assert row["interval_end"] - row["interval_start"] == timedelta(hours=1)
    # `.92` is 0.92: HE 2 MCC of ILLINOIS.HUB.
    he2 = datetime(2026, 7, 14, 6, tzinfo=UTC)
    (mcc,) = frame.filter(location="ILLINOIS.HUB", interval_start=he2)["congestion"]
    assert mcc == 0.92


def _sheet(path):
    reader = fastexcel.read_excel(path.read_bytes())
    sheet = reader.load_sheet(0, header_row=None, dtypes="string")
    columns = sheet.to_polars()
    return [list(r) for r in columns.iter_rows()]


def test_df_al_workbook_actuals_and_forecasts_from_the_cells():
    path = require_sample("miso/20250310_df_al.xls")
    cells = _sheet(path)
    header = next(r for r in cells if r[0] == "Market Day")
    hours = [r for r in cells if r[0] and r[0][:2] == "20" and r[1] and r[1].isdigit()]
    assert len(hours) == 7 * 24
    load = parse_file("MISO", "load", path)
    forecast = parse_file("MISO", "load_forecast", path)
    assert load.height == 24 * 7  # seven areas, actuals of 2025-03-09 only
    # MTLF of 2025-03-09 .. 03-15; published 2025-03-10 00:00 EST, so the 03-09 hours are no
    # forecast and are left out.
    assert forecast.height == 6 * 24 * 7
    published = datetime(2025, 3, 10, 5, tzinfo=UTC)
    assert set(forecast["publish_time"]) == {published}
    got_load = {(r["area"], r["interval_start"]): r["load_mw"] for r in load.iter_rows(named=True)}
    got_fc = {
        (r["area"], r["interval_start"]): r["load_mw"] for r in forecast.iter_rows(named=True)
    }
    for row in hours:
        day = datetime.strptime(row[0][:10], "%Y-%m-%d").replace(tzinfo=UTC)
        start = day + EST + timedelta(hours=int(float(row[1])) - 1)
        for column, title in enumerate(header):
            if not title or column < 2:
                continue
            area, what = title.split()[0], title.split()[1]
            value = None if row[column] is None else float(row[column])
            if what == "MTLF" and start < published:
                assert (area, start) not in got_fc
            elif what == "MTLF":
                assert got_fc[(area, start)] == value
            elif value is not None:
                assert got_load[(area, start)] == value
    first = datetime(2025, 3, 9, 5, tzinfo=UTC)
    assert got_load[("MISO", first)] == 65773.06 and ("LRZ1", first) not in got_fc


def test_public_api_fuel_mix_from_the_json():
    path = require_sample("miso/public-api_FuelMix_20260727_truncated.json")
    items = json.loads(path.read_bytes())["Fuel"]["Type"]
    frame = parse_file("MISO", "fuel_mix", path)
    start = datetime(2026, 7, 27, 13, 10, tzinfo=UTC)  # "2026-07-27 8:10:00 AM" EST
    assert sorted(frame.select("fuel", "mw").rows()) == sorted(
        (i["CATEGORY"], float(i["ACT"])) for i in items
    )
    assert set(frame["interval_start"]) == {start}
    assert set(frame["interval_end"]) == {start + timedelta(minutes=5)}


def test_public_api_total_load_averages_the_five_minute_readings_per_hour():
    path = require_sample("miso/public-api_RealTimeTotalLoad_20260727_truncated.json")
    info = json.loads(path.read_bytes())["LoadInfo"]
    values = [float(x["Load"]["Value"]) for x in info["FiveMinTotalLoad"]]
    assert [x["Load"]["Time"] for x in info["FiveMinTotalLoad"]] == ["00:00", "00:05"]
    frame = parse_file("MISO", "load", path)
    assert frame.rows() == [(
        datetime(2026, 7, 27, 5, tzinfo=UTC), datetime(2026, 7, 27, 6, tzinfo=UTC), "MISO",
        "MISO", sum(values) / len(values),
    )]  # fmt: skip


def test_the_ancillary_mcp_display_is_no_fuel_mix_or_load_answer():
    # GetAncillaryServicesMcp is a display of the current interval only; the AS datasets come
    # from the ASM report CSVs. Handed to the wrong parser it fails naming the file.
    path = require_sample(
        "miso/public-api_MarketPricing_GetAncillaryServicesMcp_20260727_truncated.json"
    )
    assert json.loads(path.read_bytes())["MCPData"]["RealTimeMCP"]["Zone"][0]["GenRegMCP"] == "9.34"
    for dataset in ("fuel_mix", "load"):
        with pytest.raises(PowerAssetsError, match=str(path.name)):
            parse_file("MISO", dataset, path)
