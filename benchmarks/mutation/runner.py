"""Apply one mutant at a time, run the tests mapped to it, and always put the file back.

Safety: before a file is changed, its original text goes to a journal file
(``.mutation-journal.json`` at the repository root, ignored by git); the original is written
back in a ``finally`` and the journal removed. A run that was killed outright (SIGKILL, a power
cut) leaves the journal behind, and the next run (or ``--restore``) writes the original back
before anything else. SIGTERM is turned into an exception, so the ``finally`` runs then too.

Numba: a kernel file's mutant runs with a fresh, empty ``NUMBA_CACHE_DIR``, because numba's
cache does not see edits to a helper module called from a cached kernel; the Python mutants
share one cache, warmed by the unmutated baseline run (their edits never touch a kernel).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .mutant import Mutant

ROOT = Path(__file__).resolve().parents[2]
JOURNAL = ROOT / ".mutation-journal.json"


def restore_from_journal() -> list[str]:
    """Write back every original the journal holds (left by a run that was killed)."""
    if not JOURNAL.exists():
        return []
    saved = json.loads(JOURNAL.read_text())
    for path, text in saved.items():
        (ROOT / path).write_text(text)
    JOURNAL.unlink()
    return sorted(saved)


def _on_sigterm(signum, frame):
    raise KeyboardInterrupt("SIGTERM")


@dataclass
class Outcome:
    mutant: str
    area: str
    status: str  # killed, survived, timeout, error, not-applicable, not-run
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    detail: str = ""
    kind: str | None = None
    equivalent: str | None = None


@dataclass
class Runner:
    timeout: float = 900.0
    threads: int = 1
    log: object = print
    shared_cache: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="mutation-numba-"))

    def __post_init__(self) -> None:
        restored = restore_from_journal()
        if restored:
            self.log(f"restored from an interrupted run: {', '.join(restored)}")
        signal.signal(signal.SIGTERM, _on_sigterm)

    def pytest(self, tests: tuple[str, ...], cache: str) -> tuple[int, str, float, float]:
        """Run pytest on ``tests``: (return code, last lines of output, wall s, CPU s)."""
        env = {
            **os.environ,
            "NUMBA_CACHE_DIR": cache,
            "NUMBA_NUM_THREADS": str(self.threads),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, start_new_session=True,
        )  # fmt: skip
        try:
            out, _ = proc.communicate(timeout=self.timeout)
            rc = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            rc = -1
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        lines = out.strip().splitlines()
        # The failing tests, as pytest's summary names them; else the last lines.
        tail = "\n".join([s for s in lines if s.startswith(("FAILED", "ERROR"))][:3] or lines[-3:])
        return rc, tail, time.perf_counter() - t0, cpu

    def baseline(self, tests: tuple[str, ...]) -> tuple[bool, str, float, float]:
        """The mapped tests pass on the unmutated code (and the shared cache is warm)."""
        rc, tail, wall, cpu = self.pytest(tests, self.shared_cache)
        return rc == 0, tail, wall, cpu

    def run(self, m: Mutant) -> Outcome:
        outcome = Outcome(m.name, m.area, "not-run", kind=m.kind, equivalent=m.equivalent)
        path = ROOT / m.path
        original = path.read_text()
        try:
            mutated = m.apply(original)
        except ValueError as e:
            outcome.status, outcome.detail = "not-applicable", str(e)
            return outcome
        fresh = m.path.startswith("kernels/numba_cpu/")
        cache = tempfile.mkdtemp(prefix="mutation-numba-") if fresh else self.shared_cache
        JOURNAL.write_text(json.dumps({m.path: original}))
        try:
            path.write_text(mutated)
            rc, tail, outcome.seconds, outcome.cpu_seconds = self.pytest(m.tests, cache)
        finally:
            path.write_text(original)
            JOURNAL.unlink()
        # pytest: 0 all passed, 1 some failed, 2 interrupted (a collection error), 5 none ran.
        outcome.status = {0: "survived", 1: "killed", 2: "killed", -1: "timeout"}.get(rc, "error")
        outcome.detail = tail
        return outcome
