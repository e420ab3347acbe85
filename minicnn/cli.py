"""The command line: ``python -m minicnn <command>``.

- ``train MODEL``: train a model of the zoo on a dataset, with per-model default recipes, tqdm
  progress bars, a checkpoint every epoch and ``--resume``;
- ``evaluate CHECKPOINT``: accuracy and confusion matrix of a saved model on a test set;
- ``info``: the backends available here, and a finite-difference check of conv2d on each.
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import minicnn
from minicnn import backend

# Default recipes: the ones the records in benchmarks/results were made with.
RECIPES: dict[str, dict[str, Any]] = {
    "lenet5": dict(
        dataset="mnist",
        epochs=10,
        batch_size=64,
        lr=0.05,
        momentum=0.9,
        weight_decay=5e-4,
        schedule="cosine",
        augment="none",
        label_smoothing=0.0,
    ),
    "resnet20": dict(
        dataset="fashion-mnist",
        epochs=40,
        batch_size=64,
        lr=0.05,
        momentum=0.9,
        weight_decay=5e-4,
        schedule="cosine",
        augment="crop-flip",
        label_smoothing=0.0,
    ),
}
DATASETS = ("mnist", "fashion-mnist", "cifar10", "mnist-sample")


def _datasets(name: str, root: str | None, download: bool) -> tuple[Any, Any, tuple, tuple]:
    """(train, test, mean, std) for dataset ``name``."""
    from minicnn import data

    if name == "mnist":
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            train = data.load_mnist_or_sample(root, train=True, download=download)
            test = data.load_mnist_or_sample(root, train=False, download=download)
        for w in caught[:1]:
            print(f"notice: {w.message}", file=sys.stderr)
        return train, test, data.MNIST_MEAN, data.MNIST_STD
    if name == "mnist-sample":
        return (
            data.MNISTSample(train=True),
            data.MNISTSample(train=False),
            data.MNIST_MEAN,
            data.MNIST_STD,
        )
    if name == "fashion-mnist":
        return (
            data.FashionMNIST(root, train=True, download=download),
            data.FashionMNIST(root, train=False, download=download),
            data.FASHION_MNIST_MEAN,
            data.FASHION_MNIST_STD,
        )
    return (
        data.CIFAR10(root, train=True, download=download),
        data.CIFAR10(root, train=False, download=download),
        data.CIFAR10_MEAN,
        data.CIFAR10_STD,
    )


def _transforms(train: Any, mean: tuple, std: tuple, augment: str) -> tuple[Any, Any]:
    """Batch transforms for training and testing: 28x28 images are padded to 32x32."""
    from minicnn.data import transforms as T

    pad = 32 - train.data.shape[-1]
    base = [T.Pad(pad // 2)] if pad > 0 else []
    test_tf = T.Compose([*base, T.Normalize(mean, std)])
    aug: list[Any] = []
    if augment.startswith("crop"):
        aug.append(T.RandomCrop(32, padding=4))
    if "flip" in augment:
        aug.append(T.RandomHorizontalFlip())
    erase = [T.RandomErasing(p=0.5, value="random")] if augment.endswith("-erase") else []
    return T.Compose([*base, *aug, T.Normalize(mean, std), *erase]), test_tf


def _scheduler(
    name: str, optimizer: Any, epochs: int, steps: int, lr: float, warmup: int
) -> tuple[Any, bool]:
    """(scheduler, steps per batch?) for ``--schedule``."""
    from minicnn.optim import lr_scheduler as S

    if name == "onecycle":
        return S.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps), True
    main: Any = {
        "none": lambda e: S.StepLR(optimizer, step_size=10**9),
        "cosine": lambda e: S.CosineAnnealingLR(optimizer, T_max=max(e, 1)),
        "step": lambda e: S.StepLR(optimizer, step_size=max(e // 3, 1)),
        "multistep": lambda e: S.MultiStepLR(optimizer, [int(e * 0.5), int(e * 0.75)]),
    }[name]
    if warmup <= 0:
        return main(epochs), False
    warm = S.LinearLR(optimizer, start_factor=0.1, total_iters=warmup)
    return S.SequentialLR(optimizer, [warm, main(epochs - warmup)], milestones=[warmup]), False


def _smoothing(text: str) -> float:
    """``--label-smoothing``'s type: a number in [0, 1)."""
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text}")
    return value


def _loss_fn(model: str, label_smoothing: float) -> Any:
    """The training loss: the model's own (``googlenet_loss``) or cross-entropy, with
    ``label_smoothing`` when it is not 0."""
    from minicnn import models

    loss = getattr(models, f"{model}_loss", minicnn.cross_entropy)
    return functools.partial(loss, label_smoothing=label_smoothing) if label_smoothing else loss


def _backend_choice(name: str | None) -> str:
    if name:
        return name
    env = __import__("os").environ.get("MINICNN_BACKEND")
    if env:
        return env
    return "numba" if minicnn.unavailable_reason("numba") is None else "numpy"


def _train(args: argparse.Namespace) -> int:
    from minicnn import models, optim
    from minicnn.data import DataLoader
    from minicnn.training import TrainingDiverged, fit

    recipe = {**RECIPES.get(args.model, RECIPES["lenet5"])}
    for key in recipe:
        if getattr(args, key, None) is not None:
            recipe[key] = getattr(args, key)
    name = _backend_choice(args.backend)
    minicnn.set_backend(name)
    minicnn.manual_seed(args.seed)
    train_set, test_set, mean, std = _datasets(recipe["dataset"], args.data_root, args.download)
    train_tf, test_tf = _transforms(train_set, mean, std, recipe["augment"])
    channels = train_set.data.shape[1]
    classes = len(getattr(train_set, "classes", range(10))) or 10
    kwargs = {"num_classes": classes, "in_channels": channels}
    if args.model == "lenet5" and args.variant:
        kwargs["variant"] = args.variant
    model = models.get_model(args.model, **kwargs)
    train_loader = DataLoader(
        train_set,
        recipe["batch_size"],
        shuffle=True,
        drop_last=False,
        seed=args.seed,
        transform=train_tf,
        prefetch=args.prefetch,
    )
    test_loader = DataLoader(test_set, 500, transform=test_tf, prefetch=args.prefetch)
    optimizer = optim.SGD(
        model.parameters(),
        lr=recipe["lr"],
        momentum=recipe["momentum"],
        weight_decay=recipe["weight_decay"],
        nesterov=recipe["momentum"] > 0,
    )
    scheduler, per_batch = _scheduler(
        recipe["schedule"],
        optimizer,
        recipe["epochs"],
        len(train_loader),
        recipe["lr"],
        args.warmup_epochs,
    )
    meta = {
        "model": args.model,
        "model_kwargs": kwargs,
        "backend": name,
        "seed": args.seed,
        "command": "python -m minicnn " + " ".join(sys.argv[1:]),
        "recipe": recipe,
        "train_samples": len(train_set),
        "test_samples": len(test_set),
        "minicnn": minicnn.__version__,
        "python": platform.python_version(),
    }
    print(
        f"training {args.model} on {recipe['dataset']} ({len(train_set):,} images) with "
        f"backend {name!r}, seed {args.seed}; writing to {args.out}"
    )
    loss_fn = _loss_fn(args.model, recipe["label_smoothing"])
    try:
        history = fit(
            model,
            train_loader,
            optimizer,
            recipe["epochs"],
            test_loader=test_loader,
            loss_fn=loss_fn,
            scheduler=scheduler,
            scheduler_per_batch=per_batch,
            out=args.out,
            resume=args.resume,
            progress=not args.no_progress,
            meta=meta,
        )
    except KeyboardInterrupt:
        return 130
    except TrainingDiverged as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    if history.epochs:
        acc = history.last("test_accuracy")
        print(
            f"final test accuracy {100 * acc:.2f}% after {history.last('epoch')} epochs; "
            f"checkpoint {Path(args.out) / 'last.ckpt'}"
        )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from minicnn import models
    from minicnn.data import DataLoader
    from minicnn.training import evaluate, format_confusion, load_checkpoint

    state = load_checkpoint(args.checkpoint)
    meta = state["meta"]
    minicnn.set_backend(_backend_choice(args.backend))
    model = models.get_model(meta["model"], **meta.get("model_kwargs", {}))
    model.load_state_dict(state["model"])
    dataset = args.dataset or meta.get("recipe", {}).get("dataset", "mnist")
    train_set, test_set, mean, std = _datasets(dataset, args.data_root, args.download)
    _, test_tf = _transforms(train_set, mean, std, "none")
    result = evaluate(model, DataLoader(test_set, 500, transform=test_tf))
    classes = list(getattr(test_set, "classes", [])) or None
    print(
        f"{meta['model']} (epoch {state['epoch']}) on {dataset} test set: accuracy "
        f"{100 * result['accuracy']:.2f}% ({result['samples']:,} images), loss {result['loss']:.4f}"
    )
    print(format_confusion(result["confusion"], classes))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in result.items()},
                indent=2,
            )
        )
    return 0


def _info(args: argparse.Namespace) -> int:
    import minicnn.nn.functional as F

    print(
        f"minicnn {minicnn.__version__}, Python {platform.python_version()}, NumPy {np.__version__}"
    )
    print(f"default backend: {minicnn.get_backend()}")
    for name in backend.BACKENDS:
        reason = minicnn.unavailable_reason(name)
        print(f"  {name:6s} {'available' if reason is None else 'unavailable: ' + reason}")
    print("gradcheck of conv2d (stride 2, padding 1, dilation 2, groups 2), float64:")
    for name in minicnn.available_backends():
        with minicnn.use_backend(name):
            minicnn.manual_seed(0)
            x = minicnn.randn(2, 4, 7, 6, dtype="float64", requires_grad=True)
            w = minicnn.randn(6, 2, 3, 2, dtype="float64", requires_grad=True)
            b = minicnn.randn(6, dtype="float64", requires_grad=True)
            t0 = time.perf_counter()
            ok = minicnn.gradcheck(
                lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, dilation=2, groups=2),
                (x, w, b),
            )
            print(f"  {name:6s} {'passed' if ok else 'FAILED'} ({time.perf_counter() - t0:.2f} s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from minicnn.models import MODELS

    parser = argparse.ArgumentParser(prog="python -m minicnn", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model (defaults: see RECIPES in minicnn/cli.py)")
    t.add_argument("model", nargs="?", default="lenet5", choices=sorted(MODELS))
    t.add_argument(
        "--dataset",
        choices=DATASETS,
        default=None,
        help="default: the model's recipe (lenet5: mnist, falling back to the "
        "embedded sample when MNIST is missing)",
    )
    t.add_argument("--epochs", type=int, default=None)
    t.add_argument("--batch-size", dest="batch_size", type=int, default=None)
    t.add_argument("--lr", type=float, default=None)
    t.add_argument("--momentum", type=float, default=None)
    t.add_argument("--weight-decay", dest="weight_decay", type=float, default=None)
    t.add_argument(
        "--schedule", choices=("none", "cosine", "step", "multistep", "onecycle"), default=None
    )
    t.add_argument("--warmup-epochs", dest="warmup_epochs", type=int, default=0)
    t.add_argument(
        "--augment",
        choices=("none", "crop", "flip", "crop-flip", "crop-flip-erase"),
        default=None,
        help="crop: random 32x32 crop with padding 4; flip: horizontal; erase: random erasing "
        "(p 0.5, noise fill) after normalisation",
    )
    t.add_argument(
        "--label-smoothing",
        dest="label_smoothing",
        type=_smoothing,
        default=None,
        help="training loss only: cross-entropy against (1 - s) one-hot + s / classes; the "
        "reported test loss stays plain cross-entropy",
    )
    t.add_argument("--variant", choices=("classic", "relu"), default=None, help="LeNet-5 only")
    t.add_argument(
        "--backend",
        choices=backend.BACKENDS,
        default=None,
        help="default: MINICNN_BACKEND, else numba when available, else numpy",
    )
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", default=None, help="default: runs/<model>")
    t.add_argument("--resume", action="store_true", help="continue from OUT/last.ckpt")
    t.add_argument(
        "--data-root",
        dest="data_root",
        default=None,
        help="default: MINICNN_DATA, else the user cache folder",
    )
    t.add_argument("--download", action="store_true", help="fetch missing data (checks MD5)")
    t.add_argument("--prefetch", type=int, default=2, help="batches prepared ahead in a thread")
    t.add_argument("--no-progress", dest="no_progress", action="store_true")
    t.set_defaults(func=_train)

    e = sub.add_parser("evaluate", help="accuracy and confusion matrix of a checkpoint")
    e.add_argument("checkpoint", help="a last.ckpt file or the run folder holding it")
    e.add_argument("--dataset", choices=DATASETS, default=None, help="default: the training set's")
    e.add_argument("--backend", choices=backend.BACKENDS, default=None)
    e.add_argument("--data-root", dest="data_root", default=None)
    e.add_argument("--download", action="store_true")
    e.add_argument("--json", default=None, help="also write the result to this JSON file")
    e.set_defaults(func=_evaluate)

    i = sub.add_parser("info", help="backends available here, and a gradient check")
    i.set_defaults(func=_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "out", "") is None:
        args.out = f"runs/{args.model}"
    return args.func(args)
