"""Quality rules: duplicates, per-location interval gaps against the DST-aware grid, price bounds."""

from datetime import UTC, date, datetime, timedelta

import polars as pl

from power_assets import quality
from power_assets.assets.standardized import findings_for
from power_assets.isos import DatasetKind
from power_assets.isos.caiso import Caiso
from power_assets.keys import MarketPartition
from power_assets.schemas import LMP_KEY, LOAD_COLUMNS
from power_assets_tests.helpers import PACIFIC, lmp_long

FALL = date(2024, 11, 3)


def test_duplicate_keys_are_reported_with_their_count():
    long = lmp_long(FALL, timedelta(hours=1), ["A", "B"], market="DAM")
    dupes = quality.duplicate_keys(pl.concat([long, long.slice(3, 1), long.slice(3, 1)]), LMP_KEY)
    assert dupes.height == 1
    assert dupes.row(0, named=True)["count"] == 3


def test_complete_fall_back_day_has_no_gaps():
    long = lmp_long(FALL, timedelta(hours=1), ["A"], market="DAM")
    gaps = quality.interval_gaps(long, "location", PACIFIC, FALL, timedelta(hours=1))
    assert gaps.filter(pl.col("missing").list.len() > 0).is_empty()


def test_missing_repeated_hour_is_named_per_location():
    """A pivot that keeps the 'first' 01:00 would lose the second one; the check must see it."""
    long = lmp_long(FALL, timedelta(hours=1), ["A", "B"], market="DAM")
    second_one_am = datetime(2024, 11, 3, 9, tzinfo=UTC)  # 01:00 PST, after 01:00 PDT
    gaps = quality.interval_gaps(
        long.filter(~((pl.col("location") == "B") & (pl.col("interval_start") == second_one_am))),
        "location",
        PACIFIC,
        FALL,
        timedelta(hours=1),
    )
    by_location = {r["location"]: r["missing"] for r in gaps.iter_rows(named=True)}
    assert by_location == {"B": [second_one_am]}


def test_single_missing_five_minute_interval_is_a_gap():
    long = lmp_long(FALL, timedelta(minutes=5), ["A"])
    gaps = quality.interval_gaps(long.slice(1), "location", PACIFIC, FALL, timedelta(minutes=5))
    assert gaps["missing"].list.len().sum() == 1


def test_instants_off_the_grid_are_reported():
    long = lmp_long(FALL, timedelta(hours=1), ["A"], market="DAM").with_columns(
        pl.col("interval_start") + timedelta(minutes=30)
    )
    gaps = quality.interval_gaps(long, "location", PACIFIC, FALL, timedelta(hours=1))
    assert gaps["off_grid"].list.len().sum() == 25


def test_scarcity_price_passes_but_parse_garbage_fails_bounds():
    bound = Caiso().value_bound(DatasetKind.LMP, 2024)
    long = (
        lmp_long(FALL, timedelta(hours=1), ["A"], market="DAM")
        .head(3)
        .with_columns(pl.Series("lmp", [1_999.0, 1e9, float("nan")]))
    )
    bad = quality.out_of_bounds(long, ["lmp"], bound)
    assert bad["lmp"].to_list()[0] == 1e9
    assert bad.height == 2


# -- values the ISO published empty (see kinds.EMPTY_VALUES_RULE) --------------------------------


def _findings(frame: pl.DataFrame, dataset: str = "lmp_da"):
    return findings_for(frame, Caiso(), dataset, MarketPartition("CAISO", FALL))


def test_an_empty_lmp_fails_the_blocking_bounds_check_and_is_listed():
    long = lmp_long(FALL, timedelta(hours=1), ["A", "B"], market="DAM")
    hole = datetime(2024, 11, 3, 20, tzinfo=UTC)
    spoiled = long.with_columns(
        pl.when((pl.col("location") == "B") & (pl.col("interval_start") == hole))
        .then(None)
        .otherwise(pl.col("lmp"))
        .alias("lmp")
    )
    findings = _findings(spoiled)
    bounds = findings["values_within_bounds"]
    assert bounds.problems == 1
    assert bounds.figures["empty_values"] == 1
    assert "1 row(s) outside" in bounds.summary and "1 empty" in bounds.summary
    assert bounds.rows[0]["location"] == "B" and bounds.rows[0]["interval_start"] == hole
    assert findings["no_missing_values"].problems == 0  # counted once, where it blocks


def test_a_component_the_iso_does_not_publish_is_not_a_missing_value():
    long = lmp_long(FALL, timedelta(hours=1), ["A"], market="DAM")  # ghg null in every row
    findings = _findings(long)
    assert findings["values_within_bounds"].problems == 0
    assert findings["no_missing_values"].problems == 0


def test_a_component_published_empty_in_some_rows_is_kept_and_counted_as_a_warning():
    long = lmp_long(FALL, timedelta(hours=1), ["A"], market="DAM")
    spoiled = long.with_columns(
        pl.when(pl.int_range(pl.len()) < 2).then(None).otherwise(pl.col("congestion"))
        .alias("congestion")
    )  # fmt: skip
    findings = _findings(spoiled)
    assert findings["values_within_bounds"].problems == 0
    missing = findings["no_missing_values"]
    assert missing.problems == 2
    assert missing.figures == {"empty_congestion": 2}
    assert "congestion 2" in missing.summary


def test_a_quantity_published_empty_is_kept_as_null_and_warned_even_when_all_are_empty():
    hours = [datetime(2024, 11, 3, 7, tzinfo=UTC) + timedelta(hours=h) for h in range(25)]
    load = pl.DataFrame(
        {
            "interval_start": hours,
            "interval_end": [h + timedelta(hours=1) for h in hours],
            "iso": ["CAISO"] * 25,
            "area": ["CA ISO-TAC"] * 25,
            "load_mw": [None] * 25,
        },
        schema_overrides={"load_mw": pl.Float64},
    ).select(LOAD_COLUMNS)
    findings = _findings(load, "load")
    assert findings["values_within_bounds"].problems == 0
    assert findings["no_missing_values"].problems == 25
    assert findings["no_missing_values"].figures == {"empty_load_mw": 25}


def test_ancillary_prices_have_no_optional_columns_to_count():
    prices = pl.DataFrame(
        {"interval_start": [datetime(2024, 11, 3, 7, tzinfo=UTC)], "price": [None]},
        schema_overrides={"price": pl.Float64},
    )
    assert quality.missing_values(prices, [], "price")[1] == {}
    assert quality.missing_values(prices.clear(), ["price"], "price")[1] == {}
