"""minicnn.pytorch_names: every name is reachable from minicnn, and the entry points minicnn
cannot serve say so."""

import pytest

import minicnn
from minicnn import pytorch_names


def test_every_name_is_exported_by_minicnn():
    for name in pytorch_names.__all__:
        assert getattr(minicnn, name) is getattr(pytorch_names, name), name
        assert name in minicnn.__all__, name
    for module in ("utils", "vision", "cuda", "backends", "accelerator", "hub"):
        __import__(f"minicnn.{module}")


def test_compile_returns_the_model_and_hub_refuses():
    model = minicnn.nn.Linear(2, 2)
    assert minicnn.compile(model) is model
    assert minicnn.compile()(model) is model
    with pytest.raises(
        RuntimeError, match="minicnn has no model hub; build the network from minicnn.models"
    ):
        minicnn.hub.load("pytorch/vision", "resnet18", pretrained=True)
    with pytest.raises(RuntimeError, match="downloads no weights"):
        minicnn.hub.load_state_dict_from_url("https://example.org/w.pth")
