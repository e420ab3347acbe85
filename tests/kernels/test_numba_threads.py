"""The numba kernels' thread choice: tiny calls on one thread, the rest on whichever count is
measured faster, results independent of that choice, threads that wait passively.

The choice itself is tested on a clock the test controls (no timing of real kernels: that
belongs to benchmarks/); what runs is observed through numba's own thread count.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

numba_cpu = pytest.importorskip("minicnn.kernels.numba_cpu", reason="numba is not installed")
threads = numba_cpu.threads


def _timing_after(times: list[tuple[int, float]]) -> threads._Timing:
    t = threads._Timing()
    t.calls = 1  # the untimed warm-up
    for option, seconds in times:
        t.calls += 1
        assert t.option() == option
        t.record(option, seconds)
    return t


def test_both_counts_are_timed_then_the_faster_one_runs():
    t = _timing_after([(1, 2.0), (0, 1.0)])  # all threads first, then one
    assert t.best() == 0
    assert [t.option() for _ in range(1)] == [0]


def test_the_other_count_is_probed_after_probe_calls_and_less_often_while_it_loses():
    t = _timing_after([(1, 2.0), (0, 1.0)])
    seen = []
    for _ in range(threads.PROBE * 8):
        t.calls += 1
        option = t.option()
        seen.append(option)
        t.record(option, 2.0 if option else 1.0)
    probes = [i for i, o in enumerate(seen) if o == 1]
    gaps = np.diff(probes)
    assert len(probes) >= 2 and gaps[0] == 2 * threads.PROBE  # doubled after the first loss
    assert all(b >= a for a, b in zip(gaps, gaps[1:]))


def test_a_probe_that_wins_switches_and_the_loser_is_probed_again_soon():
    t = _timing_after([(1, 1.2), (0, 1.0)])
    while t.option() == 0:  # until the probe of all threads
        t.record(0, 1.0)
        t.calls += 1
    t.record(1, 0.2)  # the machine got quieter: all threads now much faster
    assert t.avg[1] < 1.0  # the average, not the one time, now beats one thread
    assert t.best() == 1 and t.backoff == 0
    assert t.probe_at == t.calls + threads.PROBE


def test_a_slow_outlier_moves_the_average_a_fast_one_thread_time_replaces_it():
    t = _timing_after([(1, 2.0), (0, 1.0)])
    t.calls += 1
    t.record(0, 5.0)  # a busy moment
    assert t.avg[0] == pytest.approx(1.0 + threads._ALPHA * 4.0)
    t.calls += 1
    t.record(0, 0.5)  # under half the average: the average was from a slower past
    assert t.avg[0] == 0.5


def test_one_lucky_all_threads_time_does_not_win_against_a_steady_one_thread_time():
    """Under load the times on all threads scatter: a lucky call does not make that option
    the choice; only a faster average does."""
    t = _timing_after([(1, 4.0), (0, 1.0)])
    t.calls = t.probe_at
    assert t.option() == 1
    t.record(1, 0.1)  # far under half its average
    assert t.avg[1] == pytest.approx(4.0 + threads._ALPHA * (0.1 - 4.0))
    assert t.best() == 0


class _FakeNumba:
    """numba's per-thread count, held here, with a stand-in kernel that reports it: the
    wrapper is tested with 4 threads whatever NUMBA_NUM_THREADS the tests run with."""

    def __init__(self) -> None:
        self.now = 4

    def set(self, n: int) -> None:
        self.now = n

    def get(self) -> int:
        return self.now

    def kernel(self, *args):
        return self.now


@pytest.fixture
def fake(monkeypatch):
    f = _FakeNumba()
    monkeypatch.setattr(threads, "_set", f.set)
    monkeypatch.setattr(threads, "_get", f.get)
    monkeypatch.setattr(threads, "_max", 4)
    return f


def test_tiny_calls_run_on_one_thread_and_the_caller_keeps_its_setting(fake):
    wrapped = threads.threaded(fake.kernel)
    assert wrapped(np.zeros(threads.GRAIN - 1, np.float32), 3) == 1
    assert wrapped((2, threads.GRAIN // 2 - 1)) == 1  # an output shape counts as its size
    assert fake.now == 4


def test_a_large_call_warms_up_on_all_threads_then_is_timed_on_both_counts(fake):
    wrapped = threads.threaded(fake.kernel)
    x = np.zeros(threads.GRAIN, np.float32)
    assert [wrapped(x) for _ in range(3)] == [4, 4, 1]
    assert wrapped((2, threads.GRAIN // 2)) == 4  # another key: warms up
    assert fake.now == 4
    timing = threads._all_timings[-1][((x.shape, "f", True),)]
    assert timing.calls == 3 and timing.avg[0] > 0 and timing.avg[1] > 0


def test_shapes_and_dtypes_are_timed_apart_scalars_are_not(fake):
    """A seed or an optimizer's step count changes every call: were it part of the key, no
    call would ever be timed and the table would grow for ever."""
    wrapped = threads.threaded(fake.kernel)
    x = np.zeros(threads.GRAIN, np.float32)
    for args in ((x, 1, 0.1), (x, 1, 0.2), (x, 2, 0.1), (x.astype(np.float64), 1, 0.1)):
        wrapped(*args)
    for step in range(5):
        wrapped(x, None, 0.1, step)
    assert len(threads._all_timings[-1]) == 2  # float32 x and float64 x
    assert threads._all_timings[-1][((x.shape, "f", True),)].calls == 3 + 5


def test_one_thread_allowed_means_one_thread_always(fake, monkeypatch):
    monkeypatch.setattr(threads, "_max", 1)
    wrapped = threads.threaded(fake.kernel)
    assert [wrapped(np.zeros(threads.GRAIN * 4)) for _ in range(4)] == [1] * 4
    assert threads._all_timings[-1] == {}


def test_the_contract_table_is_wrapped_and_keeps_the_signatures():
    import inspect

    fn = numba_cpu.KERNELS["conv2d_forward"]
    assert fn.__wrapped__ is numba_cpu.conv2d_forward
    assert inspect.signature(fn) == inspect.signature(numba_cpu.conv2d_forward)


# Runs in a child with NUMBA_NUM_THREADS=2: the same kernels on 1 thread and on 2 must agree
# to the bit, since the work is cut into max_threads() chunks either way.
_SAME_BITS = """
import json, numba, numpy as np
from minicnn.kernels import numba_cpu as K
r = np.random.default_rng(0)
out = {}
for N, C, H, OC, S in ((6, 8, 9, 16, 1), (5, 16, 12, 32, 2), (3, 1, 11, 6, 1)):
    x = r.standard_normal((N, C, H, H)).astype(np.float32)
    w = r.standard_normal((OC, C, 3, 3)).astype(np.float32)
    OH = (H + 2 - 3) // S + 1
    gy = r.standard_normal((N, OC, OH, OH)).astype(np.float32)
    same = True
    for f in (lambda: K.conv2d_forward(x, w, None, S, S, 1, 1, 1, 1, 1),
              lambda: K.conv2d_backward_input(gy, w, H, H, S, S, 1, 1, 1, 1, 1),
              lambda: K.conv2d_backward_weight(gy, x, 3, 3, S, S, 1, 1, 1, 1, 1)):
        numba.set_num_threads(1)
        one = f()
        numba.set_num_threads(2)
        two = f()
        same = same and one.tobytes() == two.tobytes()
    out[f"{N},{C},{H},{OC},{S}"] = same
print(json.dumps({"max": K.threads.max_threads(), "same": out}))
"""


def _child(code: str, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=600
    )


def test_a_kernel_gives_the_same_bits_on_one_thread_as_on_two():
    done = _child(_SAME_BITS, NUMBA_NUM_THREADS="2")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["max"] == 2
    assert all(result["same"].values()), result


def test_the_threads_wait_passively_and_the_environment_is_put_back():
    code = (
        "import os, numba; from minicnn.kernels import numba_cpu; "
        "print(numba.threading_layer(), os.environ.get('OMP_WAIT_POLICY'))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env["OMP_DISPLAY_ENV"] = "TRUE"  # the OpenMP runtime prints its settings when it loads
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    layer, policy = done.stdout.split()[-2:]
    if layer != "omp":
        pytest.skip(f"numba runs on its {layer!r} layer here, not OpenMP")
    assert "OMP_WAIT_POLICY = 'PASSIVE'" in done.stdout + done.stderr
    assert policy == "None"  # a library that loads later keeps its own default
