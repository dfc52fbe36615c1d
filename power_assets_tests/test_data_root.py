"""One data root: the storage resource's folder holds the stage files, the DuckDB file and the
request-spacing locks, so moving `storage.data_dir` moves all three (unless set on their own)."""

from pathlib import Path

import pytest

from power_assets.resources import StorageResource, default_resources
from power_assets.settings import DUCKDB_PATH_ENV


def test_an_overridden_storage_root_carries_the_database(tmp_path: Path, monkeypatch):
    monkeypatch.delenv(DUCKDB_PATH_ENV, raising=False)
    resources = default_resources({"storage": StorageResource(data_dir=str(tmp_path))})
    assert resources["storage"].layout().root == tmp_path.resolve()
    assert resources["warehouse"].path() == tmp_path.resolve() / "power.duckdb"


def test_the_database_is_resolved_when_used_not_at_import(tmp_path: Path, monkeypatch):
    monkeypatch.delenv(DUCKDB_PATH_ENV, raising=False)
    warehouse = default_resources()["warehouse"]  # built before the environment changes
    monkeypatch.setenv("POWER_ASSETS_DATA_DIR", str(tmp_path / "later"))
    assert warehouse.path() == (tmp_path / "later").resolve() / "power.duckdb"
    monkeypatch.setenv(DUCKDB_PATH_ENV, str(tmp_path / "elsewhere.duckdb"))
    assert warehouse.path() == (tmp_path / "elsewhere.duckdb").resolve()


@pytest.mark.parametrize("key", ["warehouse", "clock", "iso_http"])
def test_an_explicit_resource_is_kept(key):
    marker = object()
    assert default_resources({key: marker})[key] is marker


def test_the_request_spacing_locks_follow_the_storage_root(tmp_path: Path):
    resources = default_resources({"storage": StorageResource(data_dir=str(tmp_path))})
    assert resources["iso_http"].resolved_lock_dir() == tmp_path.resolve() / ".locks"
