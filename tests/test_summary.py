"""summary(): rows per leaf layer, parameter totals, buffers, memory; the model is unchanged."""

from __future__ import annotations

import re

import numpy as np
import pytest

import minicnn
import minicnn.nn as nn
from minicnn.summary import summary
from tests.conftest import to_numpy


def lenet5() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.Tanh(),
        nn.Linear(120, 84), nn.Tanh(),
        nn.Linear(84, 10),
    )  # fmt: skip


def _rows(table: str) -> list[list[str]]:
    """The body rows between the two '=' rules, split on runs of 3+ spaces."""
    lines = table.splitlines()
    start, end = [i for i, line in enumerate(lines) if set(line) == {"="}]
    return [re.split(r"\s{3,}", line.strip()) for line in lines[start + 1 : end]]


def test_lenet5(backend_name, capsys):
    table = summary(lenet5(), (1, 32, 32))
    assert capsys.readouterr().out.strip() == table.strip()  # printed and returned
    rows = _rows(table)
    assert [r[1] for r in rows] == [
        "Conv2d",
        "Tanh",
        "AvgPool2d",
        "Conv2d",
        "Tanh",
        "AvgPool2d",
        "Flatten",
        "Linear",
        "Tanh",
        "Linear",
        "Tanh",
        "Linear",
    ]
    assert [r[0] for r in rows] == [str(i) for i in range(12)]
    assert rows[0][2:] == ["(1, 6, 28, 28)", "156"]
    assert rows[5][2:] == ["(1, 16, 5, 5)", "0"]
    assert rows[7][2:] == ["(1, 120)", "48,120"]
    assert rows[11][2:] == ["(1, 10)", "850"]
    assert sum(int(r[3].replace(",", "")) for r in rows) == 61_706
    assert "Total params: 61,706" in table
    assert "Trainable params: 61,706" in table
    assert "Non-trainable params: 0" in table
    assert "Params size (MB): 0.25" in table  # 61,706 * 4 bytes
    # Activations: every leaf output of one sample, float32.
    floats = 2 * 6 * 28 * 28 + 6 * 14 * 14 + 2 * 16 * 10 * 10 + 2 * 400 + 2 * 120 + 2 * 84 + 10
    assert f"Forward activations (MB): {floats * 4 / 1e6:.2f}" in table


def test_batch_size_and_print_fn(capsys):
    table = summary(lenet5(), (1, 32, 32), batch_size=8, print_fn=None)
    assert capsys.readouterr().out == ""
    assert _rows(table)[0][2] == "(8, 6, 28, 28)"


def test_frozen_layer_and_batchnorm(backend_name):
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 4),
    )
    model[0].requires_grad_(False)
    model.train()
    model[6].eval()
    before = {k: to_numpy(v).copy() for k, v in model.state_dict().items()}
    table = summary(model, (3, 16, 16), batch_size=2, print_fn=None)
    rows = _rows(table)
    assert [r[3] for r in rows] == ["216", "16", "0", "0", "0", "0", "36"]
    assert "Total params: 268" in table
    assert "Trainable params: 52" in table
    assert "Non-trainable params: 216" in table
    assert "Buffer values (not parameters): 17" in table  # 8 + 8 running stats + 1 counter
    # The model is left as it was: statistics, training flags, hooks.
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(to_numpy(v), before[k])
    assert [m.training for m in model.modules()] == [True] * 7 + [False]
    assert not any(m._forward_hooks for m in model.modules())


def test_multi_input_and_shared_layer():
    class Siamese(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten())
            self.scale = nn.Parameter(minicnn.ones(1))  # a parameter of a non-leaf module

        def forward(self, a, b):
            return (self.encoder(a) - self.encoder(b)) * self.scale

    model = Siamese()
    table = summary(model, ((3, 6, 6), (3, 6, 6)), print_fn=None)
    rows = _rows(table)
    # encoder runs twice: its Conv2d's parameters are counted on the first call only
    assert [(r[0], r[1], r[3]) for r in rows] == [
        ("encoder.0", "Conv2d", "112"),
        ("encoder.1", "Flatten", "0"),
        ("encoder.0", "Conv2d", "0"),
        ("encoder.1", "Flatten", "0"),
        ("Siamese", "Siamese", "1"),
    ]
    assert "Total params: 113" in table and "Model: Siamese" in table


def test_input_size_errors():
    with pytest.raises(ValueError, match="input_size: expected a shape without the batch axis"):
        summary(lenet5(), 32)
    with pytest.raises(ValueError, match="batch_size: expected a positive int, got 0"):
        summary(lenet5(), (1, 32, 32), batch_size=0)
    with pytest.raises(TypeError, match="model: expected an nn.Module"):
        summary(lambda x: x, (1, 32, 32))
