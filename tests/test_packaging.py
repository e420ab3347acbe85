"""The package builds as a wheel that installs ``kernels/`` as ``minicnn.kernels``."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numba
import numpy
import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]


def _listed_packages() -> list[str]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["tool"]["setuptools"]["packages"]


def test_every_package_folder_is_listed():
    """A folder with an __init__.py that pyproject.toml does not list would be left out."""
    found = set()
    for top, prefix in (("minicnn", "minicnn"), ("kernels", "minicnn.kernels")):
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top)
            found.add(".".join([prefix, *rel.parts]))
    assert found == set(_listed_packages())


@pytest.mark.slow
def test_wheel_installs_and_imports_kernels(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("minicnn-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "minicnn/kernels/__init__.py" in names
    assert not any(n.startswith("kernels/") for n in names), "a top-level 'kernels' package leaked"
    assert any(n.startswith("minicnn/kernels/cuda/") and n.endswith(".cu") for n in names)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with zipfile.ZipFile(wheel) as z:  # a wheel is a zip: installing it is unpacking it
        z.extractall(site)
    # numpy and numba come from the test environment; PYTHONPATH does not run its .pth files,
    # so the editable install of this checkout stays out of the fresh environment.
    deps = {str(Path(m.__file__).parents[1]) for m in (numpy, numba)}
    deps.add(sysconfig.get_paths()["platlib"])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sorted(deps))}
    code = f"SITE = {site!r}\n" + (
        "import importlib.resources, minicnn, minicnn.kernels as k, minicnn.kernels.numpy_ref\n"
        "assert minicnn.__file__.startswith(SITE), minicnn.__file__\n"
        "assert (importlib.resources.files('minicnn.kernels') / 'cuda' / 'conv.cu').is_file()\n"
        "x = minicnn.randn(1, 1, 5, 5)\n"
        "import minicnn.nn.functional as F\n"
        "print(len(k.KERNEL_NAMES), F.conv2d(x, minicnn.randn(2, 1, 3, 3)).shape)\n"
    )
    out = subprocess.run(
        [str(py), "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "(1, 2, 3, 3)" in out.stdout
