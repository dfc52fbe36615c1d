"""Every name Dagster sees is built in `power_assets/keys.py`, and only Dagster's public API is used.

A key spelt out a second time elsewhere is how a day-ahead retry comes to always re-run, or a
freshness check to always be red, without any error: the copy silently matches nothing. So the
source of every other `power_assets` module is read with `ast` (docstrings and comments aside) for
what would build or split a name outside `keys.py`:

- a string, or an f-string's text, holding a name of ours (`warehouse/lmp_da`,
  `f"realtime_fresh__{iso}"`, `"monthly_rollup"`, a `power_assets/...` run tag);
- a partition key put together with `|` (`f"{day}|{iso}"`, `"|".join`, `day + "|" + iso`, a
  `"{}|{}"` template) or taken apart by it (`.split("|")`, `.partition("|")`);
- a call of `AssetKey`, `AssetCheckKey` or `MultiPartitionKey` themselves;
- an import of `dagster._...` (private), outside the one module that documents why it must.

The scanner is itself tested on today's former offenders (it must flag each) and on look-alikes
that are not names (it must flag none).
"""

import ast
import re
from datetime import date, datetime
from pathlib import Path

import pytest

from power_assets import keys

PACKAGE = Path(__file__).resolve().parents[1] / "power_assets"
KEYS_MODULE = "keys.py"
# The one module allowed a private Dagster import; its docstring says what was measured and why.
PRIVATE_DAGSTER_ALLOWED = {"assets/check_target.py"}

# Asset keys are `{stage}/{name}` (stage and combined assets, the real-time feed); other names are
# `{prefix}__{...}` (the feed's check, the per-ISO jobs, sensors and schedules). Both spellings of
# each are looked for: an old-style `warehouse__lmp_da` left somewhere matches nothing either.
ASSET_PREFIXES = (
    *keys.STAGES,
    "combined",
    *(f"combined_{period}" for period in keys.ROLLUP_PERIODS),
    "realtime_feed",
)
PREFIXES = (*ASSET_PREFIXES, "realtime_fresh", "daily_pipeline", "day_ahead", "realtime")
PLACEHOLDER = "\0"  # stands for an f-string's `{...}` in its text
PREFIXED_NAME = re.compile(
    rf"(?<!\w)(?:{'|'.join(PREFIXES)})__(?:\w|{PLACEHOLDER}|$)"
    # a key's user string; a folder of that name inside a path (`CAISO/raw_parquet/...`) is not one
    rf"|(?<![\w/])(?:{'|'.join(ASSET_PREFIXES)})/(?:\w|{PLACEHOLDER}|$)"
)
# Names without a `__`: roll-up jobs and ops, the freshness job, the market-day op; our run tags.
WHOLE_NAME = re.compile(
    rf"^(?:(?:{'|'.join(keys.ROLLUP_PERIODS)})_rollups?|realtime_freshness|market_day_stages)$"
    rf"|{PLACEHOLDER}_rollups?(?!\w)"
)
RUN_TAG = re.compile(r"^power_assets/[a-z][a-z_]*$")  # not e.g. the user agent power_assets/0.1
# A partition key formatted around `|`: an f-string's value next to it, or a format template.
JOINED_BY_BAR = re.compile(rf"{PLACEHOLDER}\||\|{PLACEHOLDER}|\{{[^{{}}]*\}}\|\{{|%\w\|%")
KEY_TYPES = {"AssetKey", "AssetCheckKey", "MultiPartitionKey"}
SPLITTERS = {"split", "rsplit", "partition", "rpartition"}


def _template(node: ast.JoinedStr) -> str:
    return "".join(
        part.value if isinstance(part, ast.Constant) else PLACEHOLDER for part in node.values
    )


def _is_bar(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == "|"


def _is_literal_text(node: ast.AST) -> bool:
    """A string literal, or one repeated (`"---|" * n`): text, not a value being keyed."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _is_literal_text(node.left) or _is_literal_text(node.right)
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _dagster_aliases(tree: ast.Module) -> set[str]:
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name == "dagster"
    }


def private_dagster_uses(source: str) -> list[tuple[int, str]]:
    """(line, what) for every use of a private Dagster module in `source`."""
    tree = ast.parse(source)
    aliases = _dagster_aliases(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                (node.lineno, f"import {alias.name}")
                for alias in node.names
                if alias.name.startswith("dagster._")
            ]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            module = node.module or ""
            if module.startswith("dagster._") or (
                module == "dagster" and any(a.name.startswith("_") for a in node.names)
            ):
                found.append((node.lineno, f"from {module} import ..."))
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            if isinstance(node.value, ast.Name) and node.value.id in aliases:
                found.append((node.lineno, f"{node.value.id}.{node.attr}"))
        elif isinstance(node, ast.Constant) and str(node.value).startswith("dagster._"):
            found.append((node.lineno, f"{node.value!r} (imported by name)"))
    return found


def name_building(source: str) -> list[tuple[int, str]]:
    """(line, what) for every place `source` builds or splits one of our names itself."""
    tree = ast.parse(source)
    documentation = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    in_fstrings = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    found = []

    def text(line: int, value: str) -> None:
        shown = repr(value.replace(PLACEHOLDER, "{...}"))
        if PREFIXED_NAME.search(value) or WHOLE_NAME.search(value) or RUN_TAG.search(value):
            found.append((line, f"a name of ours spelt out: {shown}"))
        elif JOINED_BY_BAR.search(value):
            found.append((line, f"a partition key formatted with '|': {shown}"))

    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text(node.lineno, _template(node))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in documentation and id(node) not in in_fstrings:
                text(node.lineno, node.value)
        elif isinstance(node, (ast.List, ast.Tuple)) and len(node.elts) == 2:
            # ["raw_parquet", dataset]: an asset key's parts (a list of stage names is not)
            first, second = node.elts
            if (
                isinstance(first, ast.Constant)
                and first.value in ASSET_PREFIXES
                and not (isinstance(second, ast.Constant) and second.value in ASSET_PREFIXES)
            ):
                found.append(
                    (node.lineno, f"an asset key's parts spelt out: [{first.value!r}, ...]")
                )
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "path"
        ):
            found.append((node.lineno, "an asset key taken apart with .path[...]"))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            for bar, other in ((node.left, node.right), (node.right, node.left)):
                if _is_bar(bar) and not _is_literal_text(other):
                    found.append((node.lineno, "a partition key joined with + '|' +"))
        elif isinstance(node, ast.Call):
            func = node.func
            called = ast.unparse(func).split(".")
            if KEY_TYPES & set(called):
                found.append((node.lineno, f"{ast.unparse(func)}(...) called outside keys.py"))
            elif isinstance(func, ast.Attribute):
                if func.attr == "join" and _is_bar(func.value):
                    found.append((node.lineno, "a partition key joined with '|'.join"))
                separators = [*node.args[:1], *(k.value for k in node.keywords if k.arg == "sep")]
                if func.attr in SPLITTERS and any(_is_bar(s) for s in separators):
                    found.append((node.lineno, f"a partition key taken apart with .{func.attr}"))
    return sorted(found)


def package_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _relative(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def test_no_module_but_keys_builds_or_splits_a_name():
    offences = [
        f"power_assets/{_relative(path)}:{line}: {what}"
        for path in package_modules()
        if _relative(path) != KEYS_MODULE
        for line, what in name_building(path.read_text())
    ]
    assert offences == [], "build these in power_assets/keys.py:\n" + "\n".join(offences)


def test_no_module_uses_private_dagster_apis():
    uses = {_relative(path): private_dagster_uses(path.read_text()) for path in package_modules()}
    offences = [
        f"power_assets/{module}:{line}: {what}"
        for module, found in uses.items()
        if module not in PRIVATE_DAGSTER_ALLOWED
        for line, what in found
    ]
    assert offences == [], "use what `dagster` exports:\n" + "\n".join(offences)
    # The exception lapses with its reason: once the module needs no private name, drop it here.
    assert all(uses.get(module) for module in PRIVATE_DAGSTER_ALLOWED), PRIVATE_DAGSTER_ALLOWED


# What the modules did before keys.py built everything, and other ways of doing the same.
FORMER_OFFENDERS = [
    'partition_key=f"{day.isoformat()}|{iso.id}"',
    'partition = f"{tomorrow.isoformat()}|{iso.id}"',
    'key = dg.AssetKey(f"warehouse__{dataset}")',
    'deps = [f"warehouse__{dataset}" for dataset in datasets]',
    'name = f"realtime_fresh__{iso.id}"',
    'name = f"realtime_feed__{iso.id}"',
    'name = f"day_ahead__{iso.id}"',
    'description = f"kept current by the realtime__{iso.id} sensor"',
    '_store(instance, "warehouse__lmp_rt5", partition)',
    'job = "daily_pipeline__CAISO"',
    'MONTHLY_ROLLUP_JOB = "monthly_rollup"',
    'FRESHNESS_JOB = "realtime_freshness"',
    'name = f"{period.name}_rollups"',
    'tags["power_assets/published_through"] = end',
    'key = "combined_yearly__" + product',
    'key = day.isoformat() + "|" + iso',
    'key = "|".join([day.isoformat(), iso])',
    'key = "{}|{}".format(day, iso)',
    'key = "%s|%s" % (day, iso)',
    'day, iso = key.split("|")',
    'day, _, iso = str(key).partition("|")',
    'day, iso = key.rsplit(sep="|", maxsplit=1)',
    'key = dg.AssetCheckKey(asset, "realtime_fresh")',
    'key = dg.MultiPartitionKey({"date": day, "iso": iso})',
    "key = AssetKey.from_user_string(text)",
    'selection = f"raw_parquet/{dataset}"',
    'assert event.asset_key.to_user_string() == "warehouse/lmp_da"',
    'deps = ["combined_monthly/" + product]',
    'ins = {"da": dg.AssetIn(["flattened", "lmp_da"])}',
    'deps = [("warehouse", dataset)]',
    "stage = key.path[0]",
]

NOT_NAMES = [
    '"""Stage-1 steps: `raw_download__{dataset}` and `warehouse__lmp_da 2024-03-10|CAISO`."""',
    'text = text.replace("|", "\\\\|")',
    'header = "|" + "---|" * len(columns)',
    'row = " | ".join(cells)',
    'message = f"no DuckDB store at {path}: materialize a warehouse__ asset first"',
    'columns = {c: f"{prefix}__{c}" for c in wide.columns}',
    'renames[column] = f"rt_{stat}__{column}"',
    'path = root / iso / "combined" / product / "monthly"',
    'description = f"{period.capitalize()} combined files from the daily ones."',
    'env = f"POWER_ASSETS_{iso.id}_REALTIME_MAX_LAG_MINUTES"',
    'key = stage_key("warehouse", dataset)',
    "partition = str(partition_key(day, iso.id))",
    'path = f"data/{iso}/raw_parquet/{dataset}/{day}.parquet"',
    'message = f"{name}: warehouse/* is a table, read it with open_warehouse()"',
    'chosen = ("raw_download", "raw_csv")',
]


@pytest.mark.parametrize("source", FORMER_OFFENDERS)
def test_the_scan_flags_a_name_built_outside_keys(source):
    assert name_building(source), source


@pytest.mark.parametrize("source", NOT_NAMES)
def test_the_scan_leaves_text_that_is_not_a_name(source):
    assert name_building(source) == []


@pytest.mark.parametrize(
    "source",
    [
        "from dagster._core.scheduler.instigation import InstigatorType",
        "import dagster._core.definitions",
        "from dagster import _check",
        "import dagster as dg\nx = dg._core",
        'importlib.import_module("dagster._core.storage")',
    ],
)
def test_the_scan_flags_private_dagster(source):
    assert private_dagster_uses(source), source


def test_the_scan_leaves_public_dagster():
    source = "import dagster as dg\nx = dg.AssetKey\nfrom dagster import job"
    assert private_dagster_uses(source) == []


def test_names_read_as_users_and_their_instances_know_them():
    """Written out literally: a changed spelling orphans what instances already store."""
    day = date(2024, 11, 3)
    assert keys.stage_key("warehouse", "lmp_rt5").path == ["warehouse", "lmp_rt5"]
    assert keys.stage_key("warehouse", "lmp_rt5").to_user_string() == "warehouse/lmp_rt5"
    assert keys.combined_key("da_as_hourly").to_user_string() == "combined/da_as_hourly"
    assert keys.rollup_key("yearly", "da_as_hourly").to_user_string() == (
        "combined_yearly/da_as_hourly"
    )
    assert keys.realtime_feed_key("ERCOT").to_user_string() == "realtime_feed/ERCOT"
    assert keys.freshness_check_name("ERCOT") == "realtime_fresh__ERCOT"
    check = keys.freshness_check_key("ERCOT")
    assert (check.asset_key.to_user_string(), check.name) == (
        "realtime_feed/ERCOT",
        "realtime_fresh__ERCOT",
    )
    assert keys.daily_job_name("CAISO") == "daily_pipeline__CAISO"
    assert (
        keys.realtime_job_name("CAISO") == keys.realtime_sensor_name("CAISO") == "realtime__CAISO"
    )
    assert keys.day_ahead_job_name("CAISO") == "day_ahead__CAISO"
    assert keys.day_ahead_schedule_name("CAISO") == "day_ahead__CAISO"
    assert [keys.rollup_job_name(p) for p in keys.ROLLUP_PERIODS] == [
        "monthly_rollup",
        "yearly_rollup",
    ]
    assert [keys.rollup_op_name(p) for p in keys.ROLLUP_PERIODS] == [
        "monthly_rollups",
        "yearly_rollups",
    ]
    assert keys.FRESHNESS_JOB == "realtime_freshness"
    assert keys.MARKET_DAY_OP == "market_day_stages"
    assert keys.PUBLISHED_THROUGH_TAG == "power_assets/published_through"
    assert keys.realtime_run_key("CAISO", day, "closing") == "realtime:CAISO:2024-11-03:closing"
    assert keys.day_ahead_run_key("CAISO", day, "retry") == "day_ahead:CAISO:2024-11-03:retry"
    assert keys.freshness_run_key(datetime(2024, 11, 4, 18, 5)) == "freshness:20241104T1805"
    assert str(keys.partition_key(day, "CAISO")) == "2024-11-03|CAISO"


def test_an_unknown_roll_up_period_is_refused():
    with pytest.raises(ValueError, match="weekly"):
        keys.rollup_job_name("weekly")
