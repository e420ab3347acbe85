"""Neural-network building blocks: ``Module``, ``Parameter``, containers, layers, ``init``
and ``functional`` (``import minicnn.nn.functional as F``).

Reading order: ``parameter`` and ``module`` (the tree and its bookkeeping), ``containers``,
then ``layers/`` (each a thin holder of parameters around one ``F`` call) and ``init``.
"""

from minicnn.nn import functional, init
from minicnn.nn.containers import ModuleDict, ModuleList, Sequential
from minicnn.nn.layers import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    CrossEntropyLoss,
    Dropout,
    Dropout2d,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MaxPool2d,
    MSELoss,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from minicnn.nn.module import IncompatibleKeys, Module, RemovableHandle
from minicnn.nn.parameter import Parameter

__all__ = [
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Dropout2d",
    "Flatten",
    "Identity",
    "IncompatibleKeys",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "ReLU",
    "RemovableHandle",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "functional",
    "init",
]
