"""``minicnn.vision``, for code written against torchvision: ``import minicnn.vision as
torchvision``, then ``torchvision.datasets.MNIST(...)``, ``torchvision.transforms.ToTensor()``,
``torchvision.models.resnet18()``.

- ``datasets``: ``MNIST``, ``FashionMNIST``, ``CIFAR10`` with torchvision's arguments, each
  item what torchvision gives (a PIL image and an int, before transforms).
- ``transforms``: per-item transforms (``Compose``, ``ToTensor``, ``Normalize``, ``Resize``,
  ``CenterCrop``, ``RandomCrop``, ``RandomHorizontalFlip``, ``Pad``, ``Lambda``, ...), on PIL
  images where Pillow is installed and on NumPy arrays or tensors anywhere. minicnn's own
  vectorised batch transforms, much faster, are in ``minicnn.data.transforms``.
- ``models``: the model zoo of ``minicnn.models`` under torchvision's names.
"""

from minicnn.vision import datasets, models, transforms

__all__ = ["datasets", "models", "transforms"]
