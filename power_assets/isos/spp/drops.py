"""Which dropped SPP files (a user's copies, or the members of SPP's yearly zips) hold which day.

What belongs here: reading a file name for its dataset and market day, and choosing among the
files dropped for one day. SPP's yearly archives (`/{YYYY}/{YYYY}.zip`) are containers: stage 1
extracts them and matches their members by these same names.

- `DA-LMP-SL-{D}0100.csv` lmp_da, `DA-MCP-{D}0100.csv` as_da, `DAILY_HOURLY_LOAD-{D}.csv` load;
- `RTBM-LMP-DAILY-SL-{D}.csv` / `RTBM-MCP-DAILY-{D}.csv` (a day), and the 5-minute
  `RTBM-LMP-SL-{stamp}[d].csv` / `RTBM-MCP-{stamp}[d].csv` (the day their interval starts on),
  for lmp_rt5 / as_rt. Where a day has its daily file, the 5-minute files are not needed.

Not matched here: MTLF vintages (one file serves seven days). The roll-ups `GenMix_{YYYY}.csv`
and `HOURLY_LOAD-{YYYYMM}.csv` are span files, cut into days by `rollups`; SPP's monthly wide
`{DA,RTBM}-LMP-MONTHLY-SL-{YYYYMM}.csv` (hourly HE01..HE24, clock unclear) are not read.
"""

from datetime import date, datetime

from power_assets.isos.spp.portal import FIVE_MINUTES, local_day, stamped_name

# File-name prefix -> (dataset, whether the stamp is a day (True) or a 5-minute interval end).
PREFIXES: dict[str, tuple[str, bool]] = {
    "DA-LMP-SL": ("lmp_da", True),
    "DA-MCP": ("as_da", True),
    "DAILY_HOURLY_LOAD": ("load", True),
    "RTBM-LMP-DAILY-SL": ("lmp_rt5", True),
    "RTBM-MCP-DAILY": ("as_rt", True),
    "RTBM-LMP-SL": ("lmp_rt5", False),
    "RTBM-MCP": ("as_rt", False),
}


def dropped_file_day(name: str) -> tuple[str, date] | None:
    """(dataset, market day) of a dropped SPP file, from its name; None for other files."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stamped = stamped_name(base)
    if stamped is None or stamped.prefix not in PREFIXES:
        return None
    dataset, whole_day = PREFIXES[stamped.prefix]
    digits = base[len(stamped.prefix) + 1 :].split(".", 1)[0].rstrip("d")
    if whole_day:
        try:
            return dataset, datetime.strptime(digits[:8], "%Y%m%d").date()
        except ValueError:
            return None
    return dataset, local_day(stamped.end - FIVE_MINUTES)


def choose_dropped_files(dataset_id: str, day: date, names: list[str]) -> list[str]:
    """A day's daily file when one was dropped (it holds every interval), else all of them."""
    daily = [
        name
        for name in names
        if (found := stamped_name(name.replace("\\", "/").rsplit("/", 1)[-1])) is not None
        and PREFIXES.get(found.prefix, ("", False))[1]
    ]
    return daily[-1:] if daily else names
