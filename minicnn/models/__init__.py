"""Model zoo: each model in its own file, a class plus a lowercase builder, as torchvision.

- ``lenet.py``: LeNet-5 (LeCun et al. 1998) for 32x32 inputs, ``lenet5``.
- ``resnet.py``: the CIFAR-style ResNets of He et al. 2015 (``resnet20`` to ``resnet110``, 6n+2
  layers, option A or B shortcuts) and their plain twins without shortcuts (``plain20``,
  ``plain56``) for the degradation experiment.
- ``resnet_imagenet.py``: ``resnet18`` and ``resnet34`` for ImageNet-sized inputs.
- ``alexnet.py``, ``vgg.py``, ``googlenet.py``: AlexNet, VGG-11/13/16/19 (and a small VGG for
  32x32 inputs), GoogLeNet (and a small GoogLeNet), as torchvision builds them.
- ``weights.py``: the trained weights that ship in ``checkpoints/``, loaded with
  ``lenet5(weights="mnist")``; :func:`list_weights` names them.

:data:`MODELS` maps each builder's name to it and :func:`get_model` builds one by name (the
CLI's ``train MODEL``).
"""

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
