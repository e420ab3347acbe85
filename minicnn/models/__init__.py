"""Model zoo: LeNet-5 and the CIFAR-style ResNets (and their plain twins)."""

from minicnn.models.lenet import LeNet5, lenet5
from minicnn.models.resnet import (
    BasicBlock,
    CifarResNet,
    plain20,
    plain56,
    resnet20,
    resnet32,
    resnet44,
    resnet56,
    resnet110,
)

__all__ = [
    "BasicBlock",
    "CifarResNet",
    "LeNet5",
    "lenet5",
    "plain20",
    "plain56",
    "resnet20",
    "resnet32",
    "resnet44",
    "resnet56",
    "resnet110",
]
