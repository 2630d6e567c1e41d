"""Runs examples/trip-events/trip_events.py against the test server."""
import os
import subprocess
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(REPO, "examples", "trip-events", "trip_events.py")


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_trip_events_example(endpoint):
    p = subprocess.run([sys.executable, SCRIPT, "--endpoint", endpoint, "--trips", "24",
                        "--timeout", "60"], capture_output=True, text=True, timeout=110)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "trip fan-out: OK" in p.stdout
    assert "receipts crashed" in p.stdout
    assert "fraud-checks     12 trips  OK" in p.stdout
