"""The ISO registry: the only place that maps ISO ids to their implementations.

Stages look ISOs up here and never branch on an ISO id themselves. Adding an ISO means adding its
package and one line to `_ISOS`.
"""

from collections.abc import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from power_assets.errors import PowerAssetsError, UnknownIsoError
from power_assets.isos.base import (
    CombinedSources,
    DatasetKind,
    DatasetSpec,
    DayAheadSchedule,
    DownloadRequest,
    IntervalLabel,
    IsoDefinition,
    NamedRequests,
    RealtimeFeed,
    RealtimeProbe,
    RequestNarrowing,
    ValueBound,
)
from power_assets.isos.caiso import Caiso
from power_assets.isos.ercot import Ercot
from power_assets.isos.isone import Isone
from power_assets.isos.miso import Miso
from power_assets.isos.nyiso import Nyiso
from power_assets.isos.pjm import Pjm
from power_assets.isos.spp import Spp

# Every id users will see, including ISOs whose modules are still to come.
ISO_IDS = ("CAISO", "ERCOT", "ISONE", "NYISO", "PJM", "MISO", "SPP")
DATASET_IDS = (
    "lmp_da", "lmp_da_exante", "lmp_rt5", "lmp_rt15", "lmp_rt_hourly", "lmp_hasp",
    "as_da", "as_rt", "as_cleared_da", "load", "load_forecast", "fuel_mix",
)  # fmt: skip


class RegistryError(PowerAssetsError):
    """An ISO definition that does not fit the registry; raised when the registry is built."""


def registry_problems(isos: Iterable[IsoDefinition]) -> list[str]:
    """Everything inconsistent about these ISO definitions (empty when they fit together)."""
    problems, seen = [], set()
    for iso in isos:
        name = f"{type(iso).__name__} ({getattr(iso, 'id', '?')})"
        if iso.id not in ISO_IDS:
            problems.append(f"{name}: id {iso.id!r} is not one of ISO_IDS {ISO_IDS}")
        if iso.id in seen:
            problems.append(f"{name}: id {iso.id!r} registered twice")
        seen.add(iso.id)
        try:
            ZoneInfo(iso.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"{name}: unknown time zone {iso.timezone!r}")
        for key, spec in iso.datasets.items():
            if key not in DATASET_IDS:
                problems.append(
                    f"{name}: dataset {key!r} is not in DATASET_IDS; add it there (in flow "
                    "order) so it gets assets"
                )
            if spec.id != key:
                problems.append(f"{name}: dataset registered as {key!r} says its id is {spec.id!r}")
        used = {
            "combined.day_ahead": [iso.combined.day_ahead],
            "combined.ancillary": [iso.combined.ancillary] if iso.combined.ancillary else [],
            "combined.real_time": [iso.combined.real_time],
            "realtime.datasets": list(iso.realtime.datasets) if iso.realtime else [],
            "day_ahead.datasets": list(iso.day_ahead.datasets) if iso.day_ahead else [],
        }
        if iso.realtime and not isinstance(iso, RealtimeProbe):
            problems.append(f"{name}: declares a realtime feed but no RealtimeProbe methods")
        if iso.realtime and iso.realtime.probe_dataset not in iso.realtime.datasets:
            problems.append(f"{name}: realtime.probe_dataset is not one of realtime.datasets")
        for field, datasets in used.items():
            problems += [
                f"{name}: {field} names {d!r}, which it does not offer"
                for d in datasets
                if d not in iso.datasets
            ]
    return problems


def build_registry(isos: Iterable[IsoDefinition]) -> dict[str, IsoDefinition]:
    """ISOs by id; `RegistryError` listing every problem when they do not fit together."""
    isos = list(isos)
    problems = registry_problems(isos)
    if problems:
        raise RegistryError("ISO registry is inconsistent:\n- " + "\n- ".join(problems))
    return {iso.id: iso for iso in isos}


_ISOS: dict[str, IsoDefinition] = build_registry(
    (Caiso(), Ercot(), Isone(), Miso(), Nyiso(), Pjm(), Spp())
)


def get_iso(iso_id: str) -> IsoDefinition:
    try:
        return _ISOS[iso_id.upper()]
    except (KeyError, AttributeError):
        known = ", ".join(_ISOS)
        coming = [i for i in ISO_IDS if i not in _ISOS]
        if str(iso_id).upper() in coming:
            raise UnknownIsoError(
                f"ISO {iso_id!r} is not supported yet; supported: {known}"
            ) from None
        raise UnknownIsoError(f"unknown ISO {iso_id!r}; supported: {known}") from None


def registered_isos() -> list[IsoDefinition]:
    return list(_ISOS.values())


def registered_datasets() -> dict[str, DatasetSpec]:
    """Every dataset id offered by at least one registered ISO, in the canonical order (the
    registry refuses a dataset id missing from DATASET_IDS, so none is left out)."""
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
    "NamedRequests",
    "RealtimeFeed",
    "RealtimeProbe",
    "RegistryError",
    "RequestNarrowing",
    "ValueBound",
    "get_iso",
    "registered_datasets",
    "registered_isos",
    "registry_problems",
]
