"""Training experiments: reproductions of published results, their records and seed studies.

``benchmarks/`` holds timings; this package holds what a training run found. ``RECORDS`` is
where each run's committed record lives, ``LOGS`` its per-epoch log (see README.md). Importing
the package first sets a short OpenBLAS thread timeout, as ``benchmarks`` does, before NumPy
loads OpenBLAS.
"""

import os
from pathlib import Path

os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

ROOT = Path(__file__).resolve().parent
RECORDS = ROOT / "records"
LOGS = ROOT / "logs"
