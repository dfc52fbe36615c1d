"""Reading the tail of a growing CSV: what the real-time probes of NYISO and ISO-NE receive.

What belongs here: the Range header a probe sends for the last bytes of a file, and turning such an
answer into the lines worth parsing. Which columns those lines hold stays in each ISO's package.

A probe asks for `Range: bytes=-N`. The server answers 206 with the last N bytes, whose first line
is usually cut somewhere in the middle and whose header is gone; or it ignores the Range and sends
the whole file with 200. Both must give the same newest interval, so the first line is dropped
unless it is a header line (in a whole file it is the header, or an empty line before it), and an
unterminated last line is kept only if it has as many fields as the line before it (a file being
written may end in half a line; a file that merely lacks the final newline does not).
"""

import csv
from collections.abc import Callable

TAIL_BYTES = 16_384


def tail_headers(size: int = TAIL_BYTES) -> tuple[tuple[str, str], ...]:
    """Request headers asking for the last `size` bytes of a file (a suffix byte range)."""
    return (("Range", f"bytes=-{size}"),)


def complete_lines(content: bytes, is_header: Callable[[str], bool]) -> list[str]:
    """The lines of a whole file or of its tail that can be trusted to be whole, in file order.

    `is_header(line)` says whether a line opens a whole file (then the first line is kept).
    """
    text = content.decode("utf-8-sig", errors="replace")
    lines = text.splitlines()
    if not lines:
        return []
    if not is_header(lines[0]):
        lines = lines[1:]
    unterminated = not text.endswith(("\n", "\r"))
    if unterminated and len(lines) >= 2 and _width(lines[-1]) != _width(lines[-2]):
        lines = lines[:-1]
    return [line for line in lines if line.strip()]


def _width(line: str) -> int:
    return len(next(csv.reader([line]), []))
