"""The ``fast_backend`` fixture: a kernel test runs once per fast backend, ``numba`` and
``cupy`` (marked ``gpu``), against the NumPy oracle (see ``parity.py``)."""

from __future__ import annotations

import pytest

from .parity import FastBackend, make


@pytest.fixture(
    params=[
        pytest.param("numba", id="numba"),
        pytest.param("cupy", id="cupy", marks=pytest.mark.gpu),
    ]
)
def fast_backend(request: pytest.FixtureRequest) -> FastBackend:
    return make(request.param)
