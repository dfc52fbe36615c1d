"""Reading the header line of a raw file without trusting the file.

A header is short; a "line" of hundreds of megabytes (a corrupt or hostile file) is not one, and
decoding and splitting it whole would cost gigabytes of memory. `header_line` looks for the end of
the first line only within MAX_HEADER_BYTES and says what it found otherwise.
"""

from power_assets.errors import MalformedFileError, excerpt

MAX_HEADER_BYTES = 64 * 1024


def header_line(content: bytes, source: str, *, skip_blank: bool = False) -> str:
    """The first line of `content` (decoded, BOM and line end removed); with `skip_blank`, the
    first line that is not blank. Raises a MalformedFileError quoting an excerpt when the line is
    longer than MAX_HEADER_BYTES."""
    start = 0
    if skip_blank:
        window = content[: MAX_HEADER_BYTES * 2]
        start = len(window) - len(window.lstrip(b"\xef\xbb\xbf").lstrip(b"\r\n \t"))
    end = content.find(b"\n", start, start + MAX_HEADER_BYTES + 1)
    if end == -1:
        if len(content) - start > MAX_HEADER_BYTES:
            raise MalformedFileError(
                f"{source}: the first line is longer than {MAX_HEADER_BYTES:,} bytes, so it is no "
                f"header; it starts {excerpt(content[start : start + 200])}"
            )
        end = len(content)
    return content[start:end].decode("utf-8-sig", errors="replace").rstrip("\r")
