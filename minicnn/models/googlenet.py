"""GoogLeNet, Inception v1 (Szegedy et al. 2014), as torchvision's ``googlenet``, and a small
GoogLeNet for 32x32 inputs.

An Inception block runs four branches on the same input and concatenates their outputs
along the channel axis (all keep H and W):

    branch 1: 1x1 conv                              -> ch1x1 channels
    branch 2: 1x1 conv (reduce) -> 3x3 conv         -> ch3x3 channels
    branch 3: 1x1 conv (reduce) -> kxk conv         -> ch5x5 channels
    branch 4: 3x3 max pool (stride 1) -> 1x1 conv   -> pool_proj channels

Every conv is a BasicConv2d: convolution without bias, BatchNorm2d (eps 0.001), ReLU. The paper
uses k = 5 in branch 3; torchvision uses k = 3 there (a known deviation, kept for its weights),
and its parameter count, 6,624,904 without the auxiliary heads, is that of k = 3, so k = 3 is
the default here; ``branch3_kernel=5`` gives the paper's branch (7,005,832 parameters).

GoogLeNet for a (N, 3, 224, 224) input (``in``: the block's input channels; ``#3x3r`` and
``#5x5r``: the reduce convs of branches 2 and 3):

    input (N, 3, 224, 224)                          in  #1x1 #3x3r #3x3 #5x5r #5x5 pool
    conv 64@7x7, stride 2, pad 3   -> (N, 64, 112, 112)
    max pool 3x3/2 (ceil)          -> (N, 64, 56, 56)
    conv 64@1x1, conv 192@3x3      -> (N, 192, 56, 56)
    max pool 3x3/2 (ceil)          -> (N, 192, 28, 28)
    inception 3a                   -> (N, 256, 28, 28)    192   64   96  128   16   32   32
    inception 3b                   -> (N, 480, 28, 28)    256  128  128  192   32   96   64
    max pool 3x3/2 (ceil)          -> (N, 480, 14, 14)
    inception 4a                   -> (N, 512, 14, 14)    480  192   96  208   16   48   64
    inception 4b                   -> (N, 512, 14, 14)    512  160  112  224   24   64   64
    inception 4c                   -> (N, 512, 14, 14)    512  128  128  256   24   64   64
    inception 4d                   -> (N, 528, 14, 14)    512  112  144  288   32   64   64
    inception 4e                   -> (N, 832, 14, 14)    528  256  160  320   32  128  128
    max pool 2x2/2 (ceil)          -> (N, 832, 7, 7)
    inception 5a                   -> (N, 832, 7, 7)      832  256  160  320   32  128  128
    inception 5b                   -> (N, 1024, 7, 7)     832  384  192  384   48  128  128
    global avg pool, flatten       -> (N, 1024)
    dropout 0.2, fc num_classes    -> (N, num_classes)    1,025,000 params (1000 classes)
                                                          total 6,624,904

The pool before 5a is 2x2/2 as in torchvision (the paper's table lists 3x3/2; no parameters
depend on it). The smallest input every layer accepts is 31x31; 32x32 gives 1x1 after 5b.

Two auxiliary classifiers, on the outputs of 4a (512 channels) and 4d (528 channels), help the
gradient reach the lower layers during training:

    adaptive avg pool 4x4          -> (N, C, 4, 4)
    BasicConv2d 128@1x1            -> (N, 128, 4, 4)
    flatten, fc 1024, ReLU         -> (N, 1024)
    dropout 0.7, fc num_classes    -> (N, num_classes)    3,188,968 / 3,191,016 params

They run only in training mode, where ``forward`` returns
``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)``; in evaluation mode it returns the
logits alone. :func:`googlenet_loss` weighs the auxiliary losses by 0.3, as the paper. With
them the network has 13,004,888 parameters. Initialised as torchvision does: conv and linear
weights N(0, 0.01**2), BN scale 1 and shift 0. Parameter and buffer names are torchvision's,
so its state dicts load as they are. (torchvision's ImageNet weights expect inputs scaled to
[-1, 1], which its ``transform_input=True`` makes from ImageNet-normalised ones: normalise with
mean 0.5 and std 0.5 per channel instead of ImageNet's mean and std.)

:func:`mini_googlenet` is a small GoogLeNet for 32x32 inputs, without auxiliary heads (408,506
parameters with ``branch3_kernel=5``):

    input (N, 3, 32, 32)                            in  #1x1 #3x3r #3x3 #5x5r #5x5 pool
    conv 64@3x3, pad 1             -> (N, 64, 32, 32)     1,856 params
    max pool 3x3/2 (ceil)          -> (N, 64, 16, 16)
    inception a                    -> (N, 128, 16, 16)     64   32   48   64    8   16   16
    inception b                    -> (N, 192, 16, 16)    128   64   64   96   16   16   16
    max pool 3x3/2 (ceil)          -> (N, 192, 8, 8)
    inception c                    -> (N, 256, 8, 8)      192   96   64  112   16   16   32
    inception d                    -> (N, 320, 8, 8)      256  112   80  128   16   32   48
    global avg pool, flatten       -> (N, 320)
    dropout 0.2, fc num_classes    -> (N, num_classes)    3,210 params (10 classes)
                                                          total 390,074
"""

from __future__ import annotations

import os
from typing import NamedTuple

from minicnn import nn
from minicnn.interop import load_weights
from minicnn.nn import functional as F
from minicnn.ops import cat
from minicnn.tensor import Tensor

# (in, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj) of each Inception block.
GOOGLENET_BLOCKS = {
    "3a": (192, 64, 96, 128, 16, 32, 32),
    "3b": (256, 128, 128, 192, 32, 96, 64),
    "4a": (480, 192, 96, 208, 16, 48, 64),
    "4b": (512, 160, 112, 224, 24, 64, 64),
    "4c": (512, 128, 128, 256, 24, 64, 64),
    "4d": (512, 112, 144, 288, 32, 64, 64),
    "4e": (528, 256, 160, 320, 32, 128, 128),
    "5a": (832, 256, 160, 320, 32, 128, 128),
    "5b": (832, 384, 192, 384, 48, 128, 128),
}
MINI_BLOCKS = {
    "a": (64, 32, 48, 64, 8, 16, 16),
    "b": (128, 64, 64, 96, 16, 16, 16),
    "c": (192, 96, 64, 112, 16, 16, 32),
    "d": (256, 112, 80, 128, 16, 32, 48),
}


class GoogLeNetOutputs(NamedTuple):
    """What :class:`GoogLeNet` returns in training mode: three (N, num_classes) logits.

    :func:`googlenet_loss` uses all three; predictions come from the main head alone, so
    ``argmax`` is the logits' and a training loop treats these outputs as it treats logits.
    """

    logits: Tensor
    aux_logits2: Tensor | None
    aux_logits1: Tensor | None

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """The predicted classes: ``logits.argmax(dim)``."""
        return self.logits.argmax(dim, keepdim)


class BasicConv2d(nn.Module):
    """conv (no bias) -> BatchNorm2d(eps=0.001) -> ReLU: (N, C, H, W) -> (N, OC, OH, OW)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    """Four parallel branches, concatenated: (N, in, H, W) -> (N, ch1x1 + ch3x3 + ch5x5 +
    pool_proj, H, W). ``branch3_kernel`` is the kernel of branch 3's second conv (3 or 5)."""

    def __init__(
        self,
        in_channels: int,
        ch1x1: int,
        ch3x3red: int,
        ch3x3: int,
        ch5x5red: int,
        ch5x5: int,
        pool_proj: int,
        branch3_kernel: int = 3,
    ) -> None:
        super().__init__()
        if branch3_kernel not in (3, 5):
            raise ValueError(f"branch3_kernel: expected 3 or 5, got {branch3_kernel!r}")
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj
        self.branch1 = BasicConv2d(in_channels, ch1x1, 1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, 1), BasicConv2d(ch3x3red, ch3x3, 3, padding=1)
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, 1),
            BasicConv2d(ch5x5red, ch5x5, branch3_kernel, padding=branch3_kernel // 2),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return cat(branches, dim=1)  # (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)


class InceptionAux(nn.Module):
    """Auxiliary classifier: (N, in_channels, H, W) -> (N, num_classes)."""

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.7) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(4)
        self.conv = BasicConv2d(in_channels, 128, 1)
        self.fc1 = nn.Linear(128 * 4 * 4, 1024)
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(self.avgpool(x))  # (N, 128, 4, 4)
        x = F.relu(self.fc1(x.flatten(1)))  # (N, 1024)
        return self.fc2(self.dropout(x))  # (N, num_classes)


class GoogLeNet(nn.Module):
    """GoogLeNet for (N, in_channels, H, W) inputs, H, W >= 31 -> (N, num_classes) logits, or
    ``GoogLeNetOutputs`` in training mode with ``aux_logits``."""

    def __init__(
        self,
        num_classes: int = 1000,
        in_channels: int = 3,
        aux_logits: bool = True,
        branch3_kernel: int = 3,
        dropout: float = 0.2,
        dropout_aux: float = 0.7,
    ) -> None:
        super().__init__()
        self.aux_logits = bool(aux_logits)

        def block(name: str) -> Inception:
            return Inception(*GOOGLENET_BLOCKS[name], branch3_kernel=branch3_kernel)

        self.conv1 = BasicConv2d(in_channels, 64, 7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, 1)
        self.conv3 = BasicConv2d(64, 192, 3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a, self.inception3b = block("3a"), block("3b")
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a, self.inception4b = block("4a"), block("4b")
        self.inception4c, self.inception4d = block("4c"), block("4d")
        self.inception4e = block("4e")
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a, self.inception5b = block("5a"), block("5b")
        if self.aux_logits:
            self.aux1 = InceptionAux(512, num_classes, dropout_aux)
            self.aux2 = InceptionAux(528, num_classes, dropout_aux)
        else:
            self.aux1 = self.aux2 = None
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(1024, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(m.weight, 0.0, 0.01)

    def forward(self, x: Tensor) -> Tensor | GoogLeNetOutputs:
        x = self.maxpool1(self.conv1(x))  # (N, 64, H/4, W/4)
        x = self.maxpool2(self.conv3(self.conv2(x)))  # (N, 192, H/8, W/8)
        x = self.inception3b(self.inception3a(x))  # (N, 480, H/8, W/8)
        x = self.inception4a(self.maxpool3(x))  # (N, 512, H/16, W/16)
        run_aux = self.aux_logits and self.training
        aux1 = self.aux1(x) if run_aux else None  # (N, num_classes)
        x = self.inception4d(self.inception4c(self.inception4b(x)))  # (N, 528, H/16, W/16)
        aux2 = self.aux2(x) if run_aux else None  # (N, num_classes)
        x = self.maxpool4(self.inception4e(x))  # (N, 832, H/32, W/32)
        x = self.inception5b(self.inception5a(x))  # (N, 1024, H/32, W/32)
        x = self.avgpool(x).flatten(1)  # (N, 1024)
        x = self.fc(self.dropout(x))  # (N, num_classes)
        if run_aux:
            return GoogLeNetOutputs(x, aux2, aux1)
        return x


def googlenet(
    num_classes: int = 1000,
    in_channels: int = 3,
    aux_logits: bool = True,
    branch3_kernel: int = 3,
    weights: str | os.PathLike | None = None,
) -> GoogLeNet:
    """GoogLeNet (Inception v1); see :class:`GoogLeNet` and the module. ``weights``: a file of
    torchvision's ``googlenet`` weights to load; its auxiliary heads are dropped when
    ``aux_logits=False``."""
    model = GoogLeNet(num_classes, in_channels, aux_logits, branch3_kernel)
    return load_weights(model, weights, ignore=() if aux_logits else ("aux1.", "aux2."))


def googlenet_loss(
    outputs: Tensor | GoogLeNetOutputs, target: Tensor, label_smoothing: float = 0.0
) -> Tensor:
    """Cross-entropy of the main logits, plus 0.3 times that of each auxiliary head when
    ``outputs`` is a ``GoogLeNetOutputs`` (training mode); ``target`` is (N,) class indices."""
    if not isinstance(outputs, GoogLeNetOutputs):
        return F.cross_entropy(outputs, target, label_smoothing=label_smoothing)
    loss = F.cross_entropy(outputs.logits, target, label_smoothing=label_smoothing)
    for aux in (outputs.aux_logits1, outputs.aux_logits2):
        if aux is not None:
            loss = loss + 0.3 * F.cross_entropy(aux, target, label_smoothing=label_smoothing)
    return loss


class MiniGoogLeNet(nn.Module):
    """A small GoogLeNet for (N, in_channels, 32, 32) inputs (28x28 works too, giving 7x7
    after the second pool) -> (N, num_classes) logits."""

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 3,
        branch3_kernel: int = 3,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()

        def block(name: str) -> Inception:
            return Inception(*MINI_BLOCKS[name], branch3_kernel=branch3_kernel)

        self.conv1 = BasicConv2d(in_channels, 64, 3, padding=1)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception_a, self.inception_b = block("a"), block("b")
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception_c, self.inception_d = block("c"), block("d")
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(self.inception_d.out_channels, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool1(self.conv1(x))  # (N, 64, 16, 16)
        x = self.inception_b(self.inception_a(x))  # (N, 192, 16, 16)
        x = self.maxpool2(x)  # (N, 192, 8, 8)
        x = self.inception_d(self.inception_c(x))  # (N, 320, 8, 8)
        x = self.avgpool(x).flatten(1)  # (N, 320)
        return self.fc(self.dropout(x))  # (N, num_classes)


def mini_googlenet(
    num_classes: int = 10, in_channels: int = 3, branch3_kernel: int = 3
) -> MiniGoogLeNet:
    """The small GoogLeNet for 32x32 inputs; see :class:`MiniGoogLeNet` and the module."""
    return MiniGoogLeNet(num_classes, in_channels, branch3_kernel)
