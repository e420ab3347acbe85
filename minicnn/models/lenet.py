"""LeNet-5 (LeCun et al. 1998), the network of the lectures, on 32x32 one-channel inputs.

    input (N, 1, 32, 32)                 MNIST's 28x28 digits padded by 2 on each side
    conv 6@5x5      -> (N, 6, 28, 28)    156 params
    pool 2x2        -> (N, 6, 14, 14)
    conv 16@5x5     -> (N, 16, 10, 10)   2,416 params
    pool 2x2        -> (N, 16, 5, 5)
    flatten         -> (N, 400)
    fc 120          -> (N, 120)          48,120 params
    fc 84           -> (N, 84)           10,164 params
    fc 10           -> (N, 10)           850 params       total 61,706

``variant="classic"`` uses tanh and average pooling, as the paper's subsampling layers (without
their trainable coefficients); ``variant="relu"`` uses ReLU and max pooling, the modern recipe
that trains faster.
"""

from __future__ import annotations

from typing import Any

from minicnn import nn
from minicnn.models.weights import resolve
from minicnn.tensor import Tensor

VARIANTS = ("classic", "relu")


class LeNet5(nn.Module):
    """LeNet-5 for (N, in_channels, 32, 32) inputs -> (N, num_classes) logits."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1, variant: str = "relu") -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"variant: expected one of {VARIANTS}, got {variant!r}")
        self.variant = variant

        def act() -> nn.Module:
            return nn.Tanh() if variant == "classic" else nn.ReLU()

        def pool() -> nn.Module:
            return nn.AvgPool2d(2) if variant == "classic" else nn.MaxPool2d(2)

        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5),
            act(),
            pool(),  # (N, 6, 14, 14)
            nn.Conv2d(6, 16, 5),
            act(),
            pool(),  # (N, 16, 5, 5)
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),  # (N, 400)
            nn.Linear(16 * 5 * 5, 120),
            act(),
            nn.Linear(120, 84),
            act(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[2:] != (32, 32):
            raise ValueError(
                f"LeNet5: input: expected shape (N, C, 32, 32) (pad 28x28 digits by 2), got {x.shape}"
            )
        return self.classifier(self.features(x))


def lenet5(
    num_classes: int | None = None,
    in_channels: int | None = None,
    variant: str | None = None,
    weights: Any = None,
) -> LeNet5:
    """LeNet-5; see :class:`LeNet5`. Arguments left as None take the defaults (10 classes,
    1 channel, ``"relu"``), or the checkpoint's values when ``weights`` is given.

    ``weights``: ``"mnist"`` (99.3% on the MNIST test set), ``"mnist-0-4"`` (trained on digits
    0-4 only, five outputs), a :class:`~minicnn.models.weights.Weights` entry, or the path of an
    ``.npz`` state dict. The model is returned in training mode, as in PyTorch: call ``.eval()``
    before predicting. Inputs are prepared by ``get_weights("lenet5", name).transforms()``.
    """
    kwargs, state = resolve(
        "lenet5",
        weights,
        {"num_classes": num_classes, "in_channels": in_channels, "variant": variant},
        {"num_classes": 10, "in_channels": 1, "variant": "relu"},
    )
    model = LeNet5(**kwargs)
    if state is not None:
        model.load_state_dict(state)
    return model
