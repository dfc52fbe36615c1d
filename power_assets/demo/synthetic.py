"""Building blocks the fake ISOs share to generate deterministic data and reproducible archives.

Only generic generators belong here (a seeded pseudo-random number, a daily bump, a byte-stable
ZIP); what each ISO's files look like stays in its own fixtures module.
"""

import io
import math
import zipfile
import zlib
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def unit(*keys: int | str) -> float:
    """A deterministic pseudo-random number in [0, 1) from integers or strings
    (Knuth multiplicative hash; a string counts as its CRC-32)."""
    acc = 0
    for key in keys:
        value = seed(key) if isinstance(key, str) else key
        acc = ((acc ^ value) * 2654435761 + 40503) % 2**32
    return acc / 2**32


def seed(text: str) -> int:
    """A stable integer for a name (Python's hash() changes between processes)."""
    return zlib.crc32(text.encode())


def bump(hour: float, center: float, width: float) -> float:
    """A bell-shaped bump over the clock hours, 1 at `center`: daily load and price shapes."""
    return math.exp(-((hour - center) ** 2) / width)


def zip_members(members: dict[str, bytes], when: datetime) -> bytes:
    """A ZIP of deflated members, byte-for-byte reproducible for the same inputs."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            archive.writestr(info, content)
    return buffer.getvalue()


def local_day_bounds(timezone: str, day: date) -> tuple[datetime, datetime]:
    """UTC instants of the local midnights that start and end `day` on an ISO's wall clock (23,
    24 or 25 hours apart). The fakes keep their own clock arithmetic rather than the pipeline's,
    so a wrong day boundary in the pipeline fails a test instead of agreeing with itself."""
    zone = ZoneInfo(timezone)
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    following = day + timedelta(days=1)
    end = datetime(following.year, following.month, following.day, tzinfo=zone)
    utc = ZoneInfo("UTC")  # as the generators' seeds have always seen it (repr of the instant)
    return start.astimezone(utc), end.astimezone(utc)
