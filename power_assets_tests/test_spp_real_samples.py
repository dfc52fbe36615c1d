"""The SPP parsers against every real SPP file in ../shared/samples/spp (skipped if absent).

A full DA LMP day (2025-03-19), two RTBM 5-minute interval files (2025-03-31), two 2026 DA subsets
(one with `BAA`, one re-saved by a spreadsheet with upper-case headers and `6/4/2026 1:00`
times), and two GenMix excerpts around the 2024 DST days with SPP's blank rows. Expected values
are computed here from the raw bytes with the csv module, independently of the parser.
"""

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from power_assets.parsing import parse_file
from power_assets_tests.samples import require_sample

HOUR, FIVE = timedelta(hours=1), timedelta(minutes=5)
LMP_FILES = [
    ("DA-LMP-SL-202503190100.csv", "lmp_da", "DAM", HOUR, 29_616),
    ("RTBM-LMP-SL-202503310840.csv", "lmp_rt5", "RTBM", FIVE, 1_234),
    ("RTBM-LMP-SL-202503310850.csv", "lmp_rt5", "RTBM", FIVE, 1_234),
    ("spp_da_lmp_sl_20261004_sample.csv", "lmp_da", "DAM", HOUR, 74),
    ("spp_DA-LMP-SL-202606040100_sample.csv", "lmp_da", "DAM", HOUR, 72),
]


@pytest.fixture
def spp() -> Path:
    return require_sample("spp")


def raw_rows(path: Path) -> list[dict[str, str]]:
    """Rows keyed by the header with case, spaces and underscores removed (as SPP's drift asks)."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = ["".join(c for c in h if c not in " _").lower() for h in next(reader)]
        return [dict(zip(header, row, strict=True)) for row in reader]


def utc(text: str) -> datetime:
    for fmt in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise AssertionError(f"unexpected time {text!r}")


@pytest.mark.parametrize(("name", "dataset", "market", "step", "rows"), LMP_FILES)
def test_lmp_files_every_row_exactly(spp, name, dataset, market, step, rows) -> None:
    path = spp / name
    raw = raw_rows(path)
    assert len(raw) == rows
    frame = parse_file("SPP", dataset, path)
    assert frame.height == rows
    got = {(r["location"], r["interval_end"]): r for r in frame.iter_rows(named=True)}
    assert len(got) == rows  # one row per location and interval: nothing merged or dropped
    for line in raw:
        end = utc(line["gmtintervalend"])
        row = got[(line["settlementlocation"], end)]
        assert row["interval_start"] == end - step
        assert row["location_id"] == line["pnode"]
        assert (row["lmp"], row["energy"], row["congestion"], row["loss"]) == (
            float(line["lmp"]), float(line["mec"]), float(line["mcc"]), float(line["mlc"]),
        )  # fmt: skip
        assert (row["iso"], row["market"], row["ghg"]) == ("SPP", market, None)


def test_the_day_ahead_file_covers_its_central_day(spp) -> None:
    frame = parse_file("SPP", "lmp_da", spp / "DA-LMP-SL-202503190100.csv")
    # 2025-03-19 00:00 CDT is 05:00 UTC; 24 hours, 1,234 locations each.
    assert frame.get_column("interval_start").min() == datetime(2025, 3, 19, 5, tzinfo=UTC)
    assert frame.get_column("interval_end").max() == datetime(2025, 3, 20, 5, tzinfo=UTC)
    assert frame.get_column("interval_start").n_unique() == 24
    kinds = dict(frame.group_by("location_type").len().iter_rows())
    assert kinds["HUB"] == 2 * 24  # SPPNORTH_HUB and SPPSOUTH_HUB only; GRDA_HUB etc. are not
    hubs = set(frame.filter(location_type="HUB").get_column("location"))
    assert hubs == {"SPPNORTH_HUB", "SPPSOUTH_HUB"}


def test_2026_files_with_baa_keep_their_swpw_rows(spp) -> None:
    name = "spp_da_lmp_sl_20261004_sample.csv"  # the 2026-06-04 subset holds SPP rows only
    raw = raw_rows(spp / name)
    swpw = {line["settlementlocation"] for line in raw if line["baa"] == "SWPW"}
    frame = parse_file("SPP", "lmp_da", spp / name)
    assert swpw == {"AESO", "AVA"}
    assert swpw <= set(frame.get_column("location"))
    # Every row keeps its BAA as published: (location, BAA) pairs equal the file's.
    published = {(line["settlementlocation"], line["baa"]) for line in raw}
    assert set(frame.select("location", "baa").unique().rows()) == published
    # Files from before the BAA column have none: null.
    older = parse_file("SPP", "lmp_da", spp / "DA-LMP-SL-202503190100.csv")
    assert older.get_column("baa").null_count() == older.height


@pytest.mark.parametrize(
    ("name", "blank_first", "blank_last"),
    [
        ("GenMix_2024_excerpt_20241103.csv", datetime(2024, 11, 3, 6, tzinfo=UTC),
         datetime(2024, 11, 3, 6, 55, tzinfo=UTC)),
        ("GenMix_2024_excerpt_20240310.csv", datetime(2024, 3, 10, 8, tzinfo=UTC),
         datetime(2024, 3, 10, 11, 35, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_genmix_excerpts_every_value_and_blank_rows_stay_gaps(
    spp, name, blank_first, blank_last
) -> None:
    path = spp / name
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader)]
        raw = list(reader)
    fuels = [h for h in header[1:] if h != "Load"]
    frame = parse_file("SPP", "fuel_mix", path)
    assert frame.height == len(raw) * len(fuels)  # every stamp, every fuel; Load is no fuel
    got = {(r["fuel"], r["interval_end"]): r for r in frame.iter_rows(named=True)}
    named = {"Gas Self": "Natural Gas Self"}
    blank = 0
    for line in raw:
        end = utc(line[0])
        for column, text in zip(header[1:], line[1:], strict=True):
            if column == "Load":
                continue
            row = got[(named.get(column, column), end)]
            assert row["interval_start"] == end - FIVE
            assert row["mw"] == (float(text) if text else None)
        if not any(line[1:]):
            blank += 1
            assert blank_first <= end <= blank_last
    assert blank == (blank_last - blank_first) / FIVE + 1
    assert frame.get_column("mw").min() < 0  # SPP's negative MW are kept as published


@pytest.mark.parametrize("name", ["RTBM-LMP-SL-202503310840.csv", "RTBM-LMP-SL-202503310850.csv"])
def test_newest_interval_of_real_rtbm_files_and_their_tails(spp, name) -> None:
    from power_assets.isos import get_iso

    path = spp / name
    newest = max(
        datetime.strptime(row["gmtintervalend"], "%m/%d/%Y %H:%M:%S").replace(tzinfo=UTC)
        for row in raw_rows(path)
    )
    content = path.read_bytes()
    iso = get_iso("SPP")
    assert iso.latest_interval_end("lmp_rt5", content, name) == newest
    assert iso.latest_interval_end("lmp_rt5", content[-3000:], name) == newest  # a byte range
    assert iso.latest_interval_end("lmp_rt5", content.replace(b"\n", b"\r\n"), name) == newest
