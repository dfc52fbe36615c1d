"""Loading the definitions says nothing about the project's own use of beta and preview Dagster
APIs, while the same warnings from anyone else's code still show."""

import subprocess
import sys

CHECK = """
import warnings
import power_assets.definitions
import dagster as dg
def user_code():
    warnings.warn("Class `Thing` is currently in beta, and may change", dg.BetaWarning, stacklevel=1)
user_code()
"""


def test_the_projects_preview_apis_are_quiet_and_other_code_still_warns():
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", CHECK], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "Warning" in line]
    # before the filter: BetaWarning (MultiPartitionMapping) and PreviewWarning (partitioned checks)
    assert not [line for line in lines if "power_assets" in line], lines
    assert len([line for line in lines if "Class `Thing` is currently in beta" in line]) == 1, lines
