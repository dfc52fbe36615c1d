"""Span files in drop folders: files holding any range of days are indexed by the days their rows
hold and cut into one file per day (stages/drop_spans.py), with a toy ISO whose span files are
`prices.csv` (lines `YYYY-MM-DD,value`) and whose per-day files are `prices_YYYYMMDD.csv`.
"""

import hashlib
import io
import json
import os
import re
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import ClassVar

import pytest

from power_assets.errors import MalformedFileError
from power_assets.isos.base import (
    CombinedSources,
    DatasetKind,
    DatasetSpec,
    IntervalLabel,
    NamedRequests,
)
from power_assets.layout import Layout
from power_assets.stages.drop import INDEX_NAME, drop_env_var, find_dropped, ingest_dropped_day

NOV2, NOV3, NOV4 = date(2024, 11, 2), date(2024, 11, 3), date(2024, 11, 4)
LOGGER = "power_assets.stages.drop"

HEADER = b"day,value\r\n"
SPAN = HEADER + b"2024-11-02,1\r\n2024-11-03,2\r\n2024-11-04,3\r\n2024-11-03,4\r\n"
# The toy's format written out: the header line, then the day's lines in file order.
NOV3_CUT = b"day,value\r\n2024-11-03,2\r\n2024-11-03,4\r\n"


class SpanIso(NamedRequests):
    """Per-day files `prices_YYYYMMDD.csv`, span files `prices.csv` / `prices (N).csv`."""

    id: ClassVar[str] = "TOY"
    name: ClassVar[str] = "span-file toy, for drop-folder tests"
    timezone: ClassVar[str] = "UTC"
    default_base_url: ClassVar[str] = "http://127.0.0.1:9"
    min_request_spacing_s: ClassVar[float] = 0.0
    datasets: ClassVar[dict[str, DatasetSpec]] = {
        "lmp_da": DatasetSpec(
            "lmp_da", DatasetKind.LMP, "DAM", timedelta(hours=1), IntervalLabel.START, "test"
        )
    }
    combined: ClassVar[CombinedSources] = CombinedSources("lmp_da", None, "lmp_da")
    value_bounds: ClassVar[tuple] = ()
    # (method, content read) of every call reading a span file, across instances.
    reads: ClassVar[list[tuple[str, bytes]]] = []

    def requests_for_day(self, dataset_id, day, today=None):
        raise AssertionError("drop ingestion must not plan requests")

    def check_payload(self, content, source):
        raise AssertionError("drop ingestion must not check payloads")

    def parse(self, dataset_id, paths):
        raise AssertionError("drop ingestion must not parse")

    def dropped_file_day(self, name: str) -> tuple[str, date] | None:
        match = re.fullmatch(r"prices_(\d{8})\.csv", name)
        if match is None:
            return None
        return "lmp_da", date(int(match[1][:4]), int(match[1][4:6]), int(match[1][6:]))

    def dropped_span_dataset(self, name: str) -> str | None:
        return "lmp_da" if re.fullmatch(r"prices(?: \(\d+\))?\.csv", name) else None

    def span_file_days(self, dataset_id: str, path: Path) -> list[date]:
        content = path.read_bytes()
        SpanIso.reads.append(("days", content))
        days = set()
        for number, line in enumerate(content.splitlines()[1:], start=2):
            try:
                days.add(date.fromisoformat(line.decode()[:10]))
            except ValueError:
                raise MalformedFileError(f"{path}: line {number}: not a day") from None
        return sorted(days)

    def cut_span_day(self, dataset_id: str, path: Path, day: date, target: Path) -> int:
        content = path.read_bytes()
        SpanIso.reads.append(("cut", content))
        lines = content.splitlines(keepends=True)
        rows = [line for line in lines[1:] if line.startswith(day.isoformat().encode())]
        target.write_bytes(lines[0] + b"".join(rows))
        return len(rows)


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Layout:
    monkeypatch.delenv(drop_env_var("TOY"), raising=False)
    SpanIso.reads = []
    return Layout(tmp_path / "data")


def downloads(layout: Layout) -> Path:
    return layout.iso_dir("TOY") / "raw_downloads"


def write(path: Path, content: bytes, mtime_s: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    if mtime_s is not None:
        os.utime(path, (mtime_s, mtime_s))
    return path


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def day_folder(layout: Layout, day: date) -> Path:
    return layout.raw_downloads("TOY", "lmp_da", day)


def index_entries(layout: Layout) -> dict:
    return json.loads((layout.iso_dir("TOY") / INDEX_NAME).read_text())["archives"]


# -- plain span files ------------------------------------------------------------------------


def test_a_span_file_serves_each_of_its_days_cut_exactly(layout: Layout):
    span = write(downloads(layout) / "exports" / "prices.csv", SPAN)
    iso = SpanIso()

    (found,) = find_dropped(layout, iso, "lmp_da", NOV3)
    assert (found.archive, found.chain, found.name, found.cut) == (
        span.resolve(),
        (),
        "prices.csv",
        True,
    )
    assert found.file_name == "prices.2024-11-03.csv"
    assert find_dropped(layout, iso, "lmp_da", date(2024, 11, 5)) == []

    (record,) = ingest_dropped_day(layout, iso, "lmp_da", NOV3)

    folder = day_folder(layout, NOV3)
    assert (folder / "prices.2024-11-03.csv").read_bytes() == NOV3_CUT
    assert record["file_name"] == "prices.2024-11-03.csv"
    assert record["url"] == f"drop:{span.resolve()}#2024-11-03"
    assert (record["bytes"], record["sha256"]) == (
        len(NOV3_CUT),
        hashlib.sha256(NOV3_CUT).hexdigest(),
    )
    sidecar = json.loads((folder / "prices.2024-11-03.csv.json").read_text())
    assert sidecar == {k: record[k] for k in ("url", "status", "fetched_at", "bytes", "sha256")}
    assert sorted(p.name for p in folder.iterdir()) == [
        "prices.2024-11-03.csv",
        "prices.2024-11-03.csv.json",
    ]
    # The other days come from the same file; the file itself is never changed.
    (nov4,) = ingest_dropped_day(layout, iso, "lmp_da", NOV4)
    assert (
        day_folder(layout, NOV4) / nov4["file_name"]
    ).read_bytes() == HEADER + b"2024-11-04,3\r\n"
    assert span.read_bytes() == SPAN


def test_the_index_stores_the_days_and_reads_a_file_once_per_version(layout: Layout):
    span = write(downloads(layout) / "prices.csv", SPAN)
    iso = SpanIso()

    for day in (NOV2, NOV3, NOV4, NOV3):
        assert len(find_dropped(layout, iso, "lmp_da", day)) == 1
    assert [method for method, _ in SpanIso.reads] == ["days"]
    (entry,) = index_entries(layout).values()
    assert entry["spans"] == [
        [[], "prices.csv", len(SPAN), "lmp_da", ["2024-11-02", "2024-11-03", "2024-11-04"]]
    ]
    assert entry["leaves"] == []

    # Changed (a longer range, exported again): read again, the new days found.
    write(span, SPAN + b"2024-11-05,5\r\n", mtime_s=1_800_000_000)
    (nov5,) = find_dropped(layout, iso, "lmp_da", date(2024, 11, 5))
    assert [method for method, _ in SpanIso.reads] == ["days", "days"]
    assert nov5.file_name == "prices.2024-11-05.csv"


def test_a_day_with_a_per_day_file_takes_no_rows_of_a_span_file(layout: Layout):
    write(downloads(layout) / "prices.csv", SPAN)
    per_day = write(
        downloads(layout) / "daily" / "prices_20241103.csv", b"day,value\n2024-11-03,9\n"
    )

    (found,) = find_dropped(layout, SpanIso(), "lmp_da", NOV3)
    assert (found.archive, found.cut, found.file_name) == (
        per_day.resolve(),
        False,
        "prices_20241103.csv",
    )
    (record,) = ingest_dropped_day(layout, SpanIso(), "lmp_da", NOV3)
    assert record["url"] == f"drop:{per_day.resolve()}"
    assert sorted(p.name for p in day_folder(layout, NOV3).iterdir()) == [
        "prices_20241103.csv",
        "prices_20241103.csv.json",
    ]
    # Days without a per-day file still come from the span file.
    (nov2,) = find_dropped(layout, SpanIso(), "lmp_da", NOV2)
    assert nov2.cut


def test_several_span_files_holding_a_day_are_each_cut(layout: Layout):
    write(downloads(layout) / "prices.csv", SPAN)
    write(downloads(layout) / "prices (1).csv", HEADER + b"2024-11-03,7\r\n")

    records = ingest_dropped_day(layout, SpanIso(), "lmp_da", NOV3)

    folder = day_folder(layout, NOV3)
    assert sorted(r["file_name"] for r in records) == [
        "prices (1).2024-11-03.csv",
        "prices.2024-11-03.csv",
    ]
    assert (folder / "prices (1).2024-11-03.csv").read_bytes() == HEADER + b"2024-11-03,7\r\n"
    assert (folder / "prices.2024-11-03.csv").read_bytes() == NOV3_CUT


# -- span files in ZIPs ----------------------------------------------------------------------


def test_a_span_file_inside_nested_zips_is_spooled_cut_and_the_spool_removed(layout: Layout):
    inner = zip_bytes({"exports/prices.csv": SPAN})
    outer = write(downloads(layout) / "backup.zip", zip_bytes({"2024/q4.zip": inner}))

    (found,) = find_dropped(layout, SpanIso(), "lmp_da", NOV3)
    assert found.chain == ("2024/q4.zip", "exports/prices.csv")
    (record,) = ingest_dropped_day(layout, SpanIso(), "lmp_da", NOV3)

    assert record["url"] == f"drop:{outer.resolve()}!2024/q4.zip!exports/prices.csv#2024-11-03"
    assert (day_folder(layout, NOV3) / "prices.2024-11-03.csv").read_bytes() == NOV3_CUT
    # The ISO read the member's bytes (spooled), once to index and once to cut.
    assert SpanIso.reads == [("days", SPAN), ("cut", SPAN)]
    assert [p.name for p in layout.iso_dir("TOY").iterdir() if p.name.startswith(".span")] == []


def test_the_newer_archive_wins_for_the_same_span_leaf_and_day(layout: Layout):
    old = HEADER + b"2024-11-03,old\r\n"
    new = HEADER + b"2024-11-03,new\r\n2024-11-04,new\r\n"
    write(downloads(layout) / "a.zip", zip_bytes({"prices.csv": old}), mtime_s=1_700_000_000)
    write(downloads(layout) / "b.zip", zip_bytes({"prices.csv": new}), mtime_s=1_700_000_500)

    (found,) = find_dropped(layout, SpanIso(), "lmp_da", NOV3)
    assert found.archive.name == "b.zip"
    ingest_dropped_day(layout, SpanIso(), "lmp_da", NOV3)
    assert (day_folder(layout, NOV3) / "prices.2024-11-03.csv").read_bytes() == (
        HEADER + b"2024-11-03,new\r\n"
    )


# -- bad span files --------------------------------------------------------------------------


def test_a_corrupt_span_file_is_warned_once_and_skipped(
    layout: Layout, caplog: pytest.LogCaptureFixture
):
    bad = write(downloads(layout) / "prices.csv", HEADER + b"2024-11-03,1\r\nnot a day,2\r\n")
    write(downloads(layout) / "prices_20241104.csv", b"day,value\n2024-11-04,9\n")

    with caplog.at_level("WARNING", logger=LOGGER):
        for _ in range(2):
            assert ingest_dropped_day(layout, SpanIso(), "lmp_da", NOV3) is None
        (good,) = ingest_dropped_day(layout, SpanIso(), "lmp_da", NOV4)

    assert good["file_name"] == "prices_20241104.csv"
    (message,) = caplog.messages
    assert message == (
        f"TOY drop folder: skipped {bad.resolve()}: TOY lmp_da export: line 3: not a day; "
        "not read again until the file changes"
    )
    assert len(SpanIso.reads) == 1
    (entry,) = [e for e in index_entries(layout).values() if e["problems"]]
    assert entry["spans"] == []


def test_a_corrupt_span_member_is_skipped_and_the_archives_other_files_used(
    layout: Layout, caplog: pytest.LogCaptureFixture
):
    archive = write(
        downloads(layout) / "mixed.zip",
        zip_bytes(
            {
                "a/prices.csv": HEADER + b"garbage\r\n",
                "b/prices (1).csv": SPAN,
                "prices_20241105.csv": b"day,value\n2024-11-05,9\n",
            }
        ),
    )

    with caplog.at_level("WARNING", logger=LOGGER):
        (found,) = find_dropped(layout, SpanIso(), "lmp_da", NOV3)
        (per_day,) = find_dropped(layout, SpanIso(), "lmp_da", date(2024, 11, 5))

    assert (found.chain, found.file_name) == (("b/prices (1).csv",), "prices (1).2024-11-03.csv")
    assert per_day.chain == ("prices_20241105.csv",)
    (message,) = caplog.messages
    assert (
        f"skipped {archive.resolve()}!a/prices.csv: TOY lmp_da export: line 2: not a day" in message
    )


def test_a_failing_cut_leaves_nothing_in_the_days_folder(layout: Layout):
    class BreaksMidway(SpanIso):
        def cut_span_day(self, dataset_id, path, day, target):
            target.write_bytes(HEADER + b"2024-11-03,2\r\n")  # part of the day, then a failure
            raise MalformedFileError(f"{path}: line 5: broken")

    span = write(downloads(layout) / "prices.csv", SPAN)

    with pytest.raises(MalformedFileError) as raised:
        ingest_dropped_day(layout, BreaksMidway(), "lmp_da", NOV3)

    assert (
        str(raised.value) == f"{span.resolve()}#2024-11-03: TOY lmp_da 2024-11-03: line 5: broken"
    )
    folder = day_folder(layout, NOV3)
    assert not folder.exists() or list(folder.iterdir()) == []


def test_a_span_file_changed_without_its_index_noticing_fails_the_day(layout: Layout):
    span = write(downloads(layout) / "prices.csv", SPAN)
    find_dropped(layout, SpanIso(), "lmp_da", NOV3)
    stat = span.stat()
    span.write_bytes(SPAN.replace(b"2024-11-03", b"2024-11-09"))  # same size
    os.utime(span, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    with pytest.raises(MalformedFileError, match="no rows of the day, though the drop index"):
        ingest_dropped_day(layout, SpanIso(), "lmp_da", NOV3)
    folder = day_folder(layout, NOV3)
    assert not folder.exists() or list(folder.iterdir()) == []


def test_an_index_without_span_files_is_rebuilt(layout: Layout):
    span = write(downloads(layout) / "prices.csv", SPAN)
    stat = span.stat()
    # What an index of version 2 said: the name was no one's, nothing to read.
    old = {str(span.resolve()): {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                                 "leaves": [], "problems": []}}  # fmt: skip
    write(layout.iso_dir("TOY") / INDEX_NAME, json.dumps({"version": 2, "archives": old}).encode())

    assert len(find_dropped(layout, SpanIso(), "lmp_da", NOV3)) == 1


def test_spool_folders_left_by_a_killed_run_are_removed(layout: Layout):
    # A pid above any pid_max: that run is gone. Its spooled member was never removed.
    left = layout.iso_dir("TOY") / ".span_spool.999999999.abcd_123"
    write(left / "prices.csv", SPAN)
    write(downloads(layout) / "q4.zip", zip_bytes({"prices.csv": SPAN}))

    (record,) = ingest_dropped_day(layout, SpanIso(), "lmp_da", NOV3)

    assert record["bytes"] == len(NOV3_CUT)
    assert [p.name for p in layout.iso_dir("TOY").iterdir() if p.name.startswith(".span")] == []
