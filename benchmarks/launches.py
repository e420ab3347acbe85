"""Count the kernel launches a training step would make on a GPU, on a machine without one.

    python -m benchmarks.launches [--model resnet20] [--optimizer sgd adam]

On CuPy every array operation is at least one kernel launch: each ufunc call (``x + y``,
``x * mask``, ``sqrt``), each reduction (``sum``, ``max``), each copy (``astype``, ``copy``,
a gather by an index array), each fill (``zeros``); each ``backend.kernel`` call is one launch
too (a few CUDA kernels launch two or three: counted as one). The ResNet-20 step on the GPU is
bound by these launches, not by arithmetic (``results/logs/profile-resnet20-step-gpu-h100.txt``),
so their count is what fusing light math into a kernel saves there.

How it counts: the step runs on the ``numpy`` backend with every array an instance of
:class:`Counted`, an ndarray subclass whose ``__array_ufunc__`` and ``__array_function__``
count each call and whose copying methods count themselves; ``backend.xp`` hands out a NumPy
whose constructors keep the subclass, and ``backend.kernel`` counts one launch per kernel and
gives the kernel plain arrays, so a ``numpy_ref`` kernel's own array operations are not
counted. Names listed in ``as_array`` run instead as their ``numpy_ref`` function on counted
arrays: what each would cost as array code (that function is the array code an op would write).
Views (reshape, transpose, basic slicing) launch nothing and count nothing; operations on
fresh arrays that never touch a counted one (rare) escape the count, so it is a lower bound.
"""

from __future__ import annotations

import argparse
import contextlib
from collections import Counter
from collections.abc import Iterable, Iterator
from types import ModuleType
from typing import Any

import numpy as np

LAUNCHES: Counter[str] = Counter()

# NumPy functions that only describe or view an array: no launch on a GPU.
VIEWS = {
    "reshape", "transpose", "moveaxis", "swapaxes", "squeeze", "expand_dims", "broadcast_to",
    "broadcast_arrays", "shape", "ndim", "size", "result_type", "can_cast", "empty_like",
    "may_share_memory", "shares_memory", "atleast_1d", "atleast_2d", "atleast_3d",
    "iscomplexobj", "isrealobj", "ravel", "diagonal", "real", "imag",
}  # fmt: skip


def unwrap(a: Any) -> Any:
    """Plain ndarrays (and containers of them) in place of Counted ones."""
    if isinstance(a, Counted):
        return a.view(np.ndarray)
    if isinstance(a, (list, tuple)):
        return type(a)(unwrap(v) for v in a)
    return a


def wrap(a: Any) -> Any:
    if type(a) is np.ndarray:
        return a.view(Counted)
    if isinstance(a, tuple):
        return tuple(wrap(v) for v in a)
    return a


def fresh(result: Any, args: tuple) -> Any:
    """A kernel's results as a GPU kernel returns them: an array it allocated is not a view,
    even where the ``numpy_ref`` function made it as one (a reshape of its work array)."""
    if isinstance(result, tuple):
        return tuple(fresh(r, args) for r in result)
    if not isinstance(result, np.ndarray) or result.base is None:
        return result
    shared = any(isinstance(a, np.ndarray) and np.shares_memory(a, result) for a in args)
    return result if shared else result.copy()


def count(what: str, *results: Any) -> None:
    """One launch, unless every result is empty (a GPU library launches nothing for those)."""
    sizes = [np.size(r) for r in results if isinstance(r, np.ndarray)]
    if not sizes or any(sizes):
        LAUNCHES[what] += 1


class Counted(np.ndarray):
    """An ndarray that counts the array operations made on it."""

    @property
    def base(self) -> Any:
        """The base the array would have without the Counted wrapper: ``wrap`` makes a view of
        every result, which must not read as a view (``.grad`` copies views it is handed)."""
        base = np.ndarray.base.__get__(self)
        while (
            type(base) is np.ndarray
            and base.shape == self.shape
            and base.strides == self.strides
            and base.__array_interface__["data"] == self.__array_interface__["data"]
        ):
            base = base.base
        return base

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if "out" in kwargs:
            kwargs["out"] = unwrap(kwargs["out"])
        result = getattr(ufunc, method)(*unwrap(inputs), **kwargs)
        name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        count(name, *(result if isinstance(result, tuple) else (result,)))
        return wrap(result)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        result = func(*unwrap(args), **{k: unwrap(v) for k, v in kwargs.items()})
        if func.__name__ not in VIEWS:
            count(func.__name__, *(result if isinstance(result, tuple) else (result,)))
        return wrap(result)

    def copy(self, order: str = "C") -> Any:
        count("copy", self)
        return wrap(self.view(np.ndarray).copy(order))

    def astype(self, dtype: Any, *args: Any, **kwargs: Any) -> Any:
        result = self.view(np.ndarray).astype(dtype, *args, **kwargs)
        if not np.shares_memory(result, self):
            count("astype", result)
        return wrap(result)

    def fill(self, value: Any) -> None:
        count("fill", self)
        self.view(np.ndarray).fill(value)

    def argmax(self, *args: Any, **kwargs: Any) -> Any:
        count("argmax", self)
        return wrap(self.view(np.ndarray).argmax(*args, **kwargs))

    def __getitem__(self, key: Any) -> Any:
        result = self.view(np.ndarray)[unwrap(key)]
        if isinstance(result, np.ndarray) and not np.shares_memory(result, self):
            count("gather", result)  # an index array: a copy, not a view
        return wrap(result)

    def __setitem__(self, key: Any, value: Any) -> None:
        count("setitem", self)
        self.view(np.ndarray)[unwrap(key)] = unwrap(value)


class CountingNumpy(ModuleType):
    """NumPy as ``backend.xp`` returns it while counting: constructors return Counted arrays."""

    def __init__(self) -> None:
        super().__init__("numpy")

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)

    @staticmethod
    def asarray(a: Any, dtype: Any = None) -> Any:
        return wrap(np.asanyarray(a, dtype=dtype))

    @staticmethod
    def ascontiguousarray(a: Any, dtype: Any = None) -> Any:
        if isinstance(a, Counted) and a.flags.c_contiguous and (dtype is None or a.dtype == dtype):
            return a
        result = np.ascontiguousarray(unwrap(a), dtype=dtype)
        count("ascontiguousarray", result)
        return wrap(result)

    @staticmethod
    def empty(*args: Any, **kwargs: Any) -> Any:
        return wrap(np.empty(*args, **kwargs))

    @staticmethod
    def zeros(*args: Any, **kwargs: Any) -> Any:
        result = np.zeros(*args, **kwargs)
        count("zeros", result)
        return wrap(result)

    @staticmethod
    def ones(*args: Any, **kwargs: Any) -> Any:
        result = np.ones(*args, **kwargs)
        count("ones", result)
        return wrap(result)

    @staticmethod
    def full(*args: Any, **kwargs: Any) -> Any:
        result = np.full(*args, **kwargs)
        count("full", result)
        return wrap(result)


@contextlib.contextmanager
def counting(as_array: Iterable[str] = ()) -> Iterator[Counter[str]]:
    """Count launches inside the block; the kernels named in ``as_array`` run as array code."""
    from minicnn.kernels import numpy_ref

    from minicnn import backend

    as_array = set(as_array)
    xp, kernel = backend.xp, backend.kernel
    counting_numpy = CountingNumpy()

    def counted_kernel(kernel_name: str, name: str | None = None) -> Any:
        if kernel_name in as_array:
            return numpy_ref.KERNELS[kernel_name]
        fn = kernel(kernel_name, name)

        def launch(*args: Any) -> Any:
            LAUNCHES[f"kernel {kernel_name}"] += 1
            args = unwrap(args)
            return wrap(fresh(fn(*args), args))

        return launch

    backend.xp = lambda name=None: counting_numpy if xp(name) is np else xp(name)
    backend.kernel = counted_kernel
    LAUNCHES.clear()
    try:
        yield LAUNCHES
    finally:
        backend.xp, backend.kernel = xp, kernel


def step_launches(
    model_name: str, optimizer: str | None, as_array: Iterable[str] = (), batch: int = 2
) -> Counter[str]:
    """Launches of one training step (forward, cross-entropy, backward, the ``optimizer``'s
    step: "sgd" as the training recipe, or "adam"), counted on the second step, since the first
    allocates the optimizer's state; with ``optimizer=None``, of one forward in eval mode."""
    import minicnn
    from minicnn import models

    with minicnn.use_backend("numpy"):
        minicnn.manual_seed(0)
        model = getattr(models, model_name)()
        shape = (batch, 1 if model_name == "lenet5" else 3, 32, 32)
        rng = np.random.default_rng(0)
        x = minicnn.tensor(rng.standard_normal(shape, dtype=np.float32).view(Counted))
        y = minicnn.tensor(rng.integers(0, 10, batch).view(Counted))
        for t in (*model.parameters(), *model.buffers()):
            t.array = t.array.view(Counted)
        if optimizer == "sgd":
            opt = minicnn.optim.SGD(
                model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True
            )
        elif optimizer == "adam":
            opt = minicnn.optim.Adam(model.parameters(), lr=1e-3, weight_decay=5e-4)
        model.train(optimizer is not None)
        with counting(as_array) as launches:
            for _ in range(2):
                launches.clear()
                if optimizer is None:
                    with minicnn.no_grad():
                        model(x)
                else:
                    minicnn.train_step(model, x, y, minicnn.cross_entropy, opt)
            return Counter(launches)


def summary(launches: Counter[str]) -> dict[str, int]:
    kernels = sum(n for k, n in launches.items() if k.startswith("kernel "))
    total = sum(launches.values())
    return {"total": total, "kernels": kernels, "array_ops": total - kernels}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="resnet20")
    p.add_argument("--optimizer", nargs="+", default=["sgd", "adam", "eval"], help="eval: forward")
    p.add_argument("--as-array", nargs="*", default=[], help="kernels to run as array code")
    args = p.parse_args(argv)
    for opt in args.optimizer:
        launches = step_launches(args.model, None if opt == "eval" else opt, args.as_array)
        print(f"{args.model} step with {opt}: {summary(launches)}")
        for name, n in launches.most_common():
            print(f"  {n:5d}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
