"""A market day is the ISO-local day: 23, 24 or 25 hours of UTC instants."""

from datetime import UTC, date, datetime, timedelta

import pytest

from power_assets.market_time import (
    expected_interval_starts,
    hours_in_market_day,
    market_day_bounds,
)


@pytest.mark.parametrize(
    ("day", "hours", "first_utc"),
    [
        (date(2024, 3, 10), 23, datetime(2024, 3, 10, 8, tzinfo=UTC)),
        (date(2024, 11, 3), 25, datetime(2024, 11, 3, 7, tzinfo=UTC)),
        (date(2024, 1, 1), 24, datetime(2024, 1, 1, 8, tzinfo=UTC)),
    ],
)
def test_pacific_market_day_bounds_and_length(day, hours, first_utc):
    start, end = market_day_bounds("America/Los_Angeles", day)
    assert start == first_utc
    assert (end - start) == timedelta(hours=hours)
    assert hours_in_market_day("America/Los_Angeles", day) == hours


@pytest.mark.parametrize(
    ("day", "count"), [(date(2024, 3, 10), 276), (date(2024, 11, 3), 300), (date(2024, 6, 1), 288)]
)
def test_five_minute_grid_has_276_288_or_300_intervals(day, count):
    grid = expected_interval_starts("America/Los_Angeles", day, timedelta(minutes=5))
    assert grid.len() == count
    assert grid.n_unique() == count
    assert grid.dtype.time_zone == "UTC"
