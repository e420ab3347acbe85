"""Port test: PyTorch-style scripts (``scripts/``) written with ``import minicnn as torch``
and friends must print what the same scripts print under PyTorch.

``expected/<script>.txt`` holds the output of each script with its imports turned back into
PyTorch's (``minicnn.vision`` -> ``torchvision``, ``minicnn`` -> ``torch``), recorded under
torch 2.14.1 and torchvision 0.29.1 on the CPU. Every run compares minicnn's output with it,
number by number (to the printed precision, with a small relative tolerance for float32
summation order). Where PyTorch can run (installed here, or an interpreter named by
``MINICNN_TORCH_PYTHON``), the scripts also run under PyTorch and must still print the
recorded output; otherwise that half is skipped with the reason.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SCRIPTS = sorted((HERE / "scripts").glob("*.py"))
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def to_pytorch(source: str) -> str:
    """The script with its imports changed back, as a learner would: only import lines."""
    out = []
    for line in source.splitlines():
        if line.startswith(("import ", "from ")):
            line = line.replace("minicnn.vision", "torchvision").replace("minicnn", "torch")
        out.append(line)
    return "\n".join(out) + "\n"


def torch_python() -> str | None:
    """An interpreter that has torch and torchvision: $MINICNN_TORCH_PYTHON, else this one."""
    named = os.environ.get("MINICNN_TORCH_PYTHON", "").strip()
    if named:
        return named
    if importlib.util.find_spec("torch") and importlib.util.find_spec("torchvision"):
        return sys.executable
    return None


def run(python: str, script: Path, data_root: Path | None) -> str:
    env = dict(os.environ)
    if data_root is not None:
        env["PORT_DATA_ROOT"] = str(data_root)
    done = subprocess.run(
        [python, str(script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        cwd=script.parent,
    )
    assert done.returncode == 0, f"{script.name} failed under {python}:\n{done.stderr[-3000:]}"
    return done.stdout


def assert_same_output(got: str, expected: str, script: str) -> None:
    """Line by line: the text between numbers equal, each number equal to its printed
    precision (plus a relative 1e-5 for float32 sums taken in another order)."""
    got_lines, exp_lines = got.strip().splitlines(), expected.strip().splitlines()
    assert len(got_lines) == len(exp_lines), (
        f"{script}: {len(got_lines)} lines, expected {len(exp_lines)}"
    )
    for n, (g, e) in enumerate(zip(got_lines, exp_lines), 1):
        where = f"{script} line {n}:\n  got:      {g}\n  expected: {e}"
        assert NUMBER.split(g) == NUMBER.split(e), where
        for a, b in zip(NUMBER.findall(g), NUMBER.findall(e)):
            decimals = len(b.partition(".")[2].split("e")[0].split("E")[0])
            tol = 1.01 * 10.0**-decimals + 1e-5 * abs(float(b))
            assert abs(float(a) - float(b)) <= tol, where


@pytest.fixture(scope="session")
def data_root(tmp_path_factory) -> Path | None:
    """MNIST in torchvision's layout (MNIST/raw, uncompressed), made from $MINICNN_DATA."""
    source = Path(os.environ.get("MINICNN_DATA", "")) / "mnist"
    if not (source / "t10k-images-idx3-ubyte.gz").is_file():
        return None
    raw = tmp_path_factory.mktemp("torchvision-data") / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for gz in source.glob("*-ubyte.gz"):
        with gzip.open(gz) as f, open(raw / gz.name[: -len(".gz")], "wb") as out:
            shutil.copyfileobj(f, out)
    return raw.parent.parent


def _needs_data(script: Path, data_root: Path | None) -> None:
    if "PORT_DATA_ROOT" in script.read_text() and data_root is None:
        pytest.skip("needs MNIST: set MINICNN_DATA to a folder with mnist/*.gz")


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_minicnn_prints_what_pytorch_printed(script, data_root):
    _needs_data(script, data_root)
    expected = (HERE / "expected" / f"{script.stem}.txt").read_text()
    assert_same_output(run(sys.executable, script, data_root), expected, script.name)


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_pytorch_still_prints_the_recorded_output(script, data_root, tmp_path):
    python = torch_python()
    if python is None:
        pytest.skip(
            "PyTorch is not installed here (set MINICNN_TORCH_PYTHON to an interpreter with torch and torchvision)"
        )
    _needs_data(script, data_root)
    ported = tmp_path / script.name
    ported.write_text(to_pytorch(script.read_text()))
    expected = (HERE / "expected" / f"{script.stem}.txt").read_text()
    assert_same_output(run(python, ported, data_root), expected, script.name)


def test_the_port_changes_only_import_lines():
    for script in SCRIPTS:
        source = script.read_text()
        body = [line for line in source.splitlines() if not line.startswith(("import ", "from "))]
        assert "minicnn" not in "\n".join(body), f"{script.name} names minicnn outside its imports"
        assert "import minicnn as torch" in source
        assert (HERE / "expected" / f"{script.stem}.txt").is_file(), (
            f"no recorded output for {script.name}"
        )
    assert "import torchvision.transforms as transforms" in to_pytorch(
        "import minicnn.vision.transforms as transforms"
    )
