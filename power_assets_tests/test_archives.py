import gzip
import hashlib
import io
import random
import tarfile
import zipfile
from pathlib import Path

import pytest

from power_assets.errors import MalformedFileError, UnsafeArchiveError
from power_assets.io import archives
from power_assets.io.archives import ExtractedFile, extract_recursively, is_archive

CSV_A = b"interval,lmp\n2024-01-01T00:00,31.5\n"
CSV_B = b"interval,lmp\n2024-01-01T01:00,29.75\n"


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_gz_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def tar_with_special(tmp_path: Path, kind: bytes) -> Path:
    source = tmp_path / "special.tar"
    with tarfile.open(source, "w") as archive:
        info = tarfile.TarInfo("ok.csv")
        info.size = len(CSV_A)
        archive.addfile(info, io.BytesIO(CSV_A))
        special = tarfile.TarInfo("link.csv")
        special.type = kind
        special.linkname = "/etc/passwd"
        archive.addfile(special)
    return source


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root, relative path to content."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_plain_csv_is_copied_to_dest_with_source_name_as_chain(tmp_path: Path) -> None:
    source = write(tmp_path / "prices.csv", CSV_A)
    dest = tmp_path / "out"

    result = extract_recursively(source, dest)

    assert result == [ExtractedFile(dest / "prices.csv", ("prices.csv",), len(CSV_A), sha(CSV_A))]
    assert tree(dest) == {"prices.csv": CSV_A}
    assert source.read_bytes() == CSV_A


def test_plain_file_already_at_destination_is_left_in_place(tmp_path: Path) -> None:
    source = write(tmp_path / "prices.csv", CSV_A)

    result = extract_recursively(source, tmp_path)

    assert result == [ExtractedFile(source, ("prices.csv",), len(CSV_A), sha(CSV_A))]
    assert source.read_bytes() == CSV_A


def test_zip_with_several_csvs_extracts_each_at_its_member_path_sorted(tmp_path: Path) -> None:
    members = {"b.csv": CSV_B, "a.csv": CSV_A, "2024/c.csv": CSV_A + CSV_B}
    source = write(tmp_path / "report.zip", zip_bytes(members))
    dest = tmp_path / "out"

    result = extract_recursively(source, dest)

    assert [r.path for r in result] == [dest / "2024/c.csv", dest / "a.csv", dest / "b.csv"]
    assert [r.member_chain for r in result] == [
        ("report.zip", "2024/c.csv"),
        ("report.zip", "a.csv"),
        ("report.zip", "b.csv"),
    ]
    assert tree(dest) == members


def test_zip_in_zip_in_zip_extracts_leaf_with_member_chain(tmp_path: Path) -> None:
    innermost = zip_bytes({"a.csv": CSV_A})
    middle = zip_bytes({"hour/03.zip": innermost})
    source = write(tmp_path / "outer.zip", zip_bytes({"2024/day1.zip": middle}))
    dest = tmp_path / "out"

    result = extract_recursively(source, dest)

    assert result == [
        ExtractedFile(
            dest / "2024/day1/hour/03/a.csv",
            ("outer.zip", "2024/day1.zip", "hour/03.zip", "a.csv"),
            len(CSV_A),
            sha(CSV_A),
        )
    ]
    assert tree(dest) == {"2024/day1/hour/03/a.csv": CSV_A}


def test_tar_gz_with_nested_zip_extracts_zip_members_under_its_stem(tmp_path: Path) -> None:
    nested = zip_bytes({"a.csv": CSV_A, "b.csv": CSV_B})
    source = write(
        tmp_path / "bundle.tar.gz", tar_gz_bytes({"days/d1.zip": nested, "notes.txt": b"hi"})
    )
    dest = tmp_path / "out"

    result = extract_recursively(source, dest)

    assert [(r.path.relative_to(dest).as_posix(), r.member_chain) for r in result] == [
        ("days/d1/a.csv", ("bundle.tar.gz", "days/d1.zip", "a.csv")),
        ("days/d1/b.csv", ("bundle.tar.gz", "days/d1.zip", "b.csv")),
        ("notes.txt", ("bundle.tar.gz", "notes.txt")),
    ]
    assert tree(dest) == {"days/d1/a.csv": CSV_A, "days/d1/b.csv": CSV_B, "notes.txt": b"hi"}


def test_plain_gz_of_csv_decompresses_to_name_without_gz(tmp_path: Path) -> None:
    source = write(tmp_path / "prices.csv.gz", gzip.compress(CSV_A))
    dest = tmp_path / "out"

    result = extract_recursively(source, dest)

    assert result == [
        ExtractedFile(dest / "prices.csv", ("prices.csv.gz", "prices.csv"), len(CSV_A), sha(CSV_A))
    ]
    assert tree(dest) == {"prices.csv": CSV_A}


def test_gzipped_zip_inside_zip_is_examined_again_and_unpacked(tmp_path: Path) -> None:
    inner = gzip.compress(zip_bytes({"a.csv": CSV_A}))
    source = write(
        tmp_path / "outer.zip",
        zip_bytes({"d/x.zip.gz": inner, "y.csv.gz": gzip.compress(CSV_B)}),
    )
    dest = tmp_path / "out"

    result = extract_recursively(source, dest)

    assert [r.member_chain for r in result] == [
        ("outer.zip", "d/x.zip.gz", "x.zip", "a.csv"),
        ("outer.zip", "y.csv.gz", "y.csv"),
    ]
    assert tree(dest) == {"d/x/a.csv": CSV_A, "y.csv": CSV_B}


def test_directories_in_archive_are_skipped_and_empty_zip_gives_nothing(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.mkdir("empty_dir")
        archive.writestr("full/a.csv", CSV_A)
    source = write(tmp_path / "dirs.zip", buffer.getvalue())
    empty = write(tmp_path / "empty.zip", zip_bytes({}))

    result = extract_recursively(source, tmp_path / "out")

    assert [r.member_chain for r in result] == [("dirs.zip", "full/a.csv")]
    assert not (tmp_path / "out/empty_dir").exists()
    assert extract_recursively(empty, tmp_path / "out2") == []


@pytest.mark.parametrize(
    "bad_name", ["../evil.csv", "a/../../evil.csv", "..\\evil.csv", "/etc/x", "C:/x.csv"]
)
def test_traversal_or_absolute_zip_member_is_refused_and_nothing_written(
    tmp_path: Path, bad_name: str
) -> None:
    # The good member comes first, so this also checks that it is removed again.
    source = write(tmp_path / "evil.zip", zip_bytes({"good.csv": CSV_A, bad_name: CSV_B}))
    dest = tmp_path / "sandbox" / "out"
    dest.parent.mkdir()

    with pytest.raises(UnsafeArchiveError) as caught:
        extract_recursively(source, dest)

    message = str(caught.value)
    assert str(source) in message
    assert f"evil.zip > {bad_name}" in message
    assert not dest.exists()
    assert tree(tmp_path / "sandbox") == {}
    assert not (tmp_path / "evil.csv").exists()


def test_absolute_tar_member_is_refused(tmp_path: Path) -> None:
    source = write(tmp_path / "abs.tar.gz", tar_gz_bytes({"ok.csv": CSV_A, "/etc/x": CSV_B}))
    dest = tmp_path / "out"

    with pytest.raises(UnsafeArchiveError, match="absolute member name"):
        extract_recursively(source, dest)

    assert not dest.exists()


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        (tarfile.SYMTYPE, "symbolic link to '/etc/passwd'"),
        (tarfile.LNKTYPE, "hard link to '/etc/passwd'"),
        (tarfile.FIFOTYPE, "device, fifo or other special file"),
        (tarfile.CHRTYPE, "device, fifo or other special file"),
    ],
)
def test_tar_links_and_special_files_are_refused(tmp_path: Path, kind: bytes, problem: str) -> None:
    source = tar_with_special(tmp_path, kind)
    dest = tmp_path / "out"

    with pytest.raises(UnsafeArchiveError) as caught:
        extract_recursively(source, dest)

    assert "special.tar > link.csv" in str(caught.value)
    assert problem in str(caught.value)
    assert not dest.exists()


def test_zip_symlink_member_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("link.csv")
        info.external_attr = (0o120777) << 16
        archive.writestr(info, "/etc/passwd")
    source = write(tmp_path / "link.zip", buffer.getvalue())

    with pytest.raises(UnsafeArchiveError, match="symbolic link"):
        extract_recursively(source, tmp_path / "out")

    assert not (tmp_path / "out").exists()


def test_zip_bomb_is_refused_by_declared_ratio_and_nothing_left_behind(tmp_path: Path) -> None:
    zeros = bytes(50 * 2**20)
    source = write(tmp_path / "bomb.zip", zip_bytes({"a.csv": CSV_A, "zeros.bin": zeros}))
    dest = tmp_path / "out"
    dest.mkdir()

    with pytest.raises(UnsafeArchiveError) as caught:
        extract_recursively(source, dest, max_ratio=10)

    assert "bomb.zip > zeros.bin" in str(caught.value)
    assert "expansion ratio limit 10" in str(caught.value)
    assert list(dest.iterdir()) == []


def test_gzip_bomb_is_refused_while_streaming_with_default_ratio(tmp_path: Path) -> None:
    # gzip declares no trustworthy size, so only the streaming counter can catch this.
    source = write(tmp_path / "zeros.bin.gz", gzip.compress(bytes(50 * 2**20), compresslevel=9))
    dest = tmp_path / "out"
    dest.mkdir()

    with pytest.raises(UnsafeArchiveError, match="gzip expands to over"):
        extract_recursively(source, dest)

    assert list(dest.iterdir()) == []


def test_tiny_member_is_capped_at_ratio_times_one_kib(tmp_path: Path) -> None:
    source = write(tmp_path / "small.zip", zip_bytes({"a.txt": b"x" * 3000}))

    with pytest.raises(UnsafeArchiveError, match=r"declares 3000 bytes"):
        extract_recursively(source, tmp_path / "out", max_ratio=2)
    result = extract_recursively(source, tmp_path / "out", max_ratio=3)

    assert [r.size for r in result] == [3000]


def test_total_bytes_limit_refuses_and_removes_files_already_written(tmp_path: Path) -> None:
    members = {"a.bin": b"a" * 1000, "b.bin": b"b" * 1000, "c.bin": b"c" * 1000}
    source = write(tmp_path / "big.zip", zip_bytes(members, zipfile.ZIP_STORED))
    dest = tmp_path / "out"

    with pytest.raises(UnsafeArchiveError, match="max_total_bytes=2500"):
        extract_recursively(source, dest, max_total_bytes=2500)
    assert not dest.exists()

    assert len(extract_recursively(source, dest, max_total_bytes=3000)) == 3


def test_more_members_than_max_members_is_refused(tmp_path: Path) -> None:
    source = write(tmp_path / "many.zip", zip_bytes({f"{i}.csv": CSV_A for i in range(5)}))

    with pytest.raises(UnsafeArchiveError, match="max_members=4"):
        extract_recursively(source, tmp_path / "out", max_members=4)

    assert len(extract_recursively(source, tmp_path / "out", max_members=5)) == 5


def test_nesting_deeper_than_max_depth_is_refused(tmp_path: Path) -> None:
    level3 = zip_bytes({"a.csv": CSV_A})
    level2 = zip_bytes({"l3.zip": level3})
    source = write(tmp_path / "l1.zip", zip_bytes({"l2.zip": level2}))
    dest = tmp_path / "out"

    with pytest.raises(UnsafeArchiveError) as caught:
        extract_recursively(source, dest, max_depth=2)

    assert "l1.zip > l2.zip > l3.zip" in str(caught.value)
    assert "max_depth=2" in str(caught.value)
    assert not dest.exists()
    assert tree(dest) == {}
    extract_recursively(source, dest, max_depth=3)
    assert tree(dest) == {"l2/l3/a.csv": CSV_A}


def test_truncated_zip_raises_malformed_naming_the_file(tmp_path: Path) -> None:
    data = zip_bytes({"a.csv": CSV_A * 100})
    source = write(tmp_path / "broken.zip", data[: len(data) // 2])

    with pytest.raises(MalformedFileError) as caught:
        extract_recursively(source, tmp_path / "out")

    assert str(source) in str(caught.value)
    assert "corrupt zip archive" in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_crc_error_in_nested_member_names_the_member_chain(tmp_path: Path) -> None:
    payload = b"0123456789" * 50
    inner = bytearray(zip_bytes({"a.csv": payload}, zipfile.ZIP_STORED))
    inner[inner.index(payload) + 5] ^= 0xFF
    source = write(tmp_path / "outer.zip", zip_bytes({"inner.zip": bytes(inner)}))

    with pytest.raises(MalformedFileError, match="CRC") as caught:
        extract_recursively(source, tmp_path / "out")

    assert "outer.zip > inner.zip > a.csv" in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_truncated_gzip_raises_malformed(tmp_path: Path) -> None:
    data = gzip.compress(CSV_A * 200)
    source = write(tmp_path / "cut.csv.gz", data[:-20])

    with pytest.raises(MalformedFileError, match=r"cut\.csv\.gz"):
        extract_recursively(source, tmp_path / "out")

    assert not (tmp_path / "out").exists()


def test_two_members_extracting_to_one_path_is_an_error_naming_both(tmp_path: Path) -> None:
    source = write(
        tmp_path / "dup.zip",
        zip_bytes({"2024/day1/a.csv": CSV_A, "2024/day1.zip": zip_bytes({"a.csv": CSV_B})}),
    )
    dest = tmp_path / "out"

    with pytest.raises(MalformedFileError) as caught:
        extract_recursively(source, dest)

    message = str(caught.value)
    assert "dup.zip > 2024/day1/a.csv" in message
    assert "dup.zip > 2024/day1.zip > a.csv" in message
    assert "both extract to 2024/day1/a.csv" in message
    assert not dest.exists()


def test_file_where_another_member_needs_a_directory_is_an_error(tmp_path: Path) -> None:
    source = write(tmp_path / "clash.zip", zip_bytes({"a": CSV_A, "a/b.csv": CSV_B}))

    with pytest.raises(MalformedFileError, match="both extract to a"):
        extract_recursively(source, tmp_path / "out")

    assert not (tmp_path / "out").exists()


def test_preexisting_files_survive_a_failed_extraction(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    write_to = {"keep.txt": b"mine", "2024/keep2.txt": b"also mine"}
    for name, data in write_to.items():
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        (dest / name).write_bytes(data)
    source = write(
        tmp_path / "bad.zip",
        zip_bytes({"2024/new.csv": CSV_A, "fresh/new.csv": CSV_B, "../evil.csv": CSV_A}),
    )

    with pytest.raises(UnsafeArchiveError):
        extract_recursively(source, dest)

    assert tree(dest) == write_to
    assert sorted(p.name for p in dest.iterdir()) == ["2024", "keep.txt"]


def test_rerun_is_idempotent_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    source = write(
        tmp_path / "outer.zip",
        zip_bytes({"a.csv": CSV_A, "nested.tgz": tar_gz_bytes({"b.csv": CSV_B})}),
    )
    dest = tmp_path / "out"

    first = extract_recursively(source, dest)
    second = extract_recursively(source, dest)

    assert first == second
    assert [r.member_chain for r in first] == [
        ("outer.zip", "a.csv"),
        ("outer.zip", "nested.tgz", "b.csv"),
    ]
    assert tree(dest) == {"a.csv": CSV_A, "nested/b.csv": CSV_B}


def test_sha256_and_size_match_the_extracted_bytes(tmp_path: Path) -> None:
    payload = random.Random(7).randbytes(300_001)
    source = write(tmp_path / "data.tar.gz", tar_gz_bytes({"x/payload.bin": payload}))

    (result,) = extract_recursively(source, tmp_path / "out")

    assert result.size == 300_001
    assert result.sha256 == hashlib.sha256(payload).hexdigest()
    assert result.path.read_bytes() == payload


def test_large_nested_zip_is_spooled_to_disk_and_cleaned_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archives, "_IN_MEMORY_LIMIT", 1024)
    payload = bytes(range(256)) * 64
    nested = zip_bytes({"big.bin": payload}, zipfile.ZIP_STORED)
    assert len(nested) > 1024
    source = write(tmp_path / "outer.zip", zip_bytes({"inner.zip": nested}))
    dest = tmp_path / "out"

    result = extract_recursively(source, dest)

    assert [r.sha256 for r in result] == [sha(payload)]
    assert tree(dest) == {"inner/big.bin": payload}
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*")) == [
        "inner",
        "inner/big.bin",
    ]


def test_is_archive_looks_at_magic_bytes_not_the_extension(tmp_path: Path) -> None:
    disguised_zip = write(tmp_path / "report.csv", zip_bytes({"a.csv": CSV_A}))
    disguised_csv = write(tmp_path / "report.zip", CSV_A)
    tar_buffer = io.BytesIO()
    with tarfile.open(fileobj=tar_buffer, mode="w") as archive:
        info = tarfile.TarInfo("a.csv")
        info.size = len(CSV_A)
        archive.addfile(info, io.BytesIO(CSV_A))

    assert is_archive(disguised_zip) is True
    assert is_archive(disguised_csv) is False
    assert is_archive(gzip.compress(CSV_A)) is True
    assert is_archive(tar_buffer.getvalue()) is True
    assert is_archive(b"PK\x05\x06" + bytes(18)) is True
    assert is_archive(CSV_A * 100) is False


def test_crc_error_past_the_end_of_a_nested_tar_is_still_detected(tmp_path: Path) -> None:
    # tar stops reading at its end-of-archive blocks; the damaged tail is only seen by the CRC.
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("a.csv")
        info.size = len(CSV_A)
        archive.addfile(info, io.BytesIO(CSV_A))
    inner = buffer.getvalue()
    outer = bytearray(zip_bytes({"inner.tar": inner}, zipfile.ZIP_STORED))
    outer[outer.index(inner) + len(inner) - 1] ^= 0xFF
    source = write(tmp_path / "outer.zip", bytes(outer))

    with pytest.raises(MalformedFileError, match="CRC") as caught:
        extract_recursively(source, tmp_path / "out")

    assert "outer.zip > inner.tar" in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_gzip_bomb_inside_gzip_is_judged_by_bytes_consumed(tmp_path: Path) -> None:
    # The inner gzip's size is known nowhere, so its ratio is measured as it streams.
    inner = gzip.compress(bytes(50 * 2**20), compresslevel=9)
    source = write(tmp_path / "z.bin.gz.gz", gzip.compress(inner))

    with pytest.raises(UnsafeArchiveError, match="gzip expands to over") as caught:
        extract_recursively(source, tmp_path / "out")

    assert "z.bin.gz.gz > z.bin.gz:" in str(caught.value)
    assert not (tmp_path / "out").exists()
