"""Where the real ISO payloads are (../shared/samples) and what to do when one is missing.

A test that reads a real file asks `require_sample("caiso/temp.zip")`. On a developer machine
without ../shared the test is skipped, and the session ends with one loud line saying how many
real-file tests did not run; in CI (`CI` set to true) a missing sample fails the test instead,
because CI always has ../shared and a silent skip there would hide lost proof.
"""

import os
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require_sample(relative: str = "") -> Path:
    """The path of a real sample under ../shared/samples; skip (fail in CI) if it is absent."""
    path = SAMPLES / relative if relative else SAMPLES
    if not path.exists():
        message = f"real ISO sample {path} is missing (expected ../shared/samples beside the repo)"
        if in_ci():
            pytest.fail(f"{message}; CI must have it", pytrace=False)
        pytest.skip(message)
    return path
