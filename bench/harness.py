"""What every stage-2 benchmark shares: run a worker script for "baseline" and "ours" in fresh
subprocesses, interleaved over rounds, and summarize median wall time, rows and peak RSS.

A worker is Python source run as `python -c WORKER kind target repeat`; it prints one JSON line
{"times": [...], "rows": n, "peak_mb": x} (optionally "import_mb": RSS after its imports).

Cold and warm (`measure_cold_warm`, `report_cold_warm`): cold is a process's first parse, after
its imports (polars' and the parser's first-call costs included, as a fresh Dagster step process
pays them); warm is the later parses of a process. Both are medians over interleaved rounds of
fresh processes, one pass of one-parse processes for cold and one of `repeat`-parse processes for
warm (whose first parse `measure` drops).
"""

import json
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

KINDS = ("baseline", "ours")


@dataclass
class Summary:
    median_s: float
    rows: int
    peak_mb: float
    import_mb: float | None
    samples: int = 0
    spread_s: tuple[float, float] = (0.0, 0.0)  # fastest and slowest sample


def measure(worker: str, target: Path, rounds: int, repeat: int) -> dict[str, Summary]:
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    last: dict[str, dict] = {}
    peaks = dict.fromkeys(KINDS, 0.0)
    for _ in range(rounds):
        for kind in KINDS:
            out = subprocess.run(
                [sys.executable, "-c", worker, kind, str(target), str(repeat)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            result = json.loads(out.stdout)
            # The first call in a process pays imports and polars warm-up; keep the rest.
            times[kind].extend(result["times"][1:] or result["times"])
            peaks[kind] = max(peaks[kind], result["peak_mb"])
            last[kind] = result
    return {
        kind: Summary(
            statistics.median(times[kind]),
            last[kind]["rows"],
            peaks[kind],
            last[kind].get("import_mb"),
            len(times[kind]),
            (min(times[kind]), max(times[kind])),
        )
        for kind in KINDS
    }


def report(label: dict[str, str], summary: dict[str, Summary]) -> float:
    """Print one line per side and the ratio; returns ours / baseline."""
    width = max(len(text) for text in label.values())
    for kind in KINDS:
        s = summary[kind]
        after = f" ({s.import_mb:.0f} MB after imports)" if s.import_mb is not None else ""
        print(
            f"{label[kind]:<{width}} : {s.median_s * 1000:8.1f} ms median, {s.rows:>7} rows, "
            f"peak RSS {s.peak_mb:7.1f} MB{after}"
        )
    ratio = summary["ours"].median_s / summary["baseline"].median_s
    print(f"ratio stage2 / baseline: {ratio:.2f}x")
    return ratio


def measure_cold_warm(
    worker: str, target: Path, rounds: int, repeat: int
) -> tuple[dict[str, Summary], dict[str, Summary]]:
    """(cold, warm): `rounds` one-parse processes per side, then `rounds` processes per side
    that parse `repeat` (>= 2) times, the first of which is dropped."""
    return measure(worker, target, rounds, 1), measure(worker, target, rounds, max(repeat, 2))


def report_cold_warm(
    label: dict[str, str],
    cold: dict[str, Summary],
    warm: dict[str, Summary],
    target: float,
) -> dict[str, float]:
    """Print both passes, their ratios against `target` and the noise; the ratios by pass."""
    ratios = {}
    for name, summary in (("cold", cold), ("warm", warm)):
        samples = summary["ours"].samples
        print(f"{name} ({samples} samples per side; min..max ms shown):")
        width = max(len(text) for text in label.values())
        for kind in KINDS:
            s = summary[kind]
            low, high = (t * 1000 for t in s.spread_s)
            after = f", {s.import_mb:.0f} MB after imports" if s.import_mb is not None else ""
            print(
                f"  {label[kind]:<{width}} : {s.median_s * 1000:7.1f} ms median "
                f"({low:.1f}..{high:.1f}), {s.rows:>7} rows, peak RSS {s.peak_mb:6.1f} MB{after}"
            )
        ratios[name] = summary["ours"].median_s / summary["baseline"].median_s
    verdict = " ".join(
        f"{name} {ratio:.2f}x ({'OK' if ratio <= target else 'OVER'})"
        for name, ratio in ratios.items()
    )
    print(f"ratio stage2 / baseline (target <= {target:.2f}x): {verdict}")
    return ratios
