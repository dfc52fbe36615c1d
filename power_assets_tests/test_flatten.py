"""Flattening: one column per location on the full market-day grid, short gaps filled only."""

from datetime import date, timedelta

import polars as pl
import pytest

from power_assets.isos.caiso import Caiso
from power_assets.stages.flatten import flatten
from power_assets_tests.helpers import PACIFIC, lmp_long

SPRING = date(2024, 3, 10)
FALL = date(2024, 11, 3)
RT5 = Caiso.datasets["lmp_rt5"]
DA = Caiso.datasets["lmp_da"]


def test_rt5_on_spring_forward_day_has_276_rows_and_a_column_per_location():
    long = lmp_long(SPRING, timedelta(minutes=5), ["A", "B"])
    wide, report = flatten(long, RT5, PACIFIC, SPRING)
    assert wide.shape == (276, 4)
    assert wide.columns == ["interval_start", "interval_end", "A", "B"]
    assert report.rows_lost == 0 and report.filled_cells == 0 and report.null_cells == 0


def test_da_on_fall_back_day_keeps_both_one_am_hours():
    long = lmp_long(FALL, timedelta(hours=1), ["A"], market="DAM")
    wide, _ = flatten(long, DA, PACIFIC, FALL)
    assert wide.height == 25
    assert wide["A"].to_list() == [float(i) for i in range(25)]


def test_gap_shorter_than_an_hour_is_forward_filled_longer_gap_stays_null():
    long = lmp_long(FALL, timedelta(minutes=5), ["A"])
    starts = long["interval_start"]
    short_gap = starts[10:13]  # 15 minutes
    long_gap = starts[100:113]  # 65 minutes
    holes = long.filter(~pl.col("interval_start").is_in(pl.concat([short_gap, long_gap]).implode()))
    wide, report = flatten(holes, RT5, PACIFIC, FALL)
    column = wide["A"].to_list()
    assert wide.height == 300
    assert column[10:13] == [9.0, 9.0, 9.0]
    assert column[100:113] == [None] * 13
    assert column[113] == 113.0
    assert report.filled_cells == 3 and report.null_cells == 13 and report.rows_lost == 0


def test_gap_of_exactly_one_hour_is_not_filled():
    long = lmp_long(SPRING, timedelta(minutes=5), ["A"])
    hole = long["interval_start"][24:36]  # 12 x 5 min = 60 minutes
    wide, _ = flatten(
        long.filter(~pl.col("interval_start").is_in(hole.implode())), RT5, PACIFIC, SPRING
    )
    assert wide["A"][24:36].null_count() == 12


def test_values_off_the_grid_are_counted_as_lost():
    long = lmp_long(SPRING, timedelta(minutes=5), ["A"])
    shifted = long.with_columns(
        pl.when(pl.int_range(pl.len()) == 5)
        .then(pl.col("interval_start") + timedelta(minutes=2))
        .otherwise(pl.col("interval_start"))
        .alias("interval_start")
    )
    _, report = flatten(shifted, RT5, PACIFIC, SPRING)
    assert report.rows_lost == 1


def test_duplicate_keys_refuse_to_flatten():
    long = lmp_long(SPRING, timedelta(hours=1), ["A"], market="DAM")
    with pytest.raises(ValueError, match="duplicates"):
        flatten(pl.concat([long, long.head(1)]), DA, PACIFIC, SPRING)


def test_day_without_rows_flattens_to_the_bare_grid():
    long = lmp_long(SPRING, timedelta(hours=1), ["A"], market="DAM").head(0)
    wide, report = flatten(long, DA, PACIFIC, SPRING)
    assert wide.columns == ["interval_start", "interval_end"]
    assert wide.height == 23 and report.rows_lost == 0


def test_one_missing_hour_of_hourly_data_is_not_filled():
    long = lmp_long(SPRING, timedelta(hours=1), ["A"], market="DAM")
    hole = long["interval_start"][5:6]
    wide, report = flatten(
        long.filter(~pl.col("interval_start").is_in(hole.implode())), DA, PACIFIC, SPRING
    )
    assert wide["A"][5] is None
    assert report.filled_cells == 0


def test_location_id_does_not_become_a_flattened_column():
    long = lmp_long(SPRING, timedelta(minutes=5), ["A", "B"])
    with_ids = long.with_columns(
        pl.when(pl.col("location") == "A").then(pl.lit("101")).alias("location_id")
    )
    wide, _ = flatten(with_ids, RT5, PACIFIC, SPRING)
    assert wide.columns == ["interval_start", "interval_end", "A", "B"]
    assert wide.equals(flatten(long, RT5, PACIFIC, SPRING)[0])
