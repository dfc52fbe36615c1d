"""Stage files on an S3-compatible server (moto's server mode on loopback, a bucket per test).

The mirror is tried on its own (what goes up, what comes down, what is removed, what is not sent
twice), then a PJM fall-back day goes through every stage with the data on the bucket: each stage's
objects are there, polars and DuckDB read the parquet from the bucket and find what an embedded run
writes to a folder, and a host with an empty working folder carries on from the bucket alone.
"""

import hashlib
import json
import logging
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import boto3
import dagster as dg
import duckdb
import polars as pl
import pytest

from power_assets.assets.partition_files import partition_files
from power_assets.assets.steps import Step, StepEnv
from power_assets.definitions import build_defs
from power_assets.demo.pjm_server import FakeDataMiner
from power_assets.errors import PowerAssetsError
from power_assets.io.http import IsoHttpClient
from power_assets.io.objects import (
    ObjectMirror,
    ObjectStoreError,
    polars_storage_options,
    register_with_duckdb,
    s3_filesystem,
)
from power_assets.io.pg_leases import PartitionLeases
from power_assets.isos import get_iso
from power_assets.isos.pjm import SUBSCRIPTION_KEY_ENV
from power_assets.keys import daily_job_name, parse_partition_key, stage_keys
from power_assets.layout import Layout
from power_assets.resources import StorageResource
from power_assets.store.warehouse import WarehouseResource

DAY = date(2024, 11, 3)  # PJM's fall-back day: 25 hours
KEY = f"{DAY}|PJM"


def _client(s3_endpoint: str):
    return boto3.client("s3", endpoint_url=s3_endpoint)


def _objects(s3_endpoint: str, location: str) -> dict[str, bytes]:
    bucket, prefix = location.removeprefix("s3://").split("/", 1)
    client = _client(s3_endpoint)
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            found[item["Key"].removeprefix(prefix + "/")] = body
    return found


class _SpyingFs:
    """The real S3 filesystem, with the order of its uploads written down."""

    def __init__(self, fs):
        self.fs, self.uploads = fs, []

    def put_file(self, local, key, **kwargs):
        self.uploads.append(key.rsplit("/", 1)[-1])
        return self.fs.put_file(local, key, **kwargs)

    def __getattr__(self, name):
        return getattr(self.fs, name)


def test_push_and_pull_make_each_side_equal_to_the_other(s3_location, s3_endpoint, tmp_path):
    root = tmp_path / "host_a"
    folder = root / "PJM" / "raw_downloads" / "lmp_da" / "2024-11-03"
    folder.mkdir(parents=True)
    (folder / "page.zip").write_bytes(b"PK\x03\x04 pages")
    (folder / "manifest.json").write_text('{"files": ["page.zip"]}')
    (folder / ".page.zip.123.abcdefgh.part").write_bytes(b"half a write")  # never sent
    single = root / "PJM" / "raw_parquet" / "lmp_da" / "2024-11-03.parquet"
    single.parent.mkdir(parents=True)
    single.write_bytes(b"PAR1 not really")

    first = ObjectMirror(s3_location, root, _fs=_SpyingFs(s3_filesystem()))
    sent = first.push([folder, single])
    assert sent == len(b"PK\x03\x04 pages") + len('{"files": ["page.zip"]}') + len(b"PAR1 not really")
    # single files before folders, and a folder's manifest after the files it lists
    assert first._fs.uploads == ["2024-11-03.parquet", "page.zip", "manifest.json"]
    stored = _objects(s3_endpoint, s3_location)
    assert set(stored) == {
        "PJM/raw_downloads/lmp_da/2024-11-03/page.zip",
        "PJM/raw_downloads/lmp_da/2024-11-03/manifest.json",
        "PJM/raw_parquet/lmp_da/2024-11-03.parquet",
    }
    assert first.push([folder, single]) == 0  # equal objects are not sent again

    # another host: an empty working folder, and a stale file the bucket does not hold
    other = tmp_path / "host_b"
    stale = other / "PJM" / "raw_downloads" / "lmp_da" / "2024-11-03" / "old.zip"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"from a run that never pushed")
    second = ObjectMirror(s3_location, other)
    received = second.pull([stale.parent, other / single.relative_to(root)])
    assert received == sent
    assert not stale.exists()
    assert (stale.parent / "page.zip").read_bytes() == b"PK\x03\x04 pages"
    assert (other / single.relative_to(root)).read_bytes() == b"PAR1 not really"
    assert second.pull([stale.parent]) == 0  # already equal: nothing downloaded

    # the folder shrinks on host B: the bucket follows, and host A follows the bucket
    (stale.parent / "page.zip").unlink()
    second.push([stale.parent])
    assert "PJM/raw_downloads/lmp_da/2024-11-03/page.zip" not in _objects(s3_endpoint, s3_location)
    first.pull([folder])
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "manifest.json"
    ]

    # a unit the bucket does not hold is removed locally (the bucket is the record)
    missing = root / "PJM" / "flattened" / "lmp_da" / "2024-11-03.parquet"
    missing.parent.mkdir(parents=True)
    missing.write_bytes(b"never pushed")
    assert not first.exists(missing)
    first.pull([missing])
    assert not missing.exists()


def test_a_changing_folder_loses_its_old_manifest_first_and_a_failed_step_only_adds(
    s3_location, s3_endpoint, tmp_path
):
    root = tmp_path / "work"
    folder = root / "PJM" / "raw_downloads" / "lmp_da" / "2024-11-03"
    folder.mkdir(parents=True)
    (folder / "window_1.zip").write_bytes(b"one")
    (folder / "manifest.json").write_text('{"files": ["window_1.zip"]}')
    mirror = ObjectMirror(s3_location, root)
    mirror.push([folder])

    class CutShort(_SpyingFs):
        """Dies at the first upload, as a worker killed mid-push."""

        def put_file(self, local, key, **kwargs):
            raise OSError("connection reset")

    (folder / "window_1.zip").write_bytes(b"one, revised")
    (folder / "manifest.json").write_text('{"files": ["window_1.zip"], "revised": true}')
    with pytest.raises(ObjectStoreError, match="uploading"):
        ObjectMirror(s3_location, root, _fs=CutShort(s3_filesystem())).push([folder])
    stored = _objects(s3_endpoint, s3_location)
    prefix = "PJM/raw_downloads/lmp_da/2024-11-03/"
    # the old manifest went first: no manifest beside a half-replaced folder
    assert set(stored) == {prefix + "window_1.zip"}

    # a failed step's push adds what it kept whole, without bookkeeping, and removes nothing
    (folder / "window_2.zip").write_bytes(b"two")
    (folder / "window_1.zip").unlink()
    mirror.push([folder], delete=False)
    stored = _objects(s3_endpoint, s3_location)
    assert set(stored) == {prefix + "window_1.zip", prefix + "window_2.zip"}


def test_a_file_unit_is_not_confused_with_a_longer_name(s3_location, tmp_path):
    root = tmp_path / "work"
    day = root / "PJM" / "raw_parquet" / "lmp_da" / "2024-11-03.parquet"
    longer = day.with_name("2024-11-03.parquet.bak")
    day.parent.mkdir(parents=True)
    longer.write_bytes(b"a neighbour")
    mirror = ObjectMirror(s3_location, root)
    mirror.push([longer])
    assert not mirror.exists(day)
    mirror.pull([day])
    assert not day.exists()


def test_paths_outside_the_working_folder_and_bad_urls_are_refused(tmp_path):
    with pytest.raises(ObjectStoreError, match="not an object store URL"):
        ObjectMirror("data/here", tmp_path)
    mirror = ObjectMirror("s3://bucket/prefix", tmp_path / "work")
    with pytest.raises(ObjectStoreError, match="outside the working folder"):
        mirror.key(tmp_path / "elsewhere" / "x.parquet")
    assert mirror.url_of(tmp_path / "work" / "PJM" / "x.parquet") == "s3://bucket/prefix/PJM/x.parquet"


def _defs(storage: StorageResource, fake: FakeDataMiner, root: Path) -> dg.Definitions:
    return build_defs(
        resources={
            "storage": storage,
            "iso_http": IsoHttpClient(
                base_urls={"PJM": fake.base_url}, min_spacing_s={"PJM": 0.0},
                lock_dir=str(root / "locks"),
            ),
            "warehouse": WarehouseResource(database=str(root / "power.duckdb")),
        }
    )  # fmt: skip


def _run(defs, instance, selection):
    return defs.resolve_job_def(daily_job_name("PJM")).execute_in_process(
        partition_key=KEY, instance=instance, asset_selection=selection, raise_on_error=False
    )


@pytest.mark.e2e
def test_a_pjm_day_on_the_bucket_equals_the_embedded_run(
    s3_location, s3_endpoint, tmp_path, monkeypatch
):
    monkeypatch.setenv(SUBSCRIPTION_KEY_ENV, "s3-test-key")
    selection = stage_keys(["lmp_da", "load"])
    with FakeDataMiner(subscription_key="s3-test-key") as fake, dg.instance_for_test() as inst:
        embedded_root = tmp_path / "embedded"
        embedded = _defs(StorageResource(data_dir=str(embedded_root / "data")), fake, embedded_root)
        assert _run(embedded, inst, selection).success

        monkeypatch.setenv("POWER_ASSETS_WORK_DIR", str(tmp_path / "host_a"))
        bucket_root = tmp_path / "bucket_run"
        on_bucket = _defs(StorageResource(data_dir=s3_location), fake, bucket_root)
        result = _run(on_bucket, inst, selection)
        assert result.success

    stored = _objects(s3_endpoint, s3_location)
    for stage in ("raw_downloads", "csv_files"):
        assert any(k.startswith(f"PJM/{stage}/lmp_da/{DAY}/") for k in stored), stage
    assert f"PJM/raw_downloads/lmp_da/{DAY}/manifest.json" in stored
    # every object is byte for byte the file the working copy holds (no partial object)
    for name, body in stored.items():
        local = tmp_path / "host_a" / name
        assert hashlib.sha256(local.read_bytes()).digest() == hashlib.sha256(body).digest(), name
    for stage in ("raw_parquet", "flattened"):
        for dataset in ("lmp_da", "load"):
            name = f"PJM/{stage}/{dataset}/{DAY}.parquet"
            from_bucket = pl.read_parquet(
                f"{s3_location}/{name}", storage_options=polars_storage_options()
            )
            assert from_bucket.equals(pl.read_parquet(embedded_root / "data" / name)), name
    assert pl.read_parquet(
        f"{s3_location}/PJM/raw_parquet/lmp_da/{DAY}.parquet", storage_options=polars_storage_options()
    ).height == 8 * 25  # the 8 priced pnodes of the fake, 25 hours

    # DuckDB reads the bucket through fsspec (no httpfs download), with a glob over ISOs
    with duckdb.connect() as con:
        register_with_duckdb(con)
        count = con.execute(
            f"SELECT count(*) FROM read_parquet('{s3_location}/*/raw_parquet/lmp_da/*.parquet')"
        ).fetchone()[0]
    assert count == 8 * 25

    # the UI's paths are the bucket's, not the worker's cache
    paths = {
        str(m.materialization.metadata["path"].value)
        for m in result.get_asset_materialization_events()
        if "path" in m.materialization.metadata
    }
    assert paths and all(p.startswith(s3_location + "/PJM/") for p in paths), paths


@pytest.mark.e2e
def test_a_host_with_an_empty_working_folder_carries_on_from_the_bucket(
    s3_location, s3_endpoint, tmp_path, monkeypatch
):
    monkeypatch.setenv(SUBSCRIPTION_KEY_ENV, "s3-test-key")
    with FakeDataMiner(subscription_key="s3-test-key") as fake, dg.instance_for_test() as inst:
        monkeypatch.setenv("POWER_ASSETS_WORK_DIR", str(tmp_path / "host_a"))
        defs = _defs(StorageResource(data_dir=s3_location), fake, tmp_path / "a")
        assert _run(defs, inst, stage_keys(["lmp_da"], ("raw_download", "raw_csv"))).success
        requests_before = len(fake.requests)

        # host B never saw the raw files: it reads them from the bucket, asks PJM for nothing
        monkeypatch.setenv("POWER_ASSETS_WORK_DIR", str(tmp_path / "host_b"))
        defs = _defs(StorageResource(data_dir=s3_location), fake, tmp_path / "b")
        result = _run(defs, inst, stage_keys(["lmp_da"], ("raw_download", "raw_parquet", "warehouse")))
        assert result.success
        assert len(fake.requests) == requests_before  # the kept responses came from the bucket
    manifest = json.loads(_objects(s3_endpoint, s3_location)[f"PJM/raw_downloads/lmp_da/{DAY}/manifest.json"])
    assert manifest
    with duckdb.connect(str(tmp_path / "b" / "power.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM lmp").fetchone()[0] == 8 * 25


@pytest.mark.e2e
def test_a_monthly_archive_shared_by_many_days_travels_with_the_day(
    s3_location, s3_endpoint, tmp_path, monkeypatch
):
    """NYISO serves past months as one archive kept once under `_shared/` for all its days: a host
    that did not download it gets it from the bucket through the day's manifest."""
    from power_assets.demo.nyiso_server import FakeNyiso

    def defs_for(host: str, nyiso) -> dg.Definitions:
        monkeypatch.setenv("POWER_ASSETS_WORK_DIR", str(tmp_path / host))
        return build_defs(
            resources={
                "storage": StorageResource(data_dir=s3_location),
                "iso_http": IsoHttpClient(
                    base_urls={"NYISO": nyiso.base_url}, min_spacing_s={"NYISO": 0.0},
                    lock_dir=str(tmp_path / host / "locks"),
                ),
                "warehouse": WarehouseResource(database=str(tmp_path / host / "power.duckdb")),
            }
        )  # fmt: skip

    key = f"{DAY}|NYISO"
    with FakeNyiso() as nyiso, dg.instance_for_test() as inst:
        job = daily_job_name("NYISO")
        host_a = defs_for("host_a", nyiso).resolve_job_def(job)
        assert host_a.execute_in_process(
            partition_key=key, instance=inst, asset_selection=stage_keys(["lmp_da"], ("raw_download",))
        ).success
        asked = len(nyiso.requests)
        shared = [k for k in _objects(s3_endpoint, s3_location) if "/_shared/" in k]
        assert shared, "the month's archive is kept under _shared/ in the bucket"

        host_b = defs_for("host_b", nyiso).resolve_job_def(job)
        result = host_b.execute_in_process(
            partition_key=key, instance=inst,
            asset_selection=stage_keys(["lmp_da"], ("raw_download", "raw_csv", "raw_parquet")),
        )  # fmt: skip
        assert result.success
        assert len(nyiso.requests) == asked  # host B asked NYISO for nothing
    for name in shared:
        assert (tmp_path / "host_b" / name).is_file(), name


# -- the runner's side: what is fetched and sent around one (asset, partition) -------------------


def _step_writing(name: str, work) -> Step:
    return Step(
        dg.AssetKey.from_user_string(name), name, work,
        writes=lambda layout, iso, partition: (
            layout.raw_downloads(iso.id, "lmp_da", partition.day),
        ),
    )  # fmt: skip


def _env(s3_location: str, root: Path, leases: PartitionLeases | None = None) -> StepEnv:
    return StepEnv(
        layout=Layout(root), mirror=ObjectMirror(s3_location, root), leases=leases,
        now=lambda: datetime.now(UTC), log=logging.getLogger("test"),
    )  # fmt: skip


def test_a_failed_step_leaves_what_it_kept_whole_for_its_rerun_on_another_host(
    s3_location, s3_endpoint, tmp_path
):
    partition, iso = parse_partition_key(KEY), get_iso("PJM")

    def fails_after_one_window(env, iso, partition):
        folder = env.layout.raw_downloads(iso.id, "lmp_da", partition.day)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "window_1.json").write_text("[1]")
        raise RuntimeError("window 2: PJM answered 500")

    step = _step_writing("raw_download/lmp_da", fails_after_one_window)
    env = _env(s3_location, tmp_path / "host_a")
    with pytest.raises(RuntimeError, match="window 2"), partition_files(step, {}, env, iso, partition):
        step.work(env, iso, partition)
    stored = _objects(s3_endpoint, s3_location)
    assert set(stored) == {f"PJM/raw_downloads/lmp_da/{DAY}/window_1.json"}

    seen: list[str] = []

    def reuses(env, iso, partition):
        folder = env.layout.raw_downloads(iso.id, "lmp_da", partition.day)
        seen.extend(sorted(p.name for p in folder.iterdir()))
        (folder / "window_2.json").write_text("[2]")
        (folder / "manifest.json").write_text('{"files": 2}')

    step = _step_writing("raw_download/lmp_da", reuses)
    env = _env(s3_location, tmp_path / "host_b")
    with partition_files(step, {}, env, iso, partition):
        step.work(env, iso, partition)
    assert seen == ["window_1.json"]  # host B found host A's kept window
    assert len(_objects(s3_endpoint, s3_location)) == 3


def test_two_workers_on_one_partition_take_turns(postgres_url, s3_location, tmp_path):
    partition, iso = parse_partition_key(KEY), get_iso("PJM")
    spans: list[tuple[str, float, float, list[str]]] = []
    lock = threading.Lock()

    def work(env, iso, partition):
        folder = env.layout.raw_downloads(iso.id, "lmp_da", partition.day)
        found = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        began = time.monotonic()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{env.layout.root.name}.json").write_text("[]")
        time.sleep(0.5)
        with lock:
            spans.append((env.layout.root.name, began, time.monotonic(), found))

    def host(name: str) -> None:
        leases = PartitionLeases(postgres_url)
        try:
            step = _step_writing("raw_download/lmp_da", work)
            env = _env(s3_location, tmp_path / name, leases)
            with partition_files(step, {}, env, iso, partition):
                step.work(env, iso, partition)
        finally:
            leases.close()

    threads = [threading.Thread(target=host, args=(name,)) for name in ("host_a", "host_b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (first, _, first_done, _), (_, second_began, _, found) = sorted(spans, key=lambda s: s[1])
    assert second_began >= first_done  # the second worked only once the first had pushed
    assert found == [f"{first}.json"]  # and started from the first one's result


def test_the_duckdb_file_is_refused_beside_files_on_object_storage(monkeypatch, tmp_path):
    monkeypatch.delenv("POWER_ASSETS_DUCKDB_PATH", raising=False)
    with pytest.raises(PowerAssetsError, match="POWER_ASSETS_WAREHOUSE_URL"):
        WarehouseResource(data_dir="s3://bucket/prefix").path()
    monkeypatch.setenv("POWER_ASSETS_DUCKDB_PATH", str(tmp_path / "one.duckdb"))
    assert WarehouseResource(data_dir="s3://bucket/prefix").path() == tmp_path / "one.duckdb"
