"""Shared test set-up: the hypothesis profile, the backend fixture, the skip summary.

Every test that takes the ``backend_name`` fixture runs once per backend: ``numpy`` and
``numba`` everywhere, ``cupy`` (marked ``gpu``) where a CUDA device is present; a backend that
cannot run here is skipped with the reason ``minicnn.unavailable_reason`` gives.
"""

from __future__ import annotations

import os
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import minicnn

# Deterministic: the same examples on every run, so CI gives the same answer every time.
# deadline=None because the first examples compile Numba/CUDA kernels.
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    max_examples=30,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    deadline=None,
    max_examples=500,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

BACKEND_PARAMS = [
    pytest.param("numpy", id="numpy"),
    pytest.param("numba", id="numba"),
    pytest.param("cupy", id="cupy", marks=pytest.mark.gpu),
]


@pytest.fixture(params=BACKEND_PARAMS)
def backend_name(request: pytest.FixtureRequest):
    """Run the test with each backend current (skipped, with the reason, where unavailable)."""
    name = request.param
    reason = minicnn.unavailable_reason(name)
    if reason is not None:
        pytest.skip(f"backend {name!r} unavailable: {reason}")
    with minicnn.use_backend(name):
        yield name


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same generator state."""
    minicnn.manual_seed(0)
    yield


def to_numpy(t) -> np.ndarray:
    """A host copy of a Tensor or array (any backend)."""
    return t.numpy() if isinstance(t, minicnn.Tensor) else minicnn.backend.to_host(t)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Skipped tests, one line per reason with a count (``-rs`` would print one line per test:
    hundreds of the same "cupy unavailable")."""
    reasons: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    if reasons:
        terminalreporter.section("skipped, by reason", sep="-")
        for reason, count in reasons.most_common():
            terminalreporter.line(f"{count:5d}  {reason}")
