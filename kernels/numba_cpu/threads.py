"""How many threads a kernel call runs on: as many as make it faster, and never more.

A parallel kernel pays to wake its threads and to wait for the slowest of them (the fork and
the join). On an idle machine that costs 5-20 us with OpenMP's passive wait: nothing next to a
convolution, more than a whole SGD update of a bias. On a busy machine, where another program
holds a core, one of the kernel's threads may wait a scheduler time slice (milliseconds)
before it runs, and the kernel waits with it: a LeNet-5 step measured 120-336 ms on two
threads against 60 ms on one. So every call of a fast kernel goes through :func:`threaded`:

- a call on fewer than ``GRAIN`` array elements in all runs on one thread, untimed;
- a larger call is timed, per kernel and array shapes, on one thread and on all
  ``max_threads()``; it runs with whichever has the lower running average, and the other is
  tried again after ``PROBE`` calls, then after twice as many each time it loses, so a choice
  follows the load on the machine within a few hundred calls at most and costs almost nothing
  once settled.

The result never depends on that choice: the kernels cut their work into ``max_threads()``
chunks however many threads then run them (the convolution's weight gradient adds one partial
sum per chunk), so runs with the same ``max_threads()`` are repeatable bit for bit.

Threads wait passively: :func:`launch` starts Numba's threads on its OpenMP layer (numba
tries ``omp``, then ``tbb``, then ``workqueue``) with ``OMP_WAIT_POLICY=PASSIVE`` unless the
user set a policy, so a thread that has finished sleeps at once instead of spinning for a
while on a core the main thread or another program needs. Measured on this project's 2-core
machine under load: an empty parallel region took 10 us median, 12 us at the 90th percentile
on two passive threads, 2 us median but 60 ms at the 90th percentile on two spinning ones, and
60 us on the workqueue layer.
"""

import functools
import math
import os
import time

import numba
import numpy as np

GRAIN = 1 << 15  # array elements: below, one thread is faster than any fork/join
PROBE = 16  # calls before the option not taken is timed again (doubling while it loses)
_MAX_BACKOFF = 6  # ... up to PROBE * 2**6 calls
_ALPHA = 0.25  # weight of the newest time in a running average

_max = 1  # threads a kernel may use, and the chunks every kernel cuts its work into
_set = _get = None  # numba's per-thread setter and getter, bound by launch()


def launch() -> None:
    """Start Numba's threads, on OpenMP with a passive wait unless the user chose otherwise.

    The OpenMP runtime reads its wait policy once, when it loads, which is now: the variable
    is set only for that moment, so that libraries loaded later (PyTorch's own OpenMP) keep
    their defaults.
    """
    global _max, _set, _get
    if "NUMBA_THREADING_LAYER_PRIORITY" not in os.environ:
        numba.config.THREADING_LAYER_PRIORITY = ["omp", "tbb", "workqueue"]
    chosen = {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"} & set(os.environ)
    if not chosen:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        numba.get_num_threads()  # loads the threading layer and starts its threads
    finally:
        if not chosen:
            del os.environ["OMP_WAIT_POLICY"]
    from numba.np.ufunc import parallel

    # The C functions behind numba.set_num_threads, without its Python checks (a few us a
    # call, twice per kernel call); the public ones if a numba release renames them.
    _set = getattr(parallel, "_set_num_threads", numba.set_num_threads)
    _get = getattr(parallel, "_get_num_threads", numba.get_num_threads)
    _max = numba.config.NUMBA_NUM_THREADS


def max_threads() -> int:
    """The threads a kernel may use, and the number of chunks kernels cut their work into."""
    return _max


def set_max_threads(n: int) -> None:
    """Let kernels use up to ``n`` threads (1 .. NUMBA_NUM_THREADS); forgets every timing."""
    global _max
    if not 1 <= n <= numba.config.NUMBA_NUM_THREADS:
        raise ValueError(
            f"n: expected 1 .. {numba.config.NUMBA_NUM_THREADS} (NUMBA_NUM_THREADS), got {n}"
        )
    _max = int(n)
    for timings in _all_timings:
        timings.clear()


def _run(fn, args, n):
    """fn(*args) with numba's thread count for this thread set to n, then put back."""
    before = _get()
    if before == n:
        return fn(*args)
    _set(n)
    try:
        return fn(*args)
    finally:
        _set(before)


class _Timing:
    """Running averages of one kernel on one set of shapes: ``avg[0]`` on one thread,
    ``avg[1]`` on all (seconds; 0 until measured)."""

    __slots__ = ("avg", "calls", "probe_at", "backoff")

    def __init__(self) -> None:
        self.avg = [0.0, 0.0]
        self.calls = 0
        self.probe_at = 0
        self.backoff = 0

    def best(self) -> int:
        return 0 if self.avg[0] <= self.avg[1] else 1

    def option(self) -> int:
        """1 (all threads) or 0 (one thread) for the next call."""
        if self.avg[1] == 0.0:
            return 1
        if self.avg[0] == 0.0:
            return 0
        return 1 - self.best() if self.calls >= self.probe_at else self.best()

    def record(self, option: int, seconds: float) -> None:
        """Add a timed call; after a probe of the option not taken, schedule the next one."""
        a = self.avg[option]
        if a == 0.0:  # this option's first time
            self.avg[option] = seconds
            self.probe_at = self.calls + PROBE
            return
        probed = option != self.best()
        # On one thread, a time under half the average replaces it: the average came from a
        # slower past (a busy moment). All threads must prove themselves on average: under load
        # their times scatter (a lucky call, then one that waits a time slice for a thread), and
        # taking the lucky one at its word would pick the option that is slower on average.
        if option == 0 and seconds < a / 2:
            self.avg[0] = seconds
        else:
            self.avg[option] = a + _ALPHA * (seconds - a)
        if probed:  # while the option not taken keeps losing, try it half as often
            self.backoff = min(self.backoff + 1, _MAX_BACKOFF) if option != self.best() else 0
            self.probe_at = self.calls + PROBE * 2**self.backoff


_all_timings: list[dict] = []


def threaded(fn):
    """``fn`` (a kernel's Python entry point) run on the number of threads chosen above."""
    timings: dict[tuple, _Timing] = {}
    _all_timings.append(timings)

    @functools.wraps(fn)
    def call(*args):
        if _max == 1:
            return _run(fn, args, 1)
        size = 0
        for a in args:
            if isinstance(a, np.ndarray):
                size += a.size
            elif type(a) is tuple:  # an output shape (dropout_mask)
                size += math.prod(a)
        if size < GRAIN:
            return _run(fn, args, 1)
        # The arrays' shapes say how much work a call is; scalars (strides, a dropout seed,
        # Adam's step count) stay out of the key, or a seed or a step would make every call
        # a new kernel, never timed, each kept for ever.
        key = tuple(
            (a.shape, a.dtype.char, a.flags.c_contiguous) if type(a) is not tuple else a
            for a in args
            if isinstance(a, np.ndarray) or type(a) is tuple
        )
        timing = timings.get(key)
        if timing is None:
            timing = timings[key] = _Timing()
        timing.calls += 1
        if timing.calls == 1:  # it may compile the kernel: a warm-up, untimed
            return _run(fn, args, _max)
        option = timing.option()
        t0 = time.perf_counter()
        out = _run(fn, args, _max if option else 1)
        timing.record(option, time.perf_counter() - t0)
        return out

    return call
