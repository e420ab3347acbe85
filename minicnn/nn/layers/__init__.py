"""The layers, one file per family; all are re-exported by ``minicnn.nn``."""

from minicnn.nn.layers.activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from minicnn.nn.layers.conv import Conv2d
from minicnn.nn.layers.dropout import Dropout, Dropout2d
from minicnn.nn.layers.flatten import Flatten
from minicnn.nn.layers.linear import Identity, Linear
from minicnn.nn.layers.loss import CrossEntropyLoss, MSELoss
from minicnn.nn.layers.norm import BatchNorm1d, BatchNorm2d
from minicnn.nn.layers.pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d

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
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
]
