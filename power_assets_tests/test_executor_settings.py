"""POWER_ASSETS_EXECUTOR picks the executor of every job, and the Celery workers' config
(deploy/celery.yaml) says what the executor says."""

import sys
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster_celery.cli import get_validated_config

from power_assets import settings
from power_assets.definitions import build_defs
from power_assets.keys import daily_job_name, partition_key, realtime_job_name
from power_assets.scale import executors
from power_assets.scale.executors import (
    celery_executor_config,
    celery_worker_config,
    executor_from_settings,
)

ROOT = Path(__file__).resolve().parents[1]
DEPLOYED_CELERY = ROOT / "deploy" / "celery.yaml"
BROKER = "redis://:s3cret-password@redis-host:6379/0"
BACKEND = "redis://:s3cret-password@redis-host:6379/1"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        settings.EXECUTOR_ENV,
        settings.CELERY_BROKER_ENV,
        settings.CELERY_BACKEND_ENV,
        settings.CELERY_VISIBILITY_TIMEOUT_ENV,
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def celery_env(clean_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    clean_env.setenv(settings.EXECUTOR_ENV, "celery")
    clean_env.setenv(settings.CELERY_BROKER_ENV, BROKER)
    clean_env.setenv(settings.CELERY_BACKEND_ENV, BACKEND)
    return clean_env


@pytest.mark.parametrize("value", ["multiprocess", " MultiProcess "])
def test_multiprocess_keeps_dagsters_default(clean_env, value):
    clean_env.setenv(settings.EXECUTOR_ENV, value)
    assert executor_from_settings() is None


@pytest.mark.parametrize("value", [None, ""])
def test_unset_runs_in_process(clean_env, value):
    if value is not None:
        clean_env.setenv(settings.EXECUTOR_ENV, value)
    assert executor_from_settings().name == "in_process"


@pytest.mark.parametrize(("value", "name"), [("in_process", "in_process"), ("CELERY", "celery")])
def test_each_value_names_its_executor(clean_env, value, name):
    clean_env.setenv(settings.EXECUTOR_ENV, value)
    assert executor_from_settings().name == name


def test_k8s_is_the_job_executor_with_the_settings_secret(clean_env):
    pytest.importorskip("dagster_k8s")
    clean_env.setenv(settings.EXECUTOR_ENV, "k8s")
    executor = executor_from_settings()
    assert executor.name == "k8s"
    resolved = executor.config_schema.resolve_config({}).value["config"]
    assert resolved["env_secrets"] == ["power-assets-settings"]


def test_k8s_without_dagster_k8s_says_what_to_install(clean_env):
    clean_env.setenv(settings.EXECUTOR_ENV, "k8s")
    clean_env.setitem(sys.modules, "dagster_k8s", None)  # import fails as if not installed
    with pytest.raises(RuntimeError, match=r"POWER_ASSETS_EXECUTOR=k8s needs the dagster-k8s"):
        executor_from_settings()


def test_an_unknown_value_names_the_valid_ones(clean_env):
    clean_env.setenv(settings.EXECUTOR_ENV, "dask")
    with pytest.raises(ValueError, match=r"'dask'.*multiprocess, in_process, celery, k8s"):
        executor_from_settings()


def test_the_broker_and_backend_are_read_from_the_environment_when_a_run_starts(celery_env):
    config = celery_executor_config()
    assert config["broker"] == {"env": "POWER_ASSETS_CELERY_BROKER"}
    assert config["backend"] == {"env": "POWER_ASSETS_CELERY_BACKEND"}
    assert "s3cret" not in repr(config)
    resolved = executor_from_settings().config_schema.resolve_config({}).value["config"]
    assert (resolved["broker"], resolved["backend"]) == (BROKER, BACKEND)


def test_a_worker_lost_mid_step_gives_the_step_to_another_worker(celery_env):
    source = celery_executor_config()["config_source"]
    assert source["task_acks_late"] is True
    assert source["task_reject_on_worker_lost"] is True
    assert source["worker_prefetch_multiplier"] == 1
    assert source["broker_transport_options"]["visibility_timeout"] == 6 * 3600
    celery_env.setenv(settings.CELERY_VISIBILITY_TIMEOUT_ENV, "900")
    assert celery_executor_config()["config_source"]["broker_transport_options"] == {
        "max_retries": 3,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
        "visibility_timeout": 900,
    }


@pytest.mark.parametrize("value", ["0", "-5", "1h", "1.5"])
def test_a_bad_visibility_timeout_names_the_variable(celery_env, value):
    celery_env.setenv(settings.CELERY_VISIBILITY_TIMEOUT_ENV, value)
    with pytest.raises(ValueError, match="POWER_ASSETS_CELERY_VISIBILITY_TIMEOUT_S"):
        celery_executor_config()


def test_the_deployed_worker_config_is_the_executors(celery_env):
    deployed = yaml.safe_load(DEPLOYED_CELERY.read_text())
    assert deployed == celery_worker_config()
    assert deployed["execution"]["config"] == celery_executor_config()
    # What a worker started with the file resolves is what the executor resolves.
    executor = executor_from_settings()
    assert (
        get_validated_config(str(DEPLOYED_CELERY))
        == (executor.config_schema.resolve_config({}).value["config"])
    )


def test_the_printed_worker_config_follows_the_settings(celery_env, capsys):
    celery_env.setenv(settings.CELERY_VISIBILITY_TIMEOUT_ENV, "900")
    assert executors.main(["celery-worker-yaml"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed == celery_worker_config()
    assert (
        printed["execution"]["config"]["config_source"]["broker_transport_options"][
            "visibility_timeout"
        ]
        == 900
    )


def _jobs(defs: dg.Definitions) -> list[dg.JobDefinition]:
    return [
        defs.resolve_job_def(daily_job_name("PJM")),
        defs.resolve_implicit_global_asset_job_def(),
    ]


@pytest.mark.parametrize(
    ("value", "name"),
    [(None, "in_process"), ("multiprocess", "multi_or_in_process_executor"), ("celery", "celery")],
)
def test_build_defs_gives_every_job_the_chosen_executor(celery_env, value, name):
    if value is None:
        celery_env.delenv(settings.EXECUTOR_ENV)
    else:
        celery_env.setenv(settings.EXECUTOR_ENV, value)
    defs = build_defs()
    assert {job.executor_def.name for job in _jobs(defs)} == {name}
    # The realtime jobs stay in one process whichever executor the others use, and start.
    realtime = defs.resolve_job_def(realtime_job_name("PJM"))
    assert realtime.executor_def.name == "in_process"
    key = str(partition_key(date(2024, 11, 3), "PJM"))
    run_config = realtime.partitioned_config.get_run_config_for_partition_key(key)
    assert dg.validate_run_config(realtime, run_config)


def test_an_executor_given_to_build_defs_wins_and_none_keeps_dagsters(celery_env):
    chosen = build_defs(executor=dg.in_process_executor)
    assert {job.executor_def.name for job in _jobs(chosen)} == {"in_process"}
    default = build_defs(executor=None)
    assert {job.executor_def.name for job in _jobs(default)} == {"multi_or_in_process_executor"}
