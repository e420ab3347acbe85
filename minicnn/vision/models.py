"""``torchvision.models``' names for the networks of minicnn's zoo (:mod:`minicnn.models`):
``alexnet``, ``vgg11`` .. ``vgg19``, ``googlenet``, ``resnet18``, ``resnet34`` and their
classes. (CIFAR-style ResNets and LeNet-5, which torchvision does not have, are in
:mod:`minicnn.models`.)"""

from minicnn.models import (
    VGG,
    AlexNet,
    GoogLeNet,
    GoogLeNetOutputs,
    ResNet,
    alexnet,
    googlenet,
    resnet18,
    resnet34,
    vgg11,
    vgg13,
    vgg16,
    vgg19,
)

__all__ = [
    "VGG",
    "AlexNet",
    "GoogLeNet",
    "GoogLeNetOutputs",
    "ResNet",
    "alexnet",
    "googlenet",
    "resnet18",
    "resnet34",
    "vgg11",
    "vgg13",
    "vgg16",
    "vgg19",
]
