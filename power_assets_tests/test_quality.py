"""Quality rules: duplicates, per-location interval gaps against the DST-aware grid, price bounds."""

from datetime import UTC, date, datetime, timedelta

import polars as pl

from power_assets import quality
from power_assets.isos import DatasetKind
from power_assets.isos.caiso import Caiso
from power_assets.schemas import LMP_KEY
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
