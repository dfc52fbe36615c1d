"""Exceptions that name the file, URL or partition they are about.

Every failure a user can meet from bad input is one of these, so a message always says which file and
what was wrong with it. A message quotes input only as a short escaped `excerpt`, and is cut at
MAX_MESSAGE_CHARS whatever it holds: a 200 MB line in a file must not become a 200 MB message.
"""

MAX_MESSAGE_CHARS = 2000
EXCERPT_CHARS = 80
LISTED_NAMES = 12  # column names quoted in a schema-drift message


def excerpt(value: str | bytes, limit: int = EXCERPT_CHARS) -> str:
    """A short, escaped quotation of untrusted input: the repr of its first `limit` characters,
    and its full length when that was cut. Only the quoted part is decoded."""
    if isinstance(value, bytes | bytearray):
        total = len(value)
        text = bytes(value[: limit * 4]).decode("utf-8", errors="replace")[:limit]
        unit = "bytes"
    else:
        total, text, unit = len(value), value[:limit], "characters"
    return repr(text) + (f"... ({total:,} {unit})" if total > len(text) else "")


class PowerAssetsError(Exception):
    """Base class for all errors raised by power_assets on bad input or bad responses."""

    def __init__(self, *args: object):
        if args and isinstance(args[0], str) and len(args[0]) > MAX_MESSAGE_CHARS:
            message = args[0]
            cut = f"... (message cut at {MAX_MESSAGE_CHARS:,} of {len(message):,} characters)"
            args = (message[:MAX_MESSAGE_CHARS] + cut, *args[1:])
        super().__init__(*args)


class UnknownIsoError(PowerAssetsError, KeyError):
    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnknownDatasetError(PowerAssetsError, KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


class UnsupportedDatasetError(PowerAssetsError, ValueError):
    """An operation the ISO offers for some datasets asked of one it does not apply to (e.g. the
    newest interval of a six-day forecast file)."""


class SchemaDriftError(PowerAssetsError):
    """The raw file's columns are not the ones this parser was written for."""

    def __init__(self, source: str, missing: list[str], unexpected: list[str]):
        self.source, self.missing, self.unexpected = source, missing, unexpected
        parts = []
        if missing:
            parts.append(f"missing column(s) {_names(missing)}")
        if unexpected:
            parts.append(f"new column(s) {_names(unexpected)}")
        super().__init__(f"{source}: schema drift: {'; '.join(parts)}")


def _names(names: list[str]) -> str:
    """Column names as a message shows them: each as written if short, else an excerpt."""
    shown = [
        name if len(name) <= EXCERPT_CHARS and name.isprintable() else excerpt(name)
        for name in names[:LISTED_NAMES]
    ]
    more = len(names) - LISTED_NAMES
    return ", ".join(shown) + (f" (+{more} more)" if more > 0 else "")


class MalformedFileError(PowerAssetsError):
    """A file that cannot be parsed: wrong format, bad values, unreadable archive."""


class IsoErrorResponse(PowerAssetsError):
    """The ISO answered with an error document instead of data."""

    def __init__(self, source: str, code: str, description: str):
        self.source, self.code, self.description = source, code, description
        super().__init__(f"{source}: ISO error {code}: {description}")


class IsoNoDataError(IsoErrorResponse):
    """The ISO says it has no data for the selection (e.g. not published yet)."""


class IncompleteDayError(PowerAssetsError):
    """A market day that has closed, for which the ISO answered "no data" for some windows."""


class IsoRateLimitedError(IsoErrorResponse):
    """The ISO refused the request as too frequent; retried by the HTTP client."""


class UnsafeArchiveError(PowerAssetsError):
    """An archive tried path traversal, links, or an absurd expansion; nothing was extracted."""


class DownloadError(PowerAssetsError):
    """A request failed after all retries. `status` is the HTTP status of a refusal (a 4xx the
    server answered), None when there was no such answer (no answer, retries used up), so
    callers tell a missing file (404) from other failures without reading the message."""

    def __init__(self, *args: object, status: int | None = None):
        super().__init__(*args)
        self.status = status


class WarehouseBusyError(PowerAssetsError):
    """The DuckDB file stayed held by another process for longer than the wait bound."""


class PagesChangedError(PowerAssetsError):
    """An ISO's answer changed while its pages were being fetched (the total moved); the page
    sequence is started again rather than kept with rows missing or repeated."""
