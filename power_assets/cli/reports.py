"""The status reports: printed to the terminal, written as markdown and CSV under `data/reports/`.

What belongs here: the shape of what `status.py` gathered, as the terminal shows it (the table,
then missing days as ranges and failed checks, each list cut after a few lines) and as files
(`status.md` with all three tables; `status.csv`, `gaps.csv` one row per missing day, `checks.csv`
one row per failed check with partition, asset, check and description).
"""

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from power_assets.cli.status import Status, day_ranges
from power_assets.cli.tables import markdown, show

SHOWN = 20  # lines of missing days and of failed checks on the terminal; the files hold all
FILES = ("status.md", "status.csv", "gaps.csv", "checks.csv")
ON_SCREEN = ["iso", "dataset", "market", "first_date", "last_date", "days", "missing_days",
             "rows", "locations", "failed_check_days"]  # fmt: skip


def gap_ranges(gaps: pl.DataFrame) -> pl.DataFrame:
    """Missing days as runs of consecutive days per (ISO, dataset)."""
    rows = []
    for (iso, dataset), group in gaps.group_by(["iso", "dataset"], maintain_order=True):
        for first, last in day_ranges(group["market_date"].to_list()):
            rows.append((iso, dataset, first, last, (last - first).days + 1))
    schema = {"iso": pl.String, "dataset": pl.String, "first_missing": pl.Date,
              "last_missing": pl.Date, "days": pl.Int64}  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row").sort(["iso", "dataset", "first_missing"])


def _cut(lines: list[str]) -> list[str]:
    if len(lines) <= SHOWN:
        return lines
    return [*lines[:SHOWN], f"... and {len(lines) - SHOWN} more"]


def print_status(status: Status, written: Path | None) -> None:
    for note in status.notes:
        print(f"note: {note}")
    table = status.datasets
    if table.height:
        show(table.select([c for c in ON_SCREEN if c in table.columns]), rows=-1, shape=False)
    else:
        print("nothing stored yet for these ISOs, and no failed checks")
    ranges = gap_ranges(status.gaps)
    print(f"missing days (no rows between a dataset's first and last day): {status.gaps.height}")
    for line in _cut([
        f"  {r['iso']} {r['dataset']}: {r['first_missing']}"
        + (f"..{r['last_missing']} ({r['days']} days)" if r["days"] > 1 else "")
        for r in ranges.iter_rows(named=True)
    ]):  # fmt: skip
        print(line)
    print(f"failed checks (latest evaluation per partition): {status.checks.height}")
    for line in _cut([
        f"  {r['partition']} {r['asset']} {r['check']}: {r['description']}"
        for r in status.checks.iter_rows(named=True)
    ]):  # fmt: skip
        print(line)
    if written is not None:
        print(f"reports: {', '.join(str(written / name) for name in FILES)}")


def write_reports(status: Status, folder: Path, isos: tuple[str, ...]) -> Path:
    """The four report files in `folder` (created); `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    status.datasets.write_csv(folder / "status.csv")
    status.gaps.write_csv(folder / "gaps.csv")
    status.checks.write_csv(folder / "checks.csv")
    scope = ", ".join(isos) if isos else "every ISO"
    sections = [
        f"# power_assets status ({scope})",
        f"Written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `power-assets status`.",
        *(f"> {note}" for note in status.notes),
        "## Stored data",
        "Per ISO, dataset and market: the stored date range, days, rows and locations "
        "(warehouse `catalog` view); missing days and days with a failed check per ISO and dataset.",
        markdown(status.datasets) if status.datasets.height else "Nothing stored.",
        "## Missing days",
        "Market days between a dataset's first and last stored day with no rows "
        "(one line per run of consecutive days; `gaps.csv` lists each day).",
        markdown(gap_ranges(status.gaps)) if status.gaps.height else "None.",
        "## Failed checks",
        "Each (asset check, partition) whose latest evaluation did not pass "
        "(`checks.csv` holds the same rows).",
        markdown(status.checks) if status.checks.height else "None.",
    ]
    (folder / "status.md").write_text("\n\n".join(sections) + "\n")
    return folder
