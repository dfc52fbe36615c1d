"""What an asset's page shows about a partition (power_assets/assets/pages.py): row count, column
schema, preview, the price summary by location type and the figures the Plots tab charts.

The frames are written out row by row here and every expectation is either written literally or
computed with plain Python from those rows, never with the code under test. One end-to-end run
through Dagster (a PJM day from the fake Data Miner) checks what lands on the materializations.
"""

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import polars as pl
import pytest

from power_assets.assets import day_chart, pages
from power_assets.demo.pjm_server import FakeDataMiner
from power_assets.isos import get_iso
from power_assets.isos.base import DatasetKind
from power_assets.isos.pjm import SUBSCRIPTION_KEY_ENV
from power_assets.keys import combined_key, stage_key, stage_keys
from power_assets.kinds import KINDS
from power_assets.schemas import (
    AS_PRICE_COLUMNS,
    LMP_COLUMNS,
    LOAD_COLUMNS,
    AsPriceSchema,
    LmpSchema,
    LoadSchema,
)
from power_assets_tests.e2e_support import loopback_defs, query, run_day

T0 = datetime(2024, 6, 3, 4, tzinfo=UTC)  # 00:00 EPT
HOUR = timedelta(hours=1)
DAY = date(2024, 6, 3)
PJM = get_iso("PJM")
PJM_LMP_MAX = 10_000.0  # PJM's LMP bound for 2016 onwards, written here as the ISO states it

# (location, location_type, hour, lmp): two hubs, a zone, two generators, three hours.
LMP_ROWS = [
    ("WESTERN HUB", "HUB", 0, 31.5), ("WESTERN HUB", "HUB", 1, 28.25), ("WESTERN HUB", "HUB", 2, 40.0),
    ("EASTERN HUB", "HUB", 0, 35.0), ("EASTERN HUB", "HUB", 1, -4.5), ("EASTERN HUB", "HUB", 2, 52.75),
    ("AECO", "ZONE", 0, 30.0), ("AECO", "ZONE", 1, 29.0), ("AECO", "ZONE", 2, 33.0),
    ("GEN A", "GEN", 0, -12.0), ("GEN A", "GEN", 1, 10_000.0), ("GEN A", "GEN", 2, 20.0),
    ("GEN B", "GEN", 0, 18.0), ("GEN B", "GEN", 1, 19.5), ("GEN B", "GEN", 2, -0.25),
]  # fmt: skip


def lmp_frame(rows, iso: str = "PJM") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "interval_start": [T0 + h * HOUR for _, _, h, _ in rows],
            "interval_end": [T0 + (h + 1) * HOUR for _, _, h, _ in rows],
            "iso": [iso] * len(rows),
            "market": ["DAM"] * len(rows),
            "location": [name for name, _, _, _ in rows],
            "location_type": [kind for _, kind, _, _ in rows],
            "location_id": [None] * len(rows),
            "baa": [None] * len(rows),
            "lmp": [price for _, _, _, price in rows],
            "energy": [None] * len(rows),
            "congestion": [None] * len(rows),
            "loss": [None] * len(rows),
            "ghg": [None] * len(rows),
        },
        schema={name: dtype.type for name, dtype in LmpSchema.to_schema().dtypes.items()},
    )


def _mean(values):
    return sum(values) / len(values)


def _summary_rows_by_python(rows, maximum):
    """location_type -> (locations, min, mean, max, negative, capped), from the rows."""
    out = {}
    for kind in sorted({k for _, k, _, _ in rows}):
        prices = [p for _, k, _, p in rows if k == kind]
        names = {n for n, k, _, _ in rows if k == kind}
        out[kind] = (
            len(names), min(prices), _mean(prices), max(prices),
            sum(p < 0 for p in prices), sum(p >= maximum for p in prices),
        )  # fmt: skip
    return out


def _value(entry):
    return entry.value if hasattr(entry, "value") else entry


def test_the_price_summary_by_location_type_counts_negative_and_capped_prices():
    summary = pages.price_summary(
        lmp_frame(LMP_ROWS), DatasetKind.LMP, PJM.value_bound(DatasetKind.LMP, 2024)
    )
    got = {
        row["location_type"]: (
            row["locations"],
            row["min"],
            row["mean"],
            row["max"],
            row["negative"],
            row["capped"],
        )
        for row in summary.iter_rows(named=True)
    }
    want = _summary_rows_by_python(LMP_ROWS, PJM_LMP_MAX)
    assert list(got) == ["GEN", "HUB", "ZONE"]
    for kind, values in want.items():
        assert got[kind] == pytest.approx(values), kind
    # written out for the two groups that matter most
    assert got["HUB"] == pytest.approx((2, -4.5, 30.5, 52.75, 1, 0))
    assert got["GEN"][4:] == (2, 1)  # -12.0 and -0.25 negative; 10,000 at the bound


def test_the_figures_are_the_days_min_mean_max_and_the_hubs_mean_and_max():
    figures = pages.price_figures(lmp_frame(LMP_ROWS), DatasetKind.LMP)
    prices = [p for _, _, _, p in LMP_ROWS]
    hubs = [p for _, k, _, p in LMP_ROWS if k == "HUB"]
    assert figures["price_min"] == -12.0
    assert figures["price_max"] == 10_000.0
    assert figures["price_mean"] == pytest.approx(_mean(prices))
    assert figures["hub_price_mean"] == pytest.approx(_mean(hubs)) == pytest.approx(30.5)
    assert figures["hub_price_max"] == 52.75
    assert figures["hub_locations"] == 2
    assert figures["hub_types"] == "HUB"


def test_an_iso_without_hubs_charts_every_location_and_ercot_hub_codes_are_hubs():
    nyiso_rows = [
        ("N.Y.C.", "ZONE", 0, 50.0),
        ("WEST", "ZONE", 0, 20.0),
        ("GEN1", "GENERATOR", 0, 5.0),
    ]
    figures = pages.price_figures(lmp_frame(nyiso_rows, "NYISO"), DatasetKind.LMP)
    assert figures["hub_price_mean"] == pytest.approx(25.0)
    assert figures["hub_price_max"] == 50.0
    assert (figures["hub_locations"], figures["hub_types"]) == (3, "")

    ercot_rows = [
        ("HB_NORTH", "HU", 0, 30.0), ("HB_HUBAVG", "AH", 0, 32.0), ("HB_BUSAVG", "SH", 0, 34.0),
        ("LZ_NORTH", "LZ", 0, 90.0), ("LZ_NORTH_LZEW", "LZEW", 0, 91.0), ("NODE1", "RN", 0, 99.0),
    ]  # fmt: skip
    figures = pages.price_figures(lmp_frame(ercot_rows, "ERCOT"), DatasetKind.LMP)
    assert figures["hub_price_mean"] == pytest.approx(32.0)
    assert figures["hub_price_max"] == 34.0
    assert (figures["hub_locations"], figures["hub_types"]) == (3, "AH, HU, SH")

    caiso_rows = [("TH_NP15_GEN-APND", "TRADING_HUB", 0, 41.0), ("DLAP_PGAE-APND", "DLAP", 0, 60.0)]
    figures = pages.price_figures(lmp_frame(caiso_rows, "CAISO"), DatasetKind.LMP)
    assert (figures["hub_price_max"], figures["hub_types"]) == (41.0, "TRADING_HUB")


def test_a_raw_parquet_page_has_row_count_the_models_schema_a_preview_and_float_figures():
    frame = lmp_frame(LMP_ROWS)
    page = pages.standardized_page(frame, PJM, DatasetKind.LMP, DAY)
    assert page["dagster/row_count"].value == 15
    schema = page["dagster/column_schema"].value
    assert isinstance(schema, dg.TableSchema)
    assert [c.name for c in schema.columns] == list(LmpSchema.to_schema().columns) == LMP_COLUMNS
    nullable = {c.name: c.constraints.nullable for c in schema.columns}
    assert nullable == {
        name: bool(column.nullable) for name, column in LmpSchema.to_schema().columns.items()
    }
    types = {c.name: c.type for c in schema.columns}
    assert types["interval_start"] == "Datetime[us, UTC]"
    assert (types["lmp"], types["location"]) == ("Float64", "String")

    lines = page["preview"].value.splitlines()
    assert lines[0] == "| " + " | ".join(LMP_COLUMNS) + " |"
    body = [line for line in lines[2:] if line.startswith("|")]
    assert len(body) == 5
    # the first five rows in file order: WESTERN HUB's three hours, then EASTERN HUB's first two
    assert [line.split(" | ")[4] for line in body] == ["WESTERN HUB"] * 3 + ["EASTERN HUB"] * 2
    assert [line.split(" | ")[8] for line in body] == ["31.5", "28.25", "40", "35", "-4.5"]
    assert body[0].startswith("| 2024-06-03T04:00:00+00:00 | 2024-06-03T05:00:00+00:00 | PJM |")
    assert "first 5 of 15 rows" in page["preview"].value

    for name, want in {
        "price_min": -12.0, "price_max": 10_000.0, "hub_price_max": 52.75, "hub_price_mean": 30.5,
    }.items():  # fmt: skip
        assert isinstance(page[name], dg.FloatMetadataValue), name
        assert page[name].value == pytest.approx(want), name
    assert page["price_mean"].value == pytest.approx(_mean([p for *_, p in LMP_ROWS]))
    assert page["hub_locations"].value == 2
    summary = page["price_summary"].value
    assert "| location_type | locations | min | mean | max | negative | capped |" in summary
    assert "| HUB | 2 | -4.5 | 30.5 | 52.75 | 1 | 0 |" in summary
    assert "| GEN | 2 | -12 | 1674.21 | 10000 | 2 | 1 |" in summary  # (sum 10,041.25) / 6
    assert "10,000" in summary  # the bound the capped column counts from


def test_as_prices_are_summarized_per_product_with_their_regions():
    rows = [  # (region, product, hour, price)
        ("MAD", "SPIN_10", 0, 4.0), ("MAD", "SPIN_10", 1, 6.0), ("PJM_RTO", "SPIN_10", 0, 2.0),
        ("PJM_RTO", "REG", 0, 18.0), ("PJM_RTO", "REG", 1, 22.0),
    ]  # fmt: skip
    frame = pl.DataFrame(
        {
            "interval_start": [T0 + h * HOUR for *_, h, _ in rows],
            "interval_end": [T0 + (h + 1) * HOUR for *_, h, _ in rows],
            "iso": ["PJM"] * len(rows),
            "market": ["DAM"] * len(rows),
            "region": [r for r, *_ in rows],
            "product": [p for _, p, _, _ in rows],
            "iso_product": [p for _, p, _, _ in rows],
            "price": [v for *_, v in rows],
        },
        schema={n: d.type for n, d in AsPriceSchema.to_schema().dtypes.items()},
    )
    page = pages.standardized_page(frame, PJM, DatasetKind.AS_PRICE, DAY)
    assert [c.name for c in page["dagster/column_schema"].value.columns] == AS_PRICE_COLUMNS
    summary = page["price_summary"].value
    assert "| product | regions | min | mean | max | negative | capped |" in summary
    assert "| REG | 1 | 18 | 20 | 22 | 0 | 0 |" in summary
    assert "| SPIN_10 | 2 | 2 | 4 | 6 | 0 | 0 |" in summary
    assert page["price_max"].value == 22.0 and page["price_min"].value == 2.0
    assert page["price_mean"].value == pytest.approx(52.0 / 5)
    assert "hub_price_max" not in page


def test_load_figures_are_the_largest_areas_mean_and_peak():
    rows = [  # (area, hour, MW): a total published beside its parts (as ERCOT's TOTAL)
        ("COAST", 0, 100.0), ("COAST", 1, 140.0), ("NORTH", 0, 60.0), ("NORTH", 1, 80.0),
        ("TOTAL", 0, 160.0), ("TOTAL", 1, 220.0),
    ]  # fmt: skip
    frame = pl.DataFrame(
        {
            "interval_start": [T0 + h * HOUR for _, h, _ in rows],
            "interval_end": [T0 + (h + 1) * HOUR for _, h, _ in rows],
            "iso": ["ERCOT"] * len(rows),
            "area": [a for a, _, _ in rows],
            "load_mw": [v for *_, v in rows],
        },
        schema={n: d.type for n, d in LoadSchema.to_schema().dtypes.items()},
    )
    page = pages.standardized_page(frame, get_iso("ERCOT"), DatasetKind.LOAD, DAY)
    assert page["dagster/row_count"].value == 6
    assert [c.name for c in page["dagster/column_schema"].value.columns] == LOAD_COLUMNS
    assert page["load_area"] == "TOTAL"
    assert isinstance(page["load_mean_mw"], dg.FloatMetadataValue)
    assert page["load_mean_mw"].value == 190.0 and page["load_max_mw"].value == 220.0
    assert "price_summary" not in page


def test_an_empty_day_has_a_row_count_of_zero_and_no_figures():
    page = pages.standardized_page(lmp_frame([]), PJM, DatasetKind.LMP, DAY)
    assert page["dagster/row_count"].value == 0
    assert page["preview"].value == "no rows"
    assert [c.name for c in page["dagster/column_schema"].value.columns] == LMP_COLUMNS
    assert not {"price_summary", "price_max", "hub_price_max"} & set(page)


@pytest.mark.parametrize("kind", list(DatasetKind))
def test_every_kinds_schema_is_its_pandera_models_and_the_warehouse_adds_its_load_columns(kind):
    model_columns = list(KINDS[kind].model.to_schema().columns)
    assert [c.name for c in pages.model_schema(kind).columns] == model_columns
    warehouse = pages.warehouse_page(7, kind)
    assert warehouse["dagster/row_count"].value == 7
    assert [c.name for c in warehouse["dagster/column_schema"].value.columns] == [
        *model_columns,
        "dataset",
        "market_date",
        "loaded_at",
    ]


def _wide(locations: list[str], hours: int = 6) -> pl.DataFrame:
    data = {
        "interval_start": [T0 + h * HOUR for h in range(hours)],
        "interval_end": [T0 + (h + 1) * HOUR for h in range(hours)],
    }
    for i, name in enumerate(locations):
        data[name] = [float(10 * i + h) for h in range(hours)]
    return pl.DataFrame(data)


def test_a_flattened_page_previews_its_first_eight_columns_and_lists_every_column():
    locations = [f"NODE{i:02d}" for i in range(10)]
    wide = _wide(locations)
    page = pages.flattened_page(wide, DatasetKind.LMP)
    assert page["dagster/row_count"].value == 6
    schema = page["dagster/column_schema"].value
    assert [(c.name, c.type) for c in schema.columns] == [
        ("interval_start", "Datetime[us, UTC]"), ("interval_end", "Datetime[us, UTC]"),
        *((name, "Float64") for name in locations),
    ]  # fmt: skip
    text = page["preview"].value
    lines = text.splitlines()
    assert lines[0] == "| interval_start | interval_end | " + " | ".join(locations[:6]) + " |"
    body = [line for line in lines[2:] if line.startswith("|")]
    assert len(body) == 5
    # NODE00..NODE05 in the first hour hold 0, 10, ..., 50
    assert body[0].endswith("| 0 | 10 | 20 | 30 | 40 | 50 |")
    assert "first 8 of 12 columns (4 more)" in text
    assert "first 5 of 6 rows" in text


def test_a_wide_table_beyond_the_listing_limit_is_described_by_column_family():
    many = [f"N{i:04d}" for i in range(pages.MAX_LISTED_COLUMNS + 50)]
    flat = pages.flattened_page(_wide(many, hours=2), DatasetKind.AS_PRICE)
    columns = flat["dagster/column_schema"].value.columns
    assert [c.name for c in columns] == ["interval_start", "interval_end", "{region}__{product}"]
    assert columns[2].type == "Float64"
    assert columns[2].description == f"{len(many):,} columns: N0000, N0001, N0002, …"

    combined = _wide([]).with_columns(
        *(pl.lit(1.0).alias(f"da__N{i:04d}") for i in range(150)),
        *(pl.lit(2.0).alias(f"rt_mean__N{i:04d}") for i in range(100)),
        pl.lit("x").alias("as__MAD__SPIN"),
    )
    page = pages.combined_page(combined)
    assert page["dagster/row_count"].value == 6
    got = [(c.name, c.type, c.description) for c in page["dagster/column_schema"].value.columns]
    assert got == [
        ("interval_start", "Datetime[us, UTC]", None),
        ("interval_end", "Datetime[us, UTC]", None),
        ("da__*", "Float64", "150 columns: da__N0000, da__N0001, da__N0002, …"),
        ("rt_mean__*", "Float64", "100 columns: rt_mean__N0000, rt_mean__N0001, rt_mean__N0002, …"),
        ("as__*", "String", "1 columns: as__MAD__SPIN"),
    ]


def test_a_combined_page_lists_its_columns_as_they_are():
    combined = _wide(["da__A", "da__B", "as__MAD__SPIN_10"])
    page = pages.combined_page(combined)
    assert [c.name for c in page["dagster/column_schema"].value.columns] == combined.columns
    assert "preview" not in page


# --- end to end -------------------------------------------------------------------------------

KEY = "asset-pages-test-key"
E2E_DAY = date(2024, 11, 4)


@pytest.mark.e2e
def test_a_pjm_day_through_dagster_shows_its_data_on_each_asset_page(tmp_path, monkeypatch):
    monkeypatch.setenv(SUBSCRIPTION_KEY_ENV, KEY)
    selection = [*stage_keys(["lmp_da", "as_da", "load"]), combined_key("da_as_hourly")]
    with FakeDataMiner(subscription_key=KEY) as fake, dg.instance_for_test() as instance:
        defs = loopback_defs(tmp_path, {"PJM": fake.base_url})
        result = run_day(defs, instance, f"{E2E_DAY}|PJM", selection)
    assert result.success
    metadata = {
        event.materialization.asset_key: event.materialization.metadata
        for event in result.get_asset_materialization_events()
    }
    data = tmp_path / "data" / "PJM"

    lmp = metadata[stage_key("raw_parquet", "lmp_da")]
    parquet = pl.read_parquet(data / "raw_parquet" / "lmp_da" / f"{E2E_DAY}.parquet")
    assert parquet.height > 0
    assert lmp["dagster/row_count"].value == parquet.height == lmp["rows"].value
    schema = lmp["dagster/column_schema"].value
    assert isinstance(schema, dg.TableSchema)
    assert [c.name for c in schema.columns] == LMP_COLUMNS == parquet.columns
    preview = lmp["preview"].value
    assert preview.splitlines()[0] == "| " + " | ".join(LMP_COLUMNS) + " |"
    assert f"| {parquet['location'][0]} |" in preview.splitlines()[2]
    assert isinstance(lmp["price_max"], dg.FloatMetadataValue)
    assert lmp["price_max"].value == parquet["lmp"].max()
    assert lmp["price_min"].value == parquet["lmp"].min()
    hubs = parquet.filter(pl.col("location_type") == "HUB")
    assert hubs["location"].n_unique() == 2  # the fake's EASTERN HUB and WESTERN HUB
    assert lmp["hub_price_max"].value == hubs["lmp"].max()
    assert lmp["hub_price_mean"].value == pytest.approx(hubs["lmp"].mean())
    assert "| HUB | 2 |" in lmp["price_summary"].value

    reserves = metadata[stage_key("raw_parquet", "as_da")]
    assert "| product | regions |" in reserves["price_summary"].value
    load = metadata[stage_key("raw_parquet", "load")]
    load_parquet = pl.read_parquet(data / "raw_parquet" / "load" / f"{E2E_DAY}.parquet")
    largest = load_parquet.group_by("area").agg(pl.col("load_mw").mean()).sort("load_mw")[-1]
    assert load["load_area"].value == largest["area"][0]
    area_loads = load_parquet.filter(pl.col("area") == largest["area"][0])["load_mw"]
    assert load["load_max_mw"].value == area_loads.max()

    flat = metadata[stage_key("flattened", "lmp_da")]
    wide = pl.read_parquet(data / "flattened" / "lmp_da" / f"{E2E_DAY}.parquet")
    assert flat["dagster/row_count"].value == wide.height == 24
    assert [c.name for c in flat["dagster/column_schema"].value.columns] == wide.columns
    assert f"first 8 of {wide.width} columns" in flat["preview"].value

    combined = metadata[combined_key("da_as_hourly")]
    daily = pl.read_parquet(data / "combined" / "da_as_hourly" / "daily" / f"{E2E_DAY}.parquet")
    assert combined["dagster/row_count"].value == daily.height
    assert [c.name for c in combined["dagster/column_schema"].value.columns] == daily.columns

    chart = lmp["day_chart"].value
    assert "24 clock hours (America/New_York) from 00:00 to 23:00" in chart
    assert {line.split(" | ")[0] for line in chart.splitlines()[4:]} == {
        "| EASTERN HUB",
        "| WESTERN HUB",
    }
    assert "day_chart" in reserves

    stored = metadata[stage_key("warehouse", "lmp_da")]
    count = query(
        tmp_path,
        "SELECT count(*) FROM lmp WHERE iso = 'PJM' AND dataset = 'lmp_da' AND market_date = ?",
        [E2E_DAY],
    )[0][0]
    assert stored["dagster/row_count"].value == count == parquet.height
    table_columns = [row[0] for row in query(tmp_path, "DESCRIBE lmp")]
    assert [c.name for c in stored["dagster/column_schema"].value.columns] == table_columns


# --- the day's chart (day_chart.py) ---------------------------------------------------------


def test_a_sparkline_is_one_of_eight_blocks_per_value_from_low_to_high():
    assert day_chart.sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert day_chart.sparkline([-70.0, 0.0, 70.0]) == "▁▅█"  # halfway is step 3.5 of 7: ▅ (step 4)
    assert day_chart.sparkline([5.0, None, 5.0]) == "▄ ▄"
    assert day_chart.sparkline([None, None]) == "  "


def _chart_rows(chart: str) -> dict[str, tuple[str, str, str]]:
    """series -> (low, sparkline, high) from the chart's markdown table."""
    rows = {}
    for line in chart.splitlines()[4:]:
        _, series, low, line_, high, _ = line.split("|")
        rows[series.strip()] = (low.strip(), line_.strip().strip("`"), high.strip())
    return rows


def test_the_day_chart_draws_each_hub_hour_by_hour_on_a_25_hour_day():
    # 2024-11-03 in New York: 25 clock hours from 04:00 UTC; 01:00 comes twice.
    start = datetime(2024, 11, 3, 4, tzinfo=UTC)
    rows = [("NORTH HUB", "HUB", h, float(h)) for h in range(25)]
    rows += [("SOUTH HUB", "HUB", h, 100.0 - 4 * h) for h in range(25) if h != 6]
    rows += [("GEN A", "GEN", h, 1000.0) for h in range(25)]  # not a hub: not drawn
    frame = lmp_frame(rows).with_columns(
        pl.col("interval_start") - (T0 - start), pl.col("interval_end") - (T0 - start)
    )
    chart = day_chart.day_chart_markdown(
        frame, DatasetKind.LMP, "America/New_York", date(2024, 11, 3)
    )
    assert chart.splitlines()[0] == (
        "Hourly mean price ($/MWh) of 2024-11-03, 25 clock hours (America/New_York) "
        "from 00:00 to 23:00"
    )
    drawn = _chart_rows(chart)
    assert set(drawn) == {"NORTH HUB", "SOUTH HUB"}
    low, line, high = drawn["NORTH HUB"]
    # 0..24 scaled to 8 blocks: block round(h / 24 * 7), written out
    assert (low, high) == ("0.00", "24.00")
    assert line == "▁▁▂▂▂▂▃▃▃▄▄▄▅▅▅▅▆▆▆▇▇▇▇██"
    low, line, high = drawn["SOUTH HUB"]
    assert (low, high) == ("4.00", "100.00")
    assert len(line) == 25 and line[6] == "\u2002"  # the missing hour stays a (visible) gap
    assert line[0] == "█" and line[-1] == "▁"


def test_the_day_chart_averages_five_minute_prices_per_hour_and_as_prices_per_product():
    rows = []
    for minute in range(0, 120, 5):  # two hours of 5-minute prices
        for region, offset in (("EAST", 0.0), ("WEST", 10.0)):
            hour = minute // 60
            rows.append((T0 + timedelta(minutes=minute), region, "Spin", 5.0 + 10 * hour + offset))
            rows.append((T0 + timedelta(minutes=minute), region, "Reg Up", 20.0 - hour + offset))
    frame = pl.DataFrame(
        {
            "interval_start": [t for t, _, _, _ in rows],
            "region": [r for _, r, _, _ in rows],
            "product": [p for _, _, p, _ in rows],
            "price": [v for _, _, _, v in rows],
        },
        schema={"interval_start": pl.Datetime("us", "UTC"), "region": pl.String,
                "product": pl.String, "price": pl.Float64},
    )  # fmt: skip
    chart = day_chart.day_chart_markdown(frame, DatasetKind.AS_PRICE, "America/New_York", DAY)
    assert "| product | low | day | high |" in chart
    # hour means over both regions: Spin 10 then 20; Reg Up 25 then 24
    assert _chart_rows(chart) == {
        "Reg Up": ("24.00", "█▁", "25.00"),
        "Spin": ("10.00", "▁█", "20.00"),
    }


def test_an_iso_without_hubs_is_charted_as_the_mean_of_every_location():
    rows = [("A", "ZONE", h, 10.0 * h) for h in range(3)] + [
        ("B", "ZONE", h, 30.0) for h in range(3)
    ]
    chart = day_chart.day_chart_markdown(lmp_frame(rows), DatasetKind.LMP, "America/New_York", DAY)
    assert _chart_rows(chart) == {"all locations (mean)": ("15.00", "▁▅█", "25.00")}
    assert day_chart.day_chart_markdown(lmp_frame([]), DatasetKind.LMP, "UTC", DAY) is None


def test_empty_and_nan_prices_are_no_points_and_an_all_empty_hub_is_not_drawn():
    rows = [("NORTH HUB", "HUB", h, v) for h, v in enumerate([10.0, None, float("nan"), 40.0])]
    rows += [("SOUTH HUB", "HUB", h, None) for h in range(4)]
    chart = day_chart.day_chart_markdown(lmp_frame(rows), DatasetKind.LMP, "America/New_York", DAY)
    # hours 1 and 2 have no number: blank (drawn as an en space); SOUTH HUB has none at all
    assert _chart_rows(chart) == {"NORTH HUB": ("10.00", "▁\u2002\u2002█", "40.00")}
    only_empty = [("SOUTH HUB", "HUB", h, None) for h in range(4)]
    assert day_chart.day_chart_markdown(
        lmp_frame(only_empty), DatasetKind.LMP, "America/New_York", DAY
    ) is None
