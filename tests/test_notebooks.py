"""The course notebooks, and the helper module they share.

Slow tests run every notebook top to bottom in a fresh kernel (nbclient), on numba, and the
light ones on numpy too: any error or failed assert fails the test, as does a notebook over its
time budget (MINICNN_NOTEBOOK_BUDGET seconds, default 120; 0 turns the time limits off) or one
with fewer than 5 asserts. The other tests check the committed notebooks (executed, no errors,
small) and the helper module: above all, that the kernel viewer shows the source of exactly the
kernel functions that ran.
"""

from __future__ import annotations

import importlib.util
import inspect
import io
import os
import sys
from contextlib import redirect_stdout
from pathlib import Path

import nbformat
import numpy as np
import pytest
from minicnn.kernels import KERNEL_NAMES

import minicnn as mc
import minicnn.nn.functional as F
from minicnn import backend, nn

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
# The notebooks that also run on numpy in CI: no training, few kernels.
LIGHT = ("00", "01", "02", "03", "05")
BUDGET = float(os.environ.get("MINICNN_NOTEBOOK_BUDGET", "120"))
TOTAL_BUDGET = 15 * 60
MAX_BYTES = 5 * 1024 * 1024


def _load(name: str, package: bool = False):
    """Import notebooks/<name>.py or the package notebooks/<name>/ (the folder is not on the
    test path)."""
    path = NOTEBOOK_DIR / name
    location = path / "__init__.py" if package else path.with_suffix(".py")
    search = [str(path)] if package else None
    spec = importlib.util.spec_from_file_location(name, location, submodule_search_locations=search)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


course = _load("course", package=True)
runner = _load("run")
NOTEBOOKS = runner.notebooks()


def test_the_course_is_there():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{k:02d}" for k in range(len(NOTEBOOKS))]
    assert len(NOTEBOOKS) >= 10


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_committed_notebook_is_executed_and_clean(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "commit the notebook with its outputs"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert runner.count_asserts(nb) >= 5
    assert nb.cells[0].cell_type == "markdown" and "proves" in nb.cells[0].source


def test_notebooks_are_small():
    assert sum(p.stat().st_size for p in NOTEBOOKS) <= MAX_BYTES


def test_count_asserts_counts_statements_only():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "assert 1\nx = 'assert'\nfor i in range(2):\n    assert i < 2"
            ),
            nbformat.v4.new_markdown_cell("assert nothing"),
        ]
    )
    assert runner.count_asserts(nb) == 2


_seconds: dict[str, float] = {}


def _cases():
    for path in NOTEBOOKS:
        yield pytest.param(path, "numba", id=f"{path.name[:2]}-numba")
        if path.name.startswith(LIGHT):
            yield pytest.param(path, "numpy", id=f"{path.name[:2]}-numpy")


@pytest.mark.slow
@pytest.mark.parametrize("path, backend_name", list(_cases()))
def test_notebook_runs_within_budget(path, backend_name):
    nb, seconds, cpu = runner.execute(path, backend=backend_name, timeout=600)
    _seconds[f"{path.name}-{backend_name}"] = seconds
    print(
        f"{path.name} on {backend_name}: {seconds:.1f} s ({cpu:.1f} s CPU), {runner.count_asserts(nb)} asserts"
    )
    assert runner.count_asserts(nb) >= 5
    if BUDGET > 0:
        assert seconds <= BUDGET, (
            f"{path.name} on {backend_name} took {seconds:.0f} s > {BUDGET:.0f} s"
        )


@pytest.mark.slow
def test_all_notebooks_within_total_budget():
    numba_runs = [s for k, s in _seconds.items() if k.endswith("-numba")]
    if len(numba_runs) < len(NOTEBOOKS):
        pytest.skip("runs only after every notebook ran on numba in this session")
    if BUDGET > 0:
        assert sum(numba_runs) <= TOTAL_BUDGET


def _executed_code(fn):
    """Run ``fn`` under a profiler; return the code objects of every Python function called."""
    seen = set()

    def profile(frame, event, arg):
        if event == "call":
            seen.add(frame.f_code)

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return seen


def test_kernel_viewer_shows_the_functions_that_ran(backend_name):
    x = mc.randn(2, 3, 8, 8, requires_grad=True)
    w = mc.randn(4, 3, 3, 3, requires_grad=True)

    def work():
        y = F.max_pool2d(F.conv2d(x, w, padding=1), 2)
        F.batch_norm(y, None, None, training=True).sum().backward()

    with course.kernels_run() as ran:
        executed = _executed_code(work)
    names = [c.name for c in ran.calls]
    assert names == [
        "conv2d_forward",
        "maxpool2d_forward",
        "batchnorm_forward_train",
        "batchnorm_backward",
        "maxpool2d_backward",
        "conv2d_backward_input",
        "conv2d_backward_weight",
    ]
    assert all(c.backend == backend_name for c in ran.calls)
    sources = ran.sources()
    assert len(sources) == len(ran.functions) == len(set(names))
    for call in ran.calls:
        assert call.function is backend.kernel(call.name, backend_name)  # the registered kernel
    for fn, (title, text) in zip(ran.functions, sources):
        fn = inspect.unwrap(fn)  # the kernel itself, inside the thread chooser's wrapper
        assert fn.__code__ in executed  # the function shown is one that ran
        lines = Path(fn.__code__.co_filename).read_text().splitlines()
        start = fn.__code__.co_firstlineno - 1
        assert text.splitlines() == lines[start : start + len(text.splitlines())]
        assert text.lstrip().startswith(f"def {fn.__name__}(")
        assert fn.__qualname__ in title
    shown = io.StringIO()
    with redirect_stdout(shown):
        ran.show()
    for _, text in sources:
        assert text.rstrip() in shown.getvalue()
    assert backend.kernel is not None and "recording" not in backend.kernel.__name__


def test_kernel_viewer_restores_the_switch_after_an_error():
    original = backend.kernel
    with pytest.raises(ZeroDivisionError), course.kernels_run():
        F.conv2d(mc.zeros(1, 1, 3, 3), mc.zeros(1, 1, 2, 2)).sum().item() / 0
    assert backend.kernel is original


def test_direct_twins_and_their_sources():
    numpy_fn = course.kernel_function("conv2d_forward", "numpy", "direct")
    assert numpy_fn is not course.kernel_function("conv2d_forward", "numpy")
    assert "for oh in range(OH)" in inspect.getsource(numpy_fn)
    # without a twin the contract kernel stands in
    assert course.kernel_function("dropout_mask", "numpy", "direct") is backend.kernel(
        "dropout_mask", "numpy"
    )
    for _, text in course.kernel_sources("conv2d_backward_input", "numba"):
        assert text.lstrip().startswith(("def ", "@njit"))
    cuda = course.kernel_sources("conv2d_forward", "cupy", "direct")
    assert cuda[0][1].lstrip().startswith("def conv2d_forward_direct(")
    assert "__global__ void conv2d_forward_direct_kernel(" in cuda[1][1]
    with pytest.raises(ValueError, match="variant"):
        course.kernel_function("conv2d_forward", "numpy", "fast")


@pytest.mark.parametrize("kernel_name", KERNEL_NAMES)
def test_every_cuda_kernel_source_is_found(kernel_name):
    sources = course.kernel_sources(kernel_name, "cupy")
    assert len(sources) >= 2  # the launcher and at least one __global__ kernel
    cu = [text for title, text in sources if "CUDA kernel" in title]
    for text in cu:
        assert text.count("{") == text.count("}") > 0
        assert "__global__" in text and text.rstrip().endswith("}")


def test_window_is_the_receptive_field_of_one_output():
    w = course.window(5, 3, 2, 1, 1, 1, 1)  # padded 7x7; output (1, 1) starts at padded (2, 2)
    expected = np.zeros((7, 7), bool)
    expected[2:5, 2:5] = True
    assert np.array_equal(w, expected)
    assert course.window(5, 3, 1, 0, 2, 0, 0).sum() == 9


def test_rotate_and_shift():
    batch = np.arange(2 * 1 * 5 * 5, dtype=np.float32).reshape(2, 1, 5, 5)
    assert np.allclose(course.rotate(batch, 0), batch)
    assert np.allclose(course.rotate(batch, 90), np.rot90(batch, axes=(2, 3)), atol=1e-4)
    shifted = course.shift(batch, 1, -2)
    assert np.array_equal(shifted[:, :, 1:, :3], batch[:, :, :4, 2:])
    assert shifted[:, :, 0].sum() == 0 and shifted[:, :, :, 3:].sum() == 0
    rotation = course.RandomRotation(10)
    assert rotation(batch, np.random.default_rng(0)).shape == batch.shape


def test_count_macs():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Flatten(), nn.Linear(8 * 4 * 4, 5))
    assert course.count_macs(model, (3, 4, 4)) == {"0": 4 * 4 * 8 * 3 * 9, "2": 128 * 5}


def test_failing_layer_names_the_layer():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(10, 3))
    name, layer, error = course.failing_layer(model, mc.zeros(1, 1, 5, 5))  # 18 features, not 10
    assert name == "2" and isinstance(layer, nn.Linear) and "10" in str(error)
    assert course.failing_layer(model, mc.zeros(1, 1, 3, 7)) is None  # 2 * 1 * 5 = 10


def test_without_batchnorm_and_grad_norms():
    model = course.without_batchnorm(mc.models.resnet20(in_channels=1))
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    F.cross_entropy(model(mc.randn(2, 1, 8, 8)), mc.tensor([0, 1])).backward()
    norms = course.weight_grad_norms(model, kinds=(nn.Conv2d,))
    assert norms.shape == (19,) and (norms > 0).all()


def test_autograd_graph():
    a = mc.tensor(2.0, requires_grad=True)
    y = (a * a + a).tanh()
    labels, edges, depths = course.autograd_graph(y, names={"a": a, "y": y})
    assert sorted(labels) == sorted(["a", "4", "6", "y", "Mul", "Add", "Tanh"])
    assert len(edges) == 7  # a feeds Mul twice (one edge) and Add
    k = {label: i for i, label in enumerate(labels)}
    assert depths[k["y"]] == 0 and depths[k["a"]] == 6  # longest path: a -> Mul -> ... -> y
    assert all(depths[s] == depths[t] + 1 for s, t in edges if labels[s] != "a")
