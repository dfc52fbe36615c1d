"""Partition keys and ranges: the `{date}|{ISO}` form, and which ranges a run accepts.

Expectations are written out as a user types them, never built with the code under test.
"""

from datetime import date

import dagster as dg
import pytest

from power_assets.keys import (
    MarketPartition,
    PartitionKeyError,
    check_partition_range,
    parse_partition_key,
    partition_key,
)


def test_a_key_reads_date_then_iso_as_dagster_sorts_the_dimensions():
    assert str(partition_key(date(2024, 11, 3), "CAISO")) == "2024-11-03|CAISO"
    assert parse_partition_key("2024-11-03|CAISO") == MarketPartition("CAISO", date(2024, 11, 3))
    multi = dg.MultiPartitionKey({"iso": "ERCOT", "date": "2024-03-10"})
    assert str(multi) == "2024-03-10|ERCOT"
    assert parse_partition_key(multi) == MarketPartition("ERCOT", date(2024, 3, 10))


@pytest.mark.parametrize(
    "text",
    [
        "CAISO|2024-11-03",
        "2024-11-03",
        "2024-13-01|CAISO",
        "20241103|CAISO",
        "2024-W44-7|CAISO",
        "|",
        "",
    ],
)
def test_a_key_in_another_form_names_the_form(text):
    with pytest.raises(PartitionKeyError, match=r"\{date\}\|\{ISO\}.*2024-11-03\|CAISO"):
        parse_partition_key(text)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2024-01-01|CAISO", "2024-01-31|CAISO"),  # one ISO's days: a CLI backfill
        ("2024-01-01|CAISO", "2024-01-01|NYISO"),  # one day's ISOs: a UI backfill of one day
        ("2024-03-10|ERCOT", "2024-03-10|ERCOT"),  # one partition
    ],
)
def test_ranges_that_vary_one_dimension_are_accepted(start, end):
    first, last = check_partition_range(start, end)
    assert str(first.key) == start and str(last.key) == end


@pytest.mark.parametrize(
    ("start", "end", "problem"),
    [
        # The range of the issue: read by Dagster as a rectangle, it selects nothing.
        ("2024-01-01|NYISO", "2024-01-31|CAISO", "it spans several days and several ISOs"),
        # A rectangle over every ISO between the two; not what "CAISO then NYISO" means.
        ("2024-01-01|CAISO", "2024-01-31|NYISO", "it spans several days and several ISOs"),
        ("2024-01-31|CAISO", "2024-01-01|CAISO", "its first date is after its last"),
        ("2024-01-01|NYISO", "2024-01-01|CAISO", "its ISOs are in reverse order"),
    ],
)
def test_ranges_over_both_dimensions_or_reversed_are_refused_naming_the_rule(start, end, problem):
    with pytest.raises(PartitionKeyError) as refused:
        check_partition_range(start, end)
    message = str(refused.value)
    assert f"partition range {start}...{end}: {problem}" in message
    assert "2024-11-03|CAISO...2024-11-30|CAISO" in message  # the rule, with an example
    assert "one range per ISO" in message
