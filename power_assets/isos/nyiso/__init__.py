"""NYISO (MIS): the `Nyiso` definition, the CSV parsers, and the real-time probe's reading.

- `definition`: the `Nyiso` class (datasets, value bounds, schedules), which MIS folder serves
  each dataset, requests (daily CSVs, shared monthly ZIPs, the probe's tail), payload checks,
  drop-folder names and dispatch to the parsers.
- `parsing`: one NYISO daily CSV into a standardized table: header matching, numbers, local time
  stamps and the DST rules.
- `realtime`: the newest interval in the tail of a growing daily CSV (the probe's answer), with
  `parsing`'s time rules.

Imports run one way (`definition` -> `realtime` -> `parsing`), so nothing here imports in a circle.
"""

from power_assets.isos.nyiso.definition import Nyiso

__all__ = ["Nyiso"]
