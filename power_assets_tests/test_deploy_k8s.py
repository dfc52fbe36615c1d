"""deploy/k8s: the Helm values, the k8s executor's run config and the user-code image agree with
the project's settings and with what Dagster accepts. Nothing here talks to Kubernetes, Docker or
Helm (none is on this machine); the chart's rendering is mirrored in a few lines, each naming the
chart template it follows (helm/dagster in dagster-io/dagster, 1.13 line)."""

import json
import re
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster_k8s import K8sRunLauncher, k8s_job_executor

from power_assets.scale.executors import k8s_executor_config

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
SECRET = "power-assets-settings"
RELEASE = "dagster"  # the README's `helm upgrade --install dagster ...`: chart fullname "dagster"
SETTING = re.compile(r"\bPOWER_ASSETS_[A-Z0-9_]*[A-Z0-9]\b")


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def values() -> dict:
    return _yaml(K8S / "values.yaml")


@pytest.fixture(scope="module")
def executor_run_config() -> dict:
    return _yaml(K8S / "executor.yaml")


def _secret_names(env_secrets: list[dict]) -> list[str]:
    return [source["name"] for source in env_secrets]  # chart: a list of SecretEnvSource


# Keys of ours the chart defines, from helm/dagster/schema/schema/charts/dagster/values.py and its
# subschema (user_deployments.py, run_launcher.py, daemon.py, postgresql.py, global_.py,
# telemetry): helm accepts unknown keys silently where its schema allows, so a typo would do nothing.
CHART_KEYS = {
    "dagster-user-deployments": {"enabled", "enableSubchart", "deployments"},
    "runLauncher": {"type", "config"},
    "dagsterDaemon": {"runCoordinator"},
    "postgresql": {
        "enabled", "postgresqlHost", "postgresqlUsername", "postgresqlDatabase",
        "postgresqlScheme", "service",
    },
    "generatePostgresqlPasswordSecret": None,
    "global": {"postgresqlSecretName"},
    "telemetry": {"enabled"},
}  # fmt: skip
DEPLOYMENT_KEYS = {
    "name", "image", "dagsterApiGrpcArgs", "port", "envSecrets", "includeConfigInLaunchedRuns",
}  # fmt: skip
K8S_LAUNCHER_KEYS = {"jobNamespace", "loadInclusterConfig", "imagePullPolicy", "envSecrets"}
QUEUED_KEYS = {"maxConcurrentRuns", "tagConcurrencyLimits"}


def test_values_use_only_keys_the_chart_defines(values):
    assert set(values) == set(CHART_KEYS)
    for key, allowed in CHART_KEYS.items():
        if allowed is not None:
            assert set(values[key]) <= allowed, key
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert set(deployment) <= DEPLOYMENT_KEYS
    assert set(values["runLauncher"]["config"]) == {"k8sRunLauncher"}
    assert set(values["runLauncher"]["config"]["k8sRunLauncher"]) <= K8S_LAUNCHER_KEYS
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    assert set(coordinator["config"]) == {"queuedRunCoordinator"}
    assert set(coordinator["config"]["queuedRunCoordinator"]) <= QUEUED_KEYS


# -- the run queue: the same limits as the embedded instance -------------------------------------


def _chart_run_coordinator(values: dict) -> dict:
    """The instance's run_coordinator as helm/dagster/templates/helpers/instance/
    _run-coordinator.tpl renders it (camelCase values to the instance's snake_case)."""
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    assert coordinator["enabled"] and coordinator["type"] == "QueuedRunCoordinator"
    queued = coordinator["config"]["queuedRunCoordinator"]
    return {
        "module": "dagster.core.run_coordinator",  # the chart's spelling; Dagster maps it
        "class": "QueuedRunCoordinator",
        "config": {
            "max_concurrent_runs": queued["maxConcurrentRuns"],
            "tag_concurrency_limits": queued["tagConcurrencyLimits"],
        },
    }


def test_run_queue_limits_equal_the_embedded_instance(values, tmp_path):
    embedded = _yaml(ROOT / "power_assets" / "dagster_instance.yaml")["concurrency"]["runs"]
    rendered = _chart_run_coordinator(values)
    assert rendered["config"] == embedded

    # And Dagster reads both to the same run queue.
    (tmp_path / "chart").mkdir()
    (tmp_path / "chart" / "dagster.yaml").write_text(
        yaml.safe_dump({"run_coordinator": rendered, "telemetry": {"enabled": False}})
    )
    (tmp_path / "embedded").mkdir()
    (tmp_path / "embedded" / "dagster.yaml").write_text(
        (ROOT / "power_assets" / "dagster_instance.yaml").read_text()
    )
    queues = []
    for name in ("chart", "embedded"):
        with dg.DagsterInstance.from_config(str(tmp_path / name)) as instance:
            queue = instance.get_concurrency_config().run_queue_config
            queues.append((queue.max_concurrent_runs, queue.tag_concurrency_limits))
    assert queues[0] == queues[1]


# -- the run launcher and the executor: Dagster's own schemas ------------------------------------


def _validate_as_op_config(schema: dict, config: dict) -> None:
    """Validate `config` against a Dagster config schema through the public API: as the config of
    an op in a one-op job (dg.validate_run_config raises DagsterInvalidConfigError)."""

    @dg.op(config_schema=schema)
    def holder() -> None: ...

    @dg.job
    def probe() -> None:
        holder()

    dg.validate_run_config(probe, {"ops": {"holder": {"config": config}}})


def _chart_k8s_run_launcher(values: dict) -> dict:
    """The instance's run_launcher config as helm/dagster/templates/helpers/instance/
    _run-launcher.tpl renders it for our values (chart defaults for the rest)."""
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    return {
        "load_incluster_config": launcher["loadInclusterConfig"],
        "job_namespace": launcher["jobNamespace"],
        "image_pull_policy": launcher["imagePullPolicy"],
        "service_account_name": RELEASE,
        "dagster_home": "/opt/dagster/dagster_home",
        "instance_config_map": f"{RELEASE}-instance",
        "postgres_password_secret": values["global"]["postgresqlSecretName"],
        "env_secrets": _secret_names(launcher["envSecrets"]),
    }


def test_run_launcher_config_is_valid_for_k8s_run_launcher(values):
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    rendered = _chart_k8s_run_launcher(values)
    _validate_as_op_config(K8sRunLauncher.config_type(), rendered)
    # The check has teeth: a misspelt key is refused.
    with pytest.raises(dg.DagsterInvalidConfigError):
        _validate_as_op_config(K8sRunLauncher.config_type(), {**rendered, "env_secret": [SECRET]})


def test_executor_run_config_is_valid_for_k8s_job_executor(executor_run_config):
    @dg.op
    def step() -> None: ...

    @dg.job(executor_def=k8s_job_executor)
    def k8s_probe() -> None:
        step()

    dg.validate_run_config(k8s_probe, executor_run_config)
    bad = {"execution": {"config": {**executor_run_config["execution"]["config"], "pods": 4}}}
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.validate_run_config(k8s_probe, bad)


def test_code_server_runs_and_steps_share_settings_and_namespace(values, executor_run_config):
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    executor = executor_run_config["execution"]["config"]
    # What POWER_ASSETS_EXECUTOR=k8s configures (a configured executor ignores run config, so
    # the file and the code must say the same).
    assert executor == k8s_executor_config()
    assert _secret_names(deployment["envSecrets"]) == [SECRET]
    assert _secret_names(launcher["envSecrets"]) == [SECRET]
    assert executor["env_secrets"] == [SECRET]
    assert executor["job_namespace"] == launcher["jobNamespace"]


# -- settings: names the project knows, values the pods need -------------------------------------


def test_every_setting_named_for_the_pods_is_one_the_project_reads_or_documents():
    # Known: what the package's source or the README names (computed from their text, not from a
    # list), so a typo here, which Kubernetes would pass on silently, fails.
    sources = [ROOT / "README.md", *sorted((ROOT / "power_assets").rglob("*.py"))]
    known = {name for path in sources for name in SETTING.findall(path.read_text())}
    assert "POWER_ASSETS_DAGSTER_PG_URL" in known  # the scan itself works
    named = set()
    for path in (K8S / "values.yaml", K8S / "executor.yaml", K8S / "settings.env.example"):
        named |= set(SETTING.findall(path.read_text()))
    assert named - known == set()


def test_the_secret_example_carries_the_scale_out_settings():
    lines = (K8S / "settings.env.example").read_text().splitlines()
    entries = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    assert set(entries) == {
        "POWER_ASSETS_DAGSTER_PG_URL", "POWER_ASSETS_WAREHOUSE_URL", "POWER_ASSETS_DATA_DIR",
        "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
        "POWER_ASSETS_PJM_SUBSCRIPTION_KEY", "POWER_ASSETS_EXECUTOR",
    }  # fmt: skip
    assert entries["POWER_ASSETS_EXECUTOR"] == "k8s"
    assert entries["POWER_ASSETS_DATA_DIR"].startswith("s3://")  # pods share no disk
    for name in ("POWER_ASSETS_DAGSTER_PG_URL", "POWER_ASSETS_WAREHOUSE_URL"):
        assert entries[name].startswith("postgresql+psycopg2://"), name


# -- the image: the command the chart runs ---------------------------------------------------------


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    text = dockerfile.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_image_serves_the_code_location_the_chart_expects(values):
    instructions = _instructions(K8S / "Dockerfile")
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    port = deployment["port"]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "power_assets.definitions"]
    assert instructions[0] == ("FROM", "python:3.11-slim")
    # deployment-user.yaml: args: ["dagster","api","grpc","-h","0.0.0.0","-p",<port>,<args...>].
    (cmd,) = [json.loads(rest) for word, rest in instructions if word == "CMD"]
    chart_args = ["dagster", "api", "grpc", "-h", "0.0.0.0", "-p", str(port)]
    assert cmd == chart_args + deployment["dagsterApiGrpcArgs"]
    assert "ENTRYPOINT" not in {word for word, _ in instructions}  # args would be appended to it
    assert ("EXPOSE", str(port)) in instructions
    # No settings baked in: they come from the Secret.
    baked = [rest for word, rest in instructions if word in {"ENV", "ARG"}]
    assert not [text for text in baked if re.search(r"POWER_ASSETS_|AWS_|PASSWORD|KEY", text)]
