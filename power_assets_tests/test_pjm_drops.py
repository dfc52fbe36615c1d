"""PJM's drop-folder files (isos/pjm/drops.py): per-day saved pages by name, Data Miner exports
and saved pages of any range by the Eastern market days of their rows, cut into one file per day.

Expectations come from the files' bytes read with the stdlib (csv, json, zoneinfo), or from the
Data Miner export format written out literally (the EPT column says which local day a row is).
"""

import csv
import json
import shutil
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from power_assets.errors import MalformedFileError
from power_assets.isos.pjm import drops, feeds
from power_assets.isos.pjm.definition import Pjm
from power_assets.layout import Layout
from power_assets.stages.drop import INDEX_NAME, drop_env_var, find_dropped, ingest_dropped_day
from power_assets.stages.raw import download_day

EASTERN = ZoneInfo("America/New_York")
LOGGER = "power_assets.isos.pjm.drops"


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Layout:
    monkeypatch.delenv(drop_env_var("PJM"), raising=False)
    return Layout(tmp_path / "data")


def drop_folder(layout: Layout) -> Path:
    folder = layout.iso_dir("PJM") / "raw_downloads" / "my_exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def utc_stamp(text: str) -> datetime:
    """A Data Miner export's `5/1/2025 4:00:00 AM`, which is UTC in the _utc columns."""
    return datetime.strptime(text, "%m/%d/%Y %I:%M:%S %p").replace(tzinfo=UTC)


class NoHttp:
    """Stage 1 must not request anything for a day served by a drop folder."""

    def __getattr__(self, name: str):
        raise AssertionError(f"drop-folder day used http.{name}")


# -- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("da_hrl_lmps_2026-06-09.json", ("lmp_da", date(2026, 6, 9))),
        ("da_hrl_lmps_2026-06-09.csv", ("lmp_da", date(2026, 6, 9))),
        ("da_hrl_lmps_2026-06-09_p2.json", ("lmp_da", date(2026, 6, 9))),
        ("saved/rt_unverified_fivemin_lmps_2026-06-10_page 3.json", ("lmp_rt5", date(2026, 6, 10))),
        ("RT_FIVEMIN_HRL_LMPS_2024-11-03.JSON", ("lmp_rt5", date(2024, 11, 3))),
        ("rt_hrl_lmps_2024-03-10.csv", ("lmp_rt_hourly", date(2024, 3, 10))),
        ("da_reserve_market_results_2024-01-05.json", ("as_da", date(2024, 1, 5))),
        ("reserve_market_results_2024-01-05.json", ("as_rt", date(2024, 1, 5))),
        ("hrl_load_metered_2024-01-05.json", ("load", date(2024, 1, 5))),
        ("inst_load_2024-01-05.json", ("load", date(2024, 1, 5))),
        ("load_frcstd_7_day_2024-01-05.json", ("load_forecast", date(2024, 1, 5))),
        ("load_frcstd_hist_2024-01-05.json", ("load_forecast", date(2024, 1, 5))),
        ("gen_by_fuel_2024-01-05.json", ("fuel_mix", date(2024, 1, 5))),
        ("da_hrl_lmps_2026-13-09.json", None),  # month 13
        ("da_hrl_lmps_20260609.json", None),
        ("da_hrl_lmps_2026-06-09_.json", None),
        ("da_hrl_lmps_2026-06-09.xml", None),
        ("five_min_solar_power_forecast_2024-10-01.json", None),  # a feed no dataset uses
        ("da_hrl_lmps.csv", None),  # a span file: no day in its name
        ("da_hrl_lmps_20260609.zip", None),  # stage 1's own page archive is a container
    ],
)
def test_dropped_file_day(name: str, expected):
    assert drops.dropped_file_day(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("da_hrl_lmps.csv", "lmp_da"),
        ("da_hrl_lmps.json", "lmp_da"),
        ("da_hrl_lmps (1).csv", "lmp_da"),
        ("da_hrl_lmps (12).json", "lmp_da"),
        ("Downloads/rt_hrl_lmps.CSV", "lmp_rt_hourly"),
        ("rt_unverified_fivemin_lmps.csv", "lmp_rt5"),
        ("load_frcstd_hist.csv", "load_forecast"),
        ("gen_by_fuel.csv", "fuel_mix"),
        ("da_hrl_lmps(1).csv", None),
        ("da_hrl_lmps (x).csv", None),
        ("da_hrl_lmps_2026-06-09.json", None),
        ("da_hrl_lmps.zip", None),
        ("pjm_api_da_marginal_value_2023-11-05_2023-11-07.json", None),
        ("marginal_value.csv", None),
    ],
)
def test_dropped_span_dataset(name: str, expected):
    assert drops.dropped_span_dataset(name) == expected


def test_the_feed_map_agrees_with_the_feeds_asked_for():
    assert set(drops.FEED_DATASETS) == set(feeds.FEEDS)
    for table in (feeds.HISTORY_FEEDS, feeds.CURRENT_FEEDS):
        for dataset, feed in table.items():
            assert drops.FEED_DATASETS[feed] == dataset
    assert set(drops.FEED_DATASETS.values()) == set(Pjm.datasets)


# -- the real Data Miner export ----------------------------------------------------------------


def sample_lines(sample: Path) -> tuple[bytes, list[tuple[bytes, datetime]]]:
    """(header line, [(line, its UTC start)]) from the bytes, with the csv module."""
    raw = sample.read_bytes()
    assert raw.endswith(b"\r\n")
    header, *lines = raw[:-2].split(b"\r\n")
    names = next(csv.reader([header.decode()]))
    at = names.index("datetime_beginning_utc")
    rows = [(line, utc_stamp(next(csv.reader([line.decode()]))[at])) for line in lines]
    return header, rows


def test_a_real_export_is_indexed_by_the_eastern_days_of_its_rows(
    layout: Layout, samples: Path, caplog: pytest.LogCaptureFixture
):
    sample = samples / "pjm" / "da_hrl_lmps.csv"
    dropped = drop_folder(layout) / "da_hrl_lmps.csv"
    shutil.copyfile(sample, dropped)
    _header, rows = sample_lines(sample)
    local = [stamp.astimezone(EASTERN) for _line, stamp in rows]
    days = {stamp.date() for stamp in local}
    # Whole days have rows in their first and last local hour; the export's inclusive end adds
    # one stray hour of 2025-08-01 (its midnight), which does not make that day.
    whole = {d for d in days if {0, 23} <= {s.hour for s in local if s.date() == d}}
    assert days - whole == {date(2025, 8, 1)}
    assert {s.hour for s in local if s.date() == date(2025, 8, 1)} == {0}

    with caplog.at_level("WARNING", logger=LOGGER):
        (found,) = find_dropped(layout, Pjm(), "lmp_da", date(2025, 5, 1))

    assert (found.name, found.file_name, found.cut) == (
        "da_hrl_lmps.csv",
        "da_hrl_lmps.2025-05-01.csv",
        True,
    )
    (entry,) = json.loads((layout.iso_dir("PJM") / INDEX_NAME).read_text())["archives"].values()
    ((_chain, _name, _size, dataset, indexed),) = entry["spans"]
    assert dataset == "lmp_da"
    assert indexed == sorted(d.isoformat() for d in whole)
    assert find_dropped(layout, Pjm(), "lmp_da", date(2025, 8, 1)) == []
    assert find_dropped(layout, Pjm(), "lmp_rt_hourly", date(2025, 5, 1)) == []
    (message,) = caplog.messages
    assert "rows of 2025-08-01 left out: not whole market days" in message


def test_stage_one_cuts_a_day_of_the_real_export_line_for_line(layout: Layout, samples: Path):
    sample = samples / "pjm" / "da_hrl_lmps.csv"
    dropped = drop_folder(layout) / "da_hrl_lmps.csv"
    shutil.copyfile(sample, dropped)
    header, rows = sample_lines(sample)
    may1 = [line for line, stamp in rows if stamp.astimezone(EASTERN).date() == date(2025, 5, 1)]
    assert len(may1) == 12 * 24  # 12 hubs, 24 hours
    expected = header + b"\r\n" + b"".join(line + b"\r\n" for line in may1)

    result = download_day(Pjm(), "lmp_da", date(2025, 5, 1), NoHttp(), layout)

    assert result.source == "drop_folder"
    (record,) = result.records
    folder = layout.raw_downloads("PJM", "lmp_da", date(2025, 5, 1))
    assert record.file_name == "da_hrl_lmps.2025-05-01.csv"
    assert record.url == f"drop:{dropped.resolve()}#2025-05-01"
    assert (folder / record.file_name).read_bytes() == expected
    assert dropped.read_bytes() == sample.read_bytes()


def test_a_real_saved_page_named_for_its_day_is_copied_as_is(layout: Layout, samples: Path):
    sample = samples / "pjm" / "da_hrl_lmps_2026-06-09.json"
    shutil.copyfile(sample, drop_folder(layout) / sample.name)

    (record,) = ingest_dropped_day(layout, Pjm(), "lmp_da", date(2026, 6, 9))

    folder = layout.raw_downloads("PJM", "lmp_da", date(2026, 6, 9))
    assert (folder / sample.name).read_bytes() == sample.read_bytes()
    assert record["file_name"] == sample.name


# -- the fall-back day, written out ----------------------------------------------------------

# A Data Miner export of EASTERN HUB's day-ahead LMP, 11/2/2024 00:00 to 11/4/2024 23:00 EPT
# (UTC-4 until 11/3 01:59 EDT, UTC-5 after; 11/3 has 25 hours, 1:00 AM twice).
DST_EXPORT = (
    b"datetime_beginning_utc,datetime_beginning_ept,pnode_id,pnode_name,type,total_lmp_da\r\n"
    b"11/2/2024 4:00:00 AM,11/2/2024 12:00:00 AM,51217,EASTERN HUB,HUB,20.00\r\n"
    b"11/2/2024 5:00:00 AM,11/2/2024 1:00:00 AM,51217,EASTERN HUB,HUB,21.01\r\n"
    b"11/2/2024 6:00:00 AM,11/2/2024 2:00:00 AM,51217,EASTERN HUB,HUB,22.02\r\n"
    b"11/2/2024 7:00:00 AM,11/2/2024 3:00:00 AM,51217,EASTERN HUB,HUB,23.03\r\n"
    b"11/2/2024 8:00:00 AM,11/2/2024 4:00:00 AM,51217,EASTERN HUB,HUB,24.04\r\n"
    b"11/2/2024 9:00:00 AM,11/2/2024 5:00:00 AM,51217,EASTERN HUB,HUB,25.05\r\n"
    b"11/2/2024 10:00:00 AM,11/2/2024 6:00:00 AM,51217,EASTERN HUB,HUB,26.06\r\n"
    b"11/2/2024 11:00:00 AM,11/2/2024 7:00:00 AM,51217,EASTERN HUB,HUB,27.07\r\n"
    b"11/2/2024 12:00:00 PM,11/2/2024 8:00:00 AM,51217,EASTERN HUB,HUB,28.08\r\n"
    b"11/2/2024 1:00:00 PM,11/2/2024 9:00:00 AM,51217,EASTERN HUB,HUB,29.09\r\n"
    b"11/2/2024 2:00:00 PM,11/2/2024 10:00:00 AM,51217,EASTERN HUB,HUB,30.10\r\n"
    b"11/2/2024 3:00:00 PM,11/2/2024 11:00:00 AM,51217,EASTERN HUB,HUB,31.11\r\n"
    b"11/2/2024 4:00:00 PM,11/2/2024 12:00:00 PM,51217,EASTERN HUB,HUB,32.12\r\n"
    b"11/2/2024 5:00:00 PM,11/2/2024 1:00:00 PM,51217,EASTERN HUB,HUB,33.13\r\n"
    b"11/2/2024 6:00:00 PM,11/2/2024 2:00:00 PM,51217,EASTERN HUB,HUB,34.14\r\n"
    b"11/2/2024 7:00:00 PM,11/2/2024 3:00:00 PM,51217,EASTERN HUB,HUB,35.15\r\n"
    b"11/2/2024 8:00:00 PM,11/2/2024 4:00:00 PM,51217,EASTERN HUB,HUB,36.16\r\n"
    b"11/2/2024 9:00:00 PM,11/2/2024 5:00:00 PM,51217,EASTERN HUB,HUB,20.17\r\n"
    b"11/2/2024 10:00:00 PM,11/2/2024 6:00:00 PM,51217,EASTERN HUB,HUB,21.18\r\n"
    b"11/2/2024 11:00:00 PM,11/2/2024 7:00:00 PM,51217,EASTERN HUB,HUB,22.19\r\n"
    b"11/3/2024 12:00:00 AM,11/2/2024 8:00:00 PM,51217,EASTERN HUB,HUB,23.20\r\n"
    b"11/3/2024 1:00:00 AM,11/2/2024 9:00:00 PM,51217,EASTERN HUB,HUB,24.21\r\n"
    b"11/3/2024 2:00:00 AM,11/2/2024 10:00:00 PM,51217,EASTERN HUB,HUB,25.22\r\n"
    b"11/3/2024 3:00:00 AM,11/2/2024 11:00:00 PM,51217,EASTERN HUB,HUB,26.23\r\n"
    b"11/3/2024 4:00:00 AM,11/3/2024 12:00:00 AM,51217,EASTERN HUB,HUB,27.24\r\n"
    b"11/3/2024 5:00:00 AM,11/3/2024 1:00:00 AM,51217,EASTERN HUB,HUB,28.25\r\n"
    b"11/3/2024 6:00:00 AM,11/3/2024 1:00:00 AM,51217,EASTERN HUB,HUB,29.26\r\n"
    b"11/3/2024 7:00:00 AM,11/3/2024 2:00:00 AM,51217,EASTERN HUB,HUB,30.27\r\n"
    b"11/3/2024 8:00:00 AM,11/3/2024 3:00:00 AM,51217,EASTERN HUB,HUB,31.28\r\n"
    b"11/3/2024 9:00:00 AM,11/3/2024 4:00:00 AM,51217,EASTERN HUB,HUB,32.29\r\n"
    b"11/3/2024 10:00:00 AM,11/3/2024 5:00:00 AM,51217,EASTERN HUB,HUB,33.30\r\n"
    b"11/3/2024 11:00:00 AM,11/3/2024 6:00:00 AM,51217,EASTERN HUB,HUB,34.31\r\n"
    b"11/3/2024 12:00:00 PM,11/3/2024 7:00:00 AM,51217,EASTERN HUB,HUB,35.32\r\n"
    b"11/3/2024 1:00:00 PM,11/3/2024 8:00:00 AM,51217,EASTERN HUB,HUB,36.33\r\n"
    b"11/3/2024 2:00:00 PM,11/3/2024 9:00:00 AM,51217,EASTERN HUB,HUB,20.34\r\n"
    b"11/3/2024 3:00:00 PM,11/3/2024 10:00:00 AM,51217,EASTERN HUB,HUB,21.35\r\n"
    b"11/3/2024 4:00:00 PM,11/3/2024 11:00:00 AM,51217,EASTERN HUB,HUB,22.36\r\n"
    b"11/3/2024 5:00:00 PM,11/3/2024 12:00:00 PM,51217,EASTERN HUB,HUB,23.37\r\n"
    b"11/3/2024 6:00:00 PM,11/3/2024 1:00:00 PM,51217,EASTERN HUB,HUB,24.38\r\n"
    b"11/3/2024 7:00:00 PM,11/3/2024 2:00:00 PM,51217,EASTERN HUB,HUB,25.39\r\n"
    b"11/3/2024 8:00:00 PM,11/3/2024 3:00:00 PM,51217,EASTERN HUB,HUB,26.40\r\n"
    b"11/3/2024 9:00:00 PM,11/3/2024 4:00:00 PM,51217,EASTERN HUB,HUB,27.41\r\n"
    b"11/3/2024 10:00:00 PM,11/3/2024 5:00:00 PM,51217,EASTERN HUB,HUB,28.42\r\n"
    b"11/3/2024 11:00:00 PM,11/3/2024 6:00:00 PM,51217,EASTERN HUB,HUB,29.43\r\n"
    b"11/4/2024 12:00:00 AM,11/3/2024 7:00:00 PM,51217,EASTERN HUB,HUB,30.44\r\n"
    b"11/4/2024 1:00:00 AM,11/3/2024 8:00:00 PM,51217,EASTERN HUB,HUB,31.45\r\n"
    b"11/4/2024 2:00:00 AM,11/3/2024 9:00:00 PM,51217,EASTERN HUB,HUB,32.46\r\n"
    b"11/4/2024 3:00:00 AM,11/3/2024 10:00:00 PM,51217,EASTERN HUB,HUB,33.47\r\n"
    b"11/4/2024 4:00:00 AM,11/3/2024 11:00:00 PM,51217,EASTERN HUB,HUB,34.48\r\n"
    b"11/4/2024 5:00:00 AM,11/4/2024 12:00:00 AM,51217,EASTERN HUB,HUB,35.49\r\n"
    b"11/4/2024 6:00:00 AM,11/4/2024 1:00:00 AM,51217,EASTERN HUB,HUB,36.50\r\n"
    b"11/4/2024 7:00:00 AM,11/4/2024 2:00:00 AM,51217,EASTERN HUB,HUB,20.51\r\n"
    b"11/4/2024 8:00:00 AM,11/4/2024 3:00:00 AM,51217,EASTERN HUB,HUB,21.52\r\n"
    b"11/4/2024 9:00:00 AM,11/4/2024 4:00:00 AM,51217,EASTERN HUB,HUB,22.53\r\n"
    b"11/4/2024 10:00:00 AM,11/4/2024 5:00:00 AM,51217,EASTERN HUB,HUB,23.54\r\n"
    b"11/4/2024 11:00:00 AM,11/4/2024 6:00:00 AM,51217,EASTERN HUB,HUB,24.55\r\n"
    b"11/4/2024 12:00:00 PM,11/4/2024 7:00:00 AM,51217,EASTERN HUB,HUB,25.56\r\n"
    b"11/4/2024 1:00:00 PM,11/4/2024 8:00:00 AM,51217,EASTERN HUB,HUB,26.57\r\n"
    b"11/4/2024 2:00:00 PM,11/4/2024 9:00:00 AM,51217,EASTERN HUB,HUB,27.58\r\n"
    b"11/4/2024 3:00:00 PM,11/4/2024 10:00:00 AM,51217,EASTERN HUB,HUB,28.59\r\n"
    b"11/4/2024 4:00:00 PM,11/4/2024 11:00:00 AM,51217,EASTERN HUB,HUB,29.60\r\n"
    b"11/4/2024 5:00:00 PM,11/4/2024 12:00:00 PM,51217,EASTERN HUB,HUB,30.61\r\n"
    b"11/4/2024 6:00:00 PM,11/4/2024 1:00:00 PM,51217,EASTERN HUB,HUB,31.62\r\n"
    b"11/4/2024 7:00:00 PM,11/4/2024 2:00:00 PM,51217,EASTERN HUB,HUB,32.63\r\n"
    b"11/4/2024 8:00:00 PM,11/4/2024 3:00:00 PM,51217,EASTERN HUB,HUB,33.64\r\n"
    b"11/4/2024 9:00:00 PM,11/4/2024 4:00:00 PM,51217,EASTERN HUB,HUB,34.65\r\n"
    b"11/4/2024 10:00:00 PM,11/4/2024 5:00:00 PM,51217,EASTERN HUB,HUB,35.66\r\n"
    b"11/4/2024 11:00:00 PM,11/4/2024 6:00:00 PM,51217,EASTERN HUB,HUB,36.67\r\n"
    b"11/5/2024 12:00:00 AM,11/4/2024 7:00:00 PM,51217,EASTERN HUB,HUB,20.68\r\n"
    b"11/5/2024 1:00:00 AM,11/4/2024 8:00:00 PM,51217,EASTERN HUB,HUB,21.69\r\n"
    b"11/5/2024 2:00:00 AM,11/4/2024 9:00:00 PM,51217,EASTERN HUB,HUB,22.70\r\n"
    b"11/5/2024 3:00:00 AM,11/4/2024 10:00:00 PM,51217,EASTERN HUB,HUB,23.71\r\n"
    b"11/5/2024 4:00:00 AM,11/4/2024 11:00:00 PM,51217,EASTERN HUB,HUB,24.72\r\n"
)


def ept_day_lines(content: bytes) -> dict[date, list[bytes]]:
    """Lines by the local day PJM's own EPT column says (not computed from the UTC column)."""
    by_day: dict[date, list[bytes]] = {}
    for line in content.split(b"\r\n")[1:]:
        if line:
            ept = datetime.strptime(line.split(b",")[1].decode(), "%m/%d/%Y %I:%M:%S %p")
            by_day.setdefault(ept.date(), []).append(line)
    return by_day


@pytest.mark.parametrize("block_bytes", [drops._BLOCK_BYTES, 50, 333])
def test_an_export_over_the_fall_back_day_is_cut_per_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block_bytes: int
):
    monkeypatch.setattr(drops, "_BLOCK_BYTES", block_bytes)  # lines across block boundaries
    export = write(tmp_path / "da_hrl_lmps.csv", DST_EXPORT)
    header = DST_EXPORT.split(b"\r\n")[0]
    expected = ept_day_lines(DST_EXPORT)
    assert {day: len(lines) for day, lines in expected.items()} == {
        date(2024, 11, 2): 24,
        date(2024, 11, 3): 25,
        date(2024, 11, 4): 24,
    }

    assert drops.span_file_days("lmp_da", export) == sorted(expected)
    for day, lines in expected.items():
        target = tmp_path / f"cut_{day}.csv"
        assert drops.cut_span_day("lmp_da", export, day, target) == len(lines)
        assert target.read_bytes() == header + b"\r\n" + b"".join(line + b"\r\n" for line in lines)
    repeated = [x for x in expected[date(2024, 11, 3)] if b",11/3/2024 1:00:00 AM," in x]
    assert len(repeated) == 2


def test_the_last_line_without_a_line_break_is_cut_with_the_files_own(tmp_path: Path):
    export = write(tmp_path / "da_hrl_lmps.csv", DST_EXPORT.removesuffix(b"\r\n"))
    target = tmp_path / "cut.csv"

    drops.cut_span_day("lmp_da", export, date(2024, 11, 4), target)

    assert target.read_bytes().endswith(b",11/4/2024 11:00:00 PM,51217,EASTERN HUB,HUB,24.72\r\n")


def test_a_quoted_field_before_the_time_column_is_read_as_csv(tmp_path: Path):
    content = (
        b'pnode_name,"datetime_beginning_utc",total_lmp_da\n'
        b'"HUB, EAST",11/3/2024 4:00:00 AM,1\n'
        b"\n"
        b'"say ""hi"", twice",11/4/2024 4:00:00 AM,2\n'
        b"WEST,11/4/2024 5:00:00 AM,3\n"
    )
    export = write(tmp_path / "rt_hrl_lmps.csv", content)
    target = tmp_path / "cut.csv"

    # 11/4 05:00 UTC is midnight EST: 11/4's only hour, so not a whole day.
    assert drops.span_file_days("lmp_rt_hourly", export) == [date(2024, 11, 3)]
    assert drops.cut_span_day("lmp_rt_hourly", export, date(2024, 11, 3), target) == 2
    assert target.read_bytes() == (
        b'pnode_name,"datetime_beginning_utc",total_lmp_da\n'
        b'"HUB, EAST",11/3/2024 4:00:00 AM,1\n'
        b'"say ""hi"", twice",11/4/2024 4:00:00 AM,2\n'
    )


def test_load_forecasts_are_placed_by_the_hour_forecast_not_when_it_was_made(tmp_path: Path):
    content = (
        b"evaluated_at_utc,forecast_hour_beginning_utc,forecast_area,forecast_load_mw\r\n"
        b"11/2/2024 2:00:00 PM,11/3/2024 4:00:00 AM,RTO_COMBINED,80000\r\n"
        b"11/2/2024 2:00:00 PM,11/4/2024 4:00:00 AM,RTO_COMBINED,81000\r\n"
    )
    export = write(tmp_path / "load_frcstd_hist.csv", content)

    # 11/3 04:00 UTC is 00:00 EDT, 11/4 04:00 UTC 23:00 EST: the first and last hour of 11/3.
    assert drops.span_file_days("load_forecast", export) == [date(2024, 11, 3)]


# -- JSON pages ------------------------------------------------------------------------------

# Items of 2024-03-10 (23 hours: 05:00 UTC = 00:00 EST to 03:00 UTC next day = 23:00 EDT),
# 2024-03-11 (04:00 UTC = 00:00 EDT on), and one stray first hour of 2024-03-12.
SPRING_PAGE = {
    "links": [{"rel": "self", "href": "https://api.pjm.com/api/v1/rt_hrl_lmps?startRow=1"}],
    "items": [
        {"datetime_beginning_utc": "2024-03-10T05:00:00", "pnode_id": 1, "total_lmp_rt": 20.5},
        {"datetime_beginning_utc": "2024-03-11T03:00:00", "pnode_id": 1, "total_lmp_rt": 21.5},
        {"datetime_beginning_utc": "2024-03-11T04:00:00.000", "pnode_id": 1, "total_lmp_rt": 22},
        {"datetime_beginning_utc": "2024-03-12T03:00:00", "pnode_id": 1, "total_lmp_rt": None},
        {"datetime_beginning_utc": "2024-03-12T04:00:00", "pnode_id": 1, "total_lmp_rt": 24},
    ],
    "searchSpecification": {"rowCount": 50000, "startRow": 1, "fields": ["pnode_id"]},
    "totalRows": 5,
}


def test_a_saved_page_of_several_days_is_cut_into_day_pages(tmp_path: Path):
    page = write(tmp_path / "rt_hrl_lmps.json", json.dumps(SPRING_PAGE, indent=1).encode())
    target = tmp_path / "cut.json"

    assert drops.span_file_days("lmp_rt_hourly", page) == [date(2024, 3, 10), date(2024, 3, 11)]
    assert drops.cut_span_day("lmp_rt_hourly", page, date(2024, 3, 10), target) == 2

    cut = json.loads(target.read_text())
    assert list(cut) == ["links", "items", "searchSpecification", "totalRows"]
    assert cut == {
        "links": SPRING_PAGE["links"],
        "items": SPRING_PAGE["items"][:2],
        "searchSpecification": SPRING_PAGE["searchSpecification"],
        "totalRows": 2,
    }


def test_a_bare_list_of_items_is_a_page_too(tmp_path: Path):
    items = SPRING_PAGE["items"]
    page = write(tmp_path / "rt_hrl_lmps (2).json", json.dumps(items).encode())
    target = tmp_path / "cut.json"

    drops.cut_span_day("lmp_rt_hourly", page, date(2024, 3, 11), target)

    assert json.loads(target.read_text()) == {"items": items[2:4], "totalRows": 2}


# -- bad files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.csv", b"datetime_beginning_utc,x\n5/1/2025 4:00:00 AM,1\n2025-13-01,2\n",
         r"a\.csv: line 3: datetime_beginning_utc is '2025-13-01', not a UTC time like 5/1/2025 4:00:00 AM$"),
        ("b.csv", b"datetime_beginning_utc,x\n,1\n", r"b\.csv: line 2: datetime_beginning_utc is '',"),
        ("c.csv", b"pnode_id,datetime_beginning_ept\n1,5/1/2025 12:00:00 AM\n",
         r"c\.csv: no datetime_beginning_utc column; the header is 'pnode_id,datetime_beginning_ept"),
        ("d.csv", b"", r"d\.csv: empty, or no header line"),
        ("e.csv", b"datetime_beginning_utc\n5/1/2025 4:00:00 AM\n\xff\n", r"e\.csv: line 3: not UTF-8 text"),
        ("f.json", b'{"items": [{"datetime_beginning_utc": "2025-05-01 04:00"}]}',
         r"f\.json: item 1: datetime_beginning_utc is '2025-05-01 04:00', not a UTC time like 2025-05-01T04:00:00"),
        ("g.json", b'{"items": [{"pnode_id": 1}]}', r"g\.json: item 1: datetime_beginning_utc is nothing"),
        ("h.json", b'{"errors": [{"message": "bad filter"}]}', r"h\.json: a Data Miner error answer"),
        ("i.json", b'{"items": [', r"i\.json: not readable JSON"),
        ("j.json", b'{"totalRows": 0}', r"j\.json: no list of items"),
    ],
)  # fmt: skip
def test_a_bad_file_is_named_with_the_problem(
    tmp_path: Path, name: str, content: bytes, message: str
):
    path = write(tmp_path / name, content)
    with pytest.raises(MalformedFileError, match=message):
        drops.span_file_days("lmp_da", path)


def test_an_unreadable_export_in_the_drop_folder_is_skipped_with_a_warning(
    layout: Layout, caplog: pytest.LogCaptureFixture
):
    bad = write(
        drop_folder(layout) / "gen_by_fuel.csv",
        b"datetime_beginning_utc,fuel_type,mw\r\nyesterday,Coal,1\r\n",
    )

    with caplog.at_level("WARNING", logger="power_assets.stages.drop"):
        assert ingest_dropped_day(layout, Pjm(), "fuel_mix", date(2025, 5, 1)) is None

    (message,) = caplog.messages
    assert message.startswith(
        f"PJM drop folder: skipped {bad.resolve()}: PJM fuel_mix export: line 2: "
        "datetime_beginning_utc is 'yesterday'"
    )


def test_an_export_is_read_in_blocks_not_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(drops, "_BLOCK_BYTES", 256 * 1024)
    header, body = DST_EXPORT.split(b"\r\n", 1)
    export = write(tmp_path / "da_hrl_lmps.csv", header + b"\r\n" + body * 3000)  # ~15 MB
    target = tmp_path / "cut.csv"

    tracemalloc.start()
    try:
        days = drops.span_file_days("lmp_da", export)
        rows = drops.cut_span_day("lmp_da", export, date(2024, 11, 3), target)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert export.stat().st_size > 14 * 2**20
    assert (days, rows) == ([date(2024, 11, 2), date(2024, 11, 3), date(2024, 11, 4)], 25 * 3000)
    assert peak < 4 * 2**20


def test_a_byte_order_mark_before_the_header_is_kept_in_the_cut(tmp_path: Path):
    header = b"\xef\xbb\xbfdatetime_beginning_utc,fuel_type,mw\r\n"
    rows = b"11/3/2024 4:00:00 AM,Coal,1\r\n11/4/2024 4:00:00 AM,Coal,2\r\n"
    export = write(tmp_path / "gen_by_fuel.csv", header + rows)
    target = tmp_path / "cut.csv"

    assert drops.span_file_days("fuel_mix", export) == [date(2024, 11, 3)]
    assert drops.cut_span_day("fuel_mix", export, date(2024, 11, 3), target) == 2
    assert target.read_bytes() == header + rows
