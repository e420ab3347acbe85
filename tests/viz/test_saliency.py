"""Saliency methods against the properties their papers state (float64 where a gradient is
checked), on the shipped LeNet-5 and on small models where the answer is known exactly."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import minicnn as mc
from minicnn import models, nn, viz
from tests.conftest import to_numpy


def _score(model: nn.Module, x: np.ndarray, target: int) -> float:
    with mc.no_grad():
        return float(to_numpy(model(mc.tensor(x)))[0, target])


def test_vanilla_saliency_equals_central_differences_of_the_class_score(backend_name, digits):
    """Simonyan et al.: the saliency map is d S_c / d I; checked at 25 random pixels.

    A little noise breaks the exact ties of the constant background, where max pooling is not
    differentiable (the two one-sided differences disagree there)."""
    model = models.lenet5(weights="mnist").double().eval()
    rng = np.random.default_rng(0)
    x = digits[0][7:8].astype(np.float64) + 0.01 * rng.standard_normal((1, 1, 32, 32))
    target = int(digits[1][7])
    grad = viz.input_gradient(model, x, target)
    assert grad.shape == (1, 1, 32, 32) and grad.dtype == np.float64
    h = 1e-5  # rounding error ~1e-16 * |S| / h stays below the tolerance
    for flat in rng.choice(32 * 32, size=25, replace=False):
        i, j = divmod(int(flat), 32)
        up, down = x.copy(), x.copy()
        up[0, 0, i, j] += h
        down[0, 0, i, j] -= h
        fd = (_score(model, up, target) - _score(model, down, target)) / (2 * h)
        assert grad[0, 0, i, j] == pytest.approx(fd, rel=1e-6, abs=1e-8)
    np.testing.assert_array_equal(viz.saliency(model, x, target), np.abs(grad).max(axis=1))


def test_saliency_takes_the_max_over_colour_channels(backend_name):
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(64, 5))
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 4)).astype(np.float32)
    g = viz.input_gradient(model, x, [4, 0])
    assert g.shape == (2, 3, 4, 4)
    np.testing.assert_array_equal(viz.saliency(model, x, [4, 0]), np.abs(g).max(axis=1))
    loss_grad = viz.input_gradient(model, x, [4, 0], objective="loss")
    assert not np.allclose(loss_grad, g)  # d log p / dx differs from d logit / dx


def test_integrated_gradients_are_complete_on_a_smooth_network(backend_name):
    """Sundararajan et al.: the attributions sum to S_c(x) - S_c(x') (64 steps, float64). On a
    smooth network (LeNet-5 with tanh and average pooling) the trapezoidal rule's error falls as
    1/steps^2, and 64 steps are well within 1e-3."""
    model = models.lenet5(variant="classic").double()
    rng = np.random.default_rng(5)
    x, base = rng.standard_normal((3, 1, 32, 32)), rng.standard_normal((1, 1, 32, 32))
    targets = [2, 7, 9]
    attr = viz.integrated_gradients(model, x, targets, baseline=base, steps=64)
    for n, t in enumerate(targets):
        delta = _score(model, x[n : n + 1], t) - _score(model, base, t)
        assert abs(attr[n].sum() - delta) <= 1e-3 * abs(delta), (n, attr[n].sum(), delta)


def test_integrated_gradients_completeness_on_the_relu_lenet(backend_name, digits, black):
    """On the shipped ReLU network the score along the path is piecewise linear, so its
    derivative jumps wherever a unit switches; every jump costs the quadrature an error of order
    1/steps. Completeness then holds to a few parts in a thousand at 64 steps and improves
    with more steps (measured values in the README)."""
    model = models.lenet5(weights="mnist").double().eval()
    x, labels = digits[0][:6].astype(np.float64), digits[1][:6]
    base = black.astype(np.float64)
    with mc.no_grad():
        s_x = to_numpy(model(mc.tensor(x)))[np.arange(6), labels]
        s_b = to_numpy(model(mc.tensor(base)))[0, labels]
    errors = {}
    for steps in (64, 256):
        attr = viz.integrated_gradients(model, x, labels, baseline=base, steps=steps)
        errors[steps] = np.abs(attr.reshape(6, -1).sum(1) - (s_x - s_b)) / np.abs(s_x - s_b)
    assert errors[64].max() <= 1e-2, errors[64]
    assert np.median(errors[256]) < np.median(errors[64]) / 2, errors


def _ranks(a: np.ndarray) -> np.ndarray:
    """Ranks 0..n-1 of a 1-D array, ties given their mean rank."""
    order = np.argsort(a, kind="stable")
    ranks = np.empty(len(a))
    ranks[order] = np.arange(len(a))
    _, inverse, counts = np.unique(a, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return (sums / counts)[inverse]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = _ranks(a.ravel()), _ranks(b.ravel())
    return float(np.corrcoef(ra, rb)[0, 1])


def test_spearman_helper():
    assert spearman(np.array([1.0, 2, 3, 4]), np.array([10.0, 20, 30, 40])) == pytest.approx(1)
    assert spearman(np.array([1.0, 2, 3, 4]), np.array([4.0, 3, 2, 1])) == pytest.approx(-1)
    assert spearman(np.array([1.0, 1, 2]), np.array([5.0, 5, 6])) == pytest.approx(1)


def test_randomised_weights_change_the_saliency_map(backend_name, lenet, digits):
    """Adebayo et al. 2018's model-randomisation check: the maps of the trained network and of
    the same network re-initialised share little rank order (mean Spearman over 100 digits).

    The ranks are taken over the 28x28 digit, not the 2-pixel padding LeNet-5's input adds:
    border pixels feed fewer windows of the unpadded convolutions, so they rank low in every
    network's map, trained or not, and would add agreement that says nothing about the weights."""
    x, labels = digits
    random_net = copy.deepcopy(lenet)
    mc.manual_seed(1)
    for m in random_net.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    trained = viz.saliency(lenet, x, labels)[:, 2:-2, 2:-2]  # (100, 28, 28)
    randomised = viz.saliency(random_net, x, labels)[:, 2:-2, 2:-2]
    rho = np.mean([spearman(trained[n], randomised[n]) for n in range(len(x))])
    assert rho <= 0.3, rho
    same = np.mean(
        [
            spearman(trained[n], viz.saliency(lenet, x[n], labels[n])[0, 2:-2, 2:-2])
            for n in range(3)
        ]
    )
    assert same == pytest.approx(1.0)  # the statistic can be high: it is not vacuous


def test_deleting_the_most_salient_pixels_hurts_most(backend_name, lenet, digits, black):
    """Removing (setting to the black background) the 10% most salient pixels lowers the class
    score at least twice as much as removing a random 10%, averaged over 100 digits."""
    x, labels = digits
    maps = viz.saliency(lenet, x, labels).reshape(len(x), -1)  # (100, 1024)
    k = maps.shape[1] // 10
    rng = np.random.default_rng(0)
    salient, randomly = x.reshape(len(x), -1).copy(), x.reshape(len(x), -1).copy()
    bg = float(black.min())
    for n in range(len(x)):
        salient[n, np.argsort(maps[n])[-k:]] = bg
        randomly[n, rng.choice(maps.shape[1], size=k, replace=False)] = bg
    rows = np.arange(len(x))
    lenet.eval()
    with mc.no_grad():
        s0 = to_numpy(lenet(mc.tensor(x)))[rows, labels]
        s_sal = to_numpy(lenet(mc.tensor(salient.reshape(x.shape))))[rows, labels]
        s_rnd = to_numpy(lenet(mc.tensor(randomly.reshape(x.shape))))[rows, labels]
    drop_sal, drop_rnd = (s0 - s_sal).mean(), (s0 - s_rnd).mean()
    assert drop_sal >= 2 * drop_rnd and drop_sal > 0, (drop_sal, drop_rnd)


def test_smoothgrad_without_noise_is_the_saliency_map(backend_name, lenet, digits):
    x, labels = digits[0][:3], digits[1][:3]
    np.testing.assert_allclose(
        viz.smoothgrad(lenet, x, labels, samples=2, noise=0.0), viz.saliency(lenet, x, labels)
    )
    a = viz.smoothgrad(lenet, x, labels, samples=4, seed=3)
    np.testing.assert_array_equal(a, viz.smoothgrad(lenet, x, labels, samples=4, seed=3))
    assert a.shape == (3, 32, 32) and not np.allclose(a, viz.saliency(lenet, x, labels))


def test_grad_cam_before_global_pooling_is_cam(backend_name):
    """Selvaraju et al.: with global average pooling and a linear layer after the maps, the
    Grad-CAM weights are the class's fc weights / (h w), so Grad-CAM is CAM (Zhou et al.)."""
    conv = nn.Conv2d(2, 6, 3, padding=1)
    fc = nn.Linear(6, 4)
    model = nn.Sequential(conv, nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), fc)
    x = np.random.default_rng(2).standard_normal((3, 2, 5, 7))
    model.double()
    targets = [0, 3, 1]
    cam = viz.grad_cam(model, x, targets, "1", upsample=False)  # at the ReLU's output
    A = viz.activations(model, x, ["1"])["1"]  # (3, 6, 5, 7)
    w = to_numpy(fc.weight)  # (4, 6)
    expected = np.maximum(np.einsum("nk,nkij->nij", w[targets], A), 0) / (5 * 7)
    np.testing.assert_allclose(cam, expected, rtol=1e-10, atol=1e-12)
    up = viz.grad_cam(model, x, targets, "1")
    assert up.shape == (3, 5, 7)  # same size: upsampling is the identity
    np.testing.assert_allclose(up, cam, atol=1e-12)


def test_grad_cam_upsamples_to_the_input(lenet, digits):
    cam = viz.grad_cam(lenet, digits[0][:2], digits[1][:2], "features.4")  # (2, 16, 10, 10)
    assert cam.shape == (2, 32, 32) and (cam >= 0).all() and cam.max() > 0


def test_occlusion_of_a_linear_model_is_the_windowed_weighted_difference(backend_name):
    """For S(x) = w . x + b, occluding a window with ``fill`` lowers S by sum over the window
    of w (x - fill); each pixel gets the mean over the windows covering it."""
    lin = nn.Linear(36, 3)
    model = nn.Sequential(nn.Flatten(), lin).double()
    x = np.random.default_rng(4).standard_normal((1, 1, 6, 6))
    size, stride, fill = 3, 2, -0.5
    heat = viz.occlusion(model, x, 2, size=size, stride=stride, fill=fill)
    w = to_numpy(lin.weight)[2].reshape(6, 6)
    contrib = w * (x[0, 0] - fill)
    drops, counts = np.zeros((6, 6)), np.zeros((6, 6))
    for i in (0, 2, 3):  # corners 0, 2 and the last position 6 - 3 = 3
        for j in (0, 2, 3):
            drops[i : i + size, j : j + size] += contrib[i : i + size, j : j + size].sum()
            counts[i : i + size, j : j + size] += 1
    np.testing.assert_allclose(heat[0], drops / counts, rtol=1e-10)
