"""nn.init: gains, fans, and each initialiser's statistics (mean and std within 5 standard
errors of the formula on ~50k samples; exact for the constant ones)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minicnn
import minicnn.nn as nn
from minicnn.nn import init
from tests.conftest import to_numpy

SHAPE = (256, 49, 2, 2)  # 50,176 samples; fan_in = 49 * 4 = 196, fan_out = 256 * 4 = 1024
FAN_IN, FAN_OUT = 196, 1024


def _check_stats(t: minicnn.Tensor, mean: float, std: float) -> None:
    """Sample mean and std within 5 standard errors (SE(std) ~ std / sqrt(2n), normal case,
    which bounds the uniform case too)."""
    x = to_numpy(t).astype(np.float64).ravel()
    n = x.size
    assert abs(x.mean() - mean) < 5 * std / math.sqrt(n), (x.mean(), mean)
    assert abs(x.std() - std) < 5 * std / math.sqrt(2 * n), (x.std(), std)


def test_calculate_gain():
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("linear") == init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("selu") == pytest.approx(0.75)
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    with pytest.raises(ValueError, match="nonlinearity: expected one of .* got 'gelu'"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="param: expected a number"):
        init.calculate_gain("leaky_relu", "0.1")


def test_fan_in_and_fan_out():
    assert init._calculate_fan_in_and_fan_out(minicnn.zeros(*SHAPE)) == (FAN_IN, FAN_OUT)
    assert init._calculate_fan_in_and_fan_out(minicnn.zeros(3, 7)) == (7, 3)
    with pytest.raises(ValueError, match="at least 2 dimensions, got shape \\(5,\\)"):
        init._calculate_fan_in_and_fan_out(minicnn.zeros(5))


@pytest.mark.parametrize(
    "fn, kwargs, mean, std",
    [
        (init.uniform_, {"a": -2.0, "b": 4.0}, 1.0, 6 / math.sqrt(12)),
        (init.normal_, {"mean": 0.5, "std": 2.0}, 0.5, 2.0),
        (init.xavier_uniform_, {}, 0.0, math.sqrt(2 / (FAN_IN + FAN_OUT))),
        (init.xavier_normal_, {"gain": 2.0}, 0.0, 2 * math.sqrt(2 / (FAN_IN + FAN_OUT))),
        (init.kaiming_uniform_, {"nonlinearity": "relu"}, 0.0, math.sqrt(2 / FAN_IN)),
        (init.kaiming_uniform_, {"a": math.sqrt(5)}, 0.0, 1 / math.sqrt(3 * FAN_IN)),
        (init.kaiming_normal_, {"nonlinearity": "relu"}, 0.0, math.sqrt(2 / FAN_IN)),
        (
            init.kaiming_normal_,
            {"a": 0.1, "mode": "fan_out"},
            0.0,
            math.sqrt(2 / (1 + 0.01)) / math.sqrt(FAN_OUT),
        ),
        (init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "tanh"}, 0.0, 5 / 3 / 32),
    ],
    ids=lambda v: (
        getattr(v, "__name__", None) or ("-".join(f"{k}" for k in v) if isinstance(v, dict) else "")
    ),
)
def test_random_initialisers(backend_name, fn, kwargs, mean, std):
    t = minicnn.zeros(*SHAPE)
    assert fn(t, **kwargs) is t
    assert t.dtype == np.float32 and t.backend == backend_name
    _check_stats(t, mean, std)


def test_uniform_bounds(backend_name):
    t = init.uniform_(minicnn.zeros(1000), -0.25, 0.5)
    values = to_numpy(t)
    assert values.min() >= -0.25 and values.max() <= 0.5
    fan_in = 37 * 3
    w = init.kaiming_uniform_(minicnn.zeros(64, 37, 3), a=math.sqrt(5))
    assert np.abs(to_numpy(w)).max() <= 1 / math.sqrt(fan_in)


@pytest.mark.parametrize("dtype", [minicnn.float32, minicnn.float64, minicnn.int64])
def test_constant_initialisers_are_exact(backend_name, dtype):
    t = minicnn.ones(4, 3, dtype=dtype)
    assert init.zeros_(t) is t
    np.testing.assert_array_equal(to_numpy(t), np.zeros((4, 3), dtype))
    init.ones_(t)
    np.testing.assert_array_equal(to_numpy(t), np.ones((4, 3), dtype))
    init.constant_(t, 7)
    np.testing.assert_array_equal(to_numpy(t), np.full((4, 3), 7, dtype))
    assert t.dtype == dtype


def test_initialisers_work_on_parameters_without_recording(backend_name):
    p = nn.Parameter(minicnn.zeros(8, 4))
    init.kaiming_normal_(p)
    init.constant_(p, 0.5)
    assert p.is_leaf and p.requires_grad and p.grad is None
    np.testing.assert_array_equal(to_numpy(p), np.full((8, 4), 0.5, np.float32))


def test_seeded_and_same_on_host_backends():
    results = []
    for name in ("numpy", "numba"):
        minicnn.manual_seed(11)
        results.append(to_numpy(init.normal_(minicnn.zeros(100, backend=name))))
    np.testing.assert_array_equal(*results)
    minicnn.manual_seed(11)
    f64 = to_numpy(init.normal_(minicnn.zeros(100, dtype=minicnn.float64)))
    np.testing.assert_allclose(results[0], f64, rtol=1e-6)  # one draw, cast per dtype


def test_initialiser_errors():
    with pytest.raises(ValueError, match="mode: expected 'fan_in' or 'fan_out', got 'fan'"):
        init.kaiming_uniform_(minicnn.zeros(3, 3), mode="fan")
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.xavier_uniform_(minicnn.zeros(3))
    with pytest.raises(TypeError, match="needs a float tensor, got int64"):
        init.normal_(minicnn.zeros(3, dtype=minicnn.int64))
    with pytest.raises(ValueError, match="std: expected a non-negative"):
        init.normal_(minicnn.zeros(3), std=-1.0)
    with pytest.raises(ValueError, match="b: expected b >= a = 1"):
        init.uniform_(minicnn.zeros(3), 1.0, 0.0)
    with pytest.raises(TypeError, match="tensor must be a Tensor, got ndarray"):
        init.zeros_(np.zeros(3))
    empty = minicnn.zeros(0, 3)
    assert init.kaiming_uniform_(empty) is empty
