"""The Dagster instance the command line uses, and a Dagster that only says what matters.

What belongs here: the DAGSTER_HOME default (`./.dagster_home` under the current directory, the
home `python3 tasks.py ui` shows, so every run of the command line is in the UI), preparing that
home before first use exactly as `tasks.py` does, opening the instance, and silencing Dagster's
notes about the beta/preview APIs the project's own definitions use. Nothing here runs or reads
data.

`tasks.prepare_dagster_home` is not reused: `tasks.py` sits beside the package, not in it, so it
is importable only from the project root. The equivalent below keeps its lock and marker file, so
a home prepared by either is ready for both.
"""

import contextlib
import fcntl
import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import dagster as dg

HOME_ENV = "DAGSTER_HOME"
OWN_HOME = ".dagster_home"
# tasks.py's names: the lock two first commands take in turn, and the mark of created storage.
PREPARE_LOCK = ".prepare.lock"
STORAGE_MARKER = ".storage-created"


def dagster_home(cwd: Path | None = None) -> Path:
    """$DAGSTER_HOME (made absolute, as Dagster requires), else `./.dagster_home`; the variable is
    set either way, so everything this process starts uses the same instance."""
    given = os.environ.get(HOME_ENV, "").strip()
    home = Path(given) if given else (cwd or Path.cwd()) / OWN_HOME
    home = home.expanduser().resolve()
    os.environ[HOME_ENV] = str(home)
    return home


def prepare(home: Path, *, own: bool) -> None:
    """Write the project's instance settings into its own home (run queue, per-ISO run limits,
    telemetry off, hence no banner) and create the instance's storage once, under a lock.

    A home the user chose keeps its settings as they are, as with tasks.py. Storage is created
    here because Dagster creates its SQLite databases on first use, and two first runs on a fresh
    home can race in that creation and leave the instance broken for good.
    """
    home.mkdir(parents=True, exist_ok=True)
    with open(home / PREPARE_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        settings_file = home / "dagster.yaml"
        if own and not settings_file.exists():
            template = resources.files("power_assets").joinpath("dagster_instance.yaml")
            settings_file.write_text(template.read_text())
        marker = home / STORAGE_MARKER
        if not marker.exists():
            import dagster as dg

            dg.DagsterInstance.get().dispose()
            marker.write_text("instance storage created by power-assets\n")


def ready(cwd: Path | None = None) -> Path:
    """The prepared home of DAGSTER_HOME (default `./.dagster_home`, the project's own, whose
    settings are written too), with the variable set for anything this process starts."""
    own = not os.environ.get(HOME_ENV, "").strip()
    home = dagster_home(cwd)
    prepare(home, own=own or home == ((cwd or Path.cwd()) / OWN_HOME).resolve())
    return home


@contextlib.contextmanager
def instance(cwd: Path | None = None) -> Iterator["dg.DagsterInstance"]:
    """The prepared instance of DAGSTER_HOME (default `./.dagster_home`), closed afterwards."""
    import dagster as dg

    ready(cwd)
    with dg.DagsterInstance.get() as opened:
        yield opened
