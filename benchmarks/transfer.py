"""Transfer learning from a LeNet-5 trained on MNIST digits 0-4, measured.

    python -m benchmarks.transfer [--resume] [--seeds 0 1 2] [--backend numba] [--out DIR]

Two studies, each cell trained from its seed and recorded in ``DIR/cells.jsonl`` as it
finishes, so an interrupted run continues with ``--resume`` (finished cells are skipped):

- **The classic protocol** (Keras' ``mnist_transfer_cnn``): freeze the convolutional layers of
  the 0-4 network and train its dense layers (a new last layer, the other two from the source)
  on digits 5-9, labelled 0-4, shifted by up to 2 pixels (:data:`CLASSIC`); test on the 4,861
  test digits 5-9.
- **A label budget**: targets digits 5-9 (near the source) and Fashion-MNIST (far from it);
  10, 100 and all labels per class, drawn by the seed; arms ``scratch`` (a fresh LeNet-5),
  ``embeddings`` (the frozen network's 84 penultimate features and a new linear head),
  ``embeddings-conv`` (the same on the 400 outputs of the frozen convolutional layers),
  ``finetune`` (a new head at lr, the whole body at lr / 10), and 1-nearest-neighbour on those
  embeddings or on the raw pixels, cosine and euclidean.

Every image is padded to 32x32 and normalised with MNIST's mean and std (what the source
network saw), for every arm. In the label-budget study frozen parts run once: their outputs
are computed once per data set and the head trains on them, which is the same computation,
minus the waste. Training: SGD at lr :data:`LR` (the fine-tuned body at a tenth of it),
Nesterov momentum 0.9, weight decay 5e-4, cosine decay per step, batch 64 (32 for 10 labels per
class), no augmentation; epochs capped by budget (:data:`EPOCHS`). Writes ``transfer.json``
(means and sample stds), ``summary.md`` and ``label-budget.png`` from all recorded cells.

The source network is the shipped ``models.lenet5(weights="mnist-0-4")``; its accuracy on the
test digits 0-4 is measured again and recorded in ``DIR/source.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

from benchmarks.common import RESULTS, machine_info

OUT = RESULTS / "transfer"
EPOCHS = {10: 100, 100: 30, "all": 5}  # per labels-per-class budget
# Keras' example trains 5 epochs; LeNet-5's 6 and 16 filters (Keras' net has 32 and 32) need
# more, and shifted copies of the digits: 5 epochs without them give 98.87-98.95%.
CLASSIC = {"epochs": 20, "lr": 0.05, "augment": "random crop 32, padding 2"}
BUDGETS = (10, 100, "all")
TARGETS = ("digits5-9", "fashion")
TRAINED_ARMS = ("scratch", "embeddings", "embeddings-conv", "finetune")
KNN_ARMS = (
    "knn-emb-cosine",
    "knn-emb-euclidean",
    "knn-conv-cosine",
    "knn-pixels-cosine",
    "knn-pixels-euclidean",
)
# Embeddings: "emb", the 84 penultimate features (the ReLU after the 84-unit layer), and
# "conv", the 400 outputs of the convolutional body (16 x 5 x 5, flattened).
EMBEDDINGS = {"emb": "classifier.4", "conv": "features"}
HEAD = "classifier.5"
LR = 0.02  # 0.05 collapsed one seed in six of the scratch arm at 10 labels per class


def load_images(name: str, train: bool, digits: tuple[int, ...] | None = None):
    """(x, y, pixels): x (N, 1, 32, 32) float32 padded and normalised with MNIST's statistics,
    y (N,) labels (digits relabelled from 0), pixels (N, 784) in [0, 1] for kNN."""
    from minicnn import data

    ds = data.MNIST(train=train) if name == "mnist" else data.FashionMNIST(train=train)
    images, labels = ds.data, ds.targets
    if digits is not None:
        keep = np.isin(labels, digits)
        images, labels = images[keep], labels[keep] - min(digits)
    pixels = images.reshape(len(images), -1).astype(np.float32) / 255  # (N, 784)
    x = np.pad(images[:, :, :, :].astype(np.float32) / 255, ((0, 0), (0, 0), (2, 2), (2, 2)))
    x = (x - data.MNIST_MEAN) / data.MNIST_STD  # (N, 1, 32, 32)
    return x.astype(np.float32), labels.astype(np.int64), pixels


def train(
    model,
    groups,
    x,
    y,
    epochs: int,
    seed: int,
    batch_size: int = 64,
    lr: float = LR,
    augment=None,
    frozen=None,
) -> int:
    """SGD with Nesterov momentum over (x, y) arrays, each group's lr decayed by a cosine per
    step; ``augment(batch, rng)`` transforms each batch; module ``frozen`` stays in eval mode.
    Returns the number of steps."""
    import minicnn
    from minicnn import optim
    from minicnn.nn import functional as F

    opt = optim.SGD(groups, lr=lr, momentum=0.9, weight_decay=5e-4, nesterov=True)
    base = [g["lr"] for g in opt.param_groups]
    rng = np.random.default_rng(seed + 1000)
    steps_per_epoch = math.ceil(len(x) / batch_size)
    total, step = epochs * steps_per_epoch, 0
    model.train()
    if frozen is not None:
        frozen.eval()
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for b in range(steps_per_epoch):
            idx = order[b * batch_size : (b + 1) * batch_size]
            for g, lr in zip(opt.param_groups, base):
                g["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / total))
            batch = x[idx] if augment is None else augment(x[idx], rng)
            opt.zero_grad()
            loss = F.cross_entropy(model(minicnn.tensor(batch)), minicnn.tensor(y[idx]))
            loss.backward()
            opt.step()
            step += 1
    return step


def accuracy(model, x, y, batch_size: int = 1000) -> float:
    from minicnn.transfer import features

    logits = features(model, x, batch_size=batch_size)  # eval mode, no_grad
    return float((logits.argmax(axis=1) == y).mean())


def source_network():
    """The shipped LeNet-5 trained on MNIST digits 0-4, ``models.lenet5(weights="mnist-0-4")``,
    and a record of it: its file's hash and its accuracy on the test digits 0-4 as measured here."""
    from minicnn import models
    from minicnn.models.weights import get_weights

    entry = get_weights("lenet5", "mnist-0-4")
    model = models.lenet5(weights="mnist-0-4")
    xt, yt, _ = load_images("mnist", False, (0, 1, 2, 3, 4))
    info = {
        "what": 'models.lenet5(weights="mnist-0-4"): LeNet-5 (ReLU, max pool), 5 outputs, '
        "trained on MNIST train digits 0-4",
        "file": entry.file,
        "sha256": entry.sha256,
        "test_accuracy_digits0-4": accuracy(model, xt, yt),
        "test_images": len(xt),
    }
    return model, info


def subset(y: np.ndarray, per_class, seed: int) -> np.ndarray:
    """Indices of ``per_class`` random examples of each class (all of them for "all")."""
    if per_class == "all":
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    idx = [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in np.unique(y)]
    return np.sort(np.concatenate(idx))


def copy_of(source):
    from minicnn import models

    model = models.lenet5(num_classes=5)
    model.load_state_dict(source.state_dict())
    return model


def run_classic(source, seed: int) -> dict:
    """Frozen conv layers, the dense layers trained on digits 5-9; accuracy on test 5-9."""
    import minicnn
    from minicnn.data import MNIST_MEAN, MNIST_STD, RandomCrop
    from minicnn.transfer import freeze, replace_head

    x, y, _ = load_images("mnist", True, (5, 6, 7, 8, 9))
    xt, yt, _ = load_images("mnist", False, (5, 6, 7, 8, 9))
    minicnn.manual_seed(seed)
    model = copy_of(source)
    replace_head(model, HEAD, 5)
    freeze(model.features)  # the conv layers: no gradients, eval mode
    before = [p.numpy().copy() for p in model.features.parameters()]
    crop = RandomCrop(32, padding=2, fill=-MNIST_MEAN[0] / MNIST_STD[0])  # pad with background
    dense = model.classifier.parameters()  # 400 -> 120 -> 84 -> 5: what trains
    r = CLASSIC
    steps = train(
        model, dense, x, y, r["epochs"], seed, lr=r["lr"], augment=crop, frozen=model.features
    )
    unchanged = all(
        np.array_equal(a, p.numpy()) for a, p in zip(before, model.features.parameters())
    )
    return {
        "accuracy": accuracy(model, xt, yt),
        "steps": steps,
        "train_images": len(x),
        "test_images": len(xt),
        "conv_unchanged": unchanged,
    }


def run_budget_cell(
    source, data: dict, target: str, budget, seed: int, skip: frozenset = frozenset()
) -> dict[str, dict]:
    """The arms of one (target, budget, seed) cell not in ``skip``: {arm: {"accuracy": ...}}.
    Each arm seeds itself, so an arm run alone gives what it gives among the others."""
    import minicnn
    from minicnn import models
    from minicnn.transfer import KNN, param_groups, replace_head

    d = data[target]
    idx = subset(d["y"], budget, seed)
    x, y, classes = d["x"][idx], d["y"][idx], int(d["y"].max()) + 1
    epochs, batch = EPOCHS[budget], 32 if budget == 10 else 64
    out = {}

    if "scratch" not in skip:
        t0 = time.time()
        minicnn.manual_seed(seed)
        scratch = models.lenet5(num_classes=classes)
        steps = train(scratch, scratch.parameters(), x, y, epochs, seed, batch)
        out["scratch"] = {"accuracy": accuracy(scratch, d["xt"], d["yt"]), "steps": steps}
        out["scratch"]["seconds"] = round(time.time() - t0, 1)

    for arm, kind in (("embeddings", "emb"), ("embeddings-conv", "conv")):
        if arm in skip:
            continue
        t0 = time.time()
        minicnn.manual_seed(seed)
        head = minicnn.nn.Linear(d[kind].shape[1], classes)
        steps = train(head, head.parameters(), d[kind][idx], y, epochs, seed, batch)
        out[arm] = {"accuracy": accuracy(head, d[kind + "_test"], d["yt"]), "steps": steps}
        out[arm]["seconds"] = round(time.time() - t0, 1)

    if "finetune" not in skip:
        t0 = time.time()
        minicnn.manual_seed(seed)
        tuned = copy_of(source)
        replace_head(tuned, HEAD, classes)
        groups = param_groups(tuned, HEAD, lr=LR, body_lr=LR / 10)
        steps = train(tuned, groups, x, y, epochs, seed, batch)
        out["finetune"] = {"accuracy": accuracy(tuned, d["xt"], d["yt"]), "steps": steps}
        out["finetune"]["seconds"] = round(time.time() - t0, 1)

    for arm in KNN_ARMS:
        if arm in skip:
            continue
        t0 = time.time()
        _, kind, metric = arm.split("-")
        knn = KNN(1, metric).fit(d[kind][idx], y)
        acc = knn.score(d[kind + "_test"], d["yt"])
        out[arm] = {"accuracy": acc, "seconds": round(time.time() - t0, 1)}
    for arm in out:
        out[arm]["train_images"] = len(idx)
    return out


def target_data(source) -> dict:
    """Images, labels, pixels and the source's embeddings of each target, train and test."""
    from minicnn.transfer import features

    out = {}
    for target in TARGETS:
        name, digits = ("mnist", (5, 6, 7, 8, 9)) if target == "digits5-9" else ("fashion", None)
        x, y, pixels = load_images(name, True, digits)
        xt, yt, pixels_test = load_images(name, False, digits)
        out[target] = dict(x=x, y=y, pixels=pixels, xt=xt, yt=yt, pixels_test=pixels_test)
        for kind, layer in EMBEDDINGS.items():  # (N, 84) and (N, 400)
            out[target][kind] = features(source, x, layer, batch_size=1000)
            out[target][kind + "_test"] = features(source, xt, layer, batch_size=1000)
    return out


def summarise(cells: list[dict], source_info: dict, args) -> dict:
    """Mean and sample std of every (part, target, budget, arm) over its seeds."""
    groups: dict[tuple, list] = {}
    for c in cells:
        key = (c["part"], c.get("target"), c.get("budget"), c["arm"])
        groups.setdefault(key, []).append(c)
    rows = []
    for (part, target, budget, arm), cs in sorted(groups.items(), key=str):
        accs = [c["accuracy"] for c in sorted(cs, key=lambda c: c["seed"])]
        rows.append(
            {
                "part": part,
                "target": target,
                "budget": budget,
                "arm": arm,
                "seeds": sorted(c["seed"] for c in cs),
                "accuracies": accs,
                "mean": float(np.mean(accs)),
                "std": float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0,
            }
        )
    return {
        "command": "python -m benchmarks.transfer --resume",
        "backend": args.backend,
        "source": source_info,
        "epochs_per_budget": {str(k): v for k, v in EPOCHS.items()},
        "classic": CLASSIC,
        "lr": LR,
        "finetune_body_lr": LR / 10,
        "embedding_layers": EMBEDDINGS,
        "rows": rows,
        "machine": machine_info(),
    }


def write_summary(summary: dict, out: Path) -> None:
    from benchmarks.transfer_report import markdown, plot

    (out / "transfer.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "summary.md").write_text(markdown(summary))
    plot(summary, out / "label-budget.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--resume", action="store_true", help="skip cells already recorded")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--backend", default="numba")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--part", choices=("classic", "budget", "all"), default="all")
    parser.add_argument("--report-only", action="store_true", help="rewrite the summary only")
    args = parser.parse_args()

    import minicnn

    minicnn.set_backend(args.backend)
    args.out.mkdir(parents=True, exist_ok=True)
    cells_path = args.out / "cells.jsonl"
    cells = []
    if args.resume and cells_path.is_file():
        cells = [json.loads(line) for line in cells_path.read_text().splitlines() if line]
    elif not args.report_only:
        cells_path.write_text("")
    done = {(c["part"], c.get("target"), c.get("budget"), c["arm"], c["seed"]) for c in cells}

    def record(cell: dict) -> None:
        cells.append(cell)
        with open(cells_path, "a") as f:
            f.write(json.dumps(cell) + "\n")

    if args.report_only:
        write_summary(
            summarise(cells, json.loads((args.out / "source.json").read_text()), args), args.out
        )
        return
    source, source_info = source_network()
    (args.out / "source.json").write_text(json.dumps(source_info, indent=2) + "\n")
    print(f"source: {source_info['test_accuracy_digits0-4']:.4%} on test digits 0-4", flush=True)
    for seed in args.seeds if args.part in ("classic", "all") else []:
        if ("classic", None, None, "frozen-conv", seed) in done:
            continue
        t0 = time.time()
        result = run_classic(source, seed)
        result.update(
            part="classic", arm="frozen-conv", seed=seed, seconds=round(time.time() - t0, 1)
        )
        record(result)
        print(f"classic seed {seed}: {result['accuracy']:.4%} on test digits 5-9", flush=True)

    data = None
    for budget in BUDGETS if args.part in ("budget", "all") else []:
        for target in TARGETS:
            for seed in args.seeds:
                arms = TRAINED_ARMS + KNN_ARMS
                skip = frozenset(a for a in arms if ("budget", target, budget, a, seed) in done)
                if len(skip) == len(arms):
                    continue
                data = data or target_data(source)
                results = run_budget_cell(source, data, target, budget, seed, skip)
                line = []
                for arm, r in results.items():
                    r.update(part="budget", target=target, budget=budget, arm=arm, seed=seed)
                    record(r)
                    line.append(f"{arm} {r['accuracy']:.2%}")
                print(f"{target} {budget}/class seed {seed}: " + ", ".join(line), flush=True)
    write_summary(summarise(cells, source_info, args), args.out)


if __name__ == "__main__":
    main()
