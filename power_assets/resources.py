"""Dagster resources: where data lives, the clock, the shared ISO HTTP client, and the DuckDB store.

`default_resources()` is what `build_defs()` uses; tests and the demo replace entries through
`build_defs(resources=...)` rather than monkeypatching. One data root: the storage resource's
folder holds the stage files and, unless set otherwise, the DuckDB file and the request-spacing
locks, so moving `storage.data_dir` moves all three.
"""

import contextlib
import os
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from power_assets import settings
from power_assets.accounts import IsoAccounts
from power_assets.io.http import IsoHttpClient
from power_assets.io.objects import ObjectMirror
from power_assets.io.pg_leases import PartitionLeases
from power_assets.isos import registered_isos
from power_assets.layout import Layout
from power_assets.store.warehouse import WarehouseResource


class StorageResource(dg.ConfigurableResource):
    """Where every stage's files live (default: $POWER_ASSETS_DATA_DIR or ./data): a folder, or an
    object store (`s3://bucket/prefix`) that the stages reach through a local working copy
    (`io.objects`)."""

    data_dir: str = ""

    def location(self) -> str:
        return self.data_dir or settings.data_location()

    def layout(self) -> Layout:
        """The local files the stages read and write (the working copy, for an object store)."""
        return Layout(settings.local_root(self.location()))

    def mirror(self) -> ObjectMirror | None:
        """The object store behind the layout, or None when the data lives in a plain folder."""
        location = self.location()
        if not settings.is_object_url(location):
            return None
        return ObjectMirror(location, settings.local_root(location))

    @contextlib.contextmanager
    def partition_leases(self) -> Iterator[PartitionLeases | None]:
        """Leases that keep two workers off the same partition's files (see io/pg_leases.py):
        only with the files on an object store and the instance on PostgreSQL; else None."""
        url = os.environ.get(settings.INSTANCE_DATABASE_URL_ENV)
        if self.mirror() is None or not url:
            yield None
            return
        leases = PartitionLeases(url)
        try:
            yield leases
        finally:
            leases.close()

    def holds(self, path: Path) -> bool:
        """Whether a stage file (a path of `layout()`) exists where the data lives."""
        mirror = self.mirror()
        return mirror.exists(path) if mirror is not None else path.is_file()


class ClockResource(dg.ConfigurableResource):
    """What time it is for the pipeline: which windows of today are still open, when a response
    was fetched, which market day is "today".

    `frozen_at` (ISO 8601 with offset) pins the time; empty (default) means the system clock. Tests
    and simulations pin it to replay a day against a fake ISO that publishes by the same clock.
    """

    frozen_at: str = ""

    def now(self) -> datetime:
        if not self.frozen_at:
            return datetime.now(UTC)
        pinned = datetime.fromisoformat(self.frozen_at)
        if pinned.tzinfo is None:
            raise ValueError(f"clock.frozen_at needs a UTC offset: {self.frozen_at!r}")
        return pinned.astimezone(UTC)


def default_resources(overrides: Mapping[str, object] | None = None) -> dict[str, object]:
    """Every resource, with `overrides` replacing entries; the defaults of the warehouse and the
    HTTP client's locks follow the (possibly overridden) storage resource's data root."""
    overrides = dict(overrides or {})
    storage = overrides.get("storage") or StorageResource()
    data_dir = storage.data_dir if isinstance(storage, StorageResource) else ""
    defaults: dict[str, object] = {
        "storage": storage,
        "clock": ClockResource(),
        "iso_http": IsoHttpClient(
            data_dir=data_dir,
            accounts=IsoAccounts.from_environment(registered_isos()),
            **settings.spacing_database_setting(),
        ),
        "warehouse": WarehouseResource(data_dir=data_dir, **settings.warehouse_url_setting()),
    }
    return {**defaults, **overrides}
