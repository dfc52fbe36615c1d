"""`power-assets`: the operator's command line (backfill, status, query, catalog, realtime).

One module per concern:

- `main.py`: the argument parser, the subcommands' dispatch, and how errors reach the user (a
  wrong value is one line naming the valid choices, exit 2; a failure one line, exit 1);
- `home.py`: the Dagster instance every command uses (`./.dagster_home` unless DAGSTER_HOME is
  set, prepared as `tasks.py` prepares it) and the silencing of Dagster's beta/preview notes;
- `backfill.py`: a range of market days run in this process, one run per (ISO, chunk);
- `progress.py`: what a backfill shows while it runs (read from each run's event stream) and its
  final summary;
- `status.py`: per ISO and dataset, what the warehouse holds, its missing days and the failed
  checks recorded in the instance; `reports.py` prints that and writes it under `data/reports/`;
- `query.py`: read-only SQL through `open_warehouse()` (`query`, `catalog`); `tables.py` prints a
  frame with every column and writes the exports;
- `realtime.py`: switching the real-time sensors and day-ahead schedules on and off.

Nothing else in power_assets imports this package.
"""
