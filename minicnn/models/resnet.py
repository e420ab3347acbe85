"""ResNets for 32x32 inputs (He et al. 2015, section 4.2): ResNet-20/32/44/56/110.

    conv 3x3, 16                         (N, 16, 32, 32)
    stage 1: n BasicBlocks, 16 channels  (N, 16, 32, 32)
    stage 2: n BasicBlocks, 32 channels  (N, 32, 16, 16)   the first block has stride 2
    stage 3: n BasicBlocks, 64 channels  (N, 64, 8, 8)     the first block has stride 2
    global average pool, fc              (N, num_classes)

depth = 6n + 2. A BasicBlock is conv3x3-BN-ReLU-conv3x3-BN, added to its shortcut, then ReLU
(``residual_add(..., relu=True)``). Where a block halves the resolution and doubles the
channels, the shortcut is either option A (the paper's CIFAR choice, no parameters): take every
second pixel and zero-pad the new channels; or option B: a strided 1x1 convolution with BN.
ResNet-20 with option A has 269,722 parameters. ``plain=True`` drops every shortcut: the
"plain" networks of the degradation experiment.
"""

from __future__ import annotations

from typing import Any

from minicnn import nn
from minicnn.models.weights import resolve
from minicnn.nn import functional as F
from minicnn.tensor import Tensor


class BasicBlock(nn.Module):
    """(N, in_planes, H, W) -> (N, planes, H/stride, W/stride)."""

    def __init__(
        self, in_planes: int, planes: int, stride: int = 1, shortcut: str = "A", plain: bool = False
    ) -> None:
        super().__init__()
        if shortcut not in ("A", "B"):
            raise ValueError(f"shortcut: expected 'A' or 'B', got {shortcut!r}")
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.plain = plain
        self.option = shortcut
        self.stride, self.pad_channels = stride, planes - in_planes
        self.projection = None
        if not plain and shortcut == "B" and (stride != 1 or in_planes != planes):
            self.projection = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes)
            )

    def shortcut(self, x: Tensor) -> Tensor:
        if self.projection is not None:
            return self.projection(x)
        if self.stride != 1:
            x = x[:, :, :: self.stride, :: self.stride]  # (N, C, H/2, W/2)
        if self.pad_channels:
            half = self.pad_channels // 2  # zero channels before and after: option A
            x = F.pad(x, (0, 0, 0, 0, half, self.pad_channels - half))
        return x

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.plain:
            return F.relu(out)
        return F.residual_add(out, self.shortcut(x), relu=True)

    def extra_repr(self) -> str:
        return "plain" if self.plain else f"shortcut={self.option}"


class CifarResNet(nn.Module):
    """ResNet of depth 6n + 2 for (N, in_channels, 32, 32) inputs."""

    def __init__(
        self,
        depth: int = 20,
        num_classes: int = 10,
        in_channels: int = 3,
        shortcut: str = "A",
        plain: bool = False,
    ) -> None:
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"depth: expected 6n + 2 (20, 32, 44, 56, 110, ...), got {depth}")
        n = (depth - 2) // 6
        self.depth = depth
        self.conv1 = nn.Conv2d(in_channels, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        blocks, in_planes = [], 16
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(n):
                blocks.append(
                    BasicBlock(in_planes, planes, stride if i == 0 else 1, shortcut, plain)
                )
                in_planes = planes
        self.layers = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, num_classes)
        for m in self.modules():  # He initialisation, as in the paper
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))  # (N, 16, 32, 32)
        out = self.layers(out)  # (N, 64, 8, 8)
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)  # (N, 64)
        return self.fc(out)


def _resnet(depth: int, plain: bool = False):
    arch = f"{'plain' if plain else 'resnet'}{depth}"

    def build(
        num_classes: int | None = None,
        in_channels: int | None = None,
        shortcut: str | None = None,
        weights: Any = None,
    ) -> CifarResNet:
        kwargs, state = resolve(
            arch,
            weights,
            {"num_classes": num_classes, "in_channels": in_channels, "shortcut": shortcut},
            {"num_classes": 10, "in_channels": 3, "shortcut": "A"},
        )
        model = CifarResNet(depth, plain=plain, **kwargs)
        if state is not None:
            model.load_state_dict(state)
        return model

    build.__name__ = arch
    build.__doc__ = (
        f"{'Plain' if plain else 'Res'}Net-{depth} for 32x32 inputs (see the module). Arguments "
        f"left as None take the defaults (10 classes, 3 channels, shortcut 'A') or the "
        f"checkpoint's values. weights: a registered name (resnet20: 'fashion-mnist'), a Weights "
        f"entry or the path of an .npz state dict; the model is returned in training mode."
    )
    return build


resnet20, resnet32, resnet44 = _resnet(20), _resnet(32), _resnet(44)
resnet56, resnet110 = _resnet(56), _resnet(110)
plain20, plain56 = _resnet(20, plain=True), _resnet(56, plain=True)
