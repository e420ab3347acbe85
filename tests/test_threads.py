"""minicnn.set_num_threads, MINICNN_NUM_THREADS and --threads: one cap for the numba kernels
and OpenBLAS; OpenBLAS on one thread inside the numba backend's ops, whatever the import order.
"""

from __future__ import annotations

import pytest

import minicnn
from minicnn import threads
from minicnn.cli import main


@pytest.fixture(autouse=True)
def _fresh_setting(monkeypatch):
    """Each test starts from no setting and leaves none behind (the kernels' cap included)."""
    monkeypatch.delenv("MINICNN_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "_requested", None)
    yield
    threads._requested = None
    if threads._blas_now is not None and threads._blas_default is not None:
        threads._set_blas(threads._blas_default)  # OpenBLAS's own count, as before
    threads._blas_now = None
    kernels = _numba_threads()
    if kernels is not None:
        kernels.set_max_threads(threads._numba_limit())  # the default


def _numba_threads():
    if minicnn.unavailable_reason("numba") is not None:
        return None
    from minicnn.kernels.numba_cpu import threads as kernels

    return kernels


def _limit() -> int:
    return threads._numba_limit() or threads._cores()


def test_the_default_is_every_core_numba_may_use():
    assert threads.get_num_threads() == _limit()


def test_the_environment_variable_sets_the_cap_and_a_call_overrides_it(monkeypatch):
    monkeypatch.setenv("MINICNN_NUM_THREADS", "1")
    assert minicnn.get_num_threads() == 1
    monkeypatch.setenv("MINICNN_NUM_THREADS", "1000")  # capped at what numba started with
    assert minicnn.get_num_threads() == _limit()
    minicnn.set_num_threads(1)
    assert minicnn.get_num_threads() == 1


@pytest.mark.parametrize("text", ["0", "-2", "two", "1.5"])
def test_a_bad_environment_variable_is_named(monkeypatch, text):
    monkeypatch.setenv("MINICNN_NUM_THREADS", text)
    with pytest.raises(
        ValueError, match=f"MINICNN_NUM_THREADS: expected a positive int, got '{text}'"
    ):
        minicnn.get_num_threads()


@pytest.mark.parametrize("bad", [0, -1, True, 1.0, "2"])
def test_set_num_threads_rejects_what_is_not_a_positive_int(bad):
    with pytest.raises(ValueError, match="set_num_threads: num: expected a positive int"):
        minicnn.set_num_threads(bad)
    assert threads._requested is None


def test_more_threads_than_numba_started_with_is_refused():
    if threads._numba_limit() is None:
        pytest.skip("numba is not installed: no limit to exceed")
    with pytest.raises(ValueError, match=r"num: expected at most \d+ \(NUMBA_NUM_THREADS"):
        minicnn.set_num_threads(threads._numba_limit() + 1)


def test_the_numba_kernels_follow_the_setting():
    kernels = _numba_threads()
    if kernels is None:
        pytest.skip("numba is not installed")
    minicnn.set_num_threads(1)
    assert kernels.max_threads() == 1
    minicnn.set_num_threads(_limit())
    assert kernels.max_threads() == _limit()


def test_openblas_runs_on_one_thread_inside_a_numba_op_and_gets_its_count_back_after():
    """NumPy is imported long before this runs (pytest, conftest): the count is set through
    OpenBLAS's own function, which works whatever the import order."""
    if minicnn.unavailable_reason("numba") is not None:
        pytest.skip("numba is not installed")
    setter, getter = threads._find_openblas()
    if getter is None:
        pytest.skip("NumPy here does not use OpenBLAS")
    try:
        with minicnn.use_backend("numba"):  # an op runs on its inputs' backend
            minicnn.nn.functional.linear(minicnn.randn(4, 8), minicnn.randn(3, 8))
        assert getter() == 1
        with minicnn.use_backend("numpy"):
            minicnn.nn.functional.linear(minicnn.randn(4, 8), minicnn.randn(3, 8))
        assert getter() == threads._blas_default  # OpenBLAS's own count (no setting given)
        minicnn.set_num_threads(1)
        with minicnn.use_backend("numpy"):
            minicnn.nn.functional.linear(minicnn.randn(4, 8), minicnn.randn(3, 8))
        assert getter() == 1  # the setting, for the numpy backend's own products
    finally:
        setter(threads._blas_default)


def test_the_threads_flag_is_checked_and_applied(monkeypatch, capsys):
    with pytest.raises(SystemExit):
        main(["train", "lenet5", "--threads", "0"])
    assert "--threads" in capsys.readouterr().err

    class Applied(Exception):
        pass

    def stop(*args):  # the data would come next: the flag has been applied by then
        raise Applied

    monkeypatch.setattr("minicnn.cli_train._datasets", stop)
    with pytest.raises(Applied):
        main(["train", "lenet5", "--threads", "1", "--backend", "numpy", "--no-progress"])
    assert minicnn.get_num_threads() == 1
    if threads._numba_limit() is not None:
        assert main(["train", "lenet5", "--threads", "100000", "--backend", "numpy"]) == 2
        assert "error: --threads 100000: expected at most" in capsys.readouterr().err
