"""Build minicnn's embedded MNIST sample from the original MNIST files.

    python scripts/build_mnist_sample.py [MNIST_DIR]

MNIST_DIR holds the four original files (``train-images-idx3-ubyte.gz`` ...); the default is
``$MINICNN_DATA/mnist``. Their MD5s are checked against the published values first.

Rule: from the training files, the first 200 images of each digit in file order (2,000 images);
from the test files, the first 50 of each digit (500 images). The chosen images keep their file
order. They are written to ``minicnn/data/sample/`` as gzip-compressed IDX files, with the gzip
timestamp set to zero so the same input always gives the same bytes, next to
``mnist_sample.json``, which records the source files' MD5s, the rule and the chosen indices.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
from pathlib import Path

import numpy as np

from minicnn.data import download
from minicnn.data.mnist import IMAGES_MAGIC, LABELS_MAGIC, MNIST, read_idx
from minicnn.data.sample import SAMPLE_FILES

PER_CLASS = {"train": 200, "test": 50}
OUT = Path(__file__).resolve().parents[1] / "minicnn" / "data" / "sample"


def first_k_per_class(labels: np.ndarray, k: int, num_classes: int = 10) -> np.ndarray:
    """Indices of the first ``k`` samples of each class, in file order: (num_classes * k,)."""
    chosen = [np.flatnonzero(labels == c)[:k] for c in range(num_classes)]
    for c, idx in enumerate(chosen):
        if idx.size < k:
            raise ValueError(f"class {c} has only {idx.size} samples, {k} wanted")
    return np.sort(np.concatenate(chosen))


def write_idx_gz(path: Path, magic: int, array: np.ndarray) -> None:
    """Write a uint8 array as a gzip IDX file whose bytes depend only on the array."""
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        source = Path(argv[1])
    else:
        source = Path(os.environ.get("MINICNN_DATA", "")) / "mnist"
    record: dict = {
        "source": "MNIST (Yann LeCun, Corinna Cortes, Christopher J. C. Burges), CC BY-SA 3.0",
        "rule": "training: the first 200 images of each digit; test: the first 50 of each digit; "
        "file order kept",
        "source_md5": {},
    }
    for split, (images_name, labels_name) in (
        ("train", MNIST.splits[True]),
        ("test", MNIST.splits[False]),
    ):
        for name in (images_name, labels_name):
            download.check_md5(source / name, MNIST.md5[name])
            record["source_md5"][name] = MNIST.md5[name]
        images = read_idx(source / images_name, IMAGES_MAGIC, (None, 28, 28))  # (N, 28, 28)
        labels = read_idx(source / labels_name, LABELS_MAGIC, (None,))  # (N,)
        idx = first_k_per_class(labels, PER_CLASS[split])
        out_images, out_labels = SAMPLE_FILES[split == "train"]
        write_idx_gz(OUT / out_images, IMAGES_MAGIC, images[idx])
        write_idx_gz(OUT / out_labels, LABELS_MAGIC, labels[idx])
        record[f"{split}_indices"] = idx.tolist()
        print(f"{split}: {idx.size} images -> {OUT / out_images}")
    # One key a line; each index list stays on its line.
    lines = [f" {json.dumps(key)}: {json.dumps(value)}" for key, value in record.items()]
    (OUT / "mnist_sample.json").write_text("{\n" + ",\n".join(lines) + "\n}\n")
    total = sum(p.stat().st_size for p in OUT.iterdir() if p.is_file())
    print(f"sample: {total} bytes in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
