"""Where a step's files are while it works on one partition, when they live on object storage.

The stages read and write local files. With `POWER_ASSETS_DATA_DIR=s3://...` those are a working
copy of the bucket (io/objects.py), and around each (asset, partition) the runner:

1. takes the partition's lease (io/pg_leases.py), so no other worker works on the same files;
2. pulls what the step writes (a re-run reuses kept responses, or keeps the published file when
   its checks fail), what it reads besides, and what the steps upstream of it wrote; then pulls
   again whatever the folders that arrived name (a day's manifest and the shared archives it used);
3. after the work, pushes what the step wrote, before its materialization is recorded, so the UI
   is green only once the bucket has the data; when the work fails, pushes without deleting
   anything and without bookkeeping, so what it had already kept whole (the responses fetched
   before a later window failed) is there for the re-run on any host.

Metadata that names a working-copy path is shown as the object's URL.
"""

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg

from power_assets.assets.steps import Step, StepEnv
from power_assets.isos import IsoDefinition
from power_assets.keys import MarketPartition

# Metadata entries that hold a stage file's path (the DuckDB file's, `database`, is not one).
_PATH_ENTRIES = ("path", "folder")


@contextlib.contextmanager
def partition_files(
    step: Step,
    by_key: Mapping[dg.AssetKey, Step],
    env: StepEnv,
    iso: IsoDefinition,
    partition: MarketPartition,
) -> Iterator[None]:
    """The block runs with the partition's files in the working copy, sent back afterwards."""
    mirror = env.mirror
    if mirror is None:
        yield
        return
    lease_name = f"{step.key.to_user_string()}:{partition.key}"
    lease = env.leases.hold(lease_name) if env.leases is not None else contextlib.nullcontext()
    with lease:
        used = files_used(step, by_key, env, iso, partition)
        mirror.pull(used)
        mirror.pull(set(files_used(step, by_key, env, iso, partition)) - set(used))
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):  # the step's own error is the one to report
                mirror.push(step.writes(env.layout, iso, partition), delete=False)
            raise
        mirror.push(step.writes(env.layout, iso, partition))


def files_used(
    step: Step,
    by_key: Mapping[dg.AssetKey, Step],
    env: StepEnv,
    iso: IsoDefinition,
    partition: MarketPartition,
) -> list[Path]:
    """What a step's work touches for a partition: its own results, what it reads besides, and
    what the steps upstream of it wrote."""
    files = [*step.writes(env.layout, iso, partition), *step.reads(env.layout, iso, partition)]
    for key in step.upstream(iso):
        upstream = by_key.get(key)
        if upstream is not None:
            files += upstream.writes(env.layout, iso, partition)
    return files


def shown_path(path: Path | str, env: StepEnv) -> str:
    """A stage file as users should see it: its object URL when the data is on object storage."""
    text = str(path)
    root = str(env.layout.root)
    if env.mirror is not None and (text == root or text.startswith(root + "/")):
        return env.mirror.url_of(Path(text))
    return text


def where_data_lives(metadata: dict[str, Any], env: StepEnv) -> dict[str, Any]:
    """The metadata with the stage files' working-copy paths shown as their object URLs."""
    if env.mirror is None:
        return metadata
    return {
        name: shown_path(value, env) if name in _PATH_ENTRIES and isinstance(value, str) else value
        for name, value in metadata.items()
    }
