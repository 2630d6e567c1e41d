"""Runs examples/practice-reports/practice_reports.py against the test
server, as a user would, and checks its verdict."""

import os
import subprocess
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(REPO, "examples", "practice-reports", "practice_reports.py")


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_practice_reports_example(endpoint):
    p = subprocess.run([sys.executable, SCRIPT, "--endpoint", endpoint,
                        "--timeout", "30"],
                       capture_output=True, text=True, timeout=80)
    assert p.returncode == 0, p.stdout + p.stderr
    out = p.stdout
    assert "finished: OK" in out, out
    for name in ("weekly-report", "claims-retry", "dashboard-refresh"):
        assert name in out
    assert "FLEXIBLE 60min" in out
    assert "preview schedule deleted after completion: yes" in out
