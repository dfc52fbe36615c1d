"""Stage-2 benchmark: one synthetic all-node PJM 5-minute day, Data Miner 2 JSON pages to a table.

Input (written once per run into a temporary folder): the answers of the fake Data Miner 2
(`power_assets.demo.pjm_server.FakeDataMiner.handle`, no socket) to the query stage 1 sends for an
EPT day of `rt_fivemin_hrl_lmps` (fields asked, `datetime_beginning_ept` filter, `rowCount`
50,000), one `page_00001.json` ... per page exactly as the API answers (links, items,
searchSpecification, totalRows). Default 10,000 pnodes x 288 intervals, about 3 M items (the
fake's revised pairs add a superseded version 1 row for about 1 in 25) and 1 GB.

Baseline (same run, same bytes, same columns): a bare polars read of the pages, `pl.read_json`
per page (in a thread pool), items exploded and unnested, pages concatenated: the least it takes to get the rows
into a frame (nothing typed, checked or standardized). Ours: `get_iso("PJM").parse_with_notes(
"lmp_rt5", pages)` (page check, feed from the self link, typed columns with UTC instants,
superseded rows dropped and counted, standardized LMP columns) plus `validate_standardized(frame,
LmpSchema, ...)`, as `raw_parquet/lmp_rt5` does it. Both read pages in the same small thread pool
(min(4, cores) threads), so the ratio measures the parse, not the pool.

Each side runs in its own fresh subprocess so peak RSS is its own. Cold = a process's first parse
(imports and polars warm-up included); warm = its later repetitions; both are medians over
interleaved rounds, measured by `harness.measure` in two passes (a pass of one-parse processes for
cold, then one of `--repeat` parses for warm, whose first parse harness drops).

    python3 tasks.py bench pjm [--repeat N] [--rounds N] [--nodes N]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from harness import KINDS, measure, report

FEED = "rt_fivemin_hrl_lmps"
# The fields stage 1 asks of this feed, written out here (not imported from the parser).
FIELDS = (
    "datetime_beginning_utc", "datetime_beginning_ept", "pnode_id", "pnode_name", "type",
    "system_energy_price_rt", "total_lmp_rt", "congestion_price_rt", "marginal_loss_price_rt",
    "row_is_current", "version_nbr",
)  # fmt: skip
PAGE_ROWS = 50_000  # Data Miner 2's largest page
DAY = date(2024, 11, 4)  # an ordinary 24-hour Monday: 288 five-minute intervals
KEY = "bench-key-not-secret"

WORKER = r"""
import json, os, resource, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import polars as pl
kind, folder, repeat = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
paths = sorted(folder.glob("page_*.json"))
if kind == "ours":
    from power_assets.isos import get_iso
    from power_assets.schemas import LmpSchema, validate_standardized
    pjm = get_iso("PJM")
import_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
times = []
for _ in range(repeat):
    frame = None  # the previous repetition's frame is not kept alive during this one
    t0 = time.perf_counter()
    if kind == "baseline":
        # The same thread pool as ours, so the ratio is not the pool's (polars frees the GIL).
        with ThreadPoolExecutor(min(4, os.cpu_count() or 1, len(paths))) as pool:
            frame = pl.concat(list(pool.map(
                lambda p: pl.read_json(p).select(pl.col("items").explode()).unnest("items"), paths
            )))
    else:
        frame, _notes = pjm.parse_with_notes("lmp_rt5", paths)
        validate_standardized(frame, LmpSchema, str(folder))
    times.append(time.perf_counter() - t0)
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"times": times, "rows": frame.height, "peak_mb": peak_mb, "import_mb": import_mb}))
"""


def write_pages(folder: Path, nodes: int) -> tuple[int, int, int, int]:
    """The fake's answers for DAY, one JSON page per file; (pages, totalRows, superseded rows,
    bytes). Run in its own process (`--write-pages`): see `main`."""
    from power_assets.demo.pjm_server import FakeDataMiner

    now = datetime.combine(DAY + timedelta(days=2), datetime.min.time(), UTC)  # DAY is verified
    fake = FakeDataMiner(subscription_key=KEY, node_count=nodes, now=now)
    ept_day = f"{DAY:%m/%d/%Y} 00:00to{DAY:%m/%d/%Y} 23:59"
    headers = {"ocp-apim-subscription-key": KEY}
    pages = total = superseded = size = 0
    start_row = 1
    while True:
        query = [
            ("rowCount", str(PAGE_ROWS)), ("startRow", str(start_row)),
            ("fields", ",".join(FIELDS)), ("datetime_beginning_ept", ept_day),
        ]  # fmt: skip
        answer = fake.handle(f"/api/v1/{FEED}", query, headers, "api.pjm.com")
        if answer is None or answer.status != 200:
            raise RuntimeError(f"the fake refused page {pages + 1}: {answer}")
        pages += 1
        (folder / f"page_{pages:05d}.json").write_bytes(answer.body)
        size += len(answer.body)
        superseded += answer.body.count(b'"row_is_current":false')
        # totalRows closes every page: read it from the tail, not by parsing 16 MB again.
        total = int(answer.body.rsplit(b'"totalRows":', 1)[1].rstrip(b"}"))
        start_row += PAGE_ROWS
        if start_row > total:
            return pages, total, superseded, size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3, help="parses per warm process (>= 2)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved process rounds")
    parser.add_argument("--nodes", type=int, default=10_000, help="pnodes in the day")
    parser.add_argument("--write-pages", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.write_pages:
        print(json.dumps(write_pages(args.write_pages, args.nodes)))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench_pjm_") as tmp:
        folder = Path(tmp)
        print(f"writing {args.nodes} pnodes x 288 intervals of {FEED} ...", flush=True)
        t0 = time.perf_counter()
        # Written by a child process: a worker's peak RSS counts its parent's resident size at
        # spawn (Linux carries the RSS high-water mark across fork and exec), so this process
        # stays as small as the other benchmarks' and never holds the generator or its pages.
        writer = [sys.executable, __file__, "--write-pages", str(folder), f"--nodes={args.nodes}"]
        out = subprocess.run(writer, check=True, capture_output=True, text=True).stdout
        pages, total, superseded, size = json.loads(out)
        written = time.perf_counter() - t0
        print(
            f"input: {pages} JSON pages, {total:,} items ({superseded:,} superseded), "
            f"{size / 1e6:.0f} MB, written in {written:.0f} s",
            flush=True,
        )
        cold = measure(WORKER, folder, args.rounds, 1)
        warm = measure(WORKER, folder, args.rounds, max(args.repeat, 2))
    labels = {
        "baseline": "baseline pl.read_json per page (same pool) + unnest + concat",
        "ours": "stage 2 PJM lmp_rt5 + schema",
    }
    print("cold (the first parse in a fresh process):")
    report(labels, cold)
    print(f"warm (repetitions 2..{max(args.repeat, 2)} in a process):")
    report(labels, warm)
    # Cold: the memory one parse of the day takes; all: the highest over every repetition.
    peaks = {
        "one parse": {kind: cold[kind].peak_mb for kind in KINDS},
        "all repetitions": {kind: max(cold[kind].peak_mb, warm[kind].peak_mb) for kind in KINDS},
    }
    for name, peak in peaks.items():
        print(
            f"peak RSS ours / baseline ({name}): {peak['ours'] / peak['baseline']:.2f}x "
            f"({peak['ours']:.0f} MB / {peak['baseline']:.0f} MB)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
