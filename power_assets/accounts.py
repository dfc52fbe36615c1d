"""Who we are at each ISO: the account secrets some ISOs need, held by one Dagster resource.

What belongs here: the `IsoAccounts` resource and how it is filled from the environment. Secrets
arrive through `dagster.EnvVar` (Dagster shows a variable's name, never its value), and ISO code
receives them as an argument (`Secrets`): nothing under `power_assets/isos` reads the environment.
Each ISO declares the secrets it uses (`IsoDefinition.secrets`); this resource has one field per
declared secret, named `{iso}_{secret}` (a test keeps the two in step).
"""

import os
from collections.abc import Iterable

import dagster as dg

from power_assets.isos.base import IsoDefinition, Secrets


class IsoAccounts(dg.ConfigurableResource):
    """ISO accounts: ERCOT Public API (username, password, subscription key), ISO Express web
    services (username, password), PJM Data Miner 2 (subscription key) and MISO Data Exchange
    (pricing key, optional). Empty means not configured."""

    ercot_username: str = ""
    ercot_password: str = ""
    ercot_subscription_key: str = ""
    isone_username: str = ""
    isone_password: str = ""
    pjm_subscription_key: str = ""
    miso_pricing_key: str = ""

    @classmethod
    def from_environment(cls, isos: Iterable[IsoDefinition]) -> "IsoAccounts":
        """Every declared secret whose environment variable is set, as an `EnvVar` (read by
        Dagster when a run, sensor or schedule starts, not now)."""
        values = {
            secret.field(iso.id): dg.EnvVar(secret.env_var)
            for iso in isos
            for secret in iso.secrets
            if os.environ.get(secret.env_var)
        }
        return cls(**values)

    def secrets_for(self, iso: IsoDefinition) -> Secrets:
        """The ISO's secrets by name (`username`, ...); empty strings for those not configured."""
        found = {}
        for secret in iso.secrets:
            value = getattr(self, secret.field(iso.id))
            # Outside a Dagster run (a resource built by hand) an EnvVar is still its name.
            if isinstance(value, dg.EnvVar):
                value = value.get_value("") or ""
            found[secret.name] = value
        return found
