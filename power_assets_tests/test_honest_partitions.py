"""No green without data: a partition that cannot hold data is never shown as materialized.

Which ISO publishes which dataset is written out here as the README's table states it, not read
from the registry under test.
"""

import logging

import dagster as dg
import pytest

from power_assets.keys import daily_job_name
from power_assets_tests.e2e_support import loopback_defs

PUBLISHED = {
    "CAISO": {"lmp_da", "lmp_rt5", "lmp_rt15", "as_da", "load", "load_forecast", "fuel_mix"},
    "ERCOT": {"lmp_da", "lmp_rt5", "lmp_rt15", "as_da", "as_cleared_da", "load", "load_forecast"},
    "ISONE": {"lmp_da", "lmp_rt5", "lmp_rt_hourly", "as_rt", "load", "fuel_mix"},
    "NYISO": {
        "lmp_da", "lmp_rt5", "lmp_rt_hourly", "as_da", "as_rt", "load", "load_forecast", "fuel_mix",
    },
    "PJM": {
        "lmp_da", "lmp_rt5", "lmp_rt_hourly", "as_da", "as_rt", "load", "load_forecast", "fuel_mix",
    },
    "MISO": {
        "lmp_da", "lmp_da_exante", "lmp_rt5", "lmp_rt_hourly", "as_da", "as_rt", "load",
        "load_forecast", "fuel_mix",
    },
    "SPP": {"lmp_da", "lmp_rt5", "as_da", "as_rt", "load", "load_forecast", "fuel_mix"},
}  # fmt: skip
STAGES = ("raw_download", "raw_csv", "raw_parquet", "flattened", "warehouse")
COMBINED = {"combined/da_as_hourly", "combined/da_as_rt_hourly", "combined/da_as_rt_native"}
# Nothing may reach an ISO here: every base URL is a closed loopback port.
DEAD = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def defs(tmp_path_factory) -> dg.Definitions:
    root = tmp_path_factory.mktemp("honest")
    return loopback_defs(root, {iso: DEAD for iso in PUBLISHED})


@pytest.mark.parametrize("iso", sorted(PUBLISHED))
def test_each_isos_daily_job_holds_exactly_what_it_publishes(defs, iso):
    job = defs.resolve_job_def(daily_job_name(iso))
    selected = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    expected = {f"{stage}/{dataset}" for dataset in PUBLISHED[iso] for stage in STAGES} | COMBINED
    assert selected == expected
    assert job.tags["power_assets/iso"] == iso


def test_stage_assets_say_which_isos_partitions_stay_empty(defs):
    graph = defs.resolve_asset_graph()
    description = graph.get(dg.AssetKey.from_user_string("raw_parquet/as_rt")).description
    assert (
        "Published by ISONE, MISO, NYISO, PJM, SPP only: partitions of CAISO, ERCOT are never"
        in description
    )
    assert (
        "Published by"
        not in graph.get(dg.AssetKey.from_user_string("warehouse/lmp_da")).description
    )


def test_a_partition_of_an_iso_that_does_not_publish_the_dataset_is_never_materialized(defs):
    asset_job = defs.resolve_implicit_global_asset_job_def()
    selection = [dg.AssetKey.from_user_string(f"{stage}/as_rt") for stage in STAGES]
    with dg.instance_for_test() as instance:
        result = asset_job.execute_in_process(
            partition_key="2024-03-10|CAISO",
            asset_selection=selection,
            instance=instance,
            raise_on_error=False,
        )
        assert result.success  # nothing failed: there is nothing to fetch
        assert result.get_asset_materialization_events() == []
        for key in selection:
            assert instance.get_materialized_partitions(key) == set()
        warnings = [
            entry.user_message
            for entry in instance.all_logs(result.run_id)
            if entry.level == logging.WARNING and "not materialized" in entry.user_message
        ]
    assert warnings == [
        "not materialized: as_rt (every selected stage, 1 partition(s)): "
        "CAISO does not publish as_rt"
    ]
