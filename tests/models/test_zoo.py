"""ImageNet-style zoo models (AlexNet, VGG, GoogLeNet, ResNet-18) and the small 32x32 variants:
exact parameter counts (torchvision's), summary tables, and a forward and backward pass.

Everything runs on the numpy backend in float32. The big models are built once per module
(VGG-16 alone holds 553 MB of weights) and fed the smallest inputs they accept, so the whole
file stays fast.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

import minicnn
from minicnn import models
from minicnn.models.googlenet import GoogLeNetOutputs
from minicnn.models.vgg import CONFIGS, make_layers


def n_params(model: minicnn.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


TORCHVISION_NAMES = Path(__file__).with_name("torchvision_state_dicts.json")


class Case(NamedTuple):
    build: Callable[[], minicnn.nn.Module]
    params: int
    input_size: tuple[int, int, int]  # the smallest convenient (C, H, W) the model accepts
    shapes: dict[str, tuple[int, ...]]  # summary rows (batch 1) to check


BIG = {
    "alexnet": Case(
        models.alexnet,
        61_100_840,
        (3, 64, 64),  # 63 is the least: the last max pool then sees 3x3
        {"features.12": (1, 256, 1, 1), "avgpool": (1, 256, 6, 6), "classifier.6": (1, 1000)},
    ),
    "vgg11": Case(
        models.vgg11,
        132_863_336,
        (3, 32, 32),  # five 2x2 pools
        {"features.20": (1, 512, 1, 1), "avgpool": (1, 512, 7, 7), "classifier.6": (1, 1000)},
    ),
    "vgg16": Case(
        models.vgg16,
        138_357_544,
        (3, 32, 32),
        {"features.28": (1, 512, 2, 2), "features.30": (1, 512, 1, 1), "avgpool": (1, 512, 7, 7)},
    ),
    "resnet18": Case(
        models.resnet18,
        11_689_512,
        (3, 32, 32),
        {
            "maxpool": (1, 64, 8, 8),
            "layer2.0.downsample.0": (1, 128, 4, 4),
            "layer4.1.bn2": (1, 512, 1, 1),
            "fc": (1, 1000),
        },
    ),
    "googlenet": Case(
        lambda: models.googlenet(aux_logits=False),
        6_624_904,
        (3, 32, 32),  # 31 is the least
        {
            "maxpool2": (1, 192, 4, 4),
            "inception4e.branch4.1.bn": (1, 128, 2, 2),
            "maxpool4": (1, 832, 1, 1),
            "fc": (1, 1000),
        },
    ),
}


@pytest.fixture(autouse=True)
def _numpy_backend():
    with minicnn.use_backend("numpy"):
        yield


@pytest.fixture(scope="module", params=list(BIG))
def big(request: pytest.FixtureRequest):
    """(name, model), built once per module; pytest groups the tests by model, so only one of
    these is alive at a time."""
    minicnn.manual_seed(0)
    with minicnn.use_backend("numpy"):
        model = BIG[request.param].build()
    yield request.param, model


def _check_gradients(model: minicnn.nn.Module, skip: str | None = None) -> None:
    """Every parameter (but those under ``skip``) has a finite gradient of its own shape."""
    for name, p in model.named_parameters():
        if skip is not None and name.startswith(skip):
            continue
        assert p.grad is not None, name
        assert p.grad.shape == p.shape, name
        assert np.isfinite(p.grad.numpy()).all(), name


def test_parameter_count(big):
    name, model = big
    assert n_params(model) == BIG[name].params


def test_state_dict_names_and_shapes_are_torchvisions(big):
    # torchvision_state_dicts.json lists torchvision's state_dict() of each model, name and shape
    # in order (googlenet with its auxiliary heads, which this one is built without);
    # test_torchvision.py checks that the file still equals torchvision's.
    name, model = big
    expected = json.loads(TORCHVISION_NAMES.read_text())[name]
    expected = [item for item in expected if not item[0].startswith(("aux1.", "aux2."))]
    assert [[k, list(v.shape)] for k, v in model.state_dict().items()] == expected


def test_summary_total_and_shapes(big):
    name, model = big
    table = minicnn.summary(model, BIG[name].input_size, print_fn=None)
    assert f"Total params: {BIG[name].params:,}" in table
    for layer, shape in BIG[name].shapes.items():
        row = re.search(rf"^{re.escape(layer)}\s+\w+\s+(\(.*?\))", table, re.MULTILINE)
        assert row is not None, layer
        assert row.group(1) == str(shape), layer


def test_forward_backward(big):
    name, model = big
    model.train()
    x = minicnn.randn(2, *BIG[name].input_size)
    out = model(x)
    assert isinstance(out, minicnn.Tensor)
    assert out.shape == (2, 1000)
    minicnn.cross_entropy(out, minicnn.tensor(np.array([3, 7]))).backward()
    _check_gradients(model)
    model.zero_grad()  # give the gradients' memory back before the next model


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda: models.googlenet(), 13_004_888),  # with the two auxiliary heads
        (lambda: models.googlenet(aux_logits=False, branch3_kernel=5), 7_005_832),  # paper
        (lambda: models.resnet34(), 21_797_672),
        (lambda: models.vgg_cifar(), 2_147_402),
        (lambda: models.mini_googlenet(), 390_074),
        (lambda: models.mini_googlenet(branch3_kernel=5), 408_506),
    ],
)
def test_more_parameter_counts(build, expected):
    assert n_params(build()) == expected


def test_vgg_batch_norm_adds_a_scale_and_shift_per_conv_channel():
    # Only the convolutional part differs, so build just that: VGG-16's 14,714,688 conv
    # parameters plus 2 x 4,224 for BatchNorm give torchvision's vgg16_bn, 138,365,992.
    plain = n_params(make_layers(CONFIGS["D"]))
    with_bn = n_params(make_layers(CONFIGS["D"], batch_norm=True))
    assert plain == 14_714_688
    assert with_bn - plain == 2 * 4_224
    assert 138_357_544 - plain + with_bn == 138_365_992


def test_googlenet_training_returns_aux_logits_and_they_get_gradients():
    model = models.googlenet(num_classes=10).train()
    x = minicnn.randn(2, 3, 32, 32)
    y = minicnn.tensor(np.array([1, 4]))
    out = model(x)
    assert isinstance(out, GoogLeNetOutputs)
    assert [t.shape for t in out] == [(2, 10)] * 3
    loss = models.googlenet_loss(out, y)
    ce = [minicnn.cross_entropy(t, y).item() for t in out]
    assert loss.item() == pytest.approx(ce[0] + 0.3 * (ce[1] + ce[2]), rel=1e-5)
    loss.backward()
    _check_gradients(model)  # the auxiliary heads included


def test_googlenet_eval_returns_logits_and_skips_aux_heads():
    model = models.googlenet(num_classes=10).eval()
    calls = []
    model.aux1.register_forward_hook(lambda *args: calls.append("aux1"))
    model.aux2.register_forward_hook(lambda *args: calls.append("aux2"))
    x = minicnn.randn(2, 3, 32, 32)
    y = minicnn.tensor(np.array([1, 4]))
    out = model(x)
    assert isinstance(out, minicnn.Tensor) and out.shape == (2, 10)
    assert calls == []
    loss = models.googlenet_loss(out, y)
    assert loss.item() == pytest.approx(minicnn.cross_entropy(out, y).item())
    loss.backward()
    _check_gradients(model, skip="aux")
    assert all(p.grad is None for n, p in model.named_parameters() if n.startswith("aux"))


@pytest.mark.parametrize("arch", ["vgg_cifar", "mini_googlenet"])
@pytest.mark.parametrize(
    ("in_channels", "size"), [(3, 32), (1, 32), (1, 28)], ids=["rgb32", "gray32", "gray28"]
)
def test_small_variants_forward_backward(arch, in_channels, size):
    model = models.get_model(arch, num_classes=10, in_channels=in_channels).train()
    out = model(minicnn.randn(2, in_channels, size, size))
    assert out.shape == (2, 10)
    minicnn.cross_entropy(out, minicnn.tensor(np.array([0, 9]))).backward()
    _check_gradients(model)


def test_registry_has_the_zoo():
    for name in ["alexnet", "vgg11", "vgg16", "googlenet", "resnet18", "vgg_cifar"]:
        assert name in models.MODELS
    assert isinstance(models.get_model("mini_googlenet"), models.MiniGoogLeNet)


def test_bad_arguments():
    with pytest.raises(ValueError, match="config: expected one of .*got 'C'"):
        models.VGG("C")
    with pytest.raises(ValueError, match="branch3_kernel: expected 3 or 5, got 7"):
        models.mini_googlenet(branch3_kernel=7)
    with pytest.raises(ValueError, match=r"blocks: expected four positive ints, got \(2, 2\)"):
        models.ResNet((2, 2))


def test_googlenet_with_aux_heads_has_torchvisions_names():
    expected = json.loads(TORCHVISION_NAMES.read_text())["googlenet"]
    model = models.googlenet()
    assert [[k, list(v.shape)] for k, v in model.state_dict().items()] == expected


def test_resnet18_without_its_head_is_the_body():
    # nn.Sequential(*list(model.children())[:-1]) is the network up to the pooled features:
    # the ReLU after bn1 is a child module for this, as in torchvision.
    model = models.resnet18().eval()
    body = minicnn.nn.Sequential(*list(model.children())[:-1])
    seen = []
    model.fc.register_forward_hook(lambda module, args, out: seen.append(args[0].numpy()))
    x = minicnn.randn(2, 3, 32, 32)
    with minicnn.no_grad():
        model(x)
        pooled = body(x)
    assert pooled.shape == (2, 512, 1, 1)
    np.testing.assert_array_equal(pooled.flatten(1).numpy(), seen[0])
