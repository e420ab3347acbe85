"""NaN, inf and -inf gradients, and empty parameters, in SGD, Adam and AdamW on every backend.

The expected values follow PyTorch's update rules (written out in each optimizer's docstring)
in IEEE arithmetic: a NaN gradient makes its parameter NaN; an infinite one sends a plain or
momentum SGD step to the opposite infinity, while Adam divides m_hat = inf by sqrt(v_hat) = inf
and gets NaN. Entries with finite gradients are updated as usual, and an empty parameter steps
without error.
"""

from __future__ import annotations

import numpy as np
import pytest

import minicnn
from minicnn import optim
from tests.conftest import to_numpy

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

nan, inf = np.nan, np.inf
GRAD = [nan, inf, -inf, 2.0]


def _step(make, p0, grad, steps: int = 1) -> np.ndarray:
    p = minicnn.tensor(np.asarray(p0, np.float64), requires_grad=True)
    opt = make([p])
    for _ in range(steps):
        p.grad = minicnn.tensor(np.asarray(grad, np.float64))
        opt.step()
    return to_numpy(p)


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda ps: optim.SGD(ps, lr=0.5), [nan, -inf, inf, 0.0]),
        (lambda ps: optim.SGD(ps, lr=0.5, momentum=0.9), [nan, -inf, inf, 0.0]),
        (lambda ps: optim.SGD(ps, lr=0.5, momentum=0.9, nesterov=True), [nan, -inf, inf, -0.9]),
        # Adam's first step moves each finite coordinate by lr (m_hat / sqrt(v_hat) = sign(g))
        (lambda ps: optim.Adam(ps, lr=0.5), [nan, nan, nan, 0.5]),
        (lambda ps: optim.Adam(ps, lr=0.5, amsgrad=True), [nan, nan, nan, 0.5]),
        (lambda ps: optim.AdamW(ps, lr=0.5, weight_decay=0.1), [nan, nan, nan, 0.45]),
    ],
    ids=["sgd", "momentum", "nesterov", "adam", "amsgrad", "adamw"],
)
def test_one_step_with_special_gradients(backend_name, make, expected):
    np.testing.assert_allclose(_step(make, [1.0] * 4, GRAD), expected, rtol=1e-7)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-4),
        lambda ps: optim.Adam(ps, lr=0.1),
        lambda ps: optim.AdamW(ps, lr=0.1, amsgrad=True),
    ],
    ids=["sgd", "adam", "adamw"],
)
def test_special_values_stay_in_their_coordinates(backend_name, make):
    """NaN stays NaN step after step (no optimizer resets it), and the finite coordinate that
    shares the parameter is unaffected by its neighbours."""
    p = _step(make, [1.0] * 4, GRAD, steps=3)
    assert np.isnan(p[0])
    q = _step(make, [1.0], [2.0], steps=3)
    np.testing.assert_allclose(p[3], q[0], rtol=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
        lambda ps: optim.Adam(ps),
        lambda ps: optim.AdamW(ps),
    ],
    ids=["sgd", "adam", "adamw"],
)
def test_an_empty_parameter_steps(backend_name, make):
    assert _step(make, np.zeros((0, 3)), np.zeros((0, 3)), steps=2).shape == (0, 3)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(ps, lr=0.1),
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
        lambda ps: optim.Adam(ps, lr=0.1),
    ],
    ids=["sgd", "nesterov", "adam"],
)
def test_an_infinite_parameter_without_weight_decay_stays_infinite(backend_name, make):
    """PyTorch adds weight_decay * p only when weight_decay != 0; adding 0 * inf would make
    the parameter NaN."""
    np.testing.assert_array_equal(_step(make, [inf, -inf], [1.0, 1.0], steps=2), [inf, -inf])
