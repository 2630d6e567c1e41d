"""Runs examples/order-fanout/order_fanout.py against the test server, as a
user would run it, and checks its verdict and summary."""

import os
import subprocess
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(REPO, "examples", "order-fanout", "order_fanout.py")


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_order_fanout_example(endpoint):
    p = subprocess.run([sys.executable, SCRIPT, "--endpoint", endpoint,
                        "--orders", "12", "--timeout", "60"],
                       capture_output=True, text=True, timeout=110)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "finished in" in p.stdout and ": OK" in p.stdout, p.stdout
    lines = {ln.split()[0]: ln for ln in p.stdout.splitlines()
             if ln.split() and ln.split()[0] in (
                 "inventory", "payment", "fulfilment", "notification",
                 "analytics")}
    assert len(lines) == 5, p.stdout
    assert lines["notification"].split()[3] == "12"
    assert lines["payment"].split()[1] == "12"
