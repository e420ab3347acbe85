"""The degradation experiment (He et al. 2015, Figure 1) at a small budget.

    python -m experiments.degradation [--train 5000] [--epochs 12] [--warmup 2] [--backend numba]

Trains plain-20, plain-56, ResNet-20 and ResNet-56 with the same recipe, data and budget on a
fixed, class-balanced subset of Fashion-MNIST (padded to 32x32, random crops and flips), and
records training and test error per epoch. The question: does the deeper *plain* network train
worse than the shallower one (higher training error) while the deeper *residual* network does
not? Writes ``experiments/records/degradation.json`` and ``degradation.png``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from benchmarks.common import machine_info
from experiments import RECORDS

ARCHS = ("plain20", "plain56", "resnet20", "resnet56")


def balanced_subset(ds, n: int):
    from minicnn.data import ArrayDataset

    per_class = n // 10
    idx = np.concatenate([np.flatnonzero(ds.targets == c)[:per_class] for c in range(10)])
    idx.sort()
    return ArrayDataset(ds.data[idx], ds.targets[idx], classes=list(ds.classes))


def run(n_train: int, n_test: int, epochs: int, backend: str, seed: int, warmup: int) -> dict:
    import minicnn
    from minicnn import data, models, optim
    from minicnn.data import transforms as T
    from minicnn.training import fit

    minicnn.set_backend(backend)
    train = balanced_subset(data.FashionMNIST(train=True), n_train)
    test = balanced_subset(data.FashionMNIST(train=False), n_test)
    mean, std = data.FASHION_MNIST_MEAN, data.FASHION_MNIST_STD
    train_tf = T.Compose(
        [T.Pad(2), T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.Normalize(mean, std)]
    )
    test_tf = T.Compose([T.Pad(2), T.Normalize(mean, std)])
    curves = {}
    for arch in ARCHS:
        minicnn.manual_seed(seed)
        model = models.get_model(arch, num_classes=10, in_channels=1)
        loader = data.DataLoader(
            train, 128, shuffle=True, seed=seed, transform=train_tf, prefetch=2
        )
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)
        S = optim.lr_scheduler
        sched = S.CosineAnnealingLR(opt, T_max=epochs - warmup)
        if warmup:  # start at lr 0.01: deep nets may not start converging at 0.1 (He et al.)
            sched = S.SequentialLR(
                opt,
                [S.LinearLR(opt, start_factor=0.1, total_iters=warmup), sched],
                milestones=[warmup],
            )
        t0 = time.perf_counter()
        hist = fit(
            model,
            loader,
            opt,
            epochs,
            test_loader=data.DataLoader(test, 500, transform=test_tf),
            scheduler=sched,
            progress=False,
            log=lambda s, a=arch: print(f"{a}: {s}", flush=True),
        )
        curves[arch] = {
            "train_error": [1 - e["train_accuracy"] for e in hist.epochs],
            "test_error": [1 - e["test_accuracy"] for e in hist.epochs],
            "seconds": time.perf_counter() - t0,
        }
    return {
        "machine": machine_info(),
        "backend": backend,
        "seed": seed,
        "train_samples": n_train,
        "test_samples": n_test,
        "epochs": epochs,
        "recipe": "SGD lr 0.1 Nesterov momentum 0.9, wd 5e-4, cosine, batch 128, crop+flip",
        "curves": curves,
    }


def plot(result: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, kinds, title in (
        (axes[0], ("plain20", "plain56"), "plain"),
        (axes[1], ("resnet20", "resnet56"), "ResNet"),
    ):
        for arch in kinds:
            c = result["curves"][arch]
            ep = range(1, len(c["train_error"]) + 1)
            style = "-" if arch.endswith("20") else "-"
            (line,) = ax.plot(
                ep, [100 * v for v in c["train_error"]], style, lw=1.2, label=f"{arch} train"
            )
            ax.plot(
                ep,
                [100 * v for v in c["test_error"]],
                "--",
                lw=2,
                color=line.get_color(),
                label=f"{arch} test",
            )
        ax.set(title=f"{title} networks", xlabel="epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    axes[0].set_ylabel("error (%)")
    fig.suptitle(
        f"Fashion-MNIST subset ({result['train_samples']} training images), "
        f"{result['epochs']} epochs, same recipe"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--train", type=int, default=5000)
    p.add_argument("--test", type=int, default=2000)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--backend", default="numba")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--warmup", type=int, default=2, help="epochs of linear warm-up from lr 0.01")
    p.add_argument("--name", default="degradation", help="experiments/records/<name>.json and .png")
    args = p.parse_args(argv)
    result = run(args.train, args.test, args.epochs, args.backend, args.seed, args.warmup)
    (RECORDS / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n")
    plot(result, RECORDS / f"{args.name}.png")
    for arch, c in result["curves"].items():
        print(
            f"{arch:9s} final train error {100 * c['train_error'][-1]:.2f}%, "
            f"test error {100 * c['test_error'][-1]:.2f}% ({c['seconds']:.0f} s)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
