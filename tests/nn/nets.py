"""Small networks the Module tests share: one with every kind of member, and an MLP."""

from __future__ import annotations

import numpy as np

import minicnn
import minicnn.nn as nn


class Net(nn.Module):
    """Own parameter, children, a nested container, a non-persistent buffer, plain attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.bn = nn.BatchNorm2d(2)
        self.scale = nn.Parameter(minicnn.ones(1))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(8, 3))
        self.register_buffer("step", minicnn.zeros(1), persistent=False)
        self.note = "a plain attribute"
        self.plain = minicnn.zeros(2)  # a plain tensor is not registered

    def forward(self, x: minicnn.Tensor) -> minicnn.Tensor:  # (N, 1, 4, 4) -> (N, 3)
        return self.head(self.bn(self.conv(x)) * self.scale)


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 5)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(5, 2)

    def forward(self, x: minicnn.Tensor) -> minicnn.Tensor:
        return self.fc2(self.act(self.fc1(x)))


def sample_input(*shape: int) -> minicnn.Tensor:
    return minicnn.tensor(np.random.default_rng(1).standard_normal(shape).astype(np.float32))
