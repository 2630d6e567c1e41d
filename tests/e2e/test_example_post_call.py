"""Runs examples/post-call/post_call.py against the test server."""
import os
import subprocess
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(REPO, "examples", "post-call", "post_call.py")


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_post_call_example(endpoint):
    p = subprocess.run([sys.executable, SCRIPT, "--endpoint", endpoint, "--calls", "9",
                        "--timeout", "60"], capture_output=True, text=True, timeout=110)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "post-call flow: OK" in p.stdout
    assert "malformed call in the DLQ: True" in p.stdout
    assert "COMPLETED, 1 moved" in p.stdout
