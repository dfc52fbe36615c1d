"""Combined products: DA and AS side by side, RT hourly statistics, RT native with DA repeated,
and roll-ups that tolerate a location appearing mid-period."""

from datetime import UTC, date, datetime, timedelta

import polars as pl

from power_assets.isos.caiso import Caiso
from power_assets.stages import combine
from power_assets.stages.flatten import flatten
from power_assets_tests.helpers import PACIFIC, lmp_long

FALL = date(2024, 11, 3)


def _wide(dataset, interval, locations, market):
    long = lmp_long(FALL, interval, locations, market=market)
    return flatten(long, Caiso.datasets[dataset], PACIFIC, FALL)[0], long


def test_rt_hourly_stats_cover_both_repeated_one_am_hours():
    _, rt_long = _wide("lmp_rt5", timedelta(minutes=5), ["A"], "RT5M")
    stats = combine.rt_hourly_stats(rt_long)
    assert stats.height == 25
    second_one_am = stats.filter(pl.col("interval_start") == datetime(2024, 11, 3, 9, tzinfo=UTC))
    # Intervals 24..35 of the day (lmp = interval index): mean 29.5, max 35, min 24.
    assert second_one_am.select("rt_mean__A", "rt_max__A", "rt_min__A").row(0) == (29.5, 35.0, 24.0)
    assert second_one_am["rt_std__A"][0] > 0


def test_native_product_repeats_the_hours_da_and_as_on_every_rt_interval():
    da, _ = _wide("lmp_da", timedelta(hours=1), ["A"], "DAM")
    rt, _ = _wide("lmp_rt5", timedelta(minutes=5), ["A"], "RT5M")
    as_wide = da.rename({"A": "AS_CAISO__SPIN"})
    native = combine.da_as_rt_native(combine.da_as_hourly(da, as_wide), rt)
    assert native.height == 300
    assert native.columns == [
        "interval_start",
        "interval_end",
        "da__A",
        "as__AS_CAISO__SPIN",
        "rt__A",
    ]
    hour_three = native.slice(36, 12)  # the fourth hour of the day, twelve 5-minute rows
    assert hour_three["da__A"].to_list() == [3.0] * 12
    assert hour_three["rt__A"].to_list() == [float(i) for i in range(36, 48)]


def test_roll_up_streams_days_with_different_locations_into_one_file(tmp_path):
    day1 = tmp_path / "d1.parquet"
    day2 = tmp_path / "d2.parquet"
    first, _ = _wide("lmp_da", timedelta(hours=1), ["A"], "DAM")
    second, _ = _wide("lmp_da", timedelta(hours=1), ["A", "B"], "DAM")
    first.write_parquet(day1)
    second.with_columns(pl.col("interval_start", "interval_end") + timedelta(days=1)).write_parquet(
        day2
    )
    stats = combine.roll_up([day1, day2], tmp_path / "month.parquet")
    month = pl.read_parquet(tmp_path / "month.parquet")
    assert stats == {"rows": 50, "columns": 4, "source_files": 2}
    assert month.columns == ["interval_start", "interval_end", "A", "B"]
    assert month["B"].head(25).null_count() == 25 and month["B"].tail(25).null_count() == 0
    assert month["interval_start"].is_sorted()
