"""The layers, one file per family; all are re-exported by ``minicnn.nn``."""

from minicnn.nn.layers.activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from minicnn.nn.layers.activation_extra import ELU, GELU, PReLU, SiLU
from minicnn.nn.layers.conv import Conv2d
from minicnn.nn.layers.conv_transpose import ConvTranspose2d
from minicnn.nn.layers.dropout import Dropout, Dropout2d
from minicnn.nn.layers.flatten import Flatten
from minicnn.nn.layers.linear import Identity, Linear
from minicnn.nn.layers.loss import CrossEntropyLoss, MSELoss
from minicnn.nn.layers.loss_extra import BCELoss, BCEWithLogitsLoss, L1Loss, NLLLoss, SmoothL1Loss
from minicnn.nn.layers.norm import BatchNorm1d, BatchNorm2d
from minicnn.nn.layers.pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d
from minicnn.nn.layers.reshape import ConstantPad2d, Unflatten, ZeroPad2d
from minicnn.nn.layers.upsample import LocalResponseNorm, Upsample

__all__ = [
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "ConstantPad2d",
    "Conv2d",
    "ConvTranspose2d",
    "CrossEntropyLoss",
    "Dropout",
    "Dropout2d",
    "ELU",
    "Flatten",
    "GELU",
    "Identity",
    "L1Loss",
    "LeakyReLU",
    "Linear",
    "LocalResponseNorm",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "NLLLoss",
    "PReLU",
    "ReLU",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Tanh",
    "Unflatten",
    "Upsample",
    "ZeroPad2d",
]
