"""The numba kernel cache follows the source, and its first fill is announced once.

Numba checks a cached function against its own file only, so ``minicnn.kernels.numba_cpu`` keys
the cache folder on a hash of all of its sources. The end-to-end test runs a copy of the
installed package in fresh interpreters, edits a helper module the cached convolution calls,
and reads numba's own counters (``dispatcher.stats.cache_hits`` / ``cache_misses``): a rerun of
unchanged code loads from the cache; a run after the edit compiles afresh and computes with the
edited helper.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

numba_cpu = pytest.importorskip("minicnn.kernels.numba_cpu", reason="numba is not installed")


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).write_text(text)


def test_source_hash_changes_with_any_source_file(tmp_path):
    _write(tmp_path, {"conv.py": "from .gemm import f\n", "gemm.py": "def f(): return 1\n"})
    before = numba_cpu.source_hash(tmp_path)
    assert numba_cpu.source_hash(tmp_path) == before  # a function of the contents only
    (tmp_path / "gemm.py").write_text("def f(): return 2\n")  # the helper, not the kernel
    edited = numba_cpu.source_hash(tmp_path)
    assert edited != before
    (tmp_path / "pack.py").write_text("")  # a new module counts too
    assert numba_cpu.source_hash(tmp_path) not in (before, edited)
    (tmp_path / "notes.txt").write_text("not source")  # only .py files are compiled
    (tmp_path / "__pycache__").mkdir()
    assert numba_cpu.source_hash(tmp_path) == numba_cpu.source_hash(tmp_path)


def test_prune_removes_only_folders_of_other_sources_unused_for_30_days(tmp_path):
    old = time.time() - 31 * 24 * 3600
    for name in ("0123456789abcdef", "fedcba9876543210", "aaaaaaaaaaaaaaaa", "not-a-key"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "x.nbi").write_text("")
    for name in ("0123456789abcdef", "fedcba9876543210", "not-a-key"):
        os.utime(tmp_path / name, (old, old))
    numba_cpu._prune(tmp_path, keep="fedcba9876543210")
    left = sorted(p.name for p in tmp_path.iterdir())
    # The old one of another source goes; the kept key, a recent one and foreign names stay.
    assert left == ["aaaaaaaaaaaaaaaa", "fedcba9876543210", "not-a-key"]


def test_the_cache_folder_is_keyed_on_the_sources_and_the_setting_is_restored():
    import numba

    path = numba_cpu.cache_path()
    assert path is not None
    # <root>/<hash of the sources>/<numba's folder for kernels/numba_cpu>
    assert Path(path).parent.name == numba_cpu.source_hash()
    # The setting is put back: the user's own cached functions are not redirected.
    assert numba.config.CACHE_DIR == os.environ.get("NUMBA_CACHE_DIR", "")


def test_the_compile_notice_shows_only_while_the_cache_folder_holds_no_index(tmp_path, monkeypatch):
    monkeypatch.setattr(numba_cpu, "cache_path", lambda: str(tmp_path))
    notice = numba_cpu.compile_notice()
    assert notice.startswith("compiling kernels for numba, once per install (about ")
    assert f"{numba_cpu.COLD_COMPILE_S} s" in notice
    (tmp_path / "conv._chunk-71.py311.nbi").write_bytes(b"")  # numba wrote one kernel's index
    assert numba_cpu.compile_notice() is None


def _env(cache_home: Path, pythonpath: Path | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "MINICNN_BACKEND")}
    env["XDG_CACHE_HOME"] = str(cache_home)
    env["NUMBA_NUM_THREADS"] = "1"
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    env.update(extra)
    return env


# A numba convolution with one input channel and a 3x3 kernel: K = 9 < 32 takes the planes path,
# whose products run in gemm.py's _gemm_tile, a helper in another file than the kernel. Prints
# where minicnn came from, whether the result matches the numpy reference, and numba's counters
# summed over every dispatcher of the package.
_PROBE = """
import json, numpy as np, minicnn as mc, minicnn.nn.functional as F
from minicnn import backend
from minicnn.kernels import numba_cpu
rng = np.random.default_rng(0)
x, w = rng.standard_normal((2, 1, 9, 9)), rng.standard_normal((3, 1, 3, 3))
ref = F.conv2d(mc.tensor(x, backend="numpy"), mc.tensor(w, backend="numpy"), padding=1)
out = F.conv2d(mc.tensor(x, backend="numba"), mc.tensor(w, backend="numba"), padding=1)
hits = misses = 0
for name, module in list(__import__("sys").modules.items()):
    if name.startswith("minicnn.kernels.numba_cpu."):
        for obj in vars(module).values():
            stats = getattr(obj, "stats", None)
            if hasattr(stats, "cache_hits") and obj.__module__ == name:
                hits += sum(stats.cache_hits.values())
                misses += sum(stats.cache_misses.values())
print(json.dumps({
    "minicnn": mc.__file__, "kernels": numba_cpu.__file__, "cache_path": numba_cpu.cache_path(),
    "matches": bool(np.allclose(out.numpy(), ref.numpy(), rtol=1e-10, atol=1e-10)),
    "hits": hits, "misses": misses,
}))
"""


def _copy_installed_package(site: Path) -> Path:
    """Copy minicnn as installed (minicnn.kernels inside it) to ``site``; the kernels folder."""
    import minicnn.kernels  # binds minicnn too

    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbi", "*.nbc")
    package = site / "minicnn"
    shutil.copytree(Path(minicnn.__file__).parent, package, ignore=ignore)
    if not (package / "kernels").exists():  # an editable install maps kernels/ from elsewhere
        shutil.copytree(Path(minicnn.kernels.__file__).parent, package / "kernels", ignore=ignore)
    return package / "kernels" / "numba_cpu"


def _break_gemm_tile(gemm: Path) -> None:
    """Make the helper return at once, so the convolution it serves computes nothing."""
    text = gemm.read_text()
    fns = [n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef)]
    tile = next((f for f in fns if f.name == "_gemm_tile"), None)
    assert tile is not None, "this test breaks gemm.py's _gemm_tile: it is gone, pick another"
    first = tile.body[0]
    is_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    lines = text.splitlines(keepends=True)
    at = first.end_lineno if is_doc else first.lineno - 1
    lines.insert(at, " " * first.col_offset + "return\n")
    gemm.write_text("".join(lines))


@pytest.mark.slow
def test_an_edit_to_a_helper_module_is_compiled_and_unchanged_code_loads_from_the_cache(tmp_path):
    site, cache_home = tmp_path / "site", tmp_path / "cache"
    kernels = _copy_installed_package(site)
    gemm = kernels / "gemm.py"
    original = gemm.read_text()

    def run() -> tuple[dict, str]:
        result = subprocess.run(
            [sys.executable, "-c", _PROBE],
            env=_env(cache_home, site),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.splitlines()[-1]), result.stderr

    cold, cold_err = run()
    assert Path(cold["minicnn"]).is_relative_to(site)  # the copy ran, not the checkout
    assert Path(cold["kernels"]).is_relative_to(site)
    assert Path(cold["cache_path"]).is_relative_to(cache_home / "minicnn" / "numba")
    assert cold["matches"] and cold["misses"] > 0 and cold["hits"] == 0
    assert cold_err.count("compiling kernels for numba, once per install") == 1

    warm, warm_err = run()
    assert warm["matches"] and warm["hits"] > 0 and warm["misses"] == 0
    assert warm["cache_path"] == cold["cache_path"]
    assert "compiling" not in warm_err

    _break_gemm_tile(gemm)  # the kernel's own file, conv.py, is untouched
    edited, edited_err = run()
    assert edited["cache_path"] != cold["cache_path"]
    assert edited["misses"] > 0 and edited["hits"] == 0
    assert not edited["matches"]  # computed with the edited helper
    assert edited_err.count("compiling kernels for numba, once per install") == 1

    gemm.write_text(original)  # back to the first source: its folder is still there
    again, again_err = run()
    assert again["cache_path"] == cold["cache_path"]
    assert again["matches"] and again["hits"] > 0 and again["misses"] == 0
    assert "compiling" not in again_err


def test_an_explicit_numba_cache_dir_is_where_the_keyed_folders_go(tmp_path):
    code = (
        "import numba; from minicnn.kernels import numba_cpu; "
        "print(numba_cpu.cache_path()); print(numba.config.CACHE_DIR)"
    )
    env = _env(tmp_path / "cache", NUMBA_CACHE_DIR=str(tmp_path / "mine"))
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    path, setting = result.stdout.split()
    assert Path(path).parent == tmp_path / "mine" / "minicnn" / numba_cpu.source_hash()
    assert setting == str(tmp_path / "mine")  # restored for the user's own functions
    assert not (tmp_path / "cache").exists()
