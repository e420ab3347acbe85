"""Datasets, the DataLoader and batch transforms.

Reading order: ``paths`` (where data lives), ``download`` (fetch, MD5, atomic write),
``datasets`` (ArrayDataset), ``mnist`` (IDX files), ``cifar`` (CIFAR-10 batches), ``sample``
(the embedded MNIST sample), ``transforms`` (batch augmentation), ``loader`` (DataLoader).
"""

from minicnn.data import transforms
from minicnn.data.cifar import CIFAR10
from minicnn.data.datasets import ArrayDataset
from minicnn.data.download import ChecksumError, DatasetNotFoundError, DownloadError
from minicnn.data.loader import DataLoader
from minicnn.data.mnist import MNIST, FashionMNIST, read_idx
from minicnn.data.paths import data_dir, default_data_dir
from minicnn.data.sample import MNISTSample, load_mnist_or_sample
from minicnn.data.transforms import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    FASHION_MNIST_MEAN,
    FASHION_MNIST_STD,
    MNIST_MEAN,
    MNIST_STD,
    Compose,
    Normalize,
    Pad,
    RandomCrop,
    RandomErasing,
    RandomHorizontalFlip,
)

__all__ = [
    "CIFAR10",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "FASHION_MNIST_MEAN",
    "FASHION_MNIST_STD",
    "MNIST",
    "MNIST_MEAN",
    "MNIST_STD",
    "ArrayDataset",
    "ChecksumError",
    "Compose",
    "DataLoader",
    "DatasetNotFoundError",
    "DownloadError",
    "FashionMNIST",
    "MNISTSample",
    "Normalize",
    "Pad",
    "RandomCrop",
    "RandomErasing",
    "RandomHorizontalFlip",
    "data_dir",
    "default_data_dir",
    "load_mnist_or_sample",
    "read_idx",
    "transforms",
]
