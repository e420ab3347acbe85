"""Containers: Sequential, ModuleList, ModuleDict."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import minicnn.nn as nn
from tests.conftest import to_numpy

from .nets import sample_input


def test_sequential():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and list(seq) == [a, b, c]
    assert seq[0] is a and seq[-1] is c
    head = seq[1:]
    assert isinstance(head, nn.Sequential) and list(head) == [b, c]
    assert [n for n, _ in head.named_children()] == ["1", "2"]
    with pytest.raises(IndexError, match="index 3 is out of range"):
        seq[3]
    x = sample_input(4, 2)
    np.testing.assert_array_equal(to_numpy(seq(x)), to_numpy(c(b(a(x)))))
    named = nn.Sequential(OrderedDict([("fc", a), ("act", b)]))
    assert named.fc is a and [n for n, _ in named.named_children()] == ["fc", "act"]
    seq[1] = nn.Tanh()
    assert isinstance(seq[1], nn.Tanh)
    del seq[1]
    assert len(seq) == 2
    seq.append(nn.Sigmoid())
    assert isinstance(seq[-1], nn.Sigmoid)
    with pytest.raises(TypeError, match="argument 1 must be a Module"):
        nn.Sequential(a, "relu")


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2)])
    layers.append(nn.Linear(2, 3))
    layers.extend([nn.ReLU(), nn.Linear(3, 1)])
    assert len(layers) == 4 and isinstance(layers[-1], nn.Linear)
    assert [n for n, _ in layers.named_parameters()] == [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "3.weight",
        "3.bias",
    ]
    assert [type(m).__name__ for m in layers] == ["Linear", "Linear", "ReLU", "Linear"]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    layers.insert(0, nn.Tanh())
    del layers[0]
    assert [n for n, _ in layers.named_children()] == ["0", "1", "2", "3"]

    class Stack(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = layers

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    assert Stack()(sample_input(5, 2)).shape == (5, 1)
    assert len(list(Stack().parameters())) == 6


def test_module_dict():
    d = nn.ModuleDict({"conv": nn.Conv2d(1, 2, 3), "act": nn.ReLU()})
    d["head"] = nn.Linear(2, 2)
    assert list(d) == ["conv", "act", "head"] and len(d) == 3 and "act" in d
    assert isinstance(d["conv"], nn.Conv2d)
    assert [n for n, _ in d.named_parameters()][:2] == ["conv.weight", "conv.bias"]
    assert isinstance(d.pop("act"), nn.ReLU) and "act" not in d
    assert list(d.keys()) == ["conv", "head"]
