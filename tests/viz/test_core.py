"""Layers by name, hooks, bad input, and the promise that no method leaves a trace."""

from __future__ import annotations

import numpy as np
import pytest

import minicnn as mc
from minicnn import nn, viz
from minicnn.viz import core
from tests.conftest import to_numpy


def test_layer_names_and_unknown_names_list_the_valid_ones(lenet):
    names = viz.layer_names(lenet)
    assert names[:3] == ["features", "features.0", "features.1"] and "classifier.5" in names
    assert viz.get_layer(lenet, "features.3") is lenet.features[3]
    with pytest.raises(ValueError, match=r"layer: the model has no layer 'conv1'; valid names: "
                       r"features, features\.0, .*classifier\.5"):  # fmt: skip
        viz.get_layer(lenet, "conv1")
    with pytest.raises(ValueError, match="layers: .*'nope'.*valid names"):
        viz.activations(lenet, np.zeros((1, 1, 32, 32)), ["features.1", "nope"])


def test_hooked_activations_equal_a_recomputed_forward(lenet, digits):
    x = digits[0][:8]
    layers = ["features.0", "features.2", "features.4", "classifier.1", "classifier.5"]
    acts = viz.activations(lenet, x, layers)
    lenet.eval()
    with mc.no_grad():
        t = mc.tensor(x)
        h = [t]
        for m in [*lenet.features, *lenet.classifier]:
            h.append(m(h[-1]))
    recomputed = {
        "features.0": h[1], "features.2": h[3], "features.4": h[5],
        "classifier.1": h[8], "classifier.5": h[12],
    }  # fmt: skip
    for name in layers:
        np.testing.assert_array_equal(acts[name], to_numpy(recomputed[name]))
    assert all(not m._forward_hooks for m in lenet.modules())


def test_capture_removes_its_hooks_even_when_the_forward_raises(lenet):
    with pytest.raises(ValueError, match="x: the model cannot take an input of shape"):
        with core.Capture(lenet, ["features.0", "classifier.1"]) as cap:
            assert len(lenet.features[0]._forward_hooks) == 1
            core.forward(lenet, mc.zeros(1, 1, 28, 28))  # LeNet-5 needs 32x32
    assert not cap.outputs  # LeNet5.forward checks the shape before any layer runs
    assert all(not m._forward_hooks for m in lenet.modules())


class Frozen(nn.Module):
    """Runs ``inner`` under no_grad: no gradient reaches the input through it."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x):
        with mc.no_grad():
            return self.inner(x)


def test_bad_input_raises_clear_errors_naming_the_argument(lenet, digits):
    x = digits[0][:2]
    cases = [
        (lambda: viz.saliency(lenet, x, 10), r"target: class 10 is out of range; the model has 10"),
        (lambda: viz.saliency(lenet, x, -1), r"target: class indices must be >= 0"),
        (lambda: viz.saliency(lenet, x, [1, 2, 3]), r"target: expected one class index per input"),
        (lambda: viz.saliency(lenet, x, 1.5), r"target: expected an int"),
        (lambda: viz.class_model(lenet, 12, steps=2), r"target: class 12 is out of range"),
        (lambda: viz.saliency(lenet, x[:, :, :28, :28], 1), r"x: the model cannot take an input of shape \(2, 1, 28, 28\)"),
        (lambda: viz.saliency(lenet, np.zeros((2, 3, 32, 32)), 1), r"x: the model's first convolution takes 1 channel"),
        (lambda: viz.saliency(lenet, np.zeros((32, 32)), 1), r"x: expected an image \(C, H, W\) or a batch"),
        (lambda: viz.saliency(lenet, x, 1, objective="prob"), r"objective: expected one of"),
        (lambda: viz.grad_cam(lenet, x, 1, "classifier.1"), r"layer: Grad-CAM needs a layer with \(N, K, h, w\)"),
        (lambda: viz.max_filter(lenet, "features.3", 16, steps=2), r"channel: 'features.3' has 16 channels"),
        (lambda: viz.max_filter(lenet, "conv9", 0, steps=2), r"layer: the model has no layer 'conv9'"),
        (lambda: viz.invert(lenet, x, "features.3", steps=0), r"steps: expected an int >= 1"),
        (lambda: viz.smoothgrad(lenet, x, 1, samples=0), r"samples: expected an int >= 1"),
        (lambda: viz.occlusion(lenet, x, 1, size=40), r"size: a 40x40 patch does not fit"),
    ]  # fmt: skip
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: viz.saliency(m, x, 1),
        lambda m, x: viz.class_model(m, 1, steps=2),
        lambda m, x: viz.max_filter(m, "0.inner.1", 0, steps=2),
        lambda m, x: viz.invert(m, x, "0.inner.1", steps=2),
    ],
    ids=["saliency", "class_model", "max_filter", "invert"],
)
def test_a_layer_under_no_grad_is_reported_before_any_step(lenet, digits, call):
    model = nn.Sequential(Frozen(lenet.features), lenet.classifier)
    with pytest.raises(ValueError, match="model: no gradient path from the output to"):
        call(model, digits[0][:1])


def _state(model: nn.Module) -> tuple:
    return (
        [to_numpy(t).copy() for _, t in model.state_dict().items()],
        [p.requires_grad for p in model.parameters()],
        [None if p.grad is None else to_numpy(p.grad).copy() for p in model.parameters()],
        [m.training for m in model.modules()],
        [dict(m._forward_hooks) for m in model.modules()],
    )


def _same(a: tuple, b: tuple) -> bool:
    arrays_a, flags_a, grads_a, modes_a, hooks_a = a
    arrays_b, flags_b, grads_b, modes_b, hooks_b = b
    same_grads = all(
        (ga is None and gb is None)
        or (ga is not None and gb is not None and np.array_equal(ga, gb))
        for ga, gb in zip(grads_a, grads_b)
    )
    return (
        all(np.array_equal(u, v) for u, v in zip(arrays_a, arrays_b))
        and flags_a == flags_b
        and same_grads
        and modes_a == modes_b
        and hooks_a == hooks_b
    )


CALLS = {
    "activations": lambda m, x, t: viz.activations(m, x, ["features.1", _layer(t, "classifier.2")]),
    "saliency": lambda m, x, t: viz.saliency(m, x, t),
    "saliency-loss": lambda m, x, t: viz.saliency(m, x, t, objective="loss"),
    "smoothgrad": lambda m, x, t: viz.smoothgrad(m, x, t, samples=2),
    "integrated_gradients": lambda m, x, t: viz.integrated_gradients(m, x, t, steps=3),
    "grad_cam": lambda m, x, t: viz.grad_cam(m, x, t, "features.3"),
    "occlusion": lambda m, x, t: viz.occlusion(m, x, t, size=16, stride=16),
    "class_model": lambda m, x, t: viz.class_model(m, t, steps=2, jitter=1, blur_every=1),
    "max_filter": lambda m, x, t: viz.max_filter(m, "features.3", 5 * t, steps=2),
    "fooling_image": lambda m, x, t: viz.fooling_image(m, x, t, steps=2),
    "invert": lambda m, x, t: viz.invert(m, x, _layer(t, "features.3"), steps=2),
}


def _layer(target: int, name: str) -> str:
    return name if target < 10 else "nope"


@pytest.mark.parametrize("name", list(CALLS))
@pytest.mark.parametrize("target", [3, 10], ids=["runs", "raises"])
def test_no_method_leaves_a_trace(lenet, digits, name, target):
    """Weights, requires_grad flags, .grad, train/eval mode and hooks are as before, whether
    the method returns or raises (target 10 is out of range: it raises after the hooks are in
    place and the forward pass ran; methods without a target get a bad layer or channel)."""
    lenet.train()
    lenet.features[0].weight.requires_grad_(False)  # a frozen layer stays frozen
    lenet.classifier[5].bias.grad = mc.ones(10)  # an existing gradient is kept
    keep = lenet.features[3].register_forward_hook(lambda m, i, o: None)  # the user's hook too
    before = _state(lenet)
    x = digits[0][:1]
    if target == 10:
        with pytest.raises(ValueError):
            CALLS[name](lenet, x, target)
    else:
        CALLS[name](lenet, x, target)
    assert _same(before, _state(lenet))
    keep.remove()
