"""Drop-folder ingestion: users' nested bulk archives are found by leaf name and copied in as-is.

Archives are built here in the ISOs' naming: ERCOT yearly ZIPs of daily ZIPs of per-document
`_csv.zip`s, NYISO monthly `_csv.zip`s of daily CSVs, CAISO OASIS CSV names.
"""

import hashlib
import io
import json
import os
import re
import zipfile
from datetime import date, datetime, timedelta
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
from power_assets.isos.caiso import Caiso
from power_assets.isos.nyiso import Nyiso
from power_assets.layout import Layout
from power_assets.stages.drop import (
    INDEX_NAME,
    drop_env_var,
    drop_folders,
    find_dropped,
    ingest_dropped_day,
)

NOV4 = date(2024, 11, 4)


class ErcotLike(NamedRequests):
    """ERCOT's document naming and RT delivery-day rule, and no network at all."""

    id: ClassVar[str] = "ERCOT"
    name: ClassVar[str] = "ERCOT naming, for drop-folder tests"
    timezone: ClassVar[str] = "America/Chicago"
    default_base_url: ClassVar[str] = "http://127.0.0.1:9"
    min_request_spacing_s: ClassVar[float] = 0.0
    datasets: ClassVar[dict[str, DatasetSpec]] = {
        dataset: DatasetSpec(
            dataset, DatasetKind.LMP, "RT15M", timedelta(minutes=15), IntervalLabel.END, "test"
        )
        for dataset in ("lmp_rt15", "lmp_da")
    }
    combined: ClassVar[CombinedSources] = CombinedSources("lmp_da", None, "lmp_rt15")
    value_bounds: ClassVar[tuple] = ()

    def requests_for_day(self, dataset_id, day, today=None):
        raise AssertionError("drop ingestion must not plan requests")

    def check_payload(self, content, source):
        raise AssertionError("drop ingestion must not check payloads")

    def parse(self, dataset_id, paths):
        raise AssertionError("drop ingestion must not parse")

    def dropped_file_day(self, name: str) -> tuple[str, date] | None:
        # ERCOT's rule for report 12301 (ercot.reports): the file of the interval ending 24:00
        # of D is named D+1_0000 and belongs to D. CSV leaves only; XML twins are not data.
        match = _SPP_CSV.fullmatch(name)
        if match is None:
            return None
        end = datetime.strptime(match["end"], "%Y%m%d_%H%M")
        return "lmp_rt15", (end - timedelta(seconds=1)).date()


_SPP_CSV = re.compile(
    r"cdr\.00012301\.\d{16}\.\d{8}\.\d{6}\.SPPHLZNP6905_(?P<end>\d{8}_\d{4})\.csv"
)


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def spp_doc(stamp: str, posted: str) -> str:
    """An RT settlement-point-price document (report 12301) for the interval ending at `stamp`."""
    return f"cdr.00012301.0000000000000000.{posted}.SPPHLZNP6905_{stamp}"


def spp_csv(stamp: str) -> bytes:
    return (
        f"DeliveryDate,DeliveryHour,SettlementPointPrice\r\n{stamp},1,{len(stamp)}.5\r\n".encode()
    )


def ercot_daily_zip(stamps: list[tuple[str, str]]) -> bytes:
    """ERCOT's daily archive: one `_csv.zip` (and its XML twin) per document."""
    members = {}
    for stamp, posted in stamps:
        doc = spp_doc(stamp, posted)
        members[f"{doc}_csv.zip"] = zip_bytes({f"{doc}.csv": spp_csv(stamp)})
        members[f"{doc}_xml.zip"] = zip_bytes({f"{doc}.xml": b"<xml/>"})
    return zip_bytes(members)


# Interval-end stamps: the file ending 24:00 of Nov 4 is named for 00:00 of Nov 5 (and posted then).
NOV3 = [("20241103_0015", "20241103.001502"), ("20241104_0000", "20241104.000003")]
NOV4_STAMPS = [
    ("20241104_0015", "20241104.001502"),
    ("20241104_0030", "20241104.003001"),
    ("20241104_2345", "20241104.234502"),
]
NOV5 = [("20241105_0000", "20241105.000002"), ("20241105_0015", "20241105.001502")]
NOV4_NAMES = sorted(f"{spp_doc(stamp, posted)}.csv" for stamp, posted in [*NOV4_STAMPS, NOV5[0]])


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Layout:
    for iso in ("ERCOT", "NYISO", "CAISO"):
        monkeypatch.delenv(drop_env_var(iso), raising=False)
    return Layout(tmp_path / "data")


def downloads(layout: Layout, iso: str) -> Path:
    return layout.iso_dir(iso) / "raw_downloads"


def write(path: Path, content: bytes, mtime_s: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    if mtime_s is not None:
        os.utime(path, (mtime_s, mtime_s))
    return path


@pytest.fixture
def ercot_year(layout: Layout) -> Path:
    """A yearly ZIP of daily ZIPs of `_csv.zip` documents, dropped in a user's sub-folder."""
    yearly = zip_bytes(
        {
            "2024/RTSPP_20241103.zip": ercot_daily_zip(NOV3),
            "2024/RTSPP_20241104.zip": ercot_daily_zip(NOV4_STAMPS),
            "2024/RTSPP_20241105.zip": ercot_daily_zip(NOV5),
        }
    )
    return write(downloads(layout, "ERCOT") / "bulk" / "ERCOT_RTSPP_2024.zip", yearly)


class CountingZipFile(zipfile.ZipFile):
    """zipfile.ZipFile that records what was opened: a file's path, or "nested" for a nested
    member (read from memory or from a spooled temporary file, neither of which has a path)."""

    opened: ClassVar[list[str]] = []

    def __init__(self, file, *args, **kwargs):
        name = file if isinstance(file, str | Path) else getattr(file, "name", None)
        CountingZipFile.opened.append(str(name) if isinstance(name, str | Path) else "nested")
        super().__init__(file, *args, **kwargs)


@pytest.fixture
def zip_opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    CountingZipFile.opened = []
    monkeypatch.setattr(zipfile, "ZipFile", CountingZipFile)
    return CountingZipFile.opened


# -- finding ---------------------------------------------------------------------------------


def test_finds_a_days_csvs_three_zips_deep_by_delivery_day(layout: Layout, ercot_year: Path):
    found = find_dropped(layout, ErcotLike(), "lmp_rt15", NOV4)

    assert sorted(f.name for f in found) == NOV4_NAMES
    for f in found:
        assert f.archive == ercot_year.resolve()
        assert len(f.chain) == 3 and f.chain[-1] == f.name
        assert f.chain[1].endswith("_csv.zip")
        assert (f.dataset, f.day, f.size) == ("lmp_rt15", NOV4, len(spp_csv(f.name[-17:-4])))
    # The 24:00 interval of Nov 3 is named 20241104_0000: it is not Nov 4's.
    assert not any("20241104_0000" in f.name for f in found)
    assert find_dropped(layout, ErcotLike(), "lmp_da", NOV4) == []
    assert find_dropped(layout, ErcotLike(), "lmp_rt15", date(2024, 11, 6)) == []


def test_files_in_the_pipelines_own_folders_are_not_drops(
    layout: Layout, monkeypatch: pytest.MonkeyPatch
):
    name = "20240105damlbmp_zone.csv"
    write(layout.raw_downloads("NYISO", "lmp_da", date(2024, 1, 5)) / name, b"downloaded")
    write(layout.csv_files("NYISO", "lmp_da", date(2024, 1, 5)) / "x" / name, b"extracted")
    write(downloads(layout, "NYISO") / ".hidden" / name, b"hidden")
    write(downloads(layout, "NYISO") / ".still_copying.zip", zip_bytes({name: b"hidden"}))
    # Even when the whole ISO data dir is named as a drop folder.
    monkeypatch.setenv(drop_env_var("NYISO"), str(layout.iso_dir("NYISO")))

    assert find_dropped(layout, Nyiso(), "lmp_da", date(2024, 1, 5)) == []

    write(downloads(layout, "NYISO") / "my_downloads" / name, b"dropped")
    (found,) = find_dropped(layout, Nyiso(), "lmp_da", date(2024, 1, 5))
    assert found.archive == (downloads(layout, "NYISO") / "my_downloads" / name).resolve()
    assert found.chain == ()


def test_nyiso_monthly_archives_inside_a_yearly_zip(layout: Layout):
    month = zip_bytes({f"202401{d:02}damlbmp_zone.csv": f"day {d}".encode() for d in (1, 2, 3)})
    gen = zip_bytes({f"202401{d:02}damlbmp_gen.csv": f"gen {d}".encode() for d in (1, 2, 3)})
    yearly = zip_bytes({"20240101damlbmp_zone_csv.zip": month, "20240101damlbmp_gen_csv.zip": gen})
    write(downloads(layout, "NYISO") / "2024.zip", yearly)

    found = find_dropped(layout, Nyiso(), "lmp_da", date(2024, 1, 2))

    assert [(f.chain, f.size) for f in found] == [
        (("20240101damlbmp_gen_csv.zip", "20240102damlbmp_gen.csv"), 5),
        (("20240101damlbmp_zone_csv.zip", "20240102damlbmp_zone.csv"), 5),
    ]


def test_a_leaf_in_two_archives_is_taken_once_from_the_newer_archive(layout: Layout):
    name = "20240105pal.csv"
    write(downloads(layout, "NYISO") / "old.zip", zip_bytes({name: b"old"}), mtime_s=1_700_000_000)
    write(downloads(layout, "NYISO") / "new.zip", zip_bytes({name: b"new"}), mtime_s=1_700_000_500)

    (found,) = find_dropped(layout, Nyiso(), "load", date(2024, 1, 5))
    assert found.archive.name == "new.zip"
    (record,) = ingest_dropped_day(layout, Nyiso(), "load", date(2024, 1, 5))
    assert record["file_name"] == name
    folder = layout.raw_downloads("NYISO", "load", date(2024, 1, 5))
    assert (folder / name).read_bytes() == b"new"


def test_the_iso_chooses_among_the_days_files(layout: Layout):
    class LastOnly(ErcotLike):
        def choose_dropped_files(self, dataset_id, day, names):
            return names[-1:]

    write(downloads(layout, "ERCOT") / "d.zip", ercot_daily_zip(NOV4_STAMPS))

    found = find_dropped(layout, LastOnly(), "lmp_rt15", NOV4)
    assert [f.name for f in found] == [f"{spp_doc(*NOV4_STAMPS[-1])}.csv"]


def test_zips_are_opened_four_levels_deep_and_no_deeper(layout: Layout):
    def nest(levels: int, name: str) -> bytes:
        content = zip_bytes({name: b"x"})
        for level in range(levels - 1):
            content = zip_bytes({f"level{level}.zip": content})
        return content

    write(downloads(layout, "NYISO") / "four.zip", nest(4, "20240105pal.csv"))
    write(downloads(layout, "NYISO") / "five.zip", nest(5, "20240106pal.csv"))

    (four,) = find_dropped(layout, Nyiso(), "load", date(2024, 1, 5))
    assert len(four.chain) == 4
    assert find_dropped(layout, Nyiso(), "load", date(2024, 1, 6)) == []


def test_drop_folders_from_the_environment_are_scanned(
    layout: Layout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    elsewhere, missing = tmp_path / "archive_disk", tmp_path / "not_mounted"
    write(elsewhere / "oasis" / "20240101_20240101_PRC_LMP_DAM_20240102_10_00_00_v12.csv", b"a")
    monkeypatch.setenv(drop_env_var("CAISO"), os.pathsep.join([str(missing), str(elsewhere)]))

    assert drop_folders(layout, Caiso()) == [elsewhere.resolve()]
    (found,) = find_dropped(layout, Caiso(), "lmp_da", date(2024, 1, 1))
    assert found.archive.parent == elsewhere.resolve() / "oasis"


# -- the index -------------------------------------------------------------------------------


def test_the_index_is_reused_while_archives_are_unchanged(
    layout: Layout, ercot_year: Path, zip_opens: list[str]
):
    find_dropped(layout, ErcotLike(), "lmp_rt15", NOV4)
    assert zip_opens.count(str(ercot_year.resolve())) == 1
    index = json.loads((layout.iso_dir("ERCOT") / INDEX_NAME).read_text())
    assert list(index["archives"]) == [str(ercot_year.resolve())]
    zip_opens.clear()

    again = find_dropped(layout, ErcotLike(), "lmp_rt15", NOV4)
    other_day = find_dropped(layout, ErcotLike(), "lmp_rt15", date(2024, 11, 3))

    assert zip_opens == []
    assert sorted(f.name for f in again) == NOV4_NAMES
    assert len(other_day) == 2


def test_the_index_follows_changed_and_removed_archives(
    layout: Layout, ercot_year: Path, zip_opens: list[str]
):
    assert len(find_dropped(layout, ErcotLike(), "lmp_rt15", NOV4)) == 4
    write(ercot_year, zip_bytes({"RTSPP_20241104.zip": ercot_daily_zip(NOV4_STAMPS[:1])}))
    zip_opens.clear()

    (only,) = find_dropped(layout, ErcotLike(), "lmp_rt15", NOV4)
    assert only.name == f"{spp_doc(*NOV4_STAMPS[0])}.csv"
    assert zip_opens.count(str(ercot_year.resolve())) == 1

    ercot_year.unlink()
    assert find_dropped(layout, ErcotLike(), "lmp_rt15", NOV4) == []
    index = json.loads((layout.iso_dir("ERCOT") / INDEX_NAME).read_text())
    assert index["archives"] == {}


def test_a_torn_index_is_ignored_and_rebuilt(layout: Layout, ercot_year: Path):
    index = layout.iso_dir("ERCOT") / INDEX_NAME
    write(index, b'{"version": 1, "archives": {"/x": {"size": 1, "mti')

    assert sorted(f.name for f in find_dropped(layout, ErcotLike(), "lmp_rt15", NOV4)) == NOV4_NAMES
    assert list(json.loads(index.read_text())["archives"]) == [str(ercot_year.resolve())]


def test_only_recognized_leaves_are_indexed(layout: Layout, ercot_year: Path):
    find_dropped(layout, ErcotLike(), "lmp_rt15", NOV4)
    index = json.loads((layout.iso_dir("ERCOT") / INDEX_NAME).read_text())
    (entry,) = index["archives"].values()
    names = [leaf[1] for leaf in entry["leaves"]]
    assert len(names) == len(NOV3) + len(NOV4_STAMPS) + len(NOV5)  # no XML twins, no ZIPs
    assert all(name.endswith(".csv") for name in names)


# -- ingesting -------------------------------------------------------------------------------


def test_ingest_copies_exact_bytes_with_sidecars_and_records(layout: Layout, ercot_year: Path):
    iso = ErcotLike()
    records = ingest_dropped_day(layout, iso, "lmp_rt15", NOV4)

    folder = layout.raw_downloads("ERCOT", "lmp_rt15", NOV4)
    start, end = iso.market_day_bounds(NOV4)
    assert sorted(r["file_name"] for r in records) == NOV4_NAMES
    for record in records:
        name = record["file_name"]
        content = spp_csv(name[-17:-4])
        doc = name.removesuffix(".csv")
        assert (folder / name).read_bytes() == content
        sidecar = json.loads((folder / f"{name}.json").read_text())
        assert sidecar == {k: record[k] for k in ("url", "status", "fetched_at", "bytes", "sha256")}
        assert record["sha256"] == hashlib.sha256(content).hexdigest()
        assert record["bytes"] == len(content)
        assert record["status"] == "ok"
        assert (record["window_start"], record["window_end"]) == (
            start.isoformat(),
            end.isoformat(),
        )
        assert record["url"].startswith(f"drop:{ercot_year.resolve()}!2024/RTSPP_2024110")
        assert record["url"].endswith(f"!{doc}_csv.zip!{name}")
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*NOV4_NAMES, *(f"{n}.json" for n in NOV4_NAMES)]
    )


def test_ingest_opens_each_nested_archive_once_per_day(
    layout: Layout, ercot_year: Path, zip_opens: list[str]
):
    find_dropped(layout, ErcotLike(), "lmp_rt15", NOV4)  # builds the index
    zip_opens.clear()

    ingest_dropped_day(layout, ErcotLike(), "lmp_rt15", NOV4)

    # The yearly ZIP once, the Nov 4 and Nov 5 daily ZIPs once each, one per document ZIP.
    assert zip_opens.count(str(ercot_year.resolve())) == 1
    assert zip_opens.count("nested") == 2 + len(NOV4_NAMES)


def test_ingest_of_a_day_with_nothing_dropped_is_none(layout: Layout, ercot_year: Path):
    assert ingest_dropped_day(layout, ErcotLike(), "lmp_rt15", date(2024, 11, 10)) is None
    assert not layout.raw_downloads("ERCOT", "lmp_rt15", date(2024, 11, 10)).exists()


def test_no_drop_folder_means_none_and_no_index_written(layout: Layout):
    assert ingest_dropped_day(layout, Nyiso(), "lmp_da", date(2024, 1, 5)) is None
    assert not (layout.iso_dir("NYISO") / INDEX_NAME).exists()


def test_member_paths_never_leave_the_days_folder(layout: Layout, tmp_path: Path):
    write(downloads(layout, "NYISO") / "evil.zip", zip_bytes({"../../../20240105pal.csv": b"x"}))

    (record,) = ingest_dropped_day(layout, Nyiso(), "load", date(2024, 1, 5))

    folder = layout.raw_downloads("NYISO", "load", date(2024, 1, 5))
    assert record["file_name"] == "20240105pal.csv"
    assert (folder / "20240105pal.csv").read_bytes() == b"x"
    assert sorted(p.name for p in tmp_path.rglob("20240105pal.csv")) == ["20240105pal.csv"]


def test_a_plain_dropped_csv_is_copied_as_is(layout: Layout):
    name = "20241103_20241103_PRC_AS_DAM_20241102_20_00_50_v1.csv"
    path = write(downloads(layout, "CAISO") / "loose" / name, b"INTERVALSTARTTIME_GMT\n1\n")

    (record,) = ingest_dropped_day(layout, Caiso(), "as_da", date(2024, 11, 3))

    assert record["url"] == f"drop:{path.resolve()}"
    folder = layout.raw_downloads("CAISO", "as_da", date(2024, 11, 3))
    assert (folder / name).read_bytes() == path.read_bytes()


# -- corrupt archives ------------------------------------------------------------------------


def test_a_corrupt_zip_is_named_in_a_warning_and_skipped(
    layout: Layout, caplog: pytest.LogCaptureFixture
):
    bad = write(downloads(layout, "NYISO") / "broken.zip", b"PK\x03\x04 not really a zip")

    with caplog.at_level("WARNING", logger="power_assets.stages.drop"):
        assert find_dropped(layout, Nyiso(), "load", date(2024, 1, 5)) == []

    (message,) = caplog.messages
    assert f"{bad.resolve()}: not a readable ZIP" in message


def test_a_corrupt_nested_zip_is_named_with_its_member_chain_and_the_rest_is_used(
    layout: Layout, caplog: pytest.LogCaptureFixture
):
    outer = zip_bytes(
        {
            "month/20240101pal_csv.zip": b"garbage",
            "20240105pal_csv.zip": zip_bytes({"20240105pal.csv": b"x"}),
        }
    )
    write(downloads(layout, "NYISO") / "year.zip", outer)

    with caplog.at_level("WARNING", logger="power_assets.stages.drop"):
        (found,) = find_dropped(layout, Nyiso(), "load", date(2024, 1, 5))

    assert found.chain == ("20240105pal_csv.zip", "20240105pal.csv")
    (message,) = caplog.messages
    assert "year.zip!month/20240101pal_csv.zip: not a readable ZIP" in message


def test_a_member_corrupted_after_indexing_is_named_on_ingest(layout: Layout):
    content = b"NYISO pal rows " * 200
    path = write(downloads(layout, "NYISO") / "a.zip", zip_bytes({"20240105pal.csv": content}))
    find_dropped(layout, Nyiso(), "load", date(2024, 1, 5))
    stat = path.stat()
    damaged = bytearray(path.read_bytes())
    damaged[60:70] = b"\xff" * 10  # inside the deflated data; the size stays the same
    path.write_bytes(bytes(damaged))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the index cannot notice

    with pytest.raises(MalformedFileError, match=r"a\.zip!20240105pal\.csv"):
        ingest_dropped_day(layout, Nyiso(), "load", date(2024, 1, 5))


# -- the ISOs' name rules --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("20240105damlbmp_zone.csv", ("lmp_da", date(2024, 1, 5))),
        ("20240105damlbmp_gen.csv", ("lmp_da", date(2024, 1, 5))),
        ("20241103realtime_zone.csv", ("lmp_rt5", date(2024, 11, 3))),
        ("20241103rtlbmp_gen.csv", ("lmp_rt_hourly", date(2024, 11, 3))),
        ("20240229damasp.csv", ("as_da", date(2024, 2, 29))),
        ("20240229rtasp.csv", ("as_rt", date(2024, 2, 29))),
        ("20171122pal.csv", ("load", date(2017, 11, 22))),
        ("20160401rtfuelmix.csv", ("fuel_mix", date(2016, 4, 1))),
        ("some/folder/20171122PAL.CSV", ("load", date(2017, 11, 22))),
        # One isolf file serves six target days: no single day is its own.
        ("20171122isolf.csv", None),
        # Monthly archives are containers, not data files.
        ("20240101damlbmp_zone_csv.zip", None),
        ("20160401rtfuelmix.csv.zip", None),
        ("20240105damlbmp.csv", None),  # LBMP files always name zone or gen
        ("20240105damasp_zone.csv", None),
        ("20240105unknown.csv", None),
        ("20241305pal.csv", None),  # month 13
        ("2024010pal.csv", None),
    ],
)
def test_nyiso_dropped_file_day(name: str, expected):
    assert Nyiso().dropped_file_day(name) == expected


@pytest.mark.parametrize(
    ("first", "last", "report", "expected"),
    [
        ("20240101", "20240101", "PRC_LMP_DAM", ("lmp_da", date(2024, 1, 1))),
        ("20241103", "20241103", "PRC_INTVL_LMP_RTM", ("lmp_rt5", date(2024, 11, 3))),
        ("20241103", "20241103", "PRC_RTPD_LMP_RTPD", ("lmp_rt15", date(2024, 11, 3))),
        ("20241104", "20241104", "PRC_AS_DAM", ("as_da", date(2024, 11, 4))),
        ("20250221", "20250221", "SLD_FCST_7DA", ("load_forecast", date(2025, 2, 21))),
        ("20250221", "20250221", "SLD_FCST_DAM", ("load_forecast", date(2025, 2, 21))),
        # Several market days in one file: which partition would it be?
        ("20250219", "20250227", "SLD_FCST_7DA", None),
        ("20240101", "20240102", "PRC_LMP_DAM", None),
        # Market runs and queries no dataset asks for.
        ("20240101", "20240101", "PRC_AS_HASP", None),
        ("20240101", "20240101", "PRC_LMP_RTM", None),
        ("20250221", "20250221", "SLD_FCST_ACTUAL", None),
        ("20160519", "20160519", "ENE_SLRS_DAM", None),
        ("20241301", "20241301", "PRC_LMP_DAM", None),  # month 13
    ],
)
def test_caiso_dropped_file_day(first: str, last: str, report: str, expected):
    name = f"{first}_{last}_{report}_20240102_10_00_00_v12.csv"
    assert Caiso().dropped_file_day(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        # The legacy XML twin and the ZIP as OASIS serves it are not the leaves matched.
        "20240101_20240101_PRC_LMP_DAM_20240102_10_00_00_v12.xml",
        "PRC_LMP_DAM_20241103T0700Z_20241104T0800Z.zip",
        "20240101_20240101_PRC_LMP_DAM_v12.csv",
    ],
)
def test_caiso_dropped_file_day_wants_oasis_csv_names(name: str):
    assert Caiso().dropped_file_day(name) is None


# -- real files --------------------------------------------------------------------------------


def test_real_nyiso_monthly_archive_inside_a_users_zip(layout: Layout, samples: Path):
    real = (samples / "nyiso" / "20250201rtfuelmix_csv.zip").read_bytes()
    write(downloads(layout, "NYISO") / "backup" / "nyiso_2025.zip", zip_bytes({"feb.zip": real}))
    with zipfile.ZipFile(io.BytesIO(real)) as month:
        expected = month.read("20250203rtfuelmix.csv")

    (record,) = ingest_dropped_day(layout, Nyiso(), "fuel_mix", date(2025, 2, 3))

    folder = layout.raw_downloads("NYISO", "fuel_mix", date(2025, 2, 3))
    assert (folder / "20250203rtfuelmix.csv").read_bytes() == expected
    assert record["url"].endswith("nyiso_2025.zip!feb.zip!20250203rtfuelmix.csv")


def test_real_oasis_zip_member_names_a_caiso_day(layout: Layout, samples: Path):
    real = (samples / "caiso" / "temp.zip").read_bytes()
    write(downloads(layout, "CAISO") / "oasis" / "temp.zip", real)

    (found,) = find_dropped(layout, Caiso(), "lmp_da", date(2020, 1, 1))
    assert found.chain == ("20200101_20200101_PRC_LMP_DAM_20200630_22_50_44_v1.csv",)
