"""The ISO registry: the only place that maps ISO ids to their implementations.

Stages look ISOs up here and never branch on an ISO id themselves. Adding an ISO means adding its
module and one line to `_ISOS`.
"""

from power_assets.errors import UnknownIsoError
from power_assets.isos.base import (
    CombinedSources,
    DatasetKind,
    DatasetSpec,
    DayAheadSchedule,
    DownloadRequest,
    IntervalLabel,
    IsoDefinition,
    RealtimeFeed,
    ValueBound,
)
from power_assets.isos.caiso import Caiso
from power_assets.isos.ercot import Ercot
from power_assets.isos.isone import Isone
from power_assets.isos.nyiso import Nyiso

# Every id users will see, including ISOs whose modules are still to come.
ISO_IDS = ("CAISO", "ERCOT", "ISONE", "NYISO", "PJM", "MISO", "SPP")
DATASET_IDS = (
    "lmp_da", "lmp_rt5", "lmp_rt15", "lmp_rt_hourly", "lmp_hasp",
    "as_da", "as_rt", "as_cleared_da", "load", "load_forecast", "fuel_mix",
)  # fmt: skip

_ISOS: dict[str, IsoDefinition] = {iso.id: iso for iso in (Caiso(), Ercot(), Isone(), Nyiso())}


def get_iso(iso_id: str) -> IsoDefinition:
    try:
        return _ISOS[iso_id.upper()]
    except KeyError:
        known = ", ".join(_ISOS)
        raise UnknownIsoError(
            f"unknown or not yet supported ISO {iso_id!r}; supported: {known}"
        ) from None


def registered_isos() -> list[IsoDefinition]:
    return list(_ISOS.values())


def registered_datasets() -> dict[str, DatasetSpec]:
    """Every dataset id offered by at least one registered ISO, in the canonical order."""
    offered = {ds_id: spec for iso in _ISOS.values() for ds_id, spec in iso.datasets.items()}
    return {ds_id: offered[ds_id] for ds_id in DATASET_IDS if ds_id in offered}


__all__ = [
    "DATASET_IDS",
    "ISO_IDS",
    "CombinedSources",
    "DatasetKind",
    "DatasetSpec",
    "DayAheadSchedule",
    "DownloadRequest",
    "IntervalLabel",
    "IsoDefinition",
    "RealtimeFeed",
    "ValueBound",
    "get_iso",
    "registered_datasets",
    "registered_isos",
]
