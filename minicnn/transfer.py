"""Transfer learning: reuse a network trained on one task for another.

Two methods, as the lectures teach them. *Embeddings*: keep the trained body frozen, run the
new task's images through it once, and train only a new head on those features (or classify
them with k nearest neighbours). *Fine-tuning*: replace the head and train everything, the body
at a lower learning rate than the new head, so the body's features move slowly. With few
labels, the first; with more, unfreeze more.

The PyTorch idioms work as they are::

    model = models.resnet18(weights="resnet18.pth")
    model.requires_grad_(False)                     # freeze every parameter...
    model.fc = nn.Linear(512, 5)                    # ...a new head is trainable
    model.layer4[1].conv2.weight.requires_grad_()   # or unfreeze one parameter
    opt = optim.SGD([{"params": body_params, "lr": 0.001},
                     {"params": model.fc.parameters()}], lr=0.01)   # parameter groups
    body = nn.Sequential(*list(model.children())[:-1])   # the network without its head

A frozen parameter gets no ``.grad``, so no optimizer step changes it (weight decay included).
Batch norm's running statistics are buffers, not parameters: ``requires_grad_(False)`` does not
stop a batch norm in training mode from updating them. A frozen body must also be in eval mode
(:func:`freeze` does both); call it again after every ``model.train()``, which sets the whole
tree to training mode.

Here: :func:`freeze`, :func:`replace_head`, :func:`param_groups`, :func:`features` (embeddings
of a whole data set as one array) and :class:`KNN` (k nearest neighbours, cosine or euclidean).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from minicnn import autograd, backend, nn
from minicnn.tensor import Tensor

METRICS = ("cosine", "euclidean")


def freeze(module: nn.Module) -> nn.Module:
    """Freeze ``module`` for good: no gradients for its parameters, and eval mode, so its batch
    norms use (and no longer update) their running statistics and its dropout is off."""
    module.requires_grad_(False)
    return module.eval()


def replace_head(model: nn.Module, name: str, num_classes: int) -> nn.Linear:
    """Put a new, trainable ``nn.Linear(in_features, num_classes)`` where the Linear layer
    ``name`` (``"fc"``, ``"classifier.6"``) was, and return it."""
    modules = dict(model.named_modules())
    old = modules.get(name)
    if not isinstance(old, nn.Linear):
        linear = [n for n, m in modules.items() if isinstance(m, nn.Linear)]
        found = "nothing" if old is None else type(old).__name__
        raise ValueError(
            f"name: expected the name of a Linear layer of the model, one of {linear}; "
            f"{name!r} is {found}"
        )
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes: expected an int >= 1, got {num_classes!r}")
    parent_name, _, attr = name.rpartition(".")
    parent = modules[parent_name]
    head = nn.Linear(old.in_features, num_classes, bias=old.bias is not None)
    head.to(old.weight.backend)
    setattr(parent, attr, head)
    return head


def param_groups(
    model: nn.Module, head: str, lr: float, body_lr: float | None = None
) -> list[dict[str, Any]]:
    """Optimizer parameter groups for fine-tuning: the trainable parameters of module ``head``
    at ``lr``, every other trainable parameter at ``body_lr`` (default ``lr / 10``). A group
    with no trainable parameter is left out."""
    modules = dict(model.named_modules())
    if head not in modules or head == "":
        raise ValueError(f"head: expected a module name of the model, one of {list(modules)[1:]}")
    head_ids = {id(p) for p in modules[head].parameters()}
    trainable = [p for p in model.parameters() if p.requires_grad]
    body = [p for p in trainable if id(p) not in head_ids]
    top = [p for p in trainable if id(p) in head_ids]
    body_lr = lr / 10 if body_lr is None else body_lr
    groups = [{"params": body, "lr": body_lr}, {"params": top, "lr": lr}]
    return [g for g in groups if g["params"]]


class _Stop(Exception):
    """Raised by the hook of :func:`features` once it has the layer's output: the layers after
    it need not run."""


def features(
    model: nn.Module, data: Any, layer: str | None = None, batch_size: int = 256
) -> np.ndarray:
    """Embeddings: the output of module ``layer`` (its dotted name; None: the model's output) for
    every image of ``data``, flattened to an (N, D) host NumPy array.

    ``data``: an (N, C, H, W) (or (N, D), ...) array or Tensor, or an iterable of batches (a DataLoader; each
    batch ``x`` or ``(x, y)``). Rows come in the order of ``data``: for labels in the same order
    use a loader that does not shuffle. Runs in eval mode under ``no_grad`` and stops each
    forward pass at ``layer``; the model's modes and hooks are as before afterwards.
    """
    modules = dict(model.named_modules())
    if layer is not None and (layer not in modules or layer == ""):
        raise ValueError(f"layer: expected a module name of the model, one of {list(modules)[1:]}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: expected an int >= 1, got {batch_size!r}")
    modes = [(m, m.training) for m in model.modules()]
    caught: list[Any] = []

    def hook(module: nn.Module, args: tuple, output: Any) -> None:
        caught.append(output)
        raise _Stop

    handle = modules[layer].register_forward_hook(hook) if layer is not None else None
    rows = []
    try:
        model.eval()
        with autograd.no_grad():
            for x in _batches(data, batch_size):
                try:
                    caught.append(model(x))
                except _Stop:
                    pass
                out = caught.pop(0)  # the hook's output when there is a hook, else the model's
                caught.clear()
                rows.append(backend.to_host(out.array).reshape(out.shape[0], -1))  # (B, D)
    finally:
        if handle is not None:
            handle.remove()
        for m, mode in modes:
            object.__setattr__(m, "training", mode)
    if not rows:
        raise ValueError("data: expected at least one image, got none")
    return np.concatenate(rows)  # (N, D)


def _batches(data: Any, batch_size: int) -> Iterable[Tensor]:
    if isinstance(data, Tensor) or backend.is_array(data):
        if data.ndim < 2:
            raise ValueError(
                f"data: expected a batch of inputs, (N, C, H, W) or (N, D), got shape "
                f"{tuple(data.shape)}"
            )
        for i in range(0, data.shape[0], batch_size):
            chunk = data[i : i + batch_size]
            yield chunk if isinstance(chunk, Tensor) else Tensor(chunk)
        return
    for batch in data:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        yield x if isinstance(x, Tensor) else Tensor(np.asarray(x))


class KNN:
    """k-nearest-neighbour classifier on embeddings (or raw pixels): ``fit(X, y)`` keeps the
    (N, D) training rows and labels; ``predict(Z)`` gives each row of Z the label most common
    among its ``k`` nearest training rows, ties to the class whose member is nearest.

    ``metric="cosine"``: distance 1 - cos(angle), on rows scaled to unit length (the scale of
    an embedding is ignored); ``"euclidean"``: the straight-line distance.
    """

    def __init__(self, k: int = 1, metric: str = "cosine") -> None:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k: expected an int >= 1, got {k!r}")
        if metric not in METRICS:
            raise ValueError(f"metric: expected one of {METRICS}, got {metric!r}")
        self.k, self.metric = k, metric

    def _prepare(self, X: Any, name: str) -> np.ndarray:
        X = np.asarray(X.numpy() if isinstance(X, Tensor) else backend.to_host(X))
        if X.ndim != 2 or X.dtype.kind not in "fiu":
            raise ValueError(
                f"{name}: expected an (N, D) array of numbers, got {X.shape} {X.dtype}"
            )
        X = X.astype(np.float32 if X.dtype != np.float64 else np.float64)
        if self.metric == "cosine":
            X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
        return X

    def fit(self, X: Any, y: Any) -> KNN:
        """Keep the training rows X (N, D) and their integer labels y (N,)."""
        self.X = self._prepare(X, "X")
        self.y = np.asarray(y.numpy() if isinstance(y, Tensor) else y)
        if self.y.shape != (self.X.shape[0],) or self.y.dtype.kind not in "iu":
            raise ValueError(f"y: expected {self.X.shape[0]} integer labels, got {self.y.shape}")
        if self.k > self.X.shape[0]:
            raise ValueError(f"k: expected at most {self.X.shape[0]} (the rows of X), got {self.k}")
        self.sq_norms = (self.X**2).sum(axis=1)  # (N,): |x|^2 of each training row
        return self

    def predict(self, Z: Any, batch_size: int = 1024) -> np.ndarray:
        """Labels (M,) for the rows of Z (M, D), ``batch_size`` rows at a time."""
        if not hasattr(self, "X"):
            raise RuntimeError("KNN: call fit(X, y) before predict")
        Z = self._prepare(Z, "Z")
        if Z.shape[1] != self.X.shape[1]:
            raise ValueError(f"Z: expected {self.X.shape[1]} columns, as X has, got {Z.shape[1]}")
        k, num_classes = self.k, int(self.y.max()) + 1
        out = np.empty(Z.shape[0], dtype=self.y.dtype)
        for i in range(0, Z.shape[0], batch_size):
            z = Z[i : i + batch_size]  # (B, D)
            # Both metrics rank by |x|^2 - 2 z.x (|z|^2 is the same for every x; for cosine,
            # |x| = 1, so it ranks by -cos).
            d = self.sq_norms[None, :] - 2 * z @ self.X.T  # (B, N)
            near = np.argpartition(d, k - 1, axis=1)[:, :k]  # (B, k), unordered
            order = np.argsort(np.take_along_axis(d, near, 1), axis=1, kind="stable")
            labels = self.y[np.take_along_axis(near, order, 1)]  # (B, k), nearest first
            rows = np.arange(z.shape[0])[:, None]  # (B, 1)
            votes = np.zeros((z.shape[0], num_classes), dtype=np.int64)  # (B, classes)
            np.add.at(votes, (rows, labels), 1)
            top = votes == votes.max(axis=1, keepdims=True)  # (B, classes): most-voted classes
            first = np.argmax(top[rows, labels], axis=1)  # (B,): nearest neighbour among them
            out[i : i + batch_size] = labels[rows[:, 0], first]
        return out

    def score(self, Z: Any, y: Any) -> float:
        """Accuracy of :meth:`predict` on rows Z against labels y."""
        y = np.asarray(y.numpy() if isinstance(y, Tensor) else y)
        return float((self.predict(Z) == y).mean())

    def __repr__(self) -> str:
        return f"KNN(k={self.k}, metric={self.metric!r})"


__all__ = ["KNN", "METRICS", "features", "freeze", "param_groups", "replace_head"]
