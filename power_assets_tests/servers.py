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


# An S3-compatible server on loopback: moto's server mode in its own process (a real HTTP server
# speaking the S3 protocol, not in-process patching), started once per test session. Set
# POWER_ASSETS_TEST_S3_URL to use another (MinIO, SeaweedFS) instead.
S3_ENDPOINT_ENV = "POWER_ASSETS_TEST_S3_URL"
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "power-assets-test",
    "AWS_SECRET_ACCESS_KEY": "power-assets-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextlib.contextmanager
def s3_server() -> Iterator[str]:
    """The endpoint URL of an S3-compatible server on 127.0.0.1, for the whole session."""
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    given = os.environ.get(S3_ENDPOINT_ENV)
    if given:
        yield given
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Path(sys.executable).with_name("moto_server")
    if not server.exists():
        server_missing("S3-compatible server", f"{server} is not installed (pip install 'moto[server]')")
    process = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    server_missing("S3-compatible server", f"moto_server did not start on {url}")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextlib.contextmanager
def s3_bucket(endpoint: str) -> Iterator[str]:
    """A fresh bucket (`pa-test-<random>`) on the server; its name. Emptied and removed afterwards."""
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, **_boto_credentials())
    name = f"pa-test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=name):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=name, Delete={"Objects": keys})
        client.delete_bucket(Bucket=name)


def _boto_credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "region_name": S3_CREDENTIALS["AWS_DEFAULT_REGION"],
    }
