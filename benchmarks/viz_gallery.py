"""A picture for every ``minicnn.viz`` method, from the shipped checkpoints.

    python -m benchmarks.viz_gallery [--backend numba] [--out benchmarks/results/viz]

Writes small PNGs (and ``gallery.json``, the numbers printed in their titles) for LeNet-5
(``weights="mnist"``) on digits of the embedded test sample: first- and second-layer filters,
activation maps, five saliency methods, the model-randomisation check, class models,
max-filter images, fooling images, inversion from every depth; and, when its checkpoint is
installed and Fashion-MNIST is in ``MINICNN_DATA``, ResNet-20's first filters and Grad-CAM.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

import minicnn as mc
from benchmarks.common import RESULTS, machine_info
from minicnn import data, models, viz

DIGITS = (3, 1, 0, 4)  # sample indices of a 0, a 2, a 7 and a 4: varied shapes


def _save(fig: Any, out: Path, name: str, log: dict[str, Any]) -> None:
    path = out / f"{name}.png"
    fig.savefig(path, dpi=90)
    log.setdefault("files", []).append(path.name)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)", flush=True)


def lenet_gallery(out: Path, log: dict[str, Any]) -> None:
    entry = models.get_weights("lenet5", "mnist")
    model = models.lenet5(weights="mnist").eval()
    ds = data.MNISTSample(train=False)
    batch = entry.preprocess(ds.data[:100])  # (100, 1, 32, 32)
    labels = ds.targets[:100]
    idx = list(DIGITS)
    x, y = batch[idx], labels[idx]
    pixels = entry.unnormalize(x)  # (4, 1, 32, 32) in [0, 1]
    black = entry.preprocess(np.zeros((1, 1, 28, 28), np.uint8))
    bg = float(black.min())

    _save(
        viz.plot_filters(model, "features.0", "LeNet-5 conv1: 6 filters 5x5"),
        out,
        "filters-conv1",
        log,
    )
    _save(viz.plot_filters(model, "features.3", "LeNet-5 conv2: 16 filters x 6 input channels"), out, "filters-conv2", log)  # fmt: skip

    acts = viz.activations(
        model, batch, ["features.1", "features.4", "classifier.2", "classifier.4"]
    )
    log["zero_channels_over_100_digits"] = viz.zero_channels(acts)
    fig = viz.plot_activations(
        {k: acts[k] for k in ("features.1", "features.4")},
        index=idx[0],
        title=f"activation maps after each ReLU, test digit {labels[idx[0]]}",
    )
    _save(fig, out, "activations", log)

    t0 = time.perf_counter()
    maps = {
        "vanilla |dS/dx|": viz.saliency(model, x, y),
        "SmoothGrad": viz.smoothgrad(model, x, y),
        "integrated gradients": viz.integrated_gradients(model, x, y, baseline=black).sum(1),
        "Grad-CAM (conv2 ReLU)": viz.grad_cam(model, x, y, "features.4"),
        "occlusion 6x6": viz.occlusion(model, x, y, fill=bg),
    }
    log["saliency_seconds"] = time.perf_counter() - t0
    fig = viz.plot_saliency(
        pixels,
        maps,
        title="saliency of the true class score",
        image_labels=[f"digit {d}" for d in y],
    )
    _save(fig, out, "saliency", log)

    random_net = copy.deepcopy(model)
    mc.manual_seed(1)
    for m in random_net.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    fig = viz.plot_saliency(
        pixels,
        {
            "trained LeNet-5": maps["vanilla |dS/dx|"],
            "re-initialised": viz.saliency(random_net, x, y),
        },
        title="model randomisation (Adebayo et al.): vanilla saliency",
        image_labels=[f"digit {d}" for d in y],
    )
    _save(fig, out, "randomisation", log)

    t0 = time.perf_counter()
    cm = viz.class_model(model, list(range(10)), steps=200, clamp=(bg, float(entry.preprocess(np.full((1, 1, 28, 28), 255, np.uint8)).max())))  # fmt: skip
    log["class_model_seconds"] = time.perf_counter() - t0
    log["class_model_probability"] = cm.probability.tolist()
    fig = viz.plot_images(
        entry.unnormalize(cm.image),
        titles=[f"class {c}" for c in range(10)],
        labels=[f"p = {p:.3f}" for p in cm.probability],
        title="class models: 200 steps of ascent on S_c(I) - 0.005 ||I||^2, pixels clamped to [0, 1]",
        cols=5,
    )
    _save(fig, out, "class-models", log)

    mf = [viz.max_filter(model, "features.3", c, steps=100) for c in range(16)]
    log["max_filter_rises_every_step"] = all(
        bool((np.diff(r.objective[:, 0]) > 0).all()) for r in mf
    )
    fig = viz.plot_images(
        [r.image[0] for r in mf],
        titles=[f"channel {c}" for c in range(16)],
        labels=[f"J {r.objective[0, 0]:.2f} -> {r.objective[-1, 0]:.2f}" for r in mf],
        title="max-filter images: the input that most excites each conv2 channel (mean activation)",
        cols=8,
    )
    _save(fig, out, "max-filter-conv2", log)
    fig = viz.plot_curves(
        {f"channel {c}": mf[c].objective[:, 0] for c in (0, 5, 10, 15)},
        "step", "objective J (mean activation - l2 ||I||^2)", "max-filter: J rises at every step",
    )  # fmt: skip
    _save(fig, out, "max-filter-objective", log)

    targets = (y + 5) % 10
    fool = viz.fooling_image(model, x, targets, steps=100)
    change = np.linalg.norm((fool.image - x).reshape(len(x), -1), axis=1) / np.linalg.norm(
        x.reshape(len(x), -1), axis=1
    )
    log["fooling"] = {"fooled": fool.fooled.tolist(), "steps": fool.steps.tolist(), "relative_change": change.tolist()}  # fmt: skip
    diff = fool.image - x
    fig = viz.plot_images(
        [*pixels, *entry.unnormalize(fool.image), *diff],
        titles=[f"digit {d}" for d in y] + [f"-> {t}" for t in targets] + ["difference"] * len(x),
        labels=["original"] * len(x)
        + [f"p({t}) = {p:.2f}" for t, p in zip(targets, fool.probability)]
        + [f"|change| {c:.0%} of |x|" for c in change],
        title="fooling images: normalised gradient steps until the class flips",
        cols=len(x),
    )
    _save(fig, out, "fooling", log)

    layers = ["features.0", "features.2", "features.3", "features.5", "classifier.1", "classifier.3", "classifier.5"]  # fmt: skip
    names = ["conv1", "pool1", "conv2", "pool2", "fc1", "fc2", "logits"]
    invs, errs = [], {}
    t0 = time.perf_counter()
    for layer, name in zip(layers, names):
        inv = viz.invert(model, x[:1], layer, steps=300)
        pix = float(np.linalg.norm(inv.image - x[:1]) / np.linalg.norm(x[:1]))
        invs.append(inv)
        errs[name] = {"feature_error": float(inv.feature_error[0]), "pixel_error": pix}
    log["inversion_seconds"] = time.perf_counter() - t0
    log["inversion"] = errs
    fig = viz.plot_images(
        [pixels[0], *[entry.unnormalize(i.image[0]) for i in invs]],
        titles=["input", *names],
        labels=["digit"] + [f"feat {e['feature_error']:.2f} pix {e['pixel_error']:.2f}" for e in errs.values()],
        title="inversion (Mahendran & Vedaldi): an image whose features match, from each depth",
        cols=8,
    )  # fmt: skip
    _save(fig, out, "inversion", log)


def resnet_gallery(out: Path, log: dict[str, Any]) -> None:
    entry = models.get_weights("resnet20", "fashion-mnist")
    if not entry.path().is_file():
        log["resnet20"] = "checkpoint not built"
        return
    model = models.resnet20(weights="fashion-mnist").eval()
    _save(
        viz.plot_filters(model, "conv1", "ResNet-20 conv1: 16 filters 3x3"),
        out,
        "resnet20-filters",
        log,
    )
    try:
        test = entry.test_set_of()
    except data.DatasetNotFoundError:
        log["resnet20"] = "Fashion-MNIST absent: Grad-CAM skipped"
        return
    idx = [0, 1, 2, 3]
    x, y = entry.preprocess(test.data[idx]), test.targets[idx]
    maps = {
        f"Grad-CAM {layer}": viz.grad_cam(model, x, y, layer) for layer in ("layers.5", "layers.8")
    }
    maps["vanilla |dS/dx|"] = viz.saliency(model, x, y)
    fig = viz.plot_saliency(
        entry.unnormalize(x), maps, title="ResNet-20 on Fashion-MNIST: where the class evidence is",
        image_labels=[entry.classes[int(c)] for c in y],
    )  # fmt: skip
    _save(fig, out, "resnet20-gradcam", log)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backend", default="numba" if "numba" in mc.available_backends() else "numpy")
    p.add_argument("--out", default=str(RESULTS / "viz"))
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log: dict[str, Any] = {"backend": args.backend}
    with mc.use_backend(args.backend):
        mc.manual_seed(0)
        lenet_gallery(out, log)
        resnet_gallery(out, log)
    log["machine"] = machine_info()
    (out / "gallery.json").write_text(json.dumps(log, indent=2, default=float) + "\n")
    print(f"wrote {out / 'gallery.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
