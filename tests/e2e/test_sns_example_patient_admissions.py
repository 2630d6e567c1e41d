"""Runs examples/patient-admissions/patient_admissions.py against the test
server, as a user would, and checks its verdict and its table."""

import os
import subprocess
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(REPO, "examples", "patient-admissions", "patient_admissions.py")


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_patient_admissions_example(endpoint):
    p = subprocess.run([sys.executable, SCRIPT, "--endpoint", endpoint, "--patients", "15",
                        "--seed", "3", "--timeout", "60"],
                       capture_output=True, text=True, timeout=110)
    assert p.returncode == 0, p.stdout + p.stderr
    assert ": OK" in p.stdout, p.stdout
    rows = {ln.split()[0]: ln.split() for ln in p.stdout.splitlines()
            if ln.split() and ln.split()[0] in ("billing", "lab", "ward")}
    assert set(rows) == {"billing", "lab", "ward"}, p.stdout
    for name, cols in rows.items():
        assert cols[1] == cols[2] and cols[3] == "ok", p.stdout
    # billing gets one admission and one discharge per patient
    assert rows["billing"][1] == "30"
