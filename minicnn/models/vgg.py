"""VGG (Simonyan and Zisserman 2014) as torchvision builds it, and a small VGG for 32x32 inputs.

A VGG is stacks of 3x3 convolutions (padding 1, so the size is kept), each followed by ReLU
(and BatchNorm before it with ``batch_norm=True``); a 2x2 max pool ("M") ends each stack and
halves the size. The configurations of the paper's Table 1:

    A  (VGG-11)  64 M 128 M 256 256 M 512 512 M 512 512 M
    B  (VGG-13)  64 64 M 128 128 M 256 256 M 512 512 M 512 512 M
    D  (VGG-16)  64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M
    E  (VGG-19)  64 64 M 128 128 M 256 256 256 256 M 512 512 512 512 M 512 512 512 512 M

VGG-16 for a (N, 3, 224, 224) input:

    input (N, 3, 224, 224)
    2 convs 64,  max pool            -> (N, 64, 112, 112)
    2 convs 128, max pool            -> (N, 128, 56, 56)
    3 convs 256, max pool            -> (N, 256, 28, 28)
    3 convs 512, max pool            -> (N, 512, 14, 14)
    3 convs 512, max pool            -> (N, 512, 7, 7)      14,714,688 conv params
    adaptive avg pool 7x7            -> (N, 512, 7, 7)      any input size from here on
    flatten                          -> (N, 25088)
    fc 4096, ReLU, dropout           -> (N, 4096)           102,764,544 params
    fc 4096, ReLU, dropout           -> (N, 4096)           16,781,312 params
    fc num_classes                   -> (N, num_classes)    4,097,000 params (1000 classes)
                                                            total 138,357,544

VGG-11 has 132,863,336 parameters, VGG-13 133,047,848, VGG-19 143,667,240; with batch norm
VGG-11 has 132,868,840 and VGG-16 138,365,992. The five pools need inputs of at least 32x32.
Initialised as torchvision does: convolutions He-normal (fan_out), biases 0, linear weights
N(0, 0.01**2). The parameter names are torchvision's, so its state dicts load as they are.

:func:`vgg_cifar` is a small VGG with batch norm for 32x32 inputs, which trains in minutes:

    input (N, 3, 32, 32)
    conv 64, max pool                -> (N, 64, 16, 16)     1,856 params
    conv 128, max pool               -> (N, 128, 8, 8)      73,984 params
    conv 256, conv 256, max pool     -> (N, 256, 4, 4)      295,424 + 590,336 params
    conv 512, max pool               -> (N, 512, 2, 2)      1,180,672 params
    global avg pool, flatten         -> (N, 512)
    fc num_classes                   -> (N, num_classes)    5,130 params (10 classes)
                                                            total 2,147,402

Its convolutions have no bias (the BatchNorm shift after each one does that job); each conv's
count above includes its BatchNorm's scale and shift.
"""

from __future__ import annotations

import os

from minicnn import nn
from minicnn.interop import load_weights
from minicnn.tensor import Tensor

# A number is a 3x3 convolution with that many output channels; "M" is a 2x2 max pool.
CONFIGS: dict[str, list[int | str]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M"]
    + [512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
    "cifar": [64, "M", 128, "M", 256, 256, "M", 512, "M"],
}


def make_layers(
    config: list[int | str], in_channels: int = 3, batch_norm: bool = False, bias: bool = True
) -> nn.Sequential:
    """The convolutional stacks of ``config``: (N, in_channels, H, W) -> (N, C_last, H/2^m, W/2^m)
    for m pools."""
    layers: list[nn.Module] = []
    channels = in_channels
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(2, stride=2))  # halves H and W
            continue
        layers.append(nn.Conv2d(channels, int(item), 3, padding=1, bias=bias))
        if batch_norm:
            layers.append(nn.BatchNorm2d(int(item)))
        layers.append(nn.ReLU())
        channels = int(item)
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """VGG of configuration ``config`` ("A", "B", "D" or "E") for (N, in_channels, H, W)
    inputs, H, W >= 32 -> (N, num_classes) logits."""

    def __init__(
        self,
        config: str = "D",
        num_classes: int = 1000,
        in_channels: int = 3,
        batch_norm: bool = False,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if config not in ("A", "B", "D", "E"):
            raise ValueError(f"config: expected one of 'A', 'B', 'D', 'E', got {config!r}")
        self.config = config
        self.features = make_layers(CONFIGS[config], in_channels, batch_norm)
        self.avgpool = nn.AdaptiveAvgPool2d(7)
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(4096, num_classes),
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)  # (N, 512, H/32, W/32)
        x = self.avgpool(x).flatten(1)  # (N, 25088)
        return self.classifier(x)  # (N, num_classes)

    def extra_repr(self) -> str:
        return f"config={self.config}"


def vgg11(
    num_classes: int = 1000,
    in_channels: int = 3,
    batch_norm: bool = False,
    dropout: float = 0.5,
    weights: str | os.PathLike | None = None,
) -> VGG:
    """VGG-11 (configuration A); see :class:`VGG`. ``weights``: a file of torchvision's
    ``vgg11`` (or ``vgg11_bn`` with ``batch_norm=True``) weights to load."""
    return load_weights(VGG("A", num_classes, in_channels, batch_norm, dropout), weights)


def vgg13(
    num_classes: int = 1000,
    in_channels: int = 3,
    batch_norm: bool = False,
    dropout: float = 0.5,
    weights: str | os.PathLike | None = None,
) -> VGG:
    """VGG-13 (configuration B); see :class:`VGG`. ``weights``: a file of torchvision's
    ``vgg13`` (or ``vgg13_bn`` with ``batch_norm=True``) weights to load."""
    return load_weights(VGG("B", num_classes, in_channels, batch_norm, dropout), weights)


def vgg16(
    num_classes: int = 1000,
    in_channels: int = 3,
    batch_norm: bool = False,
    dropout: float = 0.5,
    weights: str | os.PathLike | None = None,
) -> VGG:
    """VGG-16 (configuration D); see :class:`VGG`. ``weights``: a file of torchvision's
    ``vgg16`` (or ``vgg16_bn`` with ``batch_norm=True``) weights to load."""
    return load_weights(VGG("D", num_classes, in_channels, batch_norm, dropout), weights)


def vgg19(
    num_classes: int = 1000,
    in_channels: int = 3,
    batch_norm: bool = False,
    dropout: float = 0.5,
    weights: str | os.PathLike | None = None,
) -> VGG:
    """VGG-19 (configuration E); see :class:`VGG`. ``weights``: a file of torchvision's
    ``vgg19`` (or ``vgg19_bn`` with ``batch_norm=True``) weights to load."""
    return load_weights(VGG("E", num_classes, in_channels, batch_norm, dropout), weights)


class VGGCifar(nn.Module):
    """A small VGG with batch norm for (N, in_channels, 32, 32) inputs (28x28 digits work
    too: the pools floor 28 to 1) -> (N, num_classes) logits."""

    def __init__(self, num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        self.features = make_layers(CONFIGS["cifar"], in_channels, batch_norm=True, bias=False)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)  # (N, 512, 2, 2)
        x = self.avgpool(x).flatten(1)  # (N, 512)
        return self.fc(x)  # (N, num_classes)


def vgg_cifar(num_classes: int = 10, in_channels: int = 3) -> VGGCifar:
    """The small VGG for 32x32 inputs; see :class:`VGGCifar` and the module."""
    return VGGCifar(num_classes, in_channels)
