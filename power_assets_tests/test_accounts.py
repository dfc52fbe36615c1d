"""ISO account secrets reach ISO code through the `IsoAccounts` resource (EnvVar), never through
the environment inside `power_assets/isos`."""

import re
from pathlib import Path

import dagster as dg
import pytest

from power_assets.accounts import IsoAccounts
from power_assets.io.http import IsoHttpClient
from power_assets.isos import get_iso, registered_isos
from power_assets.resources import default_resources

ISOS_DIR = Path(__file__).resolve().parents[1] / "power_assets" / "isos"
ERCOT_ENV = {
    "username": "POWER_ASSETS_ERCOT_USERNAME",
    "password": "POWER_ASSETS_ERCOT_PASSWORD",
    "subscription_key": "POWER_ASSETS_ERCOT_SUBSCRIPTION_KEY",
}


def test_no_iso_module_reads_the_environment():
    readers = [
        f"{path.relative_to(ISOS_DIR)}:{number}"
        for path in ISOS_DIR.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bos\.environ\b|\bgetenv\(|\bEnvVar\(", line)
    ]
    assert readers == []


def test_every_declared_secret_has_a_field_on_the_accounts_resource():
    fields = set(IsoAccounts.model_fields)
    declared = {secret.field(iso.id) for iso in registered_isos() for secret in iso.secrets}
    assert declared <= fields
    assert {s.env_var for s in get_iso("ERCOT").secrets} == set(ERCOT_ENV.values())


def test_secrets_come_from_envvars_that_dagster_resolves_when_a_run_starts(monkeypatch):
    for name, var in ERCOT_ENV.items():
        monkeypatch.setenv(var, f"the {name}")
    accounts = IsoAccounts.from_environment(registered_isos())
    # The resource holds the variables' names, not their values (what the UI shows) ...
    assert isinstance(accounts.ercot_password, dg.EnvVar)
    assert accounts.ercot_password == "POWER_ASSETS_ERCOT_PASSWORD"
    # ... and Dagster reads the values when it initializes the resource.
    client = IsoHttpClient(accounts=accounts)
    with dg.build_resources({"iso_http": client}) as resources:
        secrets = resources.iso_http.secrets_for(get_iso("ERCOT"))
    assert dict(secrets) == {name: f"the {name}" for name in ERCOT_ENV}
    # A resource used by hand resolves them too, rather than sending a variable's name.
    assert client.secrets_for(get_iso("ERCOT"))["password"] == "the password"


def test_unset_variables_are_empty_secrets_and_the_dataset_says_what_to_set(monkeypatch):
    monkeypatch.delenv("POWER_ASSETS_ISONE_USERNAME", raising=False)
    monkeypatch.delenv("POWER_ASSETS_ISONE_PASSWORD", raising=False)
    client = default_resources()["iso_http"]
    isone = get_iso("ISONE")
    assert dict(client.secrets_for(isone)) == {"username": "", "password": ""}
    reason = isone.unavailable_reason("fuel_mix", client.secrets_for(isone))
    assert "POWER_ASSETS_ISONE_USERNAME" in reason and "POWER_ASSETS_ISONE_PASSWORD" in reason


@pytest.mark.parametrize("iso_id", ["CAISO", "NYISO"])
def test_isos_without_accounts_declare_no_secrets(iso_id):
    assert get_iso(iso_id).secrets == ()
