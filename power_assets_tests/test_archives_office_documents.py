"""Office Open XML documents (.xlsx, .docx) are ZIP packages but data files: extraction keeps them
whole (MISO publishes reports as .xlsx), at the top level or inside a real archive, known by name
or by their `[Content_Types].xml` part; an ordinary ZIP is still unpacked."""

import hashlib
import io
import zipfile
from pathlib import Path

import polars as pl

from power_assets.io.archives import extract_recursively

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _xlsx(cells: list[tuple[str, str]]) -> bytes:
    """A minimal one-sheet workbook, written part by part as the OOXML spec lays it out."""
    row = "".join(f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>' for ref, text in cells)
    parts = {
        "[Content_Types].xml": f'<Types xmlns="{_PKG}/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_SHEET}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_SHEET}.worksheet+xml"/>'
        "</Types>",
        "_rels/.rels": f'<Relationships xmlns="{_PKG}/relationships"><Relationship Id="rId1" '
        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{_PKG}/relationships">'
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        "</Relationships>",
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{_MAIN}"><sheetData><row r="1">{row}'
        "</row></sheetData></worksheet>",
    }
    return _zip({name: text.encode() for name, text in parts.items()})


WORKBOOK = _xlsx([("A1", "Time (EST)"), ("B1", "CP Node")])


def _cells(path: Path) -> list[str]:
    frame = pl.read_excel(path, has_header=False, infer_schema_length=0)
    return list(frame.row(0))


def test_an_xlsx_download_is_kept_whole_and_stays_readable(tmp_path):
    source = tmp_path / "20240310_5min_exante_lmp.xlsx"
    source.write_bytes(WORKBOOK)
    (extracted,) = extract_recursively(source, tmp_path / "out")
    assert extracted.path == tmp_path / "out" / source.name
    assert extracted.path.read_bytes() == WORKBOOK
    assert extracted.sha256 == hashlib.sha256(WORKBOOK).hexdigest()
    assert _cells(extracted.path) == ["Time (EST)", "CP Node"]


def test_a_renamed_package_is_known_by_its_content_types_part(tmp_path):
    source = tmp_path / "report.bin"  # no telling name: the [Content_Types].xml part decides
    source.write_bytes(WORKBOOK)
    (extracted,) = extract_recursively(source, tmp_path / "out")
    assert extracted.path.read_bytes() == WORKBOOK


def test_an_xlsx_inside_a_zip_is_one_leaf_beside_the_other_members(tmp_path):
    source = tmp_path / "bundle.zip"
    source.write_bytes(_zip({"2024/day.xlsx": WORKBOOK, "notes.csv": b"a,b\n1,2\n"}))
    result = extract_recursively(source, tmp_path / "out")
    assert [r.path.relative_to(tmp_path / "out").as_posix() for r in result] == [
        "2024/day.xlsx",
        "notes.csv",
    ]
    assert result[0].member_chain == ("bundle.zip", "2024/day.xlsx")
    assert result[0].path.read_bytes() == WORKBOOK
    assert _cells(result[0].path) == ["Time (EST)", "CP Node"]


def test_an_ordinary_zip_is_still_unpacked(tmp_path):
    source = tmp_path / "20241111_5MIN_LMP.zip"
    source.write_bytes(_zip({"20241111_5MIN_LMP.csv": b"MKTHOUR_EST,PNODENAME\n"}))
    (extracted,) = extract_recursively(source, tmp_path / "out")
    assert extracted.path.name == "20241111_5MIN_LMP.csv"
