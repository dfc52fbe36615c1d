"""Shared fixtures: where the real ISO samples are (when present) and a throwaway data dir."""

from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"


@pytest.fixture
def samples() -> Path:
    """../shared/samples; tests that need it are skipped (not failed) where it is absent."""
    if not SAMPLES.is_dir():
        pytest.skip("../shared/samples not present")
    return SAMPLES


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "data"
    monkeypatch.setenv("POWER_ASSETS_DATA_DIR", str(root))
    return root
