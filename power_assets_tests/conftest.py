"""Shared fixtures: the real ISO samples (see samples.py) and a throwaway data dir.

Every test that uses the `samples` fixture carries the `samples` marker, so `pytest -m samples`
runs exactly the tests proven on real ISO files.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from power_assets_tests.samples import SAMPLES, in_ci, require_sample
from power_assets_tests.servers import (
    S3_CREDENTIALS,
    UNREACHABLE,
    postgres_database,
    s3_bucket,
    s3_server,
)


@pytest.fixture
def samples() -> Path:
    """../shared/samples; skipped where it is absent, a failure in CI."""
    return require_sample()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A database of its own on the test PostgreSQL server; skipped if down, a failure in CI."""
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible server on loopback for the session (see servers.s3_server)."""
    with s3_server() as url:
        yield url


@pytest.fixture
def s3_location(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`s3://<a bucket of this test's own>/data`, with the AWS variables pointing at the server
    set for this test (the product reads only those); the bucket is removed afterwards."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    for name, value in S3_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with s3_bucket(s3_endpoint) as bucket:
        yield f"s3://{bucket}/data"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "data"
    monkeypatch.setenv("POWER_ASSETS_DATA_DIR", str(root))
    return root


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "samples" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.samples)


def pytest_terminal_summary(terminalreporter, exitstatus: int) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    servers = sorted({
        str(report.longrepr[2]).split(": ", 1)[-1]
        for report in skipped
        if isinstance(report.longrepr, tuple) and UNREACHABLE in str(report.longrepr[2])
    })  # fmt: skip
    for server in servers:
        count = sum(server in str(report.longrepr) for report in skipped)
        terminalreporter.write_sep("!", f"{count} tests did NOT run: {server}", red=True, bold=True)
    if SAMPLES.is_dir():
        return
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if "real ISO sample" in str(report.longrepr)
    ]
    if skipped or in_ci():
        terminalreporter.write_sep(
            "!",
            f"{len(skipped)} tests on real ISO files did NOT run: {SAMPLES} is missing",
            red=True,
            bold=True,
        )
