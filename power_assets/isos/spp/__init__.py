"""SPP: the Marketplace file browser's CSVs, and the `Spp` definition that ties them together.

- `definition`: the `Spp` class (datasets, value bounds, schedules), planning a day from the file
  browser's listings, payload checks and dispatch; the only module importing the others.
- `portal`: file systems, folders and file names, listing and download requests, what a name says.
- `parsing`: CSVs (headers matched ignoring case, spaces and underscores) into standardized tables.
- `drops`: which dropped files (and members of SPP's yearly zips) hold which dataset and day.
- `realtime`: the tail of the latest-interval file, for the real-time sensor.

Imports run one way: `definition` imports the others, `drops` and `realtime` import `portal`.
"""

from power_assets.isos.spp.definition import Spp

__all__ = ["Spp"]
