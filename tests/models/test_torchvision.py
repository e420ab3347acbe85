"""The zoo against torchvision itself: the same state dict gives the same logits on every
backend, and files written by ``torch.save`` (both formats) or safetensors load through
``weights=``. Skipped where PyTorch is not installed (``pip install -e ".[test,torch]"``).

torchvision's models get random weights, and every batch norm random statistics, scales and
shifts (its defaults, mean 0 and variance 1, would hide a mix-up of running_mean and
running_var). Inputs are small but not the sizes the adaptive pools are built for, so the
pools average over overlapping windows (alexnet, vgg11) or repeat pixels (vgg16), and
GoogLeNet's ceil-mode pools meet odd sizes.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minicnn
from minicnn import interop, models
from minicnn.interop import WeightsFileError
from minicnn.serialization import detect_format

torch = pytest.importorskip(
    "torch", reason="PyTorch not installed (pip install -e '.[test,torch]')"
)
tv_models = pytest.importorskip(
    "torchvision.models", reason="torchvision not installed (pip install -e '.[test,torch]')"
)

RTOL = 1e-4  # float32, relative to the largest logit
INPUTS = {
    "alexnet": (2, 3, 255, 255),  # 7x7 before the adaptive pool to 6x6
    "vgg11": (2, 3, 64, 48),  # 2x1 before the adaptive pool to 7x7
    "vgg16": (1, 3, 64, 64),
    "googlenet": (2, 3, 99, 99),
    "resnet18": (2, 3, 99, 99),
}
NAMES = Path(__file__).with_name("torchvision_state_dicts.json")


def torchvision_model(name: str):
    """torchvision's ``name`` with random weights and batch-norm statistics, in eval mode."""
    torch.manual_seed(0)
    kwargs = {"aux_logits": True, "init_weights": True} if name == "googlenet" else {}
    model = getattr(tv_models, name)(weights=None, **kwargs)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    return model.eval()


@pytest.fixture(scope="module", params=list(INPUTS))
def reference(request: pytest.FixtureRequest):
    """(name, state dict as NumPy arrays, input, torchvision's logits), one model at a time."""
    name = request.param
    model = torchvision_model(name)
    x = torch.randn(*INPUTS[name], generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y = model(x).numpy()
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    yield name, state, x.numpy(), y


def relative_error(out: np.ndarray, ref: np.ndarray) -> float:
    return float(np.abs(out - ref).max() / np.abs(ref).max())


def test_state_dict_names_and_shapes_equal_torchvisions(reference):
    name, state, _, _ = reference
    model = models.get_model(name)
    ours = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    assert ours == [(k, v.shape) for k, v in state.items()]
    # ... and the list that tests/models/test_zoo.py checks without PyTorch is still this one.
    recorded = json.loads(NAMES.read_text())[name]
    assert [(k, tuple(s)) for k, s in recorded] == ours


def test_same_state_dict_gives_the_same_logits(reference, backend_name):
    name, state, x, y = reference
    model = models.get_model(name)
    model.load_state_dict(state)
    model.eval()
    with minicnn.no_grad():
        out = model(minicnn.tensor(x)).numpy()
    assert out.shape == y.shape
    assert relative_error(out, y) <= RTOL


@pytest.fixture(scope="module")
def resnet18_reference():
    """torchvision's resnet18, its state dict and its logits for one input."""
    model = torchvision_model("resnet18")
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        y = model(x).numpy()
    return model.state_dict(), x.numpy(), y


def logits(model, x: np.ndarray) -> np.ndarray:
    with minicnn.no_grad():
        return model.eval()(minicnn.tensor(x)).numpy()


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_a_torch_save_file_loads_through_weights_and_minicnn_load(
    resnet18_reference, tmp_path, legacy
):
    state, x, y = resnet18_reference
    path = tmp_path / "resnet18.pth"
    torch.save(state, path, _use_new_zipfile_serialization=not legacy)
    assert detect_format(path) == ("torch-legacy" if legacy else "torch")
    model = models.resnet18(weights=path)
    assert relative_error(logits(model, x), y) <= RTOL
    loaded = minicnn.load(path)  # an OrderedDict of Tensors
    assert list(loaded) == list(state)
    model = models.resnet18()
    model.load_state_dict(loaded)
    assert relative_error(logits(model, x), y) <= RTOL


def test_a_wrapped_checkpoint_loads(resnet18_reference, tmp_path):
    state, x, y = resnet18_reference
    path = tmp_path / "checkpoint.pt"
    torch.save({"epoch": 3, "state_dict": state}, path)
    assert relative_error(logits(models.resnet18(weights=path), x), y) <= RTOL


def test_a_safetensors_file_from_pytorch_loads(resnet18_reference, tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch", reason="safetensors missing")
    state, x, y = resnet18_reference
    path = tmp_path / "resnet18.safetensors"
    safetensors_torch.save_file({k: v.contiguous() for k, v in state.items()}, path)
    assert relative_error(logits(models.resnet18(weights=path), x), y) <= RTOL


def test_the_convert_command_makes_an_npz_that_loads(resnet18_reference, tmp_path):
    # CONVERT_COMMAND as a user runs it where PyTorch is, to use the file where it is not.
    state, x, y = resnet18_reference
    torch.save(state, tmp_path / "resnet18-f37072fd.pth")
    command = shlex.split(interop.CONVERT_COMMAND)
    assert command[0] == "python"
    subprocess.run([sys.executable, *command[1:]], cwd=tmp_path, check=True, timeout=300)
    path = tmp_path / "resnet18.npz"
    assert detect_format(path) == "npz"
    assert relative_error(logits(models.resnet18(weights=path), x), y) <= RTOL


def test_a_pickled_model_is_refused(tmp_path):
    path = tmp_path / "model.pth"
    torch.save(torch.nn.Linear(2, 3), path)  # the whole module, not its state dict
    with pytest.raises(WeightsFileError, match="model.pth: .*weights_only=True refuses"):
        interop.load_torch_file(path)


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_a_truncated_pytorch_file(tmp_path, legacy):
    path = tmp_path / "cut.pth"
    torch.save({"w": torch.ones(1000)}, path, _use_new_zipfile_serialization=not legacy)
    path.write_bytes(path.read_bytes()[:-300])
    with pytest.raises(WeightsFileError, match="cut.pth: not a readable PyTorch checkpoint"):
        interop.read_state_dict(path)


def test_a_pytorch_file_of_another_architecture_changes_nothing(tmp_path):
    path = tmp_path / "alexnet.pth"
    torch.save(tv_models.alexnet(weights=None, num_classes=10).state_dict(), path)
    model = models.resnet18(num_classes=10)
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=r"(?s)does not fit ResNet:.*missing.*unexpected"):
        interop.load_weights(model, path)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
