"""The executor runs use, chosen by `POWER_ASSETS_EXECUTOR`, and the Celery worker config.

| value | executor |
|---|---|
| unset, `in_process` | every step in the run's own process (one market-day step per run) |
| `multiprocess` | none given: Dagster's default (each step in a subprocess) |
| `celery` | each step a Celery task, run by whichever `dagster-celery` worker takes it |
| `k8s` | each step a Kubernetes Job (`dagster-k8s`, needed only then) |

Celery: the broker and result backend are `POWER_ASSETS_CELERY_BROKER` and
`POWER_ASSETS_CELERY_BACKEND`, given to Dagster as `{"env": ...}` so their values (which may hold a
password) are read when a run starts and never appear in definitions, run config or the UI.
Workers are started with `deploy/celery.yaml`, which must say what the executor says (broker,
backend, Celery settings): `python -m power_assets.scale.executors celery-worker-yaml` prints it
from the current settings, and a test keeps the deployed file equal to the default.

A worker killed mid-step must not lose the step, so the Celery settings are:

- `task_acks_late`: a task is acknowledged when its step has finished, not when a worker takes it;
  until then the broker still holds it.
- `task_reject_on_worker_lost`: when the pool process running the step dies (OOM killer, SIGKILL)
  while the worker survives, the task goes back to the queue at once for another worker, instead
  of being recorded as failed.
- `worker_prefetch_multiplier=1`: a worker reserves no task beyond the ones it is running, so
  queued chunks go to idle workers rather than waiting behind a busy one.
- Redis `visibility_timeout`: when a whole worker (or its host) disappears, nobody rejects its
  task; Redis hands an unacknowledged task to another worker once it has been unacknowledged this
  long, at the next sweep of a live worker (`unacked_restore_interval` x
  `unacked_restore_throttle`, up to about 100 s later). It is also the longest a step may run: a
  task still unacknowledged after that long is handed to a second worker as well, and the step runs
  twice at once. So it must exceed the longest step (a backfill chunk: days x datasets at the ISO's
  request spacing), and a lost worker's step waits that long before it starts again. Six hours by
  default (`POWER_ASSETS_CELERY_VISIBILITY_TIMEOUT_S`); size chunks well within it. Measured by
  hand with two workers and a 30 s timeout: SIGKILL of the pool process running a step, the other
  worker had the task 0.1 s later; SIGKILL of the whole worker, 77 s later; both runs succeeded.
  RabbitMQ ignores the setting (it redelivers when the worker's connection closes) but has its own
  `consumer_timeout` (30 min by default) that closes a consumer holding an unacknowledged task
  longer: raise it on the server for chunks that run longer.
"""

import argparse
import sys
from typing import Any

import dagster as dg
import yaml

from power_assets import settings

# The Kubernetes secret holding the POWER_ASSETS_* settings; step pods read it (deploy/k8s).
K8S_SETTINGS_SECRET = "power-assets-settings"
# The namespace of the step Jobs: the Helm release's (deploy/k8s/values.yaml, runLauncher).
K8S_NAMESPACE = "dagster"


def k8s_executor_config() -> dict[str, Any]:
    """The `k8s_job_executor` config; deploy/k8s/executor.yaml says the same (a test checks)."""
    # max_concurrent: pods at once within one run; runs are bounded by the run queue, and requests
    # to an ISO stay spaced however many pods run (the spacing is kept in PostgreSQL).
    return {
        "job_namespace": K8S_NAMESPACE,
        "env_secrets": [K8S_SETTINGS_SECRET],
        "max_concurrent": 4,
    }

# dagster-celery's own transport defaults (dagster_celery.defaults), kept because config_source
# replaces broker_transport_options whole: they bound kombu's retries of the broker connection when
# a step is submitted. (With Redis down, a run failed after about 20 s, in Celery's reconnects to
# the result store, with "Encountered error during celery task submission".)
_CONNECTION_RETRIES = {
    "max_retries": 3,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}


def celery_config_source(visibility_timeout_s: int | None = None) -> dict[str, Any]:
    """The Celery settings of the executor and its workers (see the module docstring)."""
    timeout = visibility_timeout_s or settings.celery_visibility_timeout_s()
    return {
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        # A worker that loses the broker stops the steps it runs: the broker hands them to another
        # worker, and one chunk never runs on two workers at once.
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "broker_transport_options": {**_CONNECTION_RETRIES, "visibility_timeout": timeout},
        # Retry connecting at start-up (Celery 5.3+ warns when this is left unset).
        "broker_connection_retry_on_startup": True,
    }


def celery_executor_config(visibility_timeout_s: int | None = None) -> dict[str, Any]:
    """The `celery_executor` config: broker and backend named by variable, never by value."""
    return {
        "broker": {"env": settings.CELERY_BROKER_ENV},
        "backend": {"env": settings.CELERY_BACKEND_ENV},
        "config_source": celery_config_source(visibility_timeout_s),
    }


def celery_worker_config(visibility_timeout_s: int | None = None) -> dict[str, Any]:
    """What `dagster-celery worker start -y` reads: the executor's config under execution.config."""
    return {"execution": {"config": celery_executor_config(visibility_timeout_s)}}


def _celery() -> dg.ExecutorDefinition:
    from dagster_celery import celery_executor  # imports Celery and kombu: only when chosen

    return celery_executor.configured(celery_executor_config())


def _k8s() -> dg.ExecutorDefinition:
    try:
        from dagster_k8s import k8s_job_executor
    except ImportError:
        raise RuntimeError(
            f"{settings.EXECUTOR_ENV}=k8s needs the dagster-k8s package "
            "(pip install 'dagster-k8s>=0.29,<0.30'), which is not installed here"
        ) from None
    return k8s_job_executor.configured(k8s_executor_config())


def executor_from_settings() -> dg.ExecutorDefinition | None:
    """The executor `POWER_ASSETS_EXECUTOR` names; None means Dagster's default (multiprocess).

    Every choice is a *configured* executor: run config cannot change it; settings do. (The
    realtime jobs have their own in-process executor whatever is chosen here.)
    """
    name = settings.executor_name()  # a ValueError naming the valid values for anything else
    if name == "multiprocess":
        return None
    if name == "in_process":
        return dg.in_process_executor.configured({})
    if name == "celery":
        return _celery()
    return _k8s()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m power_assets.scale.executors",
        description="Print the dagster-celery worker config for the current settings "
        "(deploy/celery.yaml is this with the defaults).",
    )
    parser.add_argument("what", choices=["celery-worker-yaml"])
    parser.parse_args(argv)
    sys.stdout.write(yaml.safe_dump(celery_worker_config(), sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
