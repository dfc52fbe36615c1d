"""PJM parsers on Data Miner 2 files written here in PJM's published formats.

The JSON pages follow the API's response (`links`, `items`, `searchSpecification`, `totalRows`;
naive `_utc` and `_ept` text), the CSV text the web site's export (`M/D/YYYY h:mm:ss AM/PM`,
`True`/`False`, empty cells). Column names are written out here, never imported from the parser,
and expected instants are worked out with zoneinfo, independently of the code under test. Both
2024 DST days are covered: the EPT column skips 02:00 on 2024-03-10 and repeats 01:00 on
2024-11-03; the UTC column never does.
"""

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from power_assets.errors import (
    IsoErrorResponse,
    MalformedFileError,
    SchemaDriftError,
    UnknownDatasetError,
)
from power_assets.isos.pjm.parsing import parse_files
from power_assets.schemas import (
    AS_PRICE_KEY,
    FUEL_MIX_KEY,
    LMP_COLUMNS,
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

EPT = ZoneInfo("America/New_York")
SPRING_FORWARD, FALL_BACK = date(2024, 3, 10), date(2024, 11, 3)
HOURS = {SPRING_FORWARD: 23, FALL_BACK: 25}
LMP_HEADER = (
    "datetime_beginning_utc,datetime_beginning_ept,pnode_id,pnode_name,voltage,equipment,type,"
    "zone,system_energy_price_{m},total_lmp_{m},congestion_price_{m},marginal_loss_price_{m},"
    "row_is_current,version_nbr"
)
HUBS = [(51217, "EASTERN HUB"), (51288, "WESTERN HUB")]


# --- PJM's formats ---------------------------------------------------------------------------


def steps(day: date, step: timedelta) -> list[datetime]:
    """The UTC instants starting the intervals of an EPT day."""
    start = datetime.combine(day, datetime.min.time(), EPT).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), EPT).astimezone(UTC)
    return [start + i * step for i in range(int((end - start) / step))]


def api_time(instant: datetime, zone: ZoneInfo = UTC) -> str:
    """The API's naive text: `2024-11-03T05:00:00`."""
    return instant.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S")


def export_time(instant: datetime, zone: ZoneInfo = UTC) -> str:
    """The CSV export's text: `11/3/2024 5:00:00 AM`."""
    t = instant.astimezone(zone)
    hour = t.hour % 12 or 12
    return f"{t.month}/{t.day}/{t.year} {hour}:{t.minute:02d}:{t.second:02d} {'AM' if t.hour < 12 else 'PM'}"


def page(tmp_path: Path, feed: str, items: list[dict], name: str = "") -> Path:
    """A Data Miner 2 JSON page as the API returns it."""
    base = "https://api.pjm.com/api/v1"
    document = {
        "links": [
            {
                "rel": "self",
                "href": f"{base}/{feed}?RowCount=50000&Order=Asc&StartRow=1&IsActiveMetadata=True",
            },
            {"rel": "metadata", "href": f"{base}/{feed}/metadata"},
        ],
        "items": items,
        "searchSpecification": {
            "rowCount": 50000,
            "order": "Asc",
            "startRow": 1,
            "isActiveMetadata": True,
            "fields": list(items[0]) if items else [],
            "filters": [],
        },
        "totalRows": len(items),
    }
    path = tmp_path / (name or f"{feed}.json")
    path.write_text(json.dumps(document))
    return path


def export(tmp_path: Path, name: str, header: str, rows: list[list[object]]) -> Path:
    """A Data Miner CSV export: header and rows, empty cells for nulls."""
    lines = [header] + [",".join("" if v is None else str(v) for v in row) for row in rows]
    path = tmp_path / name
    path.write_text("\r\n".join(lines) + "\r\n")
    return path


def record(header: str, *values: object, **extra: object) -> dict:
    """One JSON item: PJM's column names (a header line) with their values."""
    return dict(zip(header.split(","), values, strict=True)) | extra


def lmp_item(instant: datetime, pnode: tuple[int, str], m: str, lmp: float, **extra) -> dict:
    ept = api_time(instant, EPT)
    values = (pnode[0], pnode[1], None, None, "HUB", None, 20.0, lmp, lmp - 21.0, 1.0, True, 1)
    return record(LMP_HEADER.format(m=m), api_time(instant), ept, *values, **extra)


def lmp_export_row(instant: datetime, pnode: tuple[int, str], lmp: float) -> list[object]:
    prices = ["20.000000", f"{lmp:.6f}", f"{lmp - 21.0:.6f}", "1.000000"]
    times = [export_time(instant), export_time(instant, EPT)]
    return [*times, *pnode, None, None, "HUB", None, *prices, "True", "1"]


def validated(frame: pl.DataFrame, model, key: list[str]) -> pl.DataFrame:
    validate_standardized(frame, model, "test")
    assert frame.select(key).is_duplicated().sum() == 0
    return frame


def starts(frame: pl.DataFrame) -> list[datetime]:
    return sorted(frame["interval_start"].unique().to_list())


# --- LMP -------------------------------------------------------------------------------------


@pytest.mark.parametrize("day", [SPRING_FORWARD, FALL_BACK])
@pytest.mark.parametrize(
    ("dataset", "m", "market", "fmt"),
    [
        ("lmp_da", "da", "DAM", "json"),
        ("lmp_da", "da", "DAM", "csv"),
        ("lmp_rt_hourly", "rt", "RTH", "json"),
        ("lmp_rt_hourly", "rt", "RTH", "csv"),
    ],
)
def test_hourly_lmps_on_dst_days(
    tmp_path: Path, day: date, dataset: str, m: str, market: str, fmt: str
) -> None:
    hours = steps(day, timedelta(hours=1))
    assert len(hours) == HOURS[day]
    ept = Counter(api_time(h, EPT)[11:13] for h in hours)
    # What makes the day hard: the EPT column skips or repeats an hour.
    assert (ept["01"], ept["02"]) == ((1, 0) if day == SPRING_FORWARD else (2, 1))
    feed = f"{m}_hrl_lmps"
    if fmt == "json":
        items = [lmp_item(h, hub, m, 30.0 + i) for i, h in enumerate(hours) for hub in HUBS]
        path = page(tmp_path, feed, items)
    else:
        rows = [lmp_export_row(h, hub, 30.0 + i) for i, h in enumerate(hours) for hub in HUBS]
        path = export(tmp_path, f"{feed}.csv", LMP_HEADER.format(m=m), rows)
    frame, notes = parse_files(dataset, [path])
    validated(frame, LmpSchema, LMP_KEY)
    assert frame.columns == LMP_COLUMNS
    assert notes["rows_superseded"] == 0
    assert frame.height == 2 * HOURS[day]
    for pnode_id, name in HUBS:
        node = frame.filter(pl.col("location") == name).sort("interval_start")
        assert node["interval_start"].to_list() == hours
        assert node["interval_start"].dt.convert_time_zone(
            "America/New_York"
        ).dt.date().unique().to_list() == [day]
        assert (node["interval_end"] - node["interval_start"]).unique().to_list() == [
            timedelta(hours=1)
        ]
        assert node["lmp"].to_list() == [30.0 + i for i in range(len(hours))]
        assert node["congestion"].to_list() == [9.0 + i for i in range(len(hours))]
        assert set(node["energy"]) == {20.0} and set(node["loss"]) == {1.0}
        assert node["ghg"].null_count() == node.height
        assert set(node["location_id"]) == {str(pnode_id)}
        assert set(node["location_type"]) == {"HUB"}
        assert set(node["market"]) == {market} and set(node["iso"]) == {"PJM"}


def test_superseded_versions_are_dropped_and_counted(tmp_path: Path) -> None:
    hour = datetime(2024, 11, 3, 6, tzinfo=UTC)  # the second 01:00 EPT
    items = [
        lmp_item(hour, HUBS[0], "rt", 30.0, row_is_current=False, version_nbr=1),
        lmp_item(hour, HUBS[0], "rt", 31.5, row_is_current=True, version_nbr=2),
        lmp_item(hour, HUBS[1], "rt", 40.0),
    ]
    rows = [lmp_export_row(hour, HUBS[1], 41.0), lmp_export_row(hour, HUBS[1], 42.0)]
    rows[0][12:14] = ["False", "1"]
    rows[1][12:14] = ["True", "2"]
    json_page = page(tmp_path, "rt_hrl_lmps", items)
    csv_export = export(tmp_path, "rt_hrl_lmps.csv", LMP_HEADER.format(m="rt"), rows)
    frame, notes = parse_files("lmp_rt_hourly", [json_page])
    assert notes["rows_superseded"] == 1
    assert dict(zip(frame["location"], frame["lmp"], strict=True)) == {
        "EASTERN HUB": 31.5,
        "WESTERN HUB": 40.0,
    }
    frame, notes = parse_files("lmp_rt_hourly", [csv_export])
    assert notes["rows_superseded"] == 1 and frame["lmp"].to_list() == [42.0]


UNVERIFIED_HEADER = (
    "datetime_beginning_utc,datetime_beginning_ept,pnode_id,pnode_name,type,total_lmp_rt,"
    "congestion_price_rt,marginal_loss_price_rt,occ_check,ref_caseid_used_multi_interval"
)


def unverified_item(instant: str, pnode: tuple[int, str], total, congestion, loss) -> dict:
    ept = "2024-11-03T01:05:00"  # not read: only the UTC column places a row
    values = (*pnode, "HUB", total, congestion, loss, 0, "2024-11-03 01:05")
    return record(UNVERIFIED_HEADER, instant, ept, *values)


def test_unverified_five_minute_lmps_compute_energy(tmp_path: Path) -> None:
    items = [
        unverified_item("2024-11-03T06:05:00", HUBS[0], 30.5, 2.25, -0.75),
        # Some feeds stamp hh:mm:01 (and the API may add milliseconds): still the 06:05 interval.
        unverified_item("2024-11-03T06:05:01.000", HUBS[1], 28.0, None, 0.5),
    ]
    frame, notes = parse_files("lmp_rt5", [page(tmp_path, "rt_unverified_fivemin_lmps", items)])
    validated(frame, LmpSchema, LMP_KEY)
    assert notes == {"rows_superseded": 0}
    assert set(frame["market"]) == {"RT5M_PRELIM"}
    assert starts(frame) == [datetime(2024, 11, 3, 6, 5, tzinfo=UTC)]
    assert set(frame["interval_end"]) == {datetime(2024, 11, 3, 6, 10, tzinfo=UTC)}
    by_node = {row["location"]: row for row in frame.iter_rows(named=True)}
    assert by_node["EASTERN HUB"]["energy"] == pytest.approx(30.5 - 2.25 + 0.75)
    assert by_node["WESTERN HUB"]["energy"] is None  # a part is missing: no energy invented


def test_verified_and_unverified_pages_keep_their_markets(tmp_path: Path) -> None:
    verified = page(
        tmp_path,
        "rt_fivemin_hrl_lmps",
        [lmp_item(datetime(2024, 3, 10, 6, 55, tzinfo=UTC), HUBS[0], "rt", 25.0)],
    )
    unverified = page(
        tmp_path,
        "rt_unverified_fivemin_lmps",
        [unverified_item("2024-03-10T07:00:00", HUBS[0], 26.0, 1.0, 0.0)],
    )
    # A CSV export of the verified feed: no link, told from the unverified one by its columns.
    exported = export(
        tmp_path,
        "rt_fivemin_hrl_lmps.csv",
        LMP_HEADER.format(m="rt"),
        [lmp_export_row(datetime(2024, 3, 10, 7, 5, tzinfo=UTC), HUBS[0], 27.0)],
    )
    frame, _ = parse_files("lmp_rt5", [verified, unverified, exported])
    validated(frame, LmpSchema, LMP_KEY)
    got = {
        (r["interval_start"].strftime("%H:%M"), r["market"], r["lmp"])
        for r in frame.iter_rows(named=True)
    }
    assert got == {("06:55", "RT5M", 25.0), ("07:00", "RT5M_PRELIM", 26.0), ("07:05", "RT5M", 27.0)}
    assert set(frame["interval_end"] - frame["interval_start"]) == {timedelta(minutes=5)}


def test_a_name_two_nodes_share_gets_the_ids(tmp_path: Path) -> None:
    hour = datetime(2024, 3, 10, 5, tzinfo=UTC)
    items = [
        lmp_item(hour, (1001, "BUS A"), "da", 10.0),
        lmp_item(hour, (1002, "BUS A"), "da", 11.0),
        lmp_item(hour, (1003, "BUS B"), "da", 12.0),
        lmp_item(hour + timedelta(hours=1), (1001, "BUS A"), "da", 13.0),
    ]
    frame, notes = parse_files("lmp_da", [page(tmp_path, "da_hrl_lmps", items)])
    validated(frame, LmpSchema, LMP_KEY)
    assert notes == {"rows_superseded": 0, "rows_named_with_pnode_id": 3}
    assert sorted(zip(frame["location"], frame["location_id"], strict=True)) == [
        ("BUS A (1001)", "1001"), ("BUS A (1001)", "1001"), ("BUS A (1002)", "1002"),
        ("BUS B", "1003"),
    ]  # fmt: skip


def test_a_subset_of_fields_leaves_the_rest_null(tmp_path: Path) -> None:
    fields = "datetime_beginning_utc,pnode_id,pnode_name,total_lmp_da"
    items = [
        record(fields, "2024-03-10T06:00:00", 1, "PJM-RTO", 31.25),
        record(fields, "2024-03-10T07:00:00", 1, "PJM-RTO", 33),
    ]
    frame, notes = parse_files("lmp_da", [page(tmp_path, "da_hrl_lmps", items)])
    validated(frame, LmpSchema, LMP_KEY)
    assert frame["lmp"].to_list() == [31.25, 33.0]
    for column in ("energy", "congestion", "loss", "ghg"):
        assert frame[column].null_count() == 2
    assert set(frame["location_type"]) == {"UNKNOWN"}
    assert notes == {"rows_superseded": 0}


def test_an_empty_page_is_an_empty_table(tmp_path: Path) -> None:
    frame, notes = parse_files("lmp_da", [page(tmp_path, "da_hrl_lmps", [])])
    assert frame.height == 0 and frame.columns == LMP_COLUMNS
    validate_standardized(frame, LmpSchema, "test")
    assert notes == {"rows_superseded": 0}


# --- ancillary services ----------------------------------------------------------------------


RESERVE_HEADER = (
    "datetime_beginning_utc,datetime_beginning_ept,datetime_ending_utc,datetime_ending_ept,"
    "locale,service,mcp,mcp_capped,as_req_mw,total_mw,as_mw,ss_mw,ircmwt2,dsr_as_mw,nsr_mw"
)


def reserve_item(instant: datetime, service: str, mcp: float, **extra) -> dict:
    end = instant + timedelta(hours=1)
    times = (api_time(instant), api_time(instant, EPT), api_time(end), api_time(end, EPT))
    values = ("PJM_RTO", service, mcp, mcp, 100.0, 120.0, 110.0, 0.0, 0.0, 5.0, 0.0)
    return record(RESERVE_HEADER, *times, *values, **extra)


def test_day_ahead_reserves_on_the_spring_forward_day(tmp_path: Path) -> None:
    hours = steps(SPRING_FORWARD, timedelta(hours=1))
    services = {"REG": 10.0, "SR": 2.0, "PR": 3.0, "30MIN": 0.5, "NEWSVC": 7.0}
    items = [reserve_item(h, s, p) for h in hours for s, p in services.items()]
    frame, notes = parse_files("as_da", [page(tmp_path, "da_reserve_market_results", items)])
    validated(frame, AsPriceSchema, AS_PRICE_KEY)
    assert notes == {"rows_unmapped_product": 23}
    assert frame.height == 23 * 5 and set(frame["market"]) == {"DAM"}
    products = dict(zip(frame["iso_product"], frame["product"], strict=False))
    assert products == {
        "REG": "REG", "SR": "SPIN_10", "PR": "PRIMARY_10", "30MIN": "OPERATING_30",
        "NEWSVC": "NEWSVC",
    }  # fmt: skip
    assert starts(frame) == hours
    assert set(frame["interval_end"] - frame["interval_start"]) == {timedelta(hours=1)}
    assert set(frame["region"]) == {"PJM_RTO"}


def test_real_time_reserves_five_minute_and_hourly(tmp_path: Path) -> None:
    # The fall-back day's two 01:00 EPT hours, 5-minute (UTC 05:00-06:55), one stamp at :01.
    fives = [datetime(2024, 11, 3, 5, tzinfo=UTC) + i * timedelta(minutes=5) for i in range(24)]
    items = [
        reserve_item(t, "REG", 12.0 + i, reg_ccp=9.0 + i, reg_pcp=3.0, tier1_mw=0.0, regd_mw=1.0)
        for i, t in enumerate(fives)
    ] + [reserve_item(t, "SR", 1.0, reg_ccp=None, reg_pcp=None) for t in fives]
    items[5]["datetime_beginning_utc"] = items[5]["datetime_beginning_utc"][:-2] + "01"
    five_minute = page(tmp_path, "reserve_market_results", items, "rt_2024.json")
    # Before 2022-09-01 the feed is hourly.
    old = [
        reserve_item(
            datetime(2022, 8, 31, 22, tzinfo=UTC), "REG", 40.0, reg_ccp=30.0, reg_pcp=10.0
        ),
        reserve_item(
            datetime(2022, 8, 31, 23, tzinfo=UTC), "30MIN", 0.0, reg_ccp=None, reg_pcp=None
        ),
    ]
    hourly = page(tmp_path, "reserve_market_results", old, "rt_2022.json")
    frame, notes = parse_files("as_rt", [five_minute, hourly])
    validated(frame, AsPriceSchema, AS_PRICE_KEY)
    assert notes == {}
    recent = frame.filter(pl.col("interval_start") >= datetime(2024, 1, 1, tzinfo=UTC))
    assert set(recent["market"]) == {"RT5M"}
    assert set(recent["interval_end"] - recent["interval_start"]) == {timedelta(minutes=5)}
    assert Counter(recent["product"]) == dict.fromkeys(
        ("REG", "REG_CAPABILITY", "REG_PERFORMANCE", "SPIN_10"), 24
    )
    assert starts(recent) == fives
    capability = recent.filter(pl.col("iso_product") == "REG_CCP").sort("interval_start")
    assert capability["price"].to_list() == [9.0 + i for i in range(24)]
    past = frame.filter(pl.col("interval_start") < datetime(2024, 1, 1, tzinfo=UTC))
    assert set(past["market"]) == {"RTH"}
    assert set(past["interval_end"] - past["interval_start"]) == {timedelta(hours=1)}
    assert sorted(zip(past["product"], past["price"], strict=True)) == [
        ("OPERATING_30", 0.0), ("REG", 40.0), ("REG_CAPABILITY", 30.0), ("REG_PERFORMANCE", 10.0),
    ]  # fmt: skip


# --- load, forecasts, fuel mix ---------------------------------------------------------------


def test_metered_load_on_the_spring_forward_day(tmp_path: Path) -> None:
    hours = steps(SPRING_FORWARD, timedelta(hours=1))
    header = "datetime_beginning_utc,datetime_beginning_ept,nerc_region,mkt_region,zone,load_area,mw,is_verified"
    rows = [
        [export_time(h), export_time(h, EPT), "RFC", "MIDATL", "AE", "AE", 900 + i, i >= 2]
        for i, h in enumerate(hours)
    ]  # Python writes the booleans as True/False, like the export
    frame, notes = parse_files("load", [export(tmp_path, "hrl_load_metered.csv", header, rows)])
    validated(frame, LoadSchema, LOAD_KEY)
    assert notes == {"rows_not_verified": 2}
    assert frame.sort("interval_start")["interval_start"].to_list() == hours
    assert frame.sort("interval_start")["load_mw"].to_list() == [900.0 + i for i in range(23)]
    assert set(frame["area"]) == {"AE"}


def test_instantaneous_load_is_averaged_per_hour(tmp_path: Path) -> None:
    # ~5-minute samples at off-grid seconds across the fall-back day's two 01:00 EPT hours.
    header, items = "datetime_beginning_utc,datetime_beginning_ept,area,instantaneous_load", []
    for hour in (5, 6):
        for i, second in enumerate((13, 58, 2, 31)):
            instant = datetime(2024, 11, 3, hour, 5 * i, second, tzinfo=UTC)
            values = (api_time(instant), api_time(instant, EPT), "PJM RTO", 80000 + 100 * hour + i)
            items.append(record(header, *values))
    frame, notes = parse_files("load", [page(tmp_path, "inst_load", items)])
    validated(frame, LoadSchema, LOAD_KEY)
    assert notes == {"instantaneous_samples": 8}
    frame = frame.sort("interval_start")
    assert frame["interval_start"].to_list() == [
        datetime(2024, 11, 3, 5, tzinfo=UTC),
        datetime(2024, 11, 3, 6, tzinfo=UTC),
    ]
    assert frame["load_mw"].to_list() == [80501.5, 80601.5]
    assert set(frame["interval_end"] - frame["interval_start"]) == {timedelta(hours=1)}


def test_seven_day_forecasts_keep_every_vintage(tmp_path: Path) -> None:
    hours = steps(FALL_BACK, timedelta(hours=1))
    vintages = ["2024-11-02T14:45:00", "2024-11-02T15:15:00"]
    header = (
        "evaluated_at_datetime_utc,evaluated_at_datetime_ept,forecast_area,"
        "forecast_datetime_beginning_utc,forecast_datetime_beginning_ept,"
        "forecast_datetime_ending_utc,forecast_datetime_ending_ept,forecast_load_mw"
    )
    items = []
    for v, vintage in enumerate(vintages):
        for i, h in enumerate(hours):
            end = h + timedelta(hours=1)
            times = (api_time(h), api_time(h, EPT), api_time(end), api_time(end, EPT))
            mw = 70000 + 10 * i + v
            items.append(record(header, vintage, vintage, "RTO_COMBINED", *times, mw))
    frame, notes = parse_files("load_forecast", [page(tmp_path, "load_frcstd_7_day", items)])
    validated(frame, LoadForecastSchema, LOAD_FORECAST_KEY)
    assert notes == {} and frame.height == 50
    assert set(frame["forecast_type"]) == {"7_DAY"}
    assert sorted(set(frame["publish_time"])) == [
        datetime(2024, 11, 2, 14, 45, tzinfo=UTC),
        datetime(2024, 11, 2, 15, 15, tzinfo=UTC),
    ]
    for _, group in frame.group_by("publish_time"):
        assert group.sort("interval_start")["interval_start"].to_list() == hours
    assert set(frame["interval_end"] - frame["interval_start"]) == {timedelta(hours=1)}


def test_historical_forecasts_on_the_spring_forward_day(tmp_path: Path) -> None:
    hours = steps(SPRING_FORWARD, timedelta(hours=1))
    header = (
        "evaluated_at_utc,evaluated_at_ept,forecast_hour_beginning_utc,"
        "forecast_hour_beginning_ept,forecast_area,forecast_load_mw"
    )
    vintage = ("2024-03-09T14:45:00", "2024-03-09T09:45:00")
    items = [
        record(header, *vintage, api_time(h), api_time(h, EPT), "MID_ATLANTIC_REGION", 30000 + i)
        for i, h in enumerate(hours)
    ]
    frame, _ = parse_files("load_forecast", [page(tmp_path, "load_frcstd_hist", items)])
    validated(frame, LoadForecastSchema, LOAD_FORECAST_KEY)
    frame = frame.sort("interval_start")
    assert frame["interval_start"].to_list() == hours
    assert frame["load_mw"].to_list() == [30000.0 + i for i in range(23)]
    assert set(frame["publish_time"]) == {datetime(2024, 3, 9, 14, 45, tzinfo=UTC)}
    assert set(frame["area"]) == {"MID_ATLANTIC_REGION"}


def test_fuel_mix_on_the_fall_back_day(tmp_path: Path) -> None:
    hours = steps(FALL_BACK, timedelta(hours=1))
    header = "datetime_beginning_utc,datetime_beginning_ept,fuel_type,is_renewable,mw"
    items = [
        record(header, api_time(h), api_time(h, EPT), fuel, fuel == "Solar", mw)
        for h in hours
        for fuel, mw in (("Gas", 40000), ("Solar", 12.5), ("Storage", -3))
    ]
    frame, _ = parse_files("fuel_mix", [page(tmp_path, "gen_by_fuel", items)])
    validated(frame, FuelMixSchema, FUEL_MIX_KEY)
    assert frame.height == 75 and frame.schema["mw"] == pl.Float64
    assert starts(frame) == hours
    mw = {"Gas": 40000.0, "Solar": 12.5, "Storage": -3.0}
    assert dict(zip(frame["fuel"], frame["mw"], strict=False)) == mw


# --- bad input -------------------------------------------------------------------------------


def test_a_missing_required_column_names_the_file_and_column(tmp_path: Path) -> None:
    items = [
        {"datetime_beginning_utc": "2024-03-10T06:00:00", "pnode_id": 1, "pnode_name": "PJM-RTO"}
    ]
    path = page(tmp_path, "da_hrl_lmps", items, "no_price.json")
    with pytest.raises(SchemaDriftError, match=r"no_price\.json.*total_lmp_da"):
        parse_files("lmp_da", [path])
    header = "datetime_beginning_utc,datetime_beginning_ept,fuel_type,is_renewable"
    path = export(
        tmp_path,
        "gen_by_fuel.csv",
        header,
        [["2/9/2025 12:00:00 AM", "2/8/2025 7:00:00 PM", "Coal", "False"]],
    )
    with pytest.raises(SchemaDriftError, match=r"gen_by_fuel\.csv.*missing column\(s\) mw"):
        parse_files("fuel_mix", [path])


@pytest.mark.parametrize("bad", ["2024-03-10 25:00", "yesterday", None])
def test_an_unreadable_time_names_the_file_and_value(tmp_path: Path, bad: str | None) -> None:
    items = [
        {"datetime_beginning_utc": "2024-03-10T06:00:00", "fuel_type": "Gas", "mw": 1.0},
        {"datetime_beginning_utc": bad, "fuel_type": "Gas", "mw": 2.0},
    ]
    path = page(tmp_path, "gen_by_fuel", items, "bad_time.json")
    with pytest.raises(MalformedFileError, match=rf"bad_time\.json.*datetime_beginning_utc.*{bad}"):
        parse_files("fuel_mix", [path])


def test_a_bad_number_in_an_export_names_the_file(tmp_path: Path) -> None:
    row = lmp_export_row(datetime(2024, 3, 10, 6, tzinfo=UTC), HUBS[0], 30.0)
    row[9] = "n/a"
    path = export(tmp_path, "da_hrl_lmps.csv", LMP_HEADER.format(m="da"), [row])
    with pytest.raises(MalformedFileError, match=r"da_hrl_lmps\.csv.*total_lmp_da.*n/a"):
        parse_files("lmp_da", [path])


def test_pages_that_are_not_data(tmp_path: Path) -> None:
    error = tmp_path / "error.json"
    problem = {"field": "datetime_beginning_ept", "message": "Invalid date", "detail": "x"}
    error.write_text(json.dumps({"errors": [problem]}))
    with pytest.raises(IsoErrorResponse, match=r"error\.json.*Invalid date"):
        parse_files("lmp_da", [error])
    denied = tmp_path / "denied.json"
    denied.write_text(
        json.dumps({"statusCode": 401, "message": "Access denied due to missing subscription key."})
    )
    with pytest.raises(IsoErrorResponse, match=r"denied\.json.*401.*Access denied"):
        parse_files("lmp_da", [denied])
    broken = tmp_path / "broken.json"
    broken.write_text('{"items": [{"datetime_beginning_utc": ')
    with pytest.raises(MalformedFileError, match=r"broken\.json"):
        parse_files("lmp_da", [broken])
    other_feed = page(
        tmp_path,
        "rt_hrl_lmps",
        [lmp_item(datetime(2024, 3, 10, 6, tzinfo=UTC), HUBS[0], "rt", 1.0)],
    )
    with pytest.raises(
        MalformedFileError, match=r"rt_hrl_lmps\.json.*feed 'rt_hrl_lmps'.*da_hrl_lmps"
    ):
        parse_files("lmp_da", [other_feed])
    with pytest.raises(UnknownDatasetError, match="lmp_rt15"):
        parse_files("lmp_rt15", [other_feed])


def test_an_export_that_does_not_say_verified_or_not_is_refused(tmp_path: Path) -> None:
    header = "datetime_beginning_utc,pnode_id,pnode_name,total_lmp_rt"
    path = export(tmp_path, "five.csv", header, [["3/10/2024 6:00:00 AM", "1", "PJM-RTO", "30.0"]])
    with pytest.raises(
        MalformedFileError, match=r"five\.csv.*rt_fivemin_hrl_lmps, rt_unverified_fivemin_lmps"
    ):
        parse_files("lmp_rt5", [path])


def _da_page(path: Path, start_row: int, items: list[dict], total: int) -> Path:
    body = {
        "links": [{"rel": "self", "href": "https://api.pjm.com/api/v1/da_hrl_lmps?RowCount=2"}],
        "items": items,
        "searchSpecification": {"rowCount": 2, "order": "Asc", "startRow": start_row,
                                "isActiveMetadata": True, "fields": [], "filters": []},
        "totalRows": total,
    }  # fmt: skip
    path.write_text(json.dumps(body))
    return path


def _da_item(hour: int, pnode_id: int, name: str, lmp: float) -> dict:
    return {"datetime_beginning_utc": f"2024-11-03T{hour:02d}:00:00", "pnode_id": pnode_id,
            "pnode_name": name, "type": "HUB", "total_lmp_da": lmp}  # fmt: skip


def test_pages_of_one_query_that_miss_rows_are_refused(tmp_path):
    rows = [_da_item(4, 51217, "EASTERN HUB", 30.0), _da_item(4, 51288, "WESTERN HUB", 31.0),
            _da_item(5, 51217, "EASTERN HUB", 29.0)]  # fmt: skip
    first = _da_page(tmp_path / "page_00001.json", 1, rows[:2], 3)
    with pytest.raises(MalformedFileError, match="hold 2 of its 3 rows: pages are missing"):
        parse_files("lmp_da", [first])
    second = _da_page(tmp_path / "page_00002.json", 3, rows[2:], 3)
    frame, _ = parse_files("lmp_da", [first, second])
    assert frame.height == 3


def test_overlapping_files_repeat_rows_that_are_kept_once_and_counted(tmp_path):
    header = "datetime_beginning_utc,pnode_id,pnode_name,type,total_lmp_da\n"
    one = "11/3/2024 4:00:00 AM,51217,EASTERN HUB,HUB,30.5\n"
    two = "11/3/2024 5:00:00 AM,51217,EASTERN HUB,HUB,28.25\n"
    (tmp_path / "a.csv").write_text(header + one + two)
    (tmp_path / "b.csv").write_text(header + two)  # a second export overlapping the first
    frame, notes = parse_files("lmp_da", [tmp_path / "a.csv", tmp_path / "b.csv"])
    assert frame.height == 2 and notes["rows_repeated_across_files"] == 1
    assert sorted(frame["lmp"].to_list()) == [28.25, 30.5]
