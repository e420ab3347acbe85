"""Gradient ascent on the image: class models, max-filter images, fooling images."""

from __future__ import annotations

import numpy as np
import pytest

import minicnn as mc
from minicnn import viz
from tests.conftest import to_numpy


def _predict(model, images: np.ndarray) -> np.ndarray:
    model.eval()
    with mc.no_grad():
        return to_numpy(mc.softmax(model(mc.tensor(images)), 1))


def _check_class_models(model, classes: list[int], steps: int) -> None:
    result = viz.class_model(model, classes, steps=steps)
    K = len(classes)
    assert result.image.shape == (K, 1, 32, 32) and result.objective.shape == (steps + 1, K)
    p = _predict(model, result.image)[np.arange(K), classes]
    assert (p >= 0.99).all(), p
    np.testing.assert_allclose(result.probability, p, rtol=1e-5)
    rises = np.diff(result.objective, axis=0)  # (steps, K)
    for k in range(K):  # J rises at every step taken, and stays once at a maximum
        n = result.steps_taken[k]
        assert n >= 10 and (rises[:n, k] > 0).all() and (rises[n:, k] == 0).all(), (k, n)


@pytest.mark.slow
def test_class_models_are_classified_as_their_class(backend_name, lenet):
    """Simonyan et al.: for each of the ten digits, 200 steps of ascent on the class score give
    an image the network assigns to that class with probability >= 0.99."""
    _check_class_models(lenet, list(range(10)), 200)


def test_class_models_of_three_digits_in_fifty_steps(backend_name, lenet):
    """The quick version of the check above."""
    _check_class_models(lenet, [0, 4, 8], 50)


def test_class_model_options_run_and_clamp(backend_name, lenet):
    result = viz.class_model(lenet, [3], steps=20, jitter=2, blur_every=4, clamp=(-0.4, 2.8))
    assert result.image.min() >= -0.4 and result.image.max() <= 2.8
    again = viz.class_model(lenet, [3], steps=20, jitter=2, blur_every=4, clamp=(-0.4, 2.8))
    np.testing.assert_array_equal(result.image, again.image)  # jitter draws from a fixed seed


@pytest.mark.parametrize("layer, channel", [("features.3", 3), ("classifier.3", 10)])
def test_max_filter_objective_rises_at_every_step(backend_name, lenet, layer, channel):
    """Activation maximisation ascends: J = mean activation - l2 ||I||^2 rises step after step
    (no jitter or blur; float64, so that rises stay above the rounding of J)."""
    result = viz.max_filter(lenet.double(), layer, channel, steps=100)
    J = result.objective[:, 0]
    assert J.shape == (101,) and result.steps_taken[0] == 100
    assert (np.diff(J) > 0).all(), np.diff(J).min()
    assert J[-1] > J[0] + 1.0 and J[-1] > 0  # from silent to firing


def test_gaussian_blur_keeps_a_constant_image_and_spreads_a_point(backend_name):
    flat = mc.full((1, 2, 9, 9), 3.0)
    out = to_numpy(viz.gaussian_blur(flat, 1.0))
    np.testing.assert_allclose(out[:, :, 2:-2, 2:-2], 3.0, rtol=1e-6)  # away from the border
    point = np.zeros((1, 1, 9, 9), np.float32)
    point[0, 0, 4, 4] = 1
    spread = to_numpy(viz.gaussian_blur(mc.tensor(point), 1.0))[0, 0]
    assert spread.sum() == pytest.approx(1.0, rel=1e-6)
    assert spread[4, 4] == spread.max() < 1 and spread[4, 3] == pytest.approx(spread[3, 4])


def test_fooling_images_are_classified_as_the_target(backend_name, lenet, digits):
    x, labels = digits[0][:10], digits[1][:10]
    assert (_predict(lenet, x).argmax(1) == labels).all()
    targets = (labels + 1) % 10
    result = viz.fooling_image(lenet, x, targets, steps=100)
    assert result.fooled.all(), result.steps
    assert (_predict(lenet, result.image).argmax(1) == targets).all()
    change = np.linalg.norm((result.image - x).reshape(10, -1), axis=1)
    size = np.linalg.norm(x.reshape(10, -1), axis=1)
    assert (change / size < 0.5).all(), change / size  # a nudge, not a new digit
    already = viz.fooling_image(lenet, x[:1], labels[:1], steps=10)  # already the target
    assert already.fooled.all() and already.steps[0] == 0
    np.testing.assert_array_equal(already.image, x[:1])
