"""Error messages quote input only as short, escaped excerpts, and reading a header never costs
memory in proportion to a hostile first line.

Valid files come from the fake ISOs' generators; their first line is then replaced by garbage.
"""

import os
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime

import pytest

from power_assets.demo.ercot_fixtures import dam_spp_csv, settlement_points
from power_assets.demo.isone_fixtures import hourly_lmp_csv
from power_assets.demo.nyiso_fixtures import nyiso_csv
from power_assets.demo.oasis_fixtures import oasis_csv
from power_assets.errors import PowerAssetsError, SchemaDriftError
from power_assets.parsing import parse_file

DAY = date(2024, 3, 10)
BIG_LINE = 5 * 2**20  # 5 MiB without a line end: far past any header
# (ISO, dataset, file name as the ISO names it, a valid file's bytes)
FILES = [
    ("CAISO", "lmp_da", "20240310_20240311_PRC_LMP_DAM_20240311_00_00_00_v12.csv",
     lambda: oasis_csv("PRC_LMP", datetime(2024, 3, 10, 8, tzinfo=UTC),
                       datetime(2024, 3, 11, 7, tzinfo=UTC))),
    ("ERCOT", "lmp_da", "cdr.00012331.0000000000000000.20240309.131554.DAMSPNP4190.csv",
     lambda: dam_spp_csv(DAY, settlement_points(3))),
    ("NYISO", "lmp_da", "20240310damlbmp_zone.csv", lambda: nyiso_csv("damlbmp", DAY, "_zone")),
    ("ISONE", "lmp_da", "WW_DALMP_ISO_20240310.csv", lambda: hourly_lmp_csv(DAY)),
]  # fmt: skip
IDS = [iso for iso, *_ in FILES]
MESSAGE_LIMIT = 2_200  # power_assets cuts messages at 2,000 characters, plus its notice


def _with_first_line(content: bytes, first: bytes) -> bytes:
    lines = content.split(b"\n", 1)
    return first + b"\n" + lines[1]


@pytest.mark.parametrize(("iso", "dataset", "name", "make"), FILES, ids=IDS)
def test_an_overlong_first_line_is_refused_with_a_short_message(tmp_path, iso, dataset, name, make):
    path = tmp_path / name
    path.write_bytes(_with_first_line(make(), b"x" * BIG_LINE))
    with pytest.raises(PowerAssetsError) as refused:
        parse_file(iso, dataset, path)
    message = str(refused.value)
    assert len(message) < MESSAGE_LIMIT
    assert name in message
    assert "longer than 65,536 bytes" in message
    assert "'xxxxxxxx" in message  # an excerpt, quoted


@pytest.mark.parametrize(("iso", "dataset", "name", "make"), FILES, ids=IDS)
def test_a_huge_unknown_column_is_quoted_as_an_excerpt(tmp_path, iso, dataset, name, make):
    content = make()
    header = content.split(b"\n", 1)[0].rstrip(b"\r")
    if iso == "ISONE":  # record format: the header is the "H" line after the comments
        lines = content.split(b"\n")
        at = next(i for i, line in enumerate(lines) if line.startswith(b'"H"'))
        lines[at] = lines[at].rstrip(b"\r") + b',"' + b"Z" * 50_000 + b'"\r'
        spoiled = b"\n".join(lines)
    else:
        spoiled = _with_first_line(content, header + b"," + b"Z" * 50_000)
    path = tmp_path / name
    path.write_bytes(spoiled)
    with pytest.raises(PowerAssetsError) as refused:
        parse_file(iso, dataset, path)
    message = str(refused.value)
    assert len(message) < MESSAGE_LIMIT, message[:300]
    assert name in message
    if isinstance(refused.value, SchemaDriftError):
        assert "(50,000 characters)" in message


def test_a_message_is_cut_whatever_a_caller_put_in_it():
    error = PowerAssetsError("some.csv: value " + "9" * 1_000_000 + " is not a number")
    assert len(str(error)) < MESSAGE_LIMIT
    assert str(error).startswith("some.csv: value 999")
    assert "message cut at 2,000 of 1,000,032 characters" in str(error)


def test_a_200_mb_first_line_costs_no_more_memory_than_the_file(tmp_path):
    """The fault-injection case: 200 MB in one line made a 200 MB message and 1 GB of RSS."""
    for iso, _dataset, name, make in FILES[:3]:
        path = tmp_path / iso / name
        path.parent.mkdir()
        with path.open("wb") as out:
            for _ in range(200):
                out.write(b"y" * 2**20)
            out.write(b"\n" + make().split(b"\n", 1)[1])
    script = textwrap.dedent(
        f"""
        import sys
        from power_assets.errors import PowerAssetsError
        from power_assets.parsing import parse_file
        for iso, dataset, name in {[(iso, ds, name) for iso, ds, name, _ in FILES[:3]]!r}:
            try:
                parse_file(iso, dataset, {str(tmp_path)!r} + "/" + iso + "/" + name)
            except PowerAssetsError as exc:
                assert len(str(exc)) < {MESSAGE_LIMIT}, len(str(exc))
            else:
                sys.exit(iso + " accepted the file")
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                print(int(line.split()[1]) // 1024)
        """
    )
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
        env={**os.environ, "POLARS_MAX_THREADS": "2"},
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-2000:]
    peak_mb = int(ran.stdout.split()[-1])
    # The file is read whole by some parsers (200 MB), on top of the interpreter and libraries.
    assert peak_mb < 700, f"peak RSS {peak_mb} MB"
