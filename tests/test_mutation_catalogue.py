"""The hand-written mutants of benchmarks/mutation still fit the code: each edit finds its text
exactly once, so a change that moves the code on is told to update its mutants (the mutation
run itself takes too long for CI; see benchmarks/mutation)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_mutant_applies_to_the_current_code():
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.mutation", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "mutants apply" in done.stdout
