"""The ISO registry refuses an inconsistent ISO loudly instead of leaving a dataset without assets."""

from dataclasses import replace

import pytest

from power_assets.errors import UnknownIsoError
from power_assets.isos import (
    DATASET_IDS,
    ISO_IDS,
    RegistryError,
    get_iso,
    registered_datasets,
    registered_isos,
    registry_problems,
)
from power_assets.isos.base import CombinedSources, RealtimeFeed


def variant(iso_id: str, **changes):
    """A copy of a registered ISO's definition with some class attributes changed."""
    base = type(get_iso(iso_id))
    return type(f"Changed{base.__name__}", (base,), changes)()


def test_the_registered_isos_fit_together():
    assert registry_problems(registered_isos()) == []
    assert list(registered_datasets()) == [d for d in DATASET_IDS if d in registered_datasets()]


def test_a_dataset_missing_from_dataset_ids_is_named_not_dropped():
    caiso = get_iso("CAISO")
    spec = replace(caiso.datasets["lmp_da"], id="lmp_da_ex_ante")
    problems = registry_problems([variant("CAISO", datasets={**caiso.datasets, spec.id: spec})])
    assert problems == [
        "ChangedCaiso (CAISO): dataset 'lmp_da_ex_ante' is not in DATASET_IDS; add it there "
        "(in flow order) so it gets assets"
    ]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"id": "PJMX"}, "id 'PJMX' is not one of ISO_IDS"),
        ({"timezone": "America/Nowhere"}, "unknown time zone 'America/Nowhere'"),
        ({"combined": CombinedSources("lmp_da", None, "lmp_rt_hourly")},
         "combined.real_time names 'lmp_rt_hourly', which it does not offer"),
        ({"realtime": RealtimeFeed("lmp_rt15", ("lmp_rt5",))},
         "realtime.probe_dataset is not one of realtime.datasets"),
    ],
)  # fmt: skip
def test_inconsistent_definitions_are_named(changes, problem):
    problems = registry_problems([variant("CAISO", **changes)])
    assert any(problem in p for p in problems), problems


def test_one_id_twice_is_refused():
    assert any("registered twice" in p for p in registry_problems([get_iso("NYISO")] * 2))


def test_building_a_registry_with_problems_raises_them_all():
    from power_assets.isos import build_registry

    with pytest.raises(RegistryError, match=r"(?s)ISO registry is inconsistent.*PJMX.*Nowhere"):
        build_registry([variant("CAISO", id="PJMX"), variant("ERCOT", timezone="America/Nowhere")])


def test_an_iso_still_to_come_is_told_apart_from_a_typo(monkeypatch):
    # Every ISO of ISO_IDS is registered now; an id announced but not yet built stands in.
    monkeypatch.setattr("power_assets.isos.ISO_IDS", (*ISO_IDS, "NEXTISO"))
    with pytest.raises(UnknownIsoError, match="'NEXTISO' is not supported yet; supported: CAISO"):
        get_iso("NEXTISO")
    with pytest.raises(UnknownIsoError, match="unknown ISO 'CAISSO'"):
        get_iso("CAISSO")
    assert get_iso("caiso").id == "CAISO"


def test_a_realtime_feed_needs_probe_methods():
    class NoProbe(type(get_iso("NYISO"))):
        pass

    for method in ("latest_interval_request", "latest_interval_end"):
        setattr(NoProbe, method, None)
    problems = registry_problems([NoProbe()])
    assert any("declares a realtime feed but no RealtimeProbe methods" in p for p in problems)
