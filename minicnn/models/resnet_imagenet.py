"""ResNets for ImageNet-sized inputs (He et al. 2015, Table 1), as torchvision's ``resnet18``
and ``resnet34``.

ResNet-18 for a (N, 3, 224, 224) input:

    input (N, 3, 224, 224)
    conv 64@7x7, stride 2, pad 3, BN, ReLU  -> (N, 64, 112, 112)    9,536 params
    max pool 3x3, stride 2, pad 1           -> (N, 64, 56, 56)
    stage 1: 2 BasicBlocks, 64 channels     -> (N, 64, 56, 56)      147,968 params
    stage 2: 2 BasicBlocks, 128 channels    -> (N, 128, 28, 28)     525,568 params
    stage 3: 2 BasicBlocks, 256 channels    -> (N, 256, 14, 14)     2,099,712 params
    stage 4: 2 BasicBlocks, 512 channels    -> (N, 512, 7, 7)       8,393,728 params
    global avg pool, flatten                -> (N, 512)
    fc num_classes                          -> (N, num_classes)     513,000 params (1000 classes)
                                                                    total 11,689,512

The blocks are :class:`minicnn.models.resnet.BasicBlock` (conv3x3-BN-ReLU-conv3x3-BN, added to
the shortcut, then ReLU) with option-B shortcuts: the first block of stages 2-4 halves the size
with stride 2 and its shortcut is a strided 1x1 convolution with BN, the only projections in
the network. Every parameter and buffer has torchvision's name (the projection is a block's
``downsample``, as there), so ``load_state_dict`` takes a state dict of torchvision's
``resnet18`` as it is, and ``resnet18(weights=path)`` reads one from a file (see
:mod:`minicnn.interop`). The ReLU after ``bn1`` is a child module, as in torchvision, so that
``nn.Sequential(*list(model.children())[:-1])`` is the network without its head. ResNet-34 (3, 4, 6, 3 blocks) has 21,797,672 parameters. Any input of at least
1x1 runs; 32x32 gives (N, 512, 1, 1) after stage 4. Initialised as torchvision does:
convolutions He-normal (fan_out), BN scale 1 and shift 0.
"""

from __future__ import annotations

import os

from minicnn import nn
from minicnn.interop import load_weights
from minicnn.models import resnet
from minicnn.tensor import Tensor


class BasicBlock(resnet.BasicBlock):
    """:class:`minicnn.models.resnet.BasicBlock` with an option-B shortcut whose projection is
    named ``downsample``, torchvision's name: (N, in_planes, H, W) -> (N, planes, H/stride,
    W/stride)."""

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__(in_planes, planes, stride, shortcut="B")
        downsample = self.projection  # a strided 1x1 conv and BN, or None
        del self.projection
        self.downsample = downsample

    def shortcut(self, x: Tensor) -> Tensor:
        return x if self.downsample is None else self.downsample(x)


class ResNet(nn.Module):
    """ResNet of BasicBlocks, ``blocks`` per stage, for (N, in_channels, H, W) inputs ->
    (N, num_classes) logits."""

    def __init__(
        self,
        blocks: tuple[int, int, int, int] = (2, 2, 2, 2),
        num_classes: int = 1000,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        if len(blocks) != 4 or any(not isinstance(b, int) or b < 1 for b in blocks):
            raise ValueError(f"blocks: expected four positive ints, got {blocks!r}")
        self.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        stages, in_planes = [], 64
        for i, (planes, n) in enumerate(zip((64, 128, 256, 512), blocks)):
            stage = []
            for j in range(n):
                stride = 2 if i > 0 and j == 0 else 1
                stage.append(BasicBlock(in_planes, planes, stride))
                in_planes = planes
            stages.append(nn.Sequential(*stage))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(x)))  # (N, 64, H/2, W/2)
        x = self.maxpool(x)  # (N, 64, H/4, W/4)
        x = self.layer1(x)  # (N, 64, H/4, W/4)
        x = self.layer2(x)  # (N, 128, H/8, W/8)
        x = self.layer3(x)  # (N, 256, H/16, W/16)
        x = self.layer4(x)  # (N, 512, H/32, W/32)
        x = self.avgpool(x).flatten(1)  # (N, 512)
        return self.fc(x)  # (N, num_classes)


def resnet18(
    num_classes: int = 1000, in_channels: int = 3, weights: str | os.PathLike | None = None
) -> ResNet:
    """ResNet-18; see :class:`ResNet`. ``weights``: a file of torchvision's ``resnet18``
    weights (.pth, .pt, .safetensors or .npz) to load."""
    return load_weights(ResNet((2, 2, 2, 2), num_classes, in_channels), weights)


def resnet34(
    num_classes: int = 1000, in_channels: int = 3, weights: str | os.PathLike | None = None
) -> ResNet:
    """ResNet-34; see :class:`ResNet`. ``weights``: a file of torchvision's ``resnet34``
    weights to load."""
    return load_weights(ResNet((3, 4, 6, 3), num_classes, in_channels), weights)
