"""Runs examples/call-routing/call_routing.py against the test server, as a
user would, and checks its verdict (including the audit log file)."""

import os
import subprocess
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(REPO, "examples", "call-routing", "call_routing.py")


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_call_routing_example(server):
    args = [sys.executable, SCRIPT, "--endpoint", server.endpoint, "--calls", "30",
            "--seed", "7"]
    if not os.environ.get("SLUICE_ENDPOINT"):
        args += ["--data-dir", server.data_dir]
    p = subprocess.run(args, capture_output=True, text=True, timeout=110)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "MISMATCH" not in p.stdout and "WRONG" not in p.stdout, p.stdout
    assert p.stdout.rstrip().endswith(": OK"), p.stdout
