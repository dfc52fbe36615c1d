"""One real-size CAISO day through every lmp_da stage from the command line: how close to the floor.

The real CAISO DAM all-AP-node day (`../shared/samples/caiso/temp.zip`, 2020-01-01, 32 MB of CSV;
without it a synthetic day of 1,700 nodes in the same format) is put in a drop folder, and
`dagster asset materialize` runs the five `lmp_da` stages (download from the drop folder, extract,
standardize, flatten, DuckDB) for `2020-01-01|CAISO`, as a user would, in a fresh data folder and
Dagster home each time. Measured in the same run:

- wall: the whole command, start to exit;
- data: the seconds the runner records inside each (asset, partition)'s own work (`data_seconds`);
- floor: `dagster asset list` on the same definitions (Python, Dagster, the definitions loaded;
  nothing run), Dagster's own start-up cost;
- imports: `import dagster` against `import power_assets.definitions`;
- and once with Dagster's multiprocess executor (POWER_ASSETS_EXECUTOR=multiprocess) for comparison.

Target: wall <= floor + 2 x data. The first repetition is cold (nothing imported or cached yet by
this benchmark); the others are warm (the OS has the files cached), and their median is reported.

    python3 tasks.py bench day [--repeat N]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "samples" / "caiso" / "temp.zip"
BIN = Path(sys.executable).parent
DAY = date(2020, 1, 1)
STAGES = ("raw_download", "raw_csv", "raw_parquet", "flattened", "warehouse")
DATA_SECONDS = r"""
import json, sys
import dagster as dg
with dg.DagsterInstance.get() as instance:
    (run,) = instance.get_runs(limit=1)
    total = 0.0
    for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        found = record.dagster_event.step_materialization_data.materialization.metadata
        total += float(found["data_seconds"].value) if "data_seconds" in found else 0.0
    print(json.dumps({"success": run.is_success, "data_s": total}))
"""


def _drop_folder(directory: Path) -> Path:
    """A folder holding the day's OASIS ZIP: the real one if ../shared has it, else synthetic."""
    directory.mkdir(parents=True)
    if REAL.is_file():
        shutil.copy(REAL, directory / REAL.name)
        return directory
    from power_assets.demo.oasis_fixtures import oasis_zip
    from power_assets.market_time import market_day_bounds

    nodes = [f"NODE{i:04d}_1_N001-APND" for i in range(1700)]
    bounds = market_day_bounds("America/Los_Angeles", DAY)
    (directory / "20200101_20200101_PRC_LMP_DAM_20200630_22_50_44_v1.zip").write_bytes(
        oasis_zip("PRC_LMP", *bounds, nodes=nodes)
    )
    return directory


def _timed(command: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} failed:\n{done.stderr[-3000:]}")
    return seconds


def _environment(root: Path, drop: Path) -> dict[str, str]:
    home = root / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(ROOT / "power_assets" / "dagster_instance.yaml", home / "dagster.yaml")
    base = {k: v for k, v in os.environ.items() if not k.startswith("POWER_ASSETS_")}
    return {
        **base,
        "DAGSTER_HOME": str(home),
        "POWER_ASSETS_DATA_DIR": str(root / "data"),
        "POWER_ASSETS_CAISO_DROP_DIR": str(drop),
        "POWER_ASSETS_CAISO_BASE_URL": "http://127.0.0.1:9/",  # nothing may be asked of CAISO
    }


def one_day(root: Path, drop: Path, executor: str = "in_process") -> dict[str, float]:
    env = {**_environment(root, drop), "POWER_ASSETS_EXECUTOR": executor}
    # the instance's storage, created before the timed command (tasks.py does the same)
    _timed([str(BIN / "python"), "-c", "import dagster; dagster.DagsterInstance.get().dispose()"], env)
    selection = ",".join(f"{stage}/lmp_da" for stage in STAGES)
    wall = _timed(
        [str(BIN / "dagster"), "asset", "materialize", "-m", "power_assets.definitions",
         "--select", selection, "--partition", f"{DAY}|CAISO"],
        env,
    )  # fmt: skip
    read = subprocess.run(
        [str(BIN / "python"), "-c", DATA_SECONDS], env=env, capture_output=True, text=True
    )
    found = json.loads(read.stdout.strip().splitlines()[-1])
    if not found["success"]:
        raise RuntimeError("the run failed")
    floor = _timed([str(BIN / "dagster"), "asset", "list", "-m", "power_assets.definitions"], env)
    return {"wall": wall, "data": found["data_s"], "floor": floor}


def imports(env: dict[str, str]) -> tuple[float, float]:
    bare = _timed([str(BIN / "python"), "-c", "import dagster"], env)
    ours = _timed([str(BIN / "python"), "-c", "import power_assets.definitions"], env)
    return bare, ours


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        drop = _drop_folder(Path(tmp) / "drop")
        for n in range(args.repeat):
            results.append(one_day(Path(tmp) / f"run{n}", drop))
        # the same day with Dagster's multiprocess executor (the default before): its step in a
        # subprocess that imports the definitions again
        multi = one_day(Path(tmp) / "multiprocess", drop, executor="multiprocess")
        bare, ours = imports(os.environ.copy())
    source = "the real CAISO DAM day" if REAL.is_file() else "a synthetic 1,700-node day"
    print(f"input: {source} ({DAY}, lmp_da), five stages, from a drop folder; {os.cpu_count()} cores")
    warm = results[1:] or results
    for label, runs in (("cold", results[:1]), ("warm", warm)):
        wall = statistics.median(r["wall"] for r in runs)
        data = statistics.median(r["data"] for r in runs)
        floor = statistics.median(r["floor"] for r in runs)
        verdict = "ok" if wall <= floor + 2 * data else "ABOVE TARGET"
        print(
            f"{label}: wall {wall:5.2f} s | data {data:5.2f} s ({data / wall:5.1%} of wall) | "
            f"floor (dagster asset list) {floor:5.2f} s | wall / (floor + 2 x data) = "
            f"{wall / (floor + 2 * data):4.2f} ({verdict}); wall - floor = {wall - floor:5.2f} s"
        )
    print(
        f"multiprocess executor, once: wall {multi['wall']:5.2f} s, data {multi['data']:5.2f} s; "
        f"in-process is {multi['wall'] / statistics.median(r['wall'] for r in warm):4.2f}x faster"
    )
    print(f"imports: `import dagster` {bare:4.2f} s, `import power_assets.definitions` {ours:4.2f} s "
          f"({ours / bare:4.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
