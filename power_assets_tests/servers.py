"""The real servers some tests use (PostgreSQL on 127.0.0.1:5432), and what to do when one is down.

A test that needs one asks for its fixture. On a developer machine without the server the test is
skipped, and the session ends with one loud line naming the server; in CI (`CI` true) it fails,
because CI always starts them and a silent skip there would hide lost proof. Every test gets its
own database (`pa_test_<random>`), dropped afterwards, so runs never see each other's data.
"""

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest

from power_assets_tests.samples import in_ci

POSTGRES_ADMIN_URL = os.environ.get(
    "POWER_ASSETS_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
UNREACHABLE = "server unreachable"


def server_missing(name: str, detail: str) -> None:
    message = f"{UNREACHABLE}: {name} ({detail})"
    if in_ci():
        pytest.fail(f"{message}; CI must have it", pytrace=False)
    pytest.skip(message)


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database on the test PostgreSQL server; its URL. Dropped afterwards."""
    import psycopg2

    from power_assets.store.postgres import dsn

    admin = dsn(POSTGRES_ADMIN_URL)
    try:
        con = psycopg2.connect(admin, connect_timeout=3)
    except psycopg2.OperationalError as exc:
        server_missing(f"PostgreSQL at {POSTGRES_ADMIN_URL}", str(exc).strip().splitlines()[0])
    name = f"pa_test_{uuid.uuid4().hex[:12]}"
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with con.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.close()
