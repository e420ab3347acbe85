"""Model zoo: exact parameter counts, shapes, and one training step that gives the same loss
and gradients on every backend as on the NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest

import minicnn
from minicnn import models
from tests.conftest import to_numpy


def n_params(model: minicnn.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda: models.lenet5(), 61_706),
        (lambda: models.lenet5(variant="classic"), 61_706),
        (lambda: models.resnet20(), 269_722),
        (lambda: models.resnet20(shortcut="B"), 272_474),
        (lambda: models.plain20(), 269_722),
        (lambda: models.resnet32(), 464_154),
        (lambda: models.resnet56(), 853_018),
    ],
)
def test_parameter_counts(build, expected):
    assert n_params(build()) == expected


def test_bad_arguments():
    with pytest.raises(ValueError, match="depth: expected 6n \\+ 2.*got 21"):
        models.CifarResNet(depth=21)
    with pytest.raises(ValueError, match="shortcut: expected 'A' or 'B', got 'C'"):
        models.resnet20(shortcut="C")
    with pytest.raises(ValueError, match="variant: expected one of .*got 'max'"):
        models.lenet5(variant="max")
    with pytest.raises(
        ValueError, match=r"input: expected shape \(N, C, 32, 32\).*\(2, 1, 28, 28\)"
    ):
        models.lenet5()(minicnn.zeros(2, 1, 28, 28))


def _step(build, x_host, y_host, name, dtype):
    """Loss and gradients of one training step of a model built on numpy, run on ``name``."""
    minicnn.manual_seed(0)
    with minicnn.use_backend("numpy"):
        state = build().to(dtype).state_dict()
    with minicnn.use_backend(name):
        model = build().to(dtype)
        model.load_state_dict(state)
        model.train()
        x = minicnn.tensor(x_host.astype(dtype), backend=name)
        loss = minicnn.cross_entropy(model(x), minicnn.tensor(y_host, backend=name))
        loss.backward()
    grads = {k: to_numpy(p.grad) for k, p in model.named_parameters()}
    return float(loss.item()), grads


@pytest.mark.parametrize("arch", ["lenet5", "resnet20"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_training_step_matches_reference(backend_name, arch, dtype):
    rng = np.random.default_rng(0)
    channels = 1 if arch == "lenet5" else 3
    x = rng.standard_normal((4, channels, 32, 32))
    y = rng.integers(0, 10, 4)
    build = getattr(models, arch)
    ref_loss, ref_grads = _step(build, x, y, "numpy", dtype)
    loss, grads = _step(build, x, y, backend_name, dtype)
    rtol, atol = (1e-4, 1e-5) if dtype == "float32" else (1e-9, 1e-11)
    assert loss == pytest.approx(ref_loss, rel=rtol)
    assert grads.keys() == ref_grads.keys()
    for k in grads:
        scale = np.abs(ref_grads[k]).max()
        np.testing.assert_allclose(
            grads[k], ref_grads[k], rtol=rtol, atol=atol * max(scale, 1), err_msg=k
        )


def test_resnet_option_a_shortcut_zero_pads_channels():
    block = models.BasicBlock(16, 32, stride=2)
    x = minicnn.randn(2, 16, 8, 8)
    s = block.shortcut(x)
    assert s.shape == (2, 32, 4, 4)
    np.testing.assert_array_equal(s.numpy()[:, 8:24], x.numpy()[:, :, ::2, ::2])
    assert not s.numpy()[:, :8].any() and not s.numpy()[:, 24:].any()


def test_plain_network_has_no_shortcut_and_trains_backward():
    model = models.plain20()
    out = model(minicnn.randn(2, 3, 32, 32))
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
