"""MISO's weekly `YYYYMMDD_5MIN_LMP.zip` is a span file: its seven EST days are read from the rows,
one day is cut out in the archive's own layout (preamble, header, that day's lines, footer), a
DST day keeps its 288 intervals (MISO stays on EST), a damaged line goes with every cut for the
parser to name, and a dropped weekly archive loads a day with no request to MISO. Expected
lines are picked from the raw bytes with the csv module, not by the code under test."""

import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest

from power_assets.demo import miso_fixtures as gen
from power_assets.errors import MalformedFileError
from power_assets.isos import get_iso
from power_assets.layout import Layout
from power_assets.parsing import parse_files
from power_assets.stages.drop import drop_env_var
from power_assets.stages.raw import download_day

MISO = get_iso("MISO")
SPRING = date(2024, 3, 10)  # a Sunday: the week 03-04..03-10 is in the archive of 03-18
PUBLISHED = date(2024, 3, 18)
WEEK = [date(2024, 3, 4) + timedelta(days=n) for n in range(7)]
PREAMBLE_AND_HEADER = 5  # title, date range, blank, EST note, MKTHOUR_EST header (as written)


def member(archive: bytes) -> tuple[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as handle:
        (name,) = handle.namelist()
        return name, handle.read(name)


def day_lines(text: bytes, day: date) -> list[bytes]:
    """The data lines whose MKTHOUR_EST (MM/DD/YYYY HH:MM) falls on `day`: read with csv."""
    lines = text.split(b"\n")
    out = []
    for line in lines:
        fields = next(csv.reader([line.decode().rstrip("\r")]), [])
        try:
            stamp = datetime.strptime(fields[0], "%m/%d/%Y %H:%M") if fields else None
        except ValueError:
            stamp = None
        if stamp is not None and stamp.date() == day:
            out.append(line.rstrip(b"\r"))
    return out


@pytest.fixture(scope="module")
def archive() -> bytes:
    return gen.weekly_five_minute_zip(PUBLISHED)


def test_the_weekly_archive_and_its_csv_are_span_files_of_five_minute_prices():
    assert MISO.dropped_span_dataset("20240318_5MIN_LMP.zip") == "lmp_rt5"
    assert MISO.dropped_span_dataset("weeks/20240318_5min_lmp.csv") == "lmp_rt5"
    assert MISO.dropped_span_dataset("20240310_da_expost_lmp.csv") is None
    assert MISO.dropped_file_day("20240318_5MIN_LMP.csv") is None  # never a one-day file


def test_span_days_are_the_seven_est_days_of_the_week(tmp_path, archive):
    path = tmp_path / "20240318_5MIN_LMP.zip"
    path.write_bytes(archive)
    assert MISO.span_file_days("lmp_rt5", path) == WEEK
    name, text = member(archive)
    plain = tmp_path / name
    plain.write_bytes(text)
    assert MISO.span_file_days("lmp_rt5", plain) == WEEK


def test_a_dst_day_cut_from_the_week_holds_exactly_its_288_intervals(tmp_path, archive):
    path = tmp_path / "20240318_5MIN_LMP.zip"
    path.write_bytes(archive)
    target = tmp_path / "cut" / "20240318_5MIN_LMP.zip"
    target.parent.mkdir()
    written = MISO.cut_span_day("lmp_rt5", path, SPRING, target)
    assert written == 288 * len(gen.NODES)
    name, text = member(archive)
    cut_name, cut = member(target.read_bytes())
    assert cut_name == name  # a ZIP of the same member: stage 1 extracts it as the original
    lines = text.split(b"\n")
    footer = [b"", b"MISO MAKES NO REPRESENTATIONS OR WARRANTIES."]
    expected = [*lines[:PREAMBLE_AND_HEADER], *day_lines(text, SPRING), *footer]
    assert cut.split(b"\n") == [*(line.rstrip(b"\r") for line in expected), b""]
    frame = MISO.parse("lmp_rt5", [target])
    midnight = datetime(2024, 3, 10, 5, tzinfo=UTC)  # 00:00 EST
    assert frame.height == 288 * len(gen.NODES)
    assert set(frame["interval_start"]) == {midnight + timedelta(minutes=5 * k) for k in range(288)}
    row = frame.filter(
        (frame["location"] == "MICHIGAN.HUB")
        & (frame["interval_start"] == datetime(2024, 3, 10, 7, 35, tzinfo=UTC))
    )
    want = gen.five_minute_lmp("MICHIGAN.HUB", datetime(2024, 3, 10, 7, 35, tzinfo=UTC))
    assert row.select("lmp", "congestion", "loss").row(0) == (want["LMP"], want["MCC"], want["MLC"])


def test_a_line_with_an_unreadable_time_goes_with_every_cut_and_the_parser_names_it(tmp_path):
    name, text = member(gen.weekly_five_minute_zip(PUBLISHED))
    head, rest = text.split(b"03/05/2024 00:00,", 1)
    damaged = head + b"03/05/2024 noon,ILLINOIS.HUB,1,1,1\n03/05/2024 00:00," + rest
    path = tmp_path / name
    path.write_bytes(damaged)
    for day in (WEEK[0], SPRING):
        target = tmp_path / f"{day}.csv"
        MISO.cut_span_day("lmp_rt5", path, day, target)
        assert b"03/05/2024 noon,ILLINOIS.HUB" in target.read_bytes()
        with pytest.raises(MalformedFileError, match=rf"{day}\.csv"):
            MISO.parse("lmp_rt5", [target])


def test_a_file_without_the_header_is_refused_naming_it(tmp_path):
    path = tmp_path / "20240318_5MIN_LMP.csv"
    path.write_bytes(b"title\n03/10/2024 00:00,X,1,1,1\n")
    with pytest.raises(MalformedFileError, match=r"20240318_5MIN_LMP\.csv.*MKTHOUR_EST"):
        MISO.span_file_days("lmp_rt5", path)


class NoHttp:
    def __getattr__(self, name: str):
        raise AssertionError(f"drop-folder day used http.{name}")


def test_a_dropped_weekly_archive_loads_each_day_with_no_request(tmp_path, monkeypatch, archive):
    folder = tmp_path / "mine"
    (folder / "2024").mkdir(parents=True)
    (folder / "2024" / "20240318_5MIN_LMP.zip").write_bytes(archive)
    monkeypatch.setenv(drop_env_var("MISO"), str(folder))
    layout = Layout(tmp_path / "data")
    _name, text = member(archive)
    for day in (SPRING, WEEK[2]):
        download = download_day(MISO, "lmp_rt5", day, NoHttp(), layout)
        assert download.source == "drop_folder"
        (record,) = download.records
        assert record.file_name == f"20240318_5MIN_LMP.{day.isoformat()}.csv"
        kept = layout.raw_downloads("MISO", "lmp_rt5", day) / record.file_name
        assert day_lines(kept.read_bytes(), day) == day_lines(text, day)
        assert all(
            datetime.strptime(line.split(b",")[0].decode(), "%m/%d/%Y %H:%M").date() == day
            for line in kept.read_bytes().split(b"\n")[PREAMBLE_AND_HEADER:-3]
        )
        frame = parse_files("MISO", "lmp_rt5", [kept])
        assert frame.height == 288 * len(gen.NODES)
    # A day the archive does not hold is not served from it.
    with pytest.raises(AssertionError, match="drop-folder day used http"):
        download_day(MISO, "lmp_rt5", date(2024, 3, 11), NoHttp(), layout)
