"""``python -m minicnn viz ...``: pictures of a trained network, written as PNG files.

    python -m minicnn viz filters --weights mnist
    python -m minicnn viz activations --weights mnist --index 3
    python -m minicnn viz saliency --weights mnist --index 3 --method all
    python -m minicnn viz class-model --weights mnist --steps 200
    python -m minicnn viz invert --weights mnist --layer features.3
    python -m minicnn viz layers --weights mnist        # the layer names the others accept

Images come from the test set the weights were measured on: the full set from ``--data-root``
(default ``MINICNN_DATA``) when present, else the embedded MNIST sample. ``--model`` (default
``lenet5``) names the architecture, ``--weights`` a registered name or an ``.npz`` path.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

import minicnn
from minicnn import backend

COMMANDS = ("filters", "activations", "saliency", "class-model", "invert", "layers")
METHODS = ("vanilla", "smoothgrad", "integrated-gradients", "grad-cam", "occlusion")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``viz`` command to ``subparsers`` (from ``parser.add_subparsers()``)."""
    v = subparsers.add_parser("viz", help="pictures of a trained network (filters, saliency, ...)")
    sub = v.add_subparsers(dest="viz_command", required=True)
    helps = {
        "filters": "the filters of a convolution",
        "activations": "activation maps of one test image at several layers",
        "saliency": "saliency maps of one test image",
        "class-model": "images that maximise each class score",
        "invert": "reconstruct a test image from its features at a layer",
        "layers": "list the layer names of the model",
    }
    for name in COMMANDS:
        p = sub.add_parser(name, help=helps[name])
        p.add_argument("--model", default="lenet5", help="architecture (default lenet5)")
        p.add_argument(
            "--weights", default="mnist", help="registered name or .npz path (default mnist)"
        )
        p.add_argument("--backend", choices=backend.BACKENDS, default=None)
        p.add_argument("--out", default="", help=f"PNG to write (default viz-{name}.png)")
        p.add_argument("--data-root", dest="data_root", default=None)
        p.add_argument("--index", type=int, default=0, help="test image index (default 0)")
        p.add_argument("--layer", default=None, help="layer name (see 'viz layers')")
    sub.choices["activations"].add_argument("--layers", nargs="+", default=None)
    s = sub.choices["saliency"]
    s.add_argument("--method", choices=(*METHODS, "all"), default="all")
    s.add_argument("--target", type=int, default=None, help="class (default: the true label)")
    c = sub.choices["class-model"]
    c.add_argument("--classes", type=int, nargs="+", default=None, help="default: all")
    c.add_argument("--steps", type=int, default=200)
    sub.choices["invert"].add_argument("--steps", type=int, default=300)
    v.set_defaults(func=run)
    return v


def _load(args: argparse.Namespace) -> tuple[Any, Any]:
    """(model in eval mode, registry entry or None)."""
    from minicnn import models
    from minicnn.models import weights as W

    if args.model not in models.MODELS:
        raise ValueError(f"--model: expected one of {sorted(models.MODELS)}, got {args.model!r}")
    name = args.backend or ("numba" if minicnn.unavailable_reason("numba") is None else "numpy")
    minicnn.set_backend(name)
    try:
        model = models.get_model(args.model, weights=args.weights).eval()
    except TypeError:
        raise ValueError(
            f"--weights: {args.model} takes no weights; shipped: {', '.join(W.list_weights())}"
        ) from None
    entry = W.REGISTRY.get(args.model, {}).get(args.weights)
    return model, entry


def _image(args: argparse.Namespace, entry: Any) -> tuple[np.ndarray, int, str]:
    """(model input (1, C, 32, 32), label, description) of test image ``--index``."""
    from minicnn.data import DatasetNotFoundError
    from minicnn.models import weights as W

    if entry is None:  # weights from a file: assume MNIST digits
        entry = W.get_weights("lenet5", "mnist")
    try:
        ds, where = entry.test_set_of(args.data_root), "test set"
    except DatasetNotFoundError:
        ds, where = entry.test_set_of(sample=True), "embedded test sample"
    if not 0 <= args.index < len(ds):
        raise ValueError(f"--index: expected 0..{len(ds) - 1}, got {args.index}")
    label = int(ds.targets[args.index])
    x = entry.preprocess(ds.data[args.index : args.index + 1])
    return x, label, f"{where} image {args.index} (label {entry.classes[label]})"


def _last_conv(model: Any) -> str:
    names = [n for n, m in model.named_modules() if hasattr(m, "kernel_size") and n]
    return names[-1]


def _figure(args: argparse.Namespace, model: Any, entry: Any) -> Any:
    from minicnn import viz

    cmd = args.viz_command
    if cmd == "filters":
        layer = args.layer or next(n for n, m in model.named_modules() if hasattr(m, "kernel_size"))
        return viz.plot_filters(model, layer)
    x, label, what = _image(args, entry)
    unnorm = entry.unnormalize if entry is not None else (lambda a: a)
    if cmd == "activations":
        layers = (
            args.layers
            or [n for n, m in model.named_modules() if type(m).__name__ == "ReLU" and n][:2]
        )
        return viz.plot_activations(viz.activations(model, x, layers), title=what)
    if cmd == "saliency":
        target = label if args.target is None else args.target
        methods = METHODS if args.method == "all" else (args.method,)
        layer = args.layer or _last_conv(model)
        black = entry.preprocess(np.zeros((1, 1, 28, 28), np.uint8)) if entry else None
        compute = {
            "vanilla": lambda: viz.saliency(model, x, target),
            "smoothgrad": lambda: viz.smoothgrad(model, x, target),
            "integrated-gradients": lambda: viz.integrated_gradients(
                model, x, target, baseline=black
            ).sum(axis=1),
            "grad-cam": lambda: viz.grad_cam(model, x, target, layer),
            "occlusion": lambda: viz.occlusion(
                model, x, target, fill=float(black.min()) if black is not None else 0.0
            ),
        }
        maps = {m: compute[m]()[0] for m in methods}
        return viz.plot_saliency(unnorm(x[0]), maps, title=f"class {target}: {what}")
    if cmd == "class-model":
        classes = args.classes if args.classes is not None else list(range(_outputs(model, x)))
        result = viz.class_model(model, classes, shape=x.shape[1:], steps=args.steps)
        return viz.plot_images(
            unnorm(result.image),
            titles=[f"class {c}" for c in classes],
            labels=[f"p = {p:.3f}" for p in result.probability],
            title=f"class models, {args.steps} steps of gradient ascent",
        )
    # invert
    layer = args.layer or _last_conv(model)
    inv = viz.invert(model, x, layer, steps=args.steps)
    return viz.plot_images(
        [unnorm(x[0]), unnorm(inv.image[0])],
        titles=["input", f"from {layer}"],
        labels=[what.split(" (")[0], f"feature error {inv.feature_error[0]:.3f}"],
        title=f"inversion from {layer}",
        scale="shared",
    )


def _outputs(model: Any, x: np.ndarray) -> int:
    from minicnn import viz

    with viz.inspecting(model), minicnn.no_grad():
        return int(model(minicnn.tensor(x, backend=viz.core.model_backend(model)[0])).shape[1])


def run(args: argparse.Namespace) -> int:
    """Run ``viz <command>`` with parsed ``args``; returns the exit status."""
    try:
        model, entry = _load(args)
        if args.viz_command == "layers":
            for name, m in model.named_modules():
                if name:
                    print(f"{name:24s} {type(m).__name__}")
            return 0
        fig = _figure(args, model, entry)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = Path(args.out or f"viz-{args.viz_command}.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")
    return 0
