"""SPP's roll-ups read one day at a time: the year's GenMix (portal, shared) parses only the
market day it was extracted for; a dropped `GenMix_{YYYY}.csv` or `HOURLY_LOAD-{YYYYMM}.csv`
(alone or inside a yearly zip) is cut into whole days; today's load comes from the newest MTLF
vintage's averaged actuals. Day bounds and line counts are written out by hand."""

import json
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest

from power_assets.demo import spp_fixtures as fx
from power_assets.errors import IsoNoDataError, MalformedFileError
from power_assets.isos import get_iso
from power_assets.isos.base import DownloadRequest
from power_assets.layout import Layout
from power_assets.parsing import parse_files
from power_assets.stages.drop import drop_env_var
from power_assets.stages.raw import download_day

FALL, SPRING = date(2024, 11, 3), date(2024, 3, 10)
# Central midnights in UTC, by hand: CDT (-5) before 2024-11-03 02:00, CST (-6) after.
FALL_START, FALL_END = datetime(2024, 11, 3, 5, tzinfo=UTC), datetime(2024, 11, 4, 6, tzinfo=UTC)
SPRING_START, SPRING_END = (
    datetime(2024, 3, 10, 6, tzinfo=UTC),
    datetime(2024, 3, 11, 5, tzinfo=UTC),
)
FUEL_COLUMNS = 16  # 8 fuels, market and self


def lines_between(content: bytes, start: datetime, end: datetime) -> list[bytes]:
    """Data lines whose first field (an ISO `...Z` or `MM/DD/YYYY HH:MM:SS` UTC end) is in
    (start, end]: read from the raw bytes."""
    out = []
    for line in content.splitlines()[1:]:
        stamp = line.split(b",", 1)[0].decode().strip()
        fmt = "%Y-%m-%dT%H:%M:%SZ" if "T" in stamp else "%m/%d/%Y %H:%M:%S"
        instant = datetime.strptime(stamp, fmt).replace(tzinfo=UTC)
        if start < instant <= end:
            out.append(line)
    return out


@pytest.fixture
def year_file() -> bytes:
    days = [SPRING - timedelta(days=1), SPRING, FALL - timedelta(days=1), FALL, FALL + timedelta(1)]
    return fx.genmix_csv(days)


def test_a_day_cut_from_the_years_genmix_holds_only_its_rows(tmp_path, year_file) -> None:
    # What stage 1 does with the shared year file for one market day (stages/raw.extract_day).
    path = tmp_path / "GenMix_2024.csv"
    path.write_bytes(year_file)
    cut = tmp_path / "cut" / "GenMix_2024.csv"
    cut.parent.mkdir()
    written = get_iso("SPP").cut_span_day("fuel_mix", path, FALL, cut)
    assert written == 25 * 12
    assert cut.read_bytes().splitlines()[1:] == lines_between(year_file, FALL_START, FALL_END)
    frame = get_iso("SPP").parse("fuel_mix", [cut])
    assert frame.height == 25 * 12 * FUEL_COLUMNS
    assert frame["interval_start"].min() == FALL_START
    assert frame["interval_end"].max() == FALL_END
    # The blank first pass of the repeated hour (06:00Z..06:55Z ends) stays as null MW.
    assert frame.filter(frame["mw"].is_null()).height == 12 * FUEL_COLUMNS
    # The year file itself is read whole (three more days).
    assert get_iso("SPP").parse("fuel_mix", [path]).height == (24 + 23 + 24 + 25 + 24) * 12 * 16


def test_a_line_with_a_bad_time_goes_with_every_cut_day_for_the_parser_to_name(
    tmp_path, year_file
) -> None:
    path = tmp_path / "GenMix_2024.csv"
    path.write_bytes(year_file + b"not a time" + b",1" * 17 + b"\n")
    cut = tmp_path / "cut.csv"
    get_iso("SPP").cut_span_day("fuel_mix", path, SPRING, cut)
    assert cut.read_bytes().splitlines()[-1].startswith(b"not a time")
    with pytest.raises(MalformedFileError, match=r"cut\.csv.*not a date-time"):
        get_iso("SPP").parse("fuel_mix", [cut])


def test_a_bad_time_anywhere_in_the_year_names_the_file(tmp_path, year_file) -> None:
    path = tmp_path / "fuel_mix" / SPRING.isoformat() / "GenMix_2024" / "GenMix_2024.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(year_file + b"not a time" + b",1" * 17 + b"\n")
    with pytest.raises(MalformedFileError, match=r"GenMix_2024\.csv.*not a date-time"):
        get_iso("SPP").parse("fuel_mix", [path])


def test_span_days_and_cuts_of_a_dropped_genmix_year(tmp_path, year_file) -> None:
    spp = get_iso("SPP")
    assert spp.dropped_span_dataset("2024/GenMix_2024.csv") == "fuel_mix"
    assert spp.dropped_span_dataset("HOURLY_LOAD-202411.csv") == "load"
    assert spp.dropped_span_dataset("DA-LMP-SL-202411030100.csv") is None
    path = tmp_path / "GenMix_2024.csv"
    # A year file cut short in the middle of the last day: that day is not whole.
    path.write_bytes(fx.genmix_csv([SPRING, FALL], until=FALL_START + timedelta(hours=20)))
    assert spp.span_file_days("fuel_mix", path) == [SPRING]
    path.write_bytes(year_file)
    assert spp.span_file_days("fuel_mix", path) == [
        SPRING - timedelta(days=1),
        SPRING,
        FALL - timedelta(days=1),
        FALL,
        FALL + timedelta(1),
    ]
    for day, start, end, hours in ((FALL, FALL_START, FALL_END, 25),
                                   (SPRING, SPRING_START, SPRING_END, 23)):  # fmt: skip
        target = tmp_path / f"cut_{day}.csv"
        assert spp.cut_span_day("fuel_mix", path, day, target) == hours * 12
        expected = [year_file.split(b"\n", 1)[0], *lines_between(year_file, start, end)]
        assert target.read_bytes() == b"\n".join(expected) + b"\n"  # lines as published


def test_a_day_short_of_its_first_or_last_intervals_is_not_whole(tmp_path) -> None:
    spp = get_iso("SPP")
    content = fx.genmix_csv([SPRING, FALL])
    header = content.splitlines()[0]
    path = tmp_path / "GenMix_2024.csv"
    path.write_bytes(content)
    assert spp.span_file_days("fuel_mix", path) == [SPRING, FALL]
    eleven = timedelta(minutes=55)
    for first, last in ((SPRING_START, SPRING_END - eleven), (FALL_START + eleven, FALL_END)):
        kept = [header, *lines_between(content, first, last)]
        path.write_bytes(b"\n".join(kept) + b"\n")
        # 11 five-minute lines missing at the end (SPRING) or the start (FALL): not whole.
        assert len(kept) == 1 + 12 * (23 if first == SPRING_START else 25) - 11
        assert spp.span_file_days("fuel_mix", path) == []
    month = tmp_path / "HOURLY_LOAD-202411.csv"
    hours = fx.hourly_load_csv(FALL)
    month.write_bytes(hours)
    assert spp.span_file_days("load", month) == [FALL]
    month.write_bytes(b"\n".join(hours.splitlines()[:-1]) + b"\n")  # the last hour gone
    assert spp.span_file_days("load", month) == []


def test_a_month_of_hourly_load_in_a_dropped_yearly_zip(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(drop_env_var("SPP"), raising=False)
    layout = Layout(tmp_path / "data")
    days = [date(2024, 11, d) for d in (1, 2, 3, 4)]
    month = fx.hourly_load_csv(days[0]) + b"".join(
        fx.hourly_load_csv(day).split(b"\n", 1)[1] for day in days[1:]
    )
    archive = layout.iso_dir("SPP") / "raw_downloads" / "archives" / "2024.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("2024/HOURLY_LOAD-202411.csv", month)
    download = download_day(get_iso("SPP"), "load", FALL, NoHttp(), layout)
    assert download.source == "drop_folder"
    (record,) = download.records
    kept = layout.raw_downloads("SPP", "load", FALL) / record.file_name
    assert (
        kept.read_bytes()
        == b"\n".join([month.split(b"\n", 1)[0], *lines_between(month, FALL_START, FALL_END)])
        + b"\n"
    )
    frame = parse_files("SPP", "load", [kept])
    assert frame.height == 25 * len(fx.LOAD_ZONES)


class NoHttp:
    def __getattr__(self, name: str):
        raise AssertionError(f"drop-folder day used http.{name}")


class Lister:
    def __init__(self, folders: dict[tuple[str, str], list[str]]):
        self.folders = folders

    def __call__(self, request: DownloadRequest) -> bytes:
        params = dict(request.params)
        names = self.folders.get((params["fsName"], params["path"]), [])
        return json.dumps([{"name": n, "path": f"{params['path']}/{n}"} for n in names]).encode()


@pytest.mark.parametrize(
    ("day", "newest", "name"),
    [
        (FALL, datetime(2024, 11, 3, 8, tzinfo=UTC), "OP-MTLF-202411030200d.csv"),
        (SPRING, datetime(2024, 3, 10, 20, tzinfo=UTC), "OP-MTLF-202403101500.csv"),
    ],
)
def test_todays_load_is_the_newest_mtlf_vintages_averaged_actual(
    tmp_path, day, newest, name
) -> None:
    spp = get_iso("SPP")
    issued = [i for i in fx.mtlf_issues(day) if i <= newest]
    folder = f"/{day:%Y}/{day:%m}/{day:%d}"
    names = [fx.mtlf_path(i).rsplit("/", 1)[1] for i in issued]
    assert name in names
    lister = Lister({("hourly-load", f"/{day:%Y}"): [], ("mtlf-vs-actual", folder): names})
    (request,) = spp.plan_day("load", day, lister, today=day)
    assert request.path == "download/mtlf-vs-actual"
    assert dict(request.params)["path"] == f"{folder}/{name}"
    # Yesterday's load is not taken from MTLF: it waits for hourly-load.
    with pytest.raises(IsoNoDataError, match="not published"):
        spp.plan_day("load", day, lister, today=day + timedelta(days=1))
    path = tmp_path / name
    path.write_bytes(fx.mtlf_csv(newest))
    frame, notes = spp.parse_with_notes("load", [path])
    # The 24 hours up to the issue hour carry the averaged actual; the 7 days ahead do not.
    assert frame.height == 24
    assert frame["interval_end"].max() == newest
    assert frame["interval_end"].min() == newest - timedelta(hours=23)
    assert set(frame["area"]) == {"SPP"}
    assert notes == {"rows_without_actual_value": 7 * 24}
    row = frame.filter(frame["interval_end"] == newest).row(0, named=True)
    assert row["load_mw"] == fx.mtlf("SPP", newest, newest)
