"""Exceptions that name the file, URL or partition they are about.

Every failure a user can meet from bad input is one of these, so a message always says which file and
what was wrong with it.
"""


class PowerAssetsError(Exception):
    """Base class for all errors raised by power_assets on bad input or bad responses."""


class UnknownIsoError(PowerAssetsError, KeyError):
    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnknownDatasetError(PowerAssetsError, KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


class SchemaDriftError(PowerAssetsError):
    """The raw file's columns are not the ones this parser was written for."""

    def __init__(self, source: str, missing: list[str], unexpected: list[str]):
        self.source, self.missing, self.unexpected = source, missing, unexpected
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unexpected:
            parts.append(f"new column(s) {', '.join(unexpected)}")
        super().__init__(f"{source}: schema drift: {'; '.join(parts)}")


class MalformedFileError(PowerAssetsError):
    """A file that cannot be parsed: wrong format, bad values, unreadable archive."""


class IsoErrorResponse(PowerAssetsError):
    """The ISO answered with an error document instead of data."""

    def __init__(self, source: str, code: str, description: str):
        self.source, self.code, self.description = source, code, description
        super().__init__(f"{source}: ISO error {code}: {description}")


class IsoNoDataError(IsoErrorResponse):
    """The ISO says it has no data for the selection (e.g. not published yet)."""


class IsoRateLimitedError(IsoErrorResponse):
    """The ISO refused the request as too frequent; retried by the HTTP client."""


class UnsafeArchiveError(PowerAssetsError):
    """An archive tried path traversal, links, or an absurd expansion; nothing was extracted."""


class DownloadError(PowerAssetsError):
    """A request failed after all retries."""
