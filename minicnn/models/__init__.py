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

MODELS = {
    "lenet5": lenet5,
    "resnet20": resnet20,
    "resnet32": resnet32,
    "resnet44": resnet44,
    "resnet56": resnet56,
    "resnet110": resnet110,
    "plain20": plain20,
    "plain56": plain56,
}


def get_model(name: str, **kwargs):
    """Build zoo model ``name`` (a key of :data:`MODELS`) with ``kwargs``."""
    if name not in MODELS:
        raise ValueError(f"name: expected one of {sorted(MODELS)}, got {name!r}")
    return MODELS[name](**kwargs)


__all__ = [
    "MODELS",
    "get_model",
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
