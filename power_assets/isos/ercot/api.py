"""ERCOT Public API sign-in: the account's secrets and the bearer token.

What belongs here: the secrets a user's Public API account needs (and the environment variables
the `IsoAccounts` resource reads them from), and the token cache that signs in through ERCOT's B2C
ROPC flow and refreshes the token before it expires. Which archive documents to list and fetch is
`definition`'s business.
"""

import json
import threading
import time

from power_assets.errors import DownloadError
from power_assets.isos.base import AuthSession, IsoDefinition, Secret, Secrets

USERNAME_ENV = "POWER_ASSETS_ERCOT_USERNAME"
PASSWORD_ENV = "POWER_ASSETS_ERCOT_PASSWORD"
SUBSCRIPTION_KEY_ENV = "POWER_ASSETS_ERCOT_SUBSCRIPTION_KEY"
# ERCOT's published public client of the B2C ROPC flow (not a secret: the same for every user).
ROPC_CLIENT_ID = "fec253ea-0d06-4272-a5e6-b478baeecd70"
# Refresh a token this long before ERCOT says it expires (it lives one hour).
TOKEN_MARGIN_S = 300.0


API_SECRETS = (
    Secret("username", USERNAME_ENV),
    Secret("password", PASSWORD_ENV),
    Secret("subscription_key", SUBSCRIPTION_KEY_ENV),
)


def api_credentials(secrets: Secrets) -> tuple[str, str, str] | None:
    """(username, password, subscription key) from the account's secrets, or None if incomplete."""
    values = tuple(secrets.get(secret.name, "") for secret in API_SECRETS)
    return values if all(values) else None  # type: ignore[return-value]


class TokenCache:
    """One bearer token per process, shared by threads, refreshed before it expires."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._token: str | None = None
        self._user: str | None = None
        self._expires_at = 0.0

    def get(self, iso: IsoDefinition, session: AuthSession, username: str, password: str) -> str:
        with self._lock:
            now = time.time()
            if self._token and self._user == username and now < self._expires_at - TOKEN_MARGIN_S:
                return self._token
            body = session.post_form(
                iso, "token", "token",
                {
                    "username": username, "password": password, "grant_type": "password",
                    "scope": f"openid {ROPC_CLIENT_ID} offline_access",
                    "client_id": ROPC_CLIENT_ID, "response_type": "id_token",
                },
            )  # fmt: skip
            try:
                answer = json.loads(body)
                token = answer.get("id_token") or answer["access_token"]
                lifetime = float(answer.get("expires_in", 3600))
            except (ValueError, KeyError, TypeError, AttributeError):
                raise DownloadError(
                    "ERCOT token service: the answer holds no id_token/access_token"
                ) from None
            self._token, self._user, self._expires_at = token, username, now + lifetime
            return token

    def clear(self) -> None:
        with self._lock:
            self._token = None
