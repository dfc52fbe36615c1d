"""Text cells to numbers (power_assets/isos/numbers.py), the one rule NYISO, SPP and MISO use."""

import polars as pl
import pytest

from power_assets.errors import MalformedFileError
from power_assets.isos.numbers import text_to_numbers


def test_padded_cells_read_empty_cells_are_null():
    frame = pl.DataFrame({"lmp": [" 21.50", ".92", "", "  ", None, "-1.2"]})
    assert text_to_numbers(frame, ["lmp"], "f.csv")["lmp"].to_list() == [
        21.5, 0.92, None, None, None, -1.2
    ]  # fmt: skip


def test_an_unreadable_cell_names_the_file_row_value_and_count():
    frame = pl.DataFrame({"lmp": ["1", "abc", "2", "x"], "line": [7, 8, 9, 10]})
    with pytest.raises(MalformedFileError, match=r"^f\.csv: row 3: 'lmp' value 'abc' is not a "
                       r"number \(2 bad value\(s\) in that column\)$"):  # fmt: skip
        text_to_numbers(frame, ["lmp"], "f.csv")
    with pytest.raises(MalformedFileError, match=r"^f\.csv: line 8: 'lmp' value 'abc'"):
        text_to_numbers(frame, ["lmp"], "f.csv", row_of="line")
