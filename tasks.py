#!/usr/bin/env python3
"""One entry point for set-up and everyday commands; needs only Python 3.11+ and access to PyPI.

    python3 tasks.py demo    install into .venv if needed, run the main job offline (two days of CAISO, ERCOT and PJM)
    python3 tasks.py test    install into .venv if needed, then ruff and the whole pytest suite
    python3 tasks.py ui      the Dagster UI (dagster dev) on this project, same Dagster home as demo
    python3 tasks.py bench   every benchmark (`bench caiso|ercot|pjm|backfill|latency|scale|day` for one)

The virtual environment is (re)installed whenever pyproject.toml changes.
"""

import fcntl
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
BENCHMARKS = {
    "caiso": "bench/stage2_caiso.py",
    "ercot": "bench/stage2_ercot.py",
    "pjm": "bench/stage2_pjm.py",
    "backfill": "bench/backfill_share.py",
    "latency": "bench/realtime_latency.py",
    "scale": "bench/scale_out.py",
    "day": "bench/one_day.py",
}
VENV = ROOT / ".venv"
BIN = VENV / "bin"
STAMP = VENV / ".installed-pyproject-sha256"


def _ensure_environment() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - a clear message beats a SyntaxError later
        sys.exit(f"power_assets needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.is_file() and STAMP.read_text().strip() == wanted and (BIN / "python").exists():
        return
    if not (BIN / "python").exists():
        print(f"Creating {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing power_assets and its dependencies (first run takes a minute) ...", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f"{ROOT}[test]"], check=True, cwd=ROOT)
    STAMP.write_text(wanted)


INSTANCE_TEMPLATE = ROOT / "power_assets" / "dagster_instance.yaml"
# What tasks.py wrote before run queues and per-ISO limits existed; such a file is upgraded.
_FIRST_INSTANCE_YAML = """\
# Dagster instance settings for this checkout; written once by tasks.py, yours to edit.
telemetry:
  enabled: false
concurrency:
  pools:
    # Pool "duckdb_writer" (the warehouse/* assets): one DuckDB writer at a time.
    default_limit: 1
"""


def prepare_dagster_home(
    home: Path, python: Path = BIN / "python", *, write_settings: bool = True
) -> None:
    """Write the instance settings (into our own home) and create the instance's storage before
    anything runs.

    Dagster creates its SQLite databases on first use; two runs starting at once on a fresh home
    can race in that creation and leave the instance broken for good. Creating them here, once,
    under a lock (two tasks.py commands may start together), removes the race.
    """
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".prepare.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        instance_yaml = home / "dagster.yaml"
        stale = not instance_yaml.exists() or instance_yaml.read_text() == _FIRST_INSTANCE_YAML
        if write_settings and stale:
            instance_yaml.write_text(INSTANCE_TEMPLATE.read_text())
        if not (home / ".storage-created").exists():
            subprocess.run(
                [str(python), "-c", "import dagster; dagster.DagsterInstance.get().dispose()"],
                env={**os.environ, "DAGSTER_HOME": str(home)},
                check=True,
            )
            (home / ".storage-created").write_text("instance storage created by tasks.py\n")


def _environ() -> dict[str, str]:
    env = dict(os.environ)
    own = ROOT / ".dagster_home"
    home = Path(env.setdefault("DAGSTER_HOME", str(own)))
    prepare_dagster_home(home, write_settings=home.resolve() == own.resolve())
    env.setdefault("POWER_ASSETS_DATA_DIR", str(ROOT / "data"))
    return env


def _run(*args: str) -> int:
    return subprocess.run([str(BIN / args[0]), *args[1:]], cwd=ROOT, env=_environ()).returncode


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command not in {"demo", "test", "ui", "bench", "lint"}:
        print(__doc__)
        return 0 if command == "help" else 2
    _ensure_environment()
    extra = argv[1:]
    if command == "demo":
        return _run("python", "-m", "power_assets.demo.run", *extra)
    if command == "lint":
        return _run("ruff", "check", ".")
    if command == "test":
        lint = _run("ruff", "check", ".")
        tests = _run("python", "-m", "pytest", *extra)
        return tests or lint
    if command == "bench":
        # `bench` runs every benchmark with its defaults; `bench NAME [options]` one of them.
        if extra and extra[0] in BENCHMARKS:
            return _run("python", BENCHMARKS[extra[0]], *extra[1:])
        return max(_run("python", BENCHMARKS[name]) for name in BENCHMARKS)
    return _run("dagster", "dev", "-w", "workspace.yaml", *extra)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
