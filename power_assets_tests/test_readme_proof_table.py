"""The README's "What each ISO and dataset is proven on" table stays true: one row per registered
(ISO, dataset) pair, and each real-file row names a sample that exists and a test that reads it."""

import re
from pathlib import Path

import pytest

from power_assets.isos import registered_isos
from power_assets_tests.samples import require_sample

ROOT = Path(__file__).resolve().parents[1]
ROW = re.compile(
    r"^\| (?P<iso>[A-Z]+) \| `(?P<dataset>\w+)` \| (?P<proof>.+?) \| (?P<tests>.+?) \|$"
)


def proof_rows() -> dict[tuple[str, str], tuple[str, list[str]]]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### What each ISO \u00d7 dataset is proven on", 1)[1].split(
        "\n### ", 1
    )[0]
    rows = {}
    for line in section.splitlines():
        if match := ROW.match(line):
            key = (match["iso"], match["dataset"])
            assert key not in rows, f"README lists {key} twice"
            rows[key] = (match["proof"], re.findall(r"`([^`]+\.py)`", match["tests"]))
    return rows


def test_the_table_has_one_row_per_registered_pair():
    registered = {(iso.id, dataset) for iso in registered_isos() for dataset in iso.datasets}
    assert set(proof_rows()) == registered


def test_every_named_test_module_exists():
    for key, (_, tests) in proof_rows().items():
        assert tests, key
        for name in tests:
            assert (ROOT / "power_assets_tests" / name).is_file(), (key, name)


@pytest.mark.samples
def test_real_file_rows_name_a_sample_their_test_reads():
    real = {k: v for k, v in proof_rows().items() if v[0].startswith("real file: ")}
    for key, (proof, tests) in real.items():
        sample = re.match(r"real file: `([^`]+)`", proof)
        assert sample, (key, proof)
        require_sample(sample[1])
        name = Path(sample[1]).name
        # A test may name it outright or as a parametrized stamp: `..._day_{stamp}.json`.
        spellings = {name, re.sub(r"\d{8}", "{stamp}", name)}
        readers = [
            test
            for test in tests
            if any(s in (ROOT / "power_assets_tests" / test).read_text() for s in spellings)
        ]
        assert readers, f"{key}: no test in {tests} names {name}"
    assert len(real) == 26
