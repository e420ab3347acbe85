"""Model zoo: LeNet-5 and the CIFAR-style ResNets (and their plain twins)."""

from minicnn.models.alexnet import AlexNet, alexnet
from minicnn.models.googlenet import (
    GoogLeNet,
    GoogLeNetOutputs,
    MiniGoogLeNet,
    googlenet,
    googlenet_loss,
    mini_googlenet,
)
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
from minicnn.models.resnet_imagenet import ResNet, resnet18, resnet34
from minicnn.models.vgg import VGG, VGGCifar, vgg11, vgg13, vgg16, vgg19, vgg_cifar
from minicnn.models.weights import Weights, get_weights, list_weights

MODELS = {
    "lenet5": lenet5,
    "resnet20": resnet20,
    "resnet32": resnet32,
    "resnet44": resnet44,
    "resnet56": resnet56,
    "resnet110": resnet110,
    "plain20": plain20,
    "plain56": plain56,
    "alexnet": alexnet,
    "vgg11": vgg11,
    "vgg13": vgg13,
    "vgg16": vgg16,
    "vgg19": vgg19,
    "vgg_cifar": vgg_cifar,
    "googlenet": googlenet,
    "mini_googlenet": mini_googlenet,
    "resnet18": resnet18,
    "resnet34": resnet34,
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
    "AlexNet",
    "GoogLeNet",
    "GoogLeNetOutputs",
    "MiniGoogLeNet",
    "ResNet",
    "VGG",
    "VGGCifar",
    "alexnet",
    "googlenet",
    "googlenet_loss",
    "mini_googlenet",
    "resnet18",
    "resnet34",
    "vgg11",
    "vgg13",
    "vgg16",
    "vgg19",
    "vgg_cifar",
    "Weights",
    "get_weights",
    "list_weights",
]
