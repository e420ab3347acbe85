"""``python -m minicnn train``: the default recipes, the run they build, and ``--resume``."""

from __future__ import annotations

import argparse
import functools
import json
import platform
import sys
from pathlib import Path
from typing import Any

import minicnn
from minicnn.cli_data import (
    UserError,
    _backend_choice,
    _datasets,
    _label,
    _title,
    _transforms,
)

# Default recipes: the ones the records in experiments/records were made with.
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


def _loss_fn(model: str, label_smoothing: float) -> Any:
    """The training loss: the model's own (``googlenet_loss``) or cross-entropy, with
    ``label_smoothing`` when it is not 0."""
    from minicnn import models

    loss = getattr(models, f"{model}_loss", minicnn.cross_entropy)
    return functools.partial(loss, label_smoothing=label_smoothing) if label_smoothing else loss


def _train(args: argparse.Namespace) -> int:
    from minicnn import models, optim
    from minicnn.data import DataLoader
    from minicnn.serialization import SerializationError
    from minicnn.training import ResumeError, TrainingDiverged, fit

    recipe = {**RECIPES.get(args.model, RECIPES["lenet5"])}
    for key in recipe:
        if getattr(args, key, None) is not None:
            recipe[key] = getattr(args, key)
    if args.warmup_epochs >= recipe["epochs"] and args.warmup_epochs > 0:
        raise UserError(
            f"--warmup-epochs {args.warmup_epochs} leaves no epoch of the main schedule in "
            f"{recipe['epochs']} epochs; give fewer warm-up epochs or more --epochs"
        )
    name = _backend_choice(args.backend)
    minicnn.set_backend(name)
    minicnn.manual_seed(args.seed)
    train_set, test_set, mean, std = _datasets(recipe["dataset"], args.data_root, args.download)
    train_label = _label(recipe["dataset"], train_set)
    if args.resume:
        _check_resume(args, recipe, train_set, train_label)
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
        "warmup_epochs": args.warmup_epochs,
        "train_samples": len(train_set),
        "test_samples": len(test_set),
        "dataset_label": train_label,
        "minicnn": minicnn.__version__,
        "python": platform.python_version(),
    }
    print(
        f"training {args.model} on {train_label} with backend {name!r}, seed {args.seed}; "
        f"writing to {args.out}"
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
            out_dir=args.out,
            resume=args.resume,
            progress=not args.no_progress,
            meta=meta,
            title=f"{args.model} on {train_label}",
        )
    except KeyboardInterrupt:
        return 130
    except TrainingDiverged as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    except FileNotFoundError as e:
        if not args.resume:
            raise
        raise UserError(
            f"--resume: no checkpoint in {args.out} (neither last.ckpt nor previous.ckpt).\n"
            f"Train without --resume first, or give the run's folder with --out."
        ) from e
    except (ResumeError, SerializationError) as e:
        raise UserError(f"--resume: {e}") from e
    if history.epochs:
        acc = history.last("test_accuracy")
        print(
            f"final test accuracy {100 * acc:.2f}% on the {_title(recipe['dataset'], test_set)} "
            f"test set ({len(test_set):,} images) after {history.last('epoch')} epochs; "
            f"checkpoint {Path(args.out) / 'last.ckpt'}"
        )
    return 0


_FLAGS = {  # recipe key -> its flag, for messages
    "dataset": "--dataset",
    "batch_size": "--batch-size",
    "lr": "--lr",
    "momentum": "--momentum",
    "weight_decay": "--weight-decay",
    "schedule": "--schedule",
    "augment": "--augment",
    "label_smoothing": "--label-smoothing",
}


def _check_resume(args: argparse.Namespace, recipe: dict, train_set: Any, label: str) -> None:
    """Refuse, in flags, to resume a run with another recipe or data than it was started with
    (read from OUT/last.json; when that is unreadable, fit's own checks still apply)."""
    summary_path = Path(args.out) / "last.json"
    try:
        meta = json.loads(summary_path.read_text())["meta"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    was, now = [], []
    for key, flag in _FLAGS.items():
        old = meta.get("recipe", {}).get(key)
        if old is not None and old != recipe[key]:
            was.append(f"{flag} {old}")
            now.append(f"{flag} {recipe[key]}")
    for key, flag, value in (
        ("model", "model", args.model),
        ("seed", "--seed", args.seed),
        ("warmup_epochs", "--warmup-epochs", args.warmup_epochs),
    ):
        if key in meta and meta[key] != value:
            was.append(f"{flag} {meta[key]}")
            now.append(f"{flag} {value}")
    if was:
        raise UserError(
            f"--resume: {args.out} was trained with {' '.join(was)}, this command asks for "
            f"{' '.join(now)}.\nRepeat the run's flags (see {summary_path}) or choose another --out."
        )
    if meta.get("train_samples") not in (None, len(train_set)):
        old_label = meta.get("dataset_label") or f"{meta['train_samples']:,} images"
        raise UserError(
            f"--resume: {args.out} was trained on {old_label}, this command found {label}.\n"
            f"Give the same --data-root (or MINICNN_DATA) as when the run started."
        )
