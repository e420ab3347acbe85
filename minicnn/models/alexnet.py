"""AlexNet (Krizhevsky et al. 2012), in the one-tower form of torchvision's ``alexnet``.

Shapes for a (N, 3, 224, 224) input:

    input (N, 3, 224, 224)
    conv 64@11x11, stride 4, pad 2   -> (N, 64, 55, 55)     23,296 params
    max pool 3x3, stride 2           -> (N, 64, 27, 27)
    conv 192@5x5, pad 2              -> (N, 192, 27, 27)    307,392 params
    max pool 3x3, stride 2           -> (N, 192, 13, 13)
    conv 384@3x3, pad 1              -> (N, 384, 13, 13)    663,936 params
    conv 256@3x3, pad 1              -> (N, 256, 13, 13)    884,992 params
    conv 256@3x3, pad 1              -> (N, 256, 13, 13)    590,080 params
    max pool 3x3, stride 2           -> (N, 256, 6, 6)
    adaptive avg pool 6x6            -> (N, 256, 6, 6)      any input size from here on
    flatten                          -> (N, 9216)
    dropout, fc 4096, ReLU           -> (N, 4096)           37,752,832 params
    dropout, fc 4096, ReLU           -> (N, 4096)           16,781,312 params
    fc num_classes                   -> (N, num_classes)    4,097,000 params (1000 classes)
                                                            total 61,100,840

Every convolution is followed by ReLU. The paper's two GPU towers, grouped convolutions and
local response normalisation are left out, as torchvision does (whose parameter names
these are, so its state dicts load as they are); its first convolution had 96
filters, this one 64. The smallest input every layer accepts is 63x63 (the last max pool
then sees 3x3 and gives 1x1, which the adaptive pool spreads to 6x6).
"""

from __future__ import annotations

import os

from minicnn import nn
from minicnn.interop import load_weights
from minicnn.tensor import Tensor


class AlexNet(nn.Module):
    """AlexNet for (N, in_channels, H, W) inputs, H, W >= 63 -> (N, num_classes) logits."""

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 64, 11, stride=4, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(3, stride=2),  # (N, 64, 27, 27)
            nn.Conv2d(64, 192, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(3, stride=2),  # (N, 192, 13, 13)
            nn.Conv2d(192, 384, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(3, stride=2),  # (N, 256, 6, 6)
        )
        self.avgpool = nn.AdaptiveAvgPool2d(6)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)  # (N, 256, h, w)
        x = self.avgpool(x).flatten(1)  # (N, 9216)
        return self.classifier(x)  # (N, num_classes)


def alexnet(
    num_classes: int = 1000,
    in_channels: int = 3,
    dropout: float = 0.5,
    weights: str | os.PathLike | None = None,
) -> AlexNet:
    """AlexNet; see :class:`AlexNet`. ``weights``: a file of torchvision's ``alexnet`` weights
    (.pth, .pt, .safetensors or .npz; the names are torchvision's) to load."""
    return load_weights(AlexNet(num_classes, in_channels, dropout), weights)
