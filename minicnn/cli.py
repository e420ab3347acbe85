"""The command line: ``python -m minicnn <command>``.

- ``train MODEL``: train a model of the zoo on a dataset, with per-model default recipes, tqdm
  progress bars, a checkpoint every epoch and ``--resume``;
- ``evaluate CHECKPOINT``: accuracy and confusion matrix of a saved model on a test set;
- ``info``: the backends available here, and a finite-difference check of conv2d on each.

Mistakes a user can fix (missing data, a missing or damaged checkpoint, a bad flag value) are
printed as one or two lines naming the flags that fix them, without a traceback; ``--debug``
shows the traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import minicnn
from minicnn import backend
from minicnn.cli_data import (  # noqa: F401  (importable from here, as before)
    DATASETS,
    NAMES,
    UserError,
    _backend_choice,
    _datasets,
    _title,
    _transforms,
)
from minicnn.cli_train import RECIPES, _loss_fn, _train  # noqa: F401


def _bounded(convert: Any, low: float, high: float | None = None, low_open: bool = False) -> Any:
    """An argparse ``type`` that accepts finite ``convert(text)`` values from ``low`` (excluded
    when ``low_open``) up to ``high`` (excluded), with an error message that says so."""
    noun = "an integer" if convert is int else "a number"
    if high is not None:
        expected = f"{noun} in {'(' if low_open else '['}{low:g}, {high:g})"
    else:
        expected = f"{noun} {'>' if low_open else '>='} {low:g}"

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        ok = math.isfinite(value) and (value > low if low_open else value >= low)
        if not ok or (high is not None and value >= high):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
        return value

    return parse


_smoothing = _bounded(float, 0.0, 1.0)  # --label-smoothing: a number in [0, 1)


def _evaluate(args: argparse.Namespace) -> int:
    from minicnn import models
    from minicnn.data import DataLoader
    from minicnn.serialization import SerializationError
    from minicnn.training import evaluate, format_confusion, load_checkpoint

    try:
        state = load_checkpoint(args.checkpoint)
    except FileNotFoundError:
        raise UserError(
            f"no checkpoint at {args.checkpoint}: give a last.ckpt file or the run folder (--out "
            f"of train) holding one"
        ) from None
    except SerializationError as e:
        raise UserError(str(e)) from e
    meta = state["meta"]
    minicnn.set_backend(_backend_choice(args.backend))
    model = models.get_model(meta["model"], **meta.get("model_kwargs", {}))
    model.load_state_dict(state["model"])
    dataset = args.dataset or meta.get("recipe", {}).get("dataset", "mnist")
    train_set, test_set, mean, std = _datasets(dataset, args.data_root, args.download)
    _, test_tf = _transforms(train_set, mean, std, "none")
    result = evaluate(model, DataLoader(test_set, 500, transform=test_tf))
    print(
        f"{meta['model']} (epoch {state['epoch']}) on the {_title(dataset, test_set)} test set: accuracy "
        f"{100 * result['accuracy']:.2f}% ({result['samples']:,} images), loss {result['loss']:.4f}"
    )
    classes = list(getattr(test_set, "classes", [])) or None
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


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad flag gives two lines (the error, where help is) instead of the
    whole usage text."""

    def error(self, message: str) -> Any:
        self.exit(2, f"{self.prog}: error: {message}\n(see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from minicnn.models import MODELS

    debug = _Parser(add_help=False)
    debug.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback of an error",
    )
    parser = _Parser(prog="python -m minicnn", description=__doc__.split("\n")[0], parents=[debug])
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser(
        "train",
        help="train a model (defaults: see RECIPES in minicnn/cli_train.py)",
        parents=[debug],
    )
    t.add_argument("model", nargs="?", default="lenet5", choices=sorted(MODELS))
    t.add_argument(
        "--dataset",
        choices=DATASETS,
        default=None,
        help="default: the model's recipe (lenet5: mnist, falling back to the "
        "embedded sample when MNIST is missing)",
    )
    t.add_argument("--epochs", type=_bounded(int, 1), default=None)
    t.add_argument("--batch-size", dest="batch_size", type=_bounded(int, 1), default=None)
    t.add_argument("--lr", type=_bounded(float, 0, low_open=True), default=None)
    t.add_argument("--momentum", type=_bounded(float, 0, 1), default=None)
    t.add_argument("--weight-decay", dest="weight_decay", type=_bounded(float, 0), default=None)
    t.add_argument(
        "--schedule", choices=("none", "cosine", "step", "multistep", "onecycle"), default=None
    )
    t.add_argument("--warmup-epochs", dest="warmup_epochs", type=_bounded(int, 0), default=0)
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
    t.add_argument("--seed", type=_bounded(int, 0), default=0)
    t.add_argument("--out", default=None, help="default: runs/<model>")
    t.add_argument("--resume", action="store_true", help="continue from OUT/last.ckpt")
    t.add_argument(
        "--data-root",
        dest="data_root",
        default=None,
        help="default: MINICNN_DATA, else the user cache folder",
    )
    t.add_argument("--download", action="store_true", help="fetch missing data (checks MD5)")
    t.add_argument(
        "--prefetch", type=_bounded(int, 0), default=2, help="batches prepared ahead in a thread"
    )
    t.add_argument("--no-progress", dest="no_progress", action="store_true")
    t.set_defaults(func=_train)

    e = sub.add_parser(
        "evaluate", help="accuracy and confusion matrix of a checkpoint", parents=[debug]
    )
    e.add_argument("checkpoint", help="a last.ckpt file or the run folder holding it")
    e.add_argument("--dataset", choices=DATASETS, default=None, help="default: the training set's")
    e.add_argument("--backend", choices=backend.BACKENDS, default=None)
    e.add_argument("--data-root", dest="data_root", default=None)
    e.add_argument("--download", action="store_true")
    e.add_argument("--json", default=None, help="also write the result to this JSON file")
    e.set_defaults(func=_evaluate)

    i = sub.add_parser(
        "info", help="backends available here, and a gradient check", parents=[debug]
    )
    i.set_defaults(func=_info)

    from minicnn import cli_viz

    cli_viz.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "out", "") is None:
        args.out = f"runs/{args.model}"
    try:
        return args.func(args)
    except UserError as e:
        if getattr(args, "debug", False):
            raise
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if getattr(args, "debug", False):
            raise
        print("interrupted", file=sys.stderr)
        return 130
