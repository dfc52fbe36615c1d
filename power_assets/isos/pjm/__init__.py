"""PJM: Data Miner 2 feeds, and the `Pjm` definition that ties them together.

- `definition`: the `Pjm` class (datasets, value bounds, schedules), which feed is asked for a day,
  the subscription key, payload checks and dispatch; the only module importing the others.
- `feeds`: the feed of each dataset, archive rules, the EPT filter, page requests and the pager.
- `parsing` (and `parsing_tables`, one builder per table kind): API JSON pages and Data Miner CSV
  exports into standardized tables.
- `drops`: which dropped files (saved pages, range exports) hold which dataset and days.
- `realtime`: the one-row probe of the newest unverified 5-minute interval.

Imports run one way: `definition` imports the others, `realtime` and `drops` import `feeds`, and
nothing imports `definition`, so nothing here imports in a circle.
"""

from power_assets.isos.pjm.definition import KEY_HEADER, SUBSCRIPTION_KEY_ENV, Pjm

__all__ = ["KEY_HEADER", "SUBSCRIPTION_KEY_ENV", "Pjm"]
