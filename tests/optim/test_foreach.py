"""The foreach steps of SGD and Adam (one kernel call for a group's whole list of parameters,
one launch on a GPU) against the steps made one parameter at a time: the same bits on every
backend, through mixed dtypes, empty parameters, a parameter whose first gradient comes late
(its state starts a step after the others'), and the options of each rule."""

from __future__ import annotations

import numpy as np
import pytest

import minicnn
import minicnn.nn as nn
from minicnn.optim import SGD, Adam, AdamW
from tests.conftest import to_numpy

SHAPES = [((4, 3), np.float32), ((5,), np.float32), ((0, 2), np.float32), ((2, 2), np.float64)]
OPTIONS = [
    (SGD, dict(lr=0.1)),
    (SGD, dict(lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True)),
    (SGD, dict(lr=0.05, momentum=0.5, dampening=0.3, weight_decay=0.1, maximize=True)),
    (Adam, dict(lr=0.01)),
    (Adam, dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)),
    (AdamW, dict(lr=0.01, betas=(0.8, 0.9), amsgrad=True)),
]
STATE = ("momentum_buffer", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")


def run(foreach: bool, optimizer: type, hyper: dict, steps: int = 3) -> list[np.ndarray]:
    """``steps`` steps of ``optimizer`` on the parameters of SHAPES; the last one has no
    gradient at the first step. The parameters and their state arrays after them, on the host."""
    rng = np.random.default_rng(0)
    params = [nn.Parameter(minicnn.tensor(rng.standard_normal(s).astype(d))) for s, d in SHAPES]
    late = nn.Parameter(minicnn.tensor(rng.standard_normal(3).astype(np.float32)))
    opt = optimizer([*params, late], foreach=foreach, **hyper)
    for t in range(steps):
        for p in params + ([late] if t > 0 else []):
            g = rng.standard_normal(p.shape).astype(p.dtype)
            p.grad = minicnn.tensor(g, backend=p.backend)
        opt.step()
    state = [s[k] for s in opt.state.values() for k in STATE if k in s]
    return [to_numpy(p) for p in [*params, late]] + [minicnn.backend.to_host(a) for a in state]


@pytest.mark.parametrize(("optimizer", "hyper"), OPTIONS)
def test_foreach_gives_the_bits_of_one_parameter_at_a_time(backend_name, optimizer, hyper):
    together, alone = run(True, optimizer, hyper), run(False, optimizer, hyper)
    state = (hyper.get("momentum", 0) != 0) if optimizer is SGD else 2 + hyper.get("amsgrad", 0)
    assert len(together) == len(alone) == (len(SHAPES) + 1) * (1 + state)
    for a, b in zip(together, alone, strict=True):
        np.testing.assert_array_equal(a, b)


def test_foreach_makes_one_kernel_call_per_list(backend_name, monkeypatch):
    """Three lists here: float32 at their first step, float64, and the late parameter joins
    the float32 list at its first step; foreach=False calls the kernel once per parameter."""
    calls = {"sgd_update_": 0, "sgd_foreach_update_": 0}
    kernel = minicnn.backend.kernel

    def counting(name, backend=None):
        fn = kernel(name, backend)
        if name not in calls:
            return fn

        def call(*args):
            calls[name] += 1
            return fn(*args)

        return call

    monkeypatch.setattr(minicnn.backend, "kernel", counting)
    run(True, *OPTIONS[1], steps=2)
    assert calls == {"sgd_update_": 0, "sgd_foreach_update_": 2 + 3}
    calls.update(sgd_foreach_update_=0)
    run(False, *OPTIONS[1], steps=2)
    assert calls == {"sgd_update_": 4 + 5, "sgd_foreach_update_": 0}


@pytest.mark.parametrize("optimizer", [SGD, Adam])
def test_foreach_is_checked(optimizer):
    with pytest.raises(ValueError, match="foreach: expected None, True or False, got 'yes'"):
        optimizer([nn.Parameter(minicnn.zeros(2))], lr=0.1, foreach="yes")
