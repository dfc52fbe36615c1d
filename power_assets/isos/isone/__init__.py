"""ISO-NE: one module per report family, and the `Isone` definition that ties them together.

- `definition`: the `Isone` class (datasets, value bounds, schedules), requests for every dataset,
  credentials, payload checks and dispatch to the parsers; the only module importing the others.
- `express`: ISO Express static CSVs: hourly and 5-minute LMP columns, files and parsers.
- `records`: the "C"/"H"/"D"/"T" record format of those CSVs, knowing no report.
- `webservices`: the JSON web services (fuel mix, system load, reserve prices): shapes, error
  answers, parsers.
- `common`: the time zone and the table helpers both parser families use.
- `realtime`: the real-time probe of the 5-minute file being written, and its newest interval.

Imports run one way: `definition` imports the others, `realtime` imports `express`, the parsers
import `records` and `common`, and nothing imports `definition`, so nothing here imports in a
circle.
"""

from power_assets.isos.isone.definition import PASSWORD_ENV, USERNAME_ENV, Isone
from power_assets.isos.isone.express import rt5_windows

__all__ = [
    "PASSWORD_ENV",
    "USERNAME_ENV",
    "Isone",
    "rt5_windows",
]
