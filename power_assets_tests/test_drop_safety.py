"""Drop folders against hostile or broken input: expansion limits, unreadable archives, links.

The 1 GiB bombs are ingested by a child process whose own peak RSS `os.wait4` reports; a
watchdog kills a ballooning child, so a regression cannot take the machine down with it.
"""

import io
import json
import os
import random
import subprocess
import sys
import time
import tracemalloc
import zipfile
from datetime import date
from pathlib import Path

import pytest

from power_assets.demo.oasis_server import FakeOasis
from power_assets.errors import UnsafeArchiveError
from power_assets.io.http import IsoHttpClient
from power_assets.isos.caiso import Caiso
from power_assets.isos.nyiso import Nyiso
from power_assets.layout import Layout
from power_assets.stages import drop_zip
from power_assets.stages.drop import INDEX_NAME, find_dropped, ingest_dropped_day
from power_assets.stages.raw import download_day

REPO = Path(__file__).resolve().parents[1]
LOGGER = "power_assets.stages.drop"
GIB = 2**30
MIB = 2**20
# ERCOT NP4-190-CD (day-ahead settlement point prices) posted 2024-01-10: market day 2024-01-11.
DAM_CSV = "cdr.00012331.0000000000000000.20240110.131554.DAMSPNP4190.csv"
DAM_DOC_ZIP = "cdr.00012331.0000000000000000.20240110.131554.DAMSPNP4190_csv.zip"
DAM_DAY = "2024-01-11"
# Reaching this RSS the child is killed: the test has failed by then, the machine is spared.
WATCHDOG_BYTES = 3 * GIB


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def write(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def noise(size: int, seed: int = 7) -> bytes:
    """Incompressible bytes: their ZIP member expands by a ratio of about 1."""
    return random.Random(seed).randbytes(size)


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Layout:
    for name in list(os.environ):
        if name.startswith("POWER_ASSETS_"):
            monkeypatch.delenv(name)
    return Layout(tmp_path / "data")


def downloads(layout: Layout, iso: str) -> Path:
    return layout.iso_dir(iso) / "raw_downloads"


def day_folder(layout: Layout, day: date) -> Path:
    return layout.raw_downloads("NYISO", "load", day)


@pytest.fixture
def zip_opens(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The name of what each zipfile.ZipFile is opened on (None: a nested archive's spool)."""
    opened: list[object] = []
    real_init = zipfile.ZipFile.__init__

    def init(self, file, *args, **kwargs):
        opened.append(getattr(file, "name", None))
        real_init(self, file, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "__init__", init)
    return opened


# -- limits, in process (small inputs) -------------------------------------------------------


def test_a_leaf_beyond_the_ratio_limit_fails_only_its_day_and_the_setting_raises_it(
    layout: Layout, monkeypatch: pytest.MonkeyPatch
):
    zeros = bytes(10 * MIB)  # deflates about 1000:1
    archive = write(
        downloads(layout, "NYISO") / "loads.zip",
        zip_bytes({"jan/20240105pal.csv": zeros, "jan/20240106pal.csv": b"Time Stamp,Load\n"}),
    )

    # Indexing reads names only: the bomb is listed (declared size) without being inflated.
    with monkeypatch.context() as patch:
        patch.setattr(zipfile.ZipFile, "open", lambda *_a, **_k: pytest.fail("leaf inflated"))
        (found,) = find_dropped(layout, Nyiso(), "load", date(2024, 1, 5))
    assert found.size == 10 * MIB
    with pytest.raises(UnsafeArchiveError) as raised:
        ingest_dropped_day(layout, Nyiso(), "load", date(2024, 1, 5))

    message = str(raised.value)
    assert f"{archive.resolve()}!jan/20240105pal.csv: NYISO load 2024-01-05:" in message
    assert "max_ratio=200.0 (POWER_ASSETS_DROP_MAX_RATIO)" in message
    assert not (day_folder(layout, date(2024, 1, 5)) / "20240105pal.csv").exists()
    (other,) = ingest_dropped_day(layout, Nyiso(), "load", date(2024, 1, 6))
    assert other["bytes"] == 16

    monkeypatch.setenv("POWER_ASSETS_DROP_MAX_RATIO", "5000")
    (record,) = ingest_dropped_day(layout, Nyiso(), "load", date(2024, 1, 5))
    assert record["bytes"] == 10 * MIB
    assert (day_folder(layout, date(2024, 1, 5)) / "20240105pal.csv").stat().st_size == 10 * MIB


@pytest.mark.parametrize(
    ("variable", "value", "failing_leaf", "named"),
    [
        # Refused from the sizes declared, before anything is inflated.
        ("POWER_ASSETS_DROP_MAX_MEMBER_BYTES", "2000", "20240105damlbmp_gen.csv",
         "max_member_bytes=2000 (POWER_ASSETS_DROP_MAX_MEMBER_BYTES)"),
        # Counted as the bytes stream: the first leaf is copied, the second goes past 5000.
        ("POWER_ASSETS_DROP_MAX_TOTAL_BYTES", "5000", "20240105damlbmp_zone.csv",
         "max_total_bytes=5000 (POWER_ASSETS_DROP_MAX_TOTAL_BYTES)"),
    ],
)  # fmt: skip
def test_the_size_limits_are_settings_named_when_exceeded(
    layout: Layout,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    failing_leaf: str,
    named: str,
):
    leaves = {"20240105damlbmp_gen.csv": noise(3000, 1), "20240105damlbmp_zone.csv": noise(3000, 2)}
    write(downloads(layout, "NYISO") / "a.zip", zip_bytes(leaves))
    assert len(ingest_dropped_day(layout, Nyiso(), "lmp_da", date(2024, 1, 5))) == 2
    monkeypatch.setenv(variable, value)

    with pytest.raises(UnsafeArchiveError) as raised:
        ingest_dropped_day(layout, Nyiso(), "lmp_da", date(2024, 1, 5))
    assert f"a.zip!{failing_leaf}: NYISO lmp_da 2024-01-05: " in str(raised.value)
    assert named in str(raised.value)


def test_a_nested_archive_over_a_limit_is_warned_once_and_the_rest_is_used(
    layout: Layout, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    # A stored ZIP of 10 MiB of zeros, deflated by the outer ZIP to a few KiB.
    bomb = zip_bytes({"20240102pal.csv": bytes(10 * MIB)}, zipfile.ZIP_STORED)
    good = zip_bytes({"20240105pal.csv": b"Time Stamp,Load\n"})
    archive = write(
        downloads(layout, "NYISO") / "year.zip",
        zip_bytes({"20240101pal_csv.zip": bomb, "20240105pal_csv.zip": good}),
    )

    with caplog.at_level("WARNING", logger=LOGGER):
        assert ingest_dropped_day(layout, Nyiso(), "load", date(2024, 1, 2)) is None
        (record,) = ingest_dropped_day(layout, Nyiso(), "load", date(2024, 1, 5))
        assert ingest_dropped_day(layout, Nyiso(), "load", date(2024, 1, 2)) is None

    assert record["url"].endswith("year.zip!20240105pal_csv.zip!20240105pal.csv")
    (message,) = caplog.messages
    assert f"{archive.resolve()}!20240101pal_csv.zip:" in message
    assert "max_ratio=200.0 (POWER_ASSETS_DROP_MAX_RATIO)" in message

    # Raising the limit has the archive read again, although the file did not change.
    monkeypatch.setenv("POWER_ASSETS_DROP_MAX_RATIO", "5000")
    (found,) = find_dropped(layout, Nyiso(), "load", date(2024, 1, 2))
    assert found.chain == ("20240101pal_csv.zip", "20240102pal.csv")


def many_entries_zip(count: int, declared: int | None = None) -> bytes:
    """A ZIP of `count` tiny members; `declared` rewrites the entry count its end record states
    (the last 22 bytes without a comment; entries on this disk and in total at offsets 8, 10)."""
    content = zip_bytes({f"x{n}.txt": b"" for n in range(count)}, zipfile.ZIP_STORED)
    if declared is None:
        return content
    end = bytearray(content[-22:])
    end[8:12] = declared.to_bytes(2, "little") * 2
    return content[:-22] + bytes(end)


@pytest.mark.parametrize("declared", [None, 1], ids=["honest", "understated"])
def test_too_many_entries_are_refused_before_zipfile_parses_them(
    layout: Layout,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    zip_opens: list[object],
    declared: int | None,
):
    nested = many_entries_zip(30, declared)
    with zipfile.ZipFile(io.BytesIO(nested)) as check:  # zipfile reads all 30 whatever is said
        assert len(check.infolist()) == 30
    outer = zip_bytes(
        {"many.zip": nested, "20240105pal_csv.zip": zip_bytes({"20240105pal.csv": b"x"})}
    )
    archive = write(downloads(layout, "NYISO") / "big.zip", outer)
    monkeypatch.setenv("POWER_ASSETS_DROP_MAX_MEMBERS", "20")
    zip_opens.clear()

    with caplog.at_level("WARNING", logger=LOGGER):
        assert find_dropped(layout, Nyiso(), "load", date(2024, 1, 5)) == []

    assert zip_opens == [str(archive.resolve())]  # the nested ZIP was never handed to zipfile
    (message,) = caplog.messages
    assert f"{archive.resolve()}!many.zip:" in message
    assert "max_members=20 (POWER_ASSETS_DROP_MAX_MEMBERS)" in message


def test_a_bad_limit_setting_is_named(layout: Layout, monkeypatch: pytest.MonkeyPatch):
    write(downloads(layout, "NYISO") / "a.zip", zip_bytes({"20240105pal.csv": b"x"}))
    monkeypatch.setenv("POWER_ASSETS_DROP_MAX_MEMBER_BYTES", "8 GiB")

    with pytest.raises(ValueError, match=r"POWER_ASSETS_DROP_MAX_MEMBER_BYTES='8 GiB': not a"):
        find_dropped(layout, Nyiso(), "load", date(2024, 1, 5))


def test_nested_archives_are_spooled_not_read_into_memory(
    layout: Layout, monkeypatch: pytest.MonkeyPatch
):
    leaf = noise(24 * MIB)
    daily = zip_bytes({"20240105pal.csv": leaf}, zipfile.ZIP_STORED)
    write(
        downloads(layout, "NYISO") / "year.zip",
        zip_bytes({"month/20240101pal_csv.zip": daily}, zipfile.ZIP_STORED),
    )

    def whole_member(*_args, **_kwargs):
        raise AssertionError("a member was read whole into memory")

    monkeypatch.setattr(zipfile.ZipFile, "read", whole_member)
    tracemalloc.start()
    try:
        (record,) = ingest_dropped_day(layout, Nyiso(), "load", date(2024, 1, 5))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert record["bytes"] == 24 * MIB
    assert (day_folder(layout, date(2024, 1, 5)) / "20240105pal.csv").read_bytes() == leaf
    # The 24 MiB nested ZIP went to disk: a few MiB of spool and read chunks stayed in memory.
    assert peak < 12 * MIB
    # Spooled files have no name and vanish when closed; none is left behind.
    assert sorted(p.name for p in layout.iso_dir("NYISO").iterdir()) == [
        ".drop_index.json",
        "raw_downloads",
    ]


# -- 1 GiB bombs, in a child process ---------------------------------------------------------

CHILD = """
import json, logging, sys
from datetime import date
from pathlib import Path
from power_assets.isos.ercot import Ercot
from power_assets.layout import Layout
from power_assets.stages.drop import ingest_dropped_day

logging.basicConfig(level=logging.WARNING, format="%(message)s")
root, dataset, day = Path(sys.argv[1]), sys.argv[2], date.fromisoformat(sys.argv[3])
try:
    records = ingest_dropped_day(Layout(root), Ercot(), dataset, day)
except Exception as exc:
    print(json.dumps({"raised": type(exc).__name__, "message": str(exc)}))
else:
    print(json.dumps({"records": records}))
"""


def _rss_bytes(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # exited meanwhile
        return 0
    return next((int(line.split()[1]) * 1024 for line in status.splitlines()
                 if line.startswith("VmRSS:")), 0)  # fmt: skip


def ingest_in_child(layout: Layout, work: Path) -> tuple[dict, str, int]:
    """(what ERCOT lmp_da DAM_DAY's ingestion returned or raised, its log, its peak RSS)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWER_ASSETS_")}
    out, err = work / "child.out", work / "child.err"
    argv = [sys.executable, "-c", CHILD, str(layout.root), "lmp_da", DAM_DAY]
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        child = subprocess.Popen(argv, stdout=stdout, stderr=stderr, env=env, cwd=REPO)
    deadline = time.monotonic() + 300
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        if _rss_bytes(child.pid) > WATCHDOG_BYTES or time.monotonic() > deadline:
            child.kill()
        time.sleep(0.02)
    child.returncode = os.waitstatus_to_exitcode(status)
    log = err.read_text()
    result = json.loads(out.read_text() or '{"killed": true}')
    return result, log, usage.ru_maxrss * 1024  # ru_maxrss is in KiB on Linux


@pytest.fixture(scope="module")
def zeros_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ZIP holding one DAM_CSV of 1 GiB of zeros, deflated to about 1 MB."""
    path = tmp_path_factory.mktemp("bombs") / "zeros.zip"
    chunk = bytes(8 * MIB)
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open(DAM_CSV, "w", force_zip64=True) as member,
    ):
        for _ in range(GIB // len(chunk)):
            member.write(chunk)
    assert path.stat().st_size < 2 * MIB
    return path


@pytest.mark.parametrize("nested", [False, True], ids=["in_a_zip", "three_zips_deep"])
def test_a_1gib_csv_of_zeros_fails_its_day_in_bounded_memory(
    layout: Layout, tmp_path: Path, zeros_zip: Path, nested: bool
):
    content, chain = zeros_zip.read_bytes(), DAM_CSV
    if nested:
        # yearly ZIP > daily ZIP > the document's _csv.zip > the CSV, as ERCOT nests them. Stored:
        # deflated again, the bomb would shrink to a few hundred bytes and its _csv.zip (not the
        # leaf) would exceed the ratio limit, so the index would skip it (see the next test).
        daily = zip_bytes({DAM_DOC_ZIP: content}, zipfile.ZIP_STORED)
        content = zip_bytes({"2024/20240111.zip": daily}, zipfile.ZIP_STORED)
        chain = f"2024/20240111.zip!{DAM_DOC_ZIP}!{DAM_CSV}"
    archive = write(downloads(layout, "ERCOT") / "ercot_dam.zip", content)

    result, log, peak = ingest_in_child(layout, tmp_path)

    assert peak < 1_000_000_000, f"peak RSS {peak} bytes"
    assert result.get("raised") == "UnsafeArchiveError", (result, log)
    assert f"{archive.resolve()}!{chain}: ERCOT lmp_da {DAM_DAY}:" in result["message"]
    assert "max_ratio=200.0 (POWER_ASSETS_DROP_MAX_RATIO)" in result["message"]
    assert not (layout.raw_downloads("ERCOT", "lmp_da", date(2024, 1, 11)) / DAM_CSV).exists()


def test_a_1gib_nested_archive_is_skipped_in_bounded_memory_and_the_day_is_downloaded(
    layout: Layout, tmp_path: Path
):
    # A stored (uncompressed) daily ZIP of 1 GiB, deflated by the yearly ZIP to about 1 MB:
    # reading its directory would mean inflating all of it.
    archive = downloads(layout, "ERCOT") / "ercot_2024.zip"
    archive.parent.mkdir(parents=True)
    chunk = bytes(8 * MIB)
    with (
        zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as yearly,
        yearly.open("2024/20240111.zip", "w", force_zip64=True) as daily_stream,
        zipfile.ZipFile(daily_stream, "w", zipfile.ZIP_STORED) as daily,
        daily.open(DAM_CSV, "w", force_zip64=True) as member,
    ):
        for _ in range(GIB // len(chunk)):
            member.write(chunk)

    result, log, peak = ingest_in_child(layout, tmp_path)

    assert peak < 1_000_000_000, f"peak RSS {peak} bytes"
    assert result == {"records": None}, (result, log)  # not found: the download goes on
    assert f"{archive.resolve()}!2024/20240111.zip:" in log
    assert "max_ratio=200.0 (POWER_ASSETS_DROP_MAX_RATIO)" in log


# -- unreadable archives ---------------------------------------------------------------------


def truncated_zip() -> bytes:
    content = zip_bytes({"20240107pal.csv": noise(4000)})
    return content[: len(content) // 2]


@pytest.mark.parametrize(
    "content",
    [b"PK\x03\x04 then garbage", truncated_zip(), b"Time Stamp,Load\n1,2\n", b""],
    ids=["corrupt", "truncated", "not_a_zip", "empty"],
)
def test_an_unreadable_archive_is_warned_once_and_the_others_go_on(
    layout: Layout, caplog: pytest.LogCaptureFixture, zip_opens: list[object], content: bytes
):
    good = {f"2024010{d}pal.csv": f"day {d}".encode() for d in (5, 6)}
    write(downloads(layout, "NYISO") / "a_good.zip", zip_bytes(good))
    bad = write(downloads(layout, "NYISO") / "b_bad.zip", content)

    with caplog.at_level("WARNING", logger=LOGGER):
        for day in (5, 6):
            (record,) = ingest_dropped_day(layout, Nyiso(), "load", date(2024, 1, day))
            assert record["file_name"] == f"2024010{day}pal.csv"
            assert (day_folder(layout, date(2024, 1, day)) / record["file_name"]).exists()
        # Found nowhere: None, so stage 1 downloads the day as usual.
        assert ingest_dropped_day(layout, Nyiso(), "load", date(2024, 1, 7)) is None

    (message,) = caplog.messages
    assert f"NYISO drop folder: skipped {bad.resolve()}:" in message
    assert "not read again until the file changes" in message
    assert zip_opens.count(str(bad.resolve())) == 1  # tried once, then known from the index
    index = json.loads((layout.iso_dir("NYISO") / INDEX_NAME).read_text())
    assert index["archives"][str(bad.resolve())]["leaves"] == []
    assert len(index["archives"][str(bad.resolve())]["problems"]) == 1

    # A changed file is tried again.
    caplog.clear()
    stat = bad.stat()
    os.utime(bad, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with caplog.at_level("WARNING", logger=LOGGER):
        find_dropped(layout, Nyiso(), "load", date(2024, 1, 5))
    assert len(caplog.messages) == 1


def test_an_archive_without_read_permission_is_skipped_until_fixed(
    layout: Layout, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    locked = write(downloads(layout, "NYISO") / "locked.zip", zip_bytes({"20240105pal.csv": b"x"}))
    locked.chmod(0)
    if os.geteuid() == 0:  # root reads anything: refuse the open as a permission check would
        real_open = os.open

        def refusing_open(path, flags, *args, **kwargs):
            if Path(path) == locked.resolve() and not locked.stat().st_mode & 0o400:
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", refusing_open)

    with caplog.at_level("WARNING", logger=LOGGER):
        assert ingest_dropped_day(layout, Nyiso(), "load", date(2024, 1, 5)) is None
        assert ingest_dropped_day(layout, Nyiso(), "load", date(2024, 1, 5)) is None
    (message,) = caplog.messages
    assert f"{locked.resolve()}: cannot be opened: Permission denied" in message

    # Fixing the permissions changes the ctime only (once the clock has ticked): enough.
    recorded = locked.stat().st_ctime_ns
    while locked.stat().st_ctime_ns == recorded:
        time.sleep(0.01)
        locked.chmod(0o644)
    (record,) = ingest_dropped_day(layout, Nyiso(), "load", date(2024, 1, 5))
    assert record["bytes"] == 1


def test_a_corrupt_archive_does_not_stop_the_download(
    layout: Layout, caplog: pytest.LogCaptureFixture
):
    broken = write(downloads(layout, "CAISO") / "oasis_2024.zip", b"PK\x03\x04 then garbage")

    with FakeOasis(generate=True) as oasis, caplog.at_level("WARNING", logger=LOGGER):
        http = IsoHttpClient(base_urls={"CAISO": oasis.base_url}, min_spacing_s={"CAISO": 0.0})
        result = download_day(Caiso(), "lmp_da", date(2024, 3, 10), http, layout)

    assert result.source == "iso"
    assert len(result.ok) == len(oasis.requests) == 1
    (message,) = caplog.messages
    assert f"{broken.resolve()}: not a readable ZIP" in message


# -- links -----------------------------------------------------------------------------------


def test_links_leaving_the_drop_folder_are_refused_once_and_links_inside_work(
    layout: Layout, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    root = downloads(layout, "NYISO")
    outside_file = write(tmp_path / "outside" / "20240105pal.csv", b"not yours")
    outside_dir = tmp_path / "outside_dir"
    write(outside_dir / "20240106pal.csv", b"not yours either")
    root.mkdir(parents=True)
    (root / "copied_secret.csv").symlink_to(outside_file)
    (root / "elsewhere").symlink_to(outside_dir, target_is_directory=True)
    (root / "loop_a").symlink_to(root / "loop_b")
    (root / "loop_b").symlink_to(root / "loop_a")
    # Inside the folder: a file and a folder only reachable through links, and a loop.
    write(root / ".stash" / "20240107pal.csv", b"day 7")
    write(root / ".stash" / "feb" / "20240108pal.csv", b"day 8")
    (root / "latest.csv").symlink_to(root / ".stash" / "20240107pal.csv")
    (root / "feb").symlink_to(root / ".stash" / "feb", target_is_directory=True)
    (root / "again").symlink_to(root, target_is_directory=True)

    with caplog.at_level("WARNING", logger=LOGGER):
        for _ in range(2):
            assert ingest_dropped_day(layout, Nyiso(), "load", date(2024, 1, 5)) is None
            assert ingest_dropped_day(layout, Nyiso(), "load", date(2024, 1, 6)) is None
        (day7,) = ingest_dropped_day(layout, Nyiso(), "load", date(2024, 1, 7))
        (day8,) = ingest_dropped_day(layout, Nyiso(), "load", date(2024, 1, 8))

    loops = [m for m in caplog.messages if "link cannot be resolved (RuntimeError)" in m]
    assert [m.split(": link")[0] for m in loops] == [
        f"NYISO drop folder: skipped {root.resolve() / name}" for name in ("loop_a", "loop_b")
    ]
    assert sorted(set(caplog.messages) - set(loops)) == [
        f"NYISO drop folder: skipped {root.resolve() / 'copied_secret.csv'}: link to "
        f"{outside_file.resolve()}, outside the drop folder {root.resolve()}; not followed; "
        "not read again until the file changes",
        f"NYISO drop folder: skipped {root.resolve() / 'elsewhere'}: link to "
        f"{outside_dir.resolve()}, outside the drop folder {root.resolve()}; not followed; "
        "not read again until the file changes",
    ]
    assert not day_folder(layout, date(2024, 1, 5)).exists()
    assert not day_folder(layout, date(2024, 1, 6)).exists()
    assert day7["url"] == f"drop:{root.resolve() / '.stash' / '20240107pal.csv'}"
    assert day8["url"] == f"drop:{root.resolve() / '.stash' / 'feb' / '20240108pal.csv'}"
    assert (day_folder(layout, date(2024, 1, 7)) / "20240107pal.csv").read_bytes() == b"day 7"
    assert (day_folder(layout, date(2024, 1, 8)) / "20240108pal.csv").read_bytes() == b"day 8"


def test_the_copy_is_not_redirected_by_a_link_in_raw_downloads(layout: Layout, tmp_path: Path):
    write(downloads(layout, "NYISO") / "20240109pal.csv", b"day 9")
    outside = tmp_path / "outside"
    outside.mkdir()
    target = day_folder(layout, date(2024, 1, 9))
    target.parent.mkdir(parents=True)
    target.symlink_to(outside, target_is_directory=True)

    with pytest.raises(UnsafeArchiveError, match=r"2024-01-09: NYISO load 2024-01-09: a link"):
        ingest_dropped_day(layout, Nyiso(), "load", date(2024, 1, 9))
    assert list(outside.iterdir()) == []


def test_a_file_swapped_for_a_link_after_the_walk_is_not_opened(tmp_path: Path):
    real = write(tmp_path / "real.zip", b"PK")
    link = tmp_path / "swapped.zip"
    link.symlink_to(real)

    with pytest.raises(OSError):
        drop_zip.open_regular(link)
    drop_zip.open_regular(real).close()
