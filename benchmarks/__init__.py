"""Benchmarks: op and training-step timings, JIT compile times, conv variants, records.

Importing this package first sets a short OpenBLAS thread timeout (see minicnn/__init__.py),
before NumPy loads OpenBLAS, so that benchmarks measure what ``python -m minicnn`` runs.
"""

import os

os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
