"""ERCOT: documents listed before they are fetched, one module per concern.

- `definition`: the `Ercot` class (datasets, value bounds, schedules), planning a market day from
  the MIS or the Public API archive, payload checks, dispatch to the parsers, drop-folder names.
- `api`: Public API sign-in: the credentials' environment variables and the bearer token cache.
- `reports`: which report feeds which dataset, what a document name means (post times as UTC
  instants) and which market day a document covers; reading MIS listings.
- `csv_files`: finding and reading the many small CSVs behind the paths in few polars scans.
- `hours`: hour-ending and 15-minute interval times (DSTFlag, hour ending 25) as UTC instants.
- `parsing`: what each report's columns mean, into the standardized tables.
- `disclosure`: the 2-Day AS Reports (NP3-911-ER), AS quantities per product and hour.
- `realtime`: the newest SCED interval an MIS listing names (the real-time probe).

Imports run one way: `definition` imports the others, the parsers and the probe import `reports`,
`csv_files` and `hours`, and `reports` imports none of them, so nothing here imports in a circle.
"""

from power_assets.isos.ercot.api import PASSWORD_ENV, SUBSCRIPTION_KEY_ENV, USERNAME_ENV
from power_assets.isos.ercot.definition import Ercot

__all__ = ["PASSWORD_ENV", "SUBSCRIPTION_KEY_ENV", "USERNAME_ENV", "Ercot"]
