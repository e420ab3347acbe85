"""Feature inversion (Mahendran & Vedaldi 2015): the regularisers' hand-derived gradients, and
what a reconstruction keeps at each depth."""

from __future__ import annotations

import numpy as np
import pytest

import minicnn as mc
from minicnn import viz
from minicnn.viz.inversion import AlphaNorm, TotalVariation


def _away_from_zero(shape: tuple[int, ...], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.2, 1.5, size=shape)
    return a * rng.choice([-1.0, 1.0], size=shape)


@pytest.mark.parametrize("alpha", [6.0, 3.0, 2.5])
def test_alpha_norm_gradient(backend_name, alpha):
    x = mc.tensor(_away_from_zero((2, 1, 3, 4), 0), requires_grad=True)
    assert mc.gradcheck(lambda x: viz.alpha_norm(x, alpha), x)
    value = viz.alpha_norm(x, alpha).item()
    assert value == pytest.approx(float((np.abs(x.numpy()) ** alpha).sum()))


@pytest.mark.parametrize("beta", [2.0, 1.5, 1.0])
def test_total_variation_gradient(backend_name, beta):
    x = mc.tensor(np.random.default_rng(1).standard_normal((2, 2, 4, 5)), requires_grad=True)
    assert mc.gradcheck(lambda x: viz.total_variation(x, beta), x)


def test_total_variation_value_by_loops():
    """Every pixel has a term; differences that would leave the image are 0."""
    a = np.random.default_rng(2).standard_normal((1, 2, 3, 4))
    expected = 0.0
    for c in range(2):
        for i in range(3):
            for j in range(4):
                h = a[0, c, i, j + 1] - a[0, c, i, j] if j < 3 else 0.0
                v = a[0, c, i + 1, j] - a[0, c, i, j] if i < 2 else 0.0
                expected += (h * h + v * v + 1e-8) ** 0.75
    got = viz.total_variation(mc.tensor(a), beta=1.5).item()
    assert got == pytest.approx(expected, rel=1e-12)
    assert issubclass(AlphaNorm, mc.Function) and issubclass(TotalVariation, mc.Function)


def test_inversion_at_conv1_matches_the_features(backend_name, lenet, digits):
    """conv1 keeps nearly everything (4,704 outputs of 1,024 pixels): the reconstruction's
    features are within 5% of the target's (normalised error ||Phi(x*) - Phi0|| / ||Phi0||)."""
    x = digits[0][:2]
    inv = viz.invert(lenet, x, "features.0", steps=300)
    assert inv.image.shape == x.shape and inv.loss.shape == (301,)
    assert (inv.feature_error <= 0.05).all(), inv.feature_error
    assert inv.loss[-1] < 0.05 * inv.loss[0]


@pytest.mark.slow
def test_inversion_pixel_error_grows_with_depth(backend_name, lenet, digits):
    """The deeper the layer, the less of the image its features pin down: the pixel error of
    the reconstruction, ||x* - x|| / ||x||, rises from conv1 to conv2 to fc1."""
    x = digits[0][:3]
    errors = []
    for layer in ("features.0", "features.3", "classifier.1"):
        inv = viz.invert(lenet, x, layer, steps=300)
        errors.append(np.linalg.norm((inv.image - x).reshape(3, -1), axis=1).mean())
    errors = np.asarray(errors) / np.linalg.norm(x.reshape(3, -1), axis=1).mean()
    assert (np.diff(errors) > 0).all(), errors
