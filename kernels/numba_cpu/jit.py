"""How the parallel kernels are compiled: `parallel=PARALLEL`, which is `parallel=True` less its
`numpy` option.

With that option Numba also turns NumPy calls and array expressions (`np.zeros`, `np.ones`,
`a * b`) into parallel loops. Outside a `prange` each one becomes a separate multi-threaded
function, which Numba optimises and turns into machine code four times over (the loop body,
its gufunc wrapper, the launcher, the kernel), and which pays a fork and a join at every call,
even for a zero-filled table of a few thousand values; inside a `prange` they run on one
thread anyway. Every kernel here puts its threads where it wants them, with one `prange` over
the slots it owns, so nothing that ran in parallel is lost, and the kernels compute the same
numbers, bit for bit.

Numba empties a dict given as `parallel=` while it compiles, so one shared dict would turn the
option back on from the second compile on; a ParallelOptions object is copied instead.
"""

from numba.core.cpu_options import ParallelOptions

PARALLEL = ParallelOptions({"numpy": False})  # every other option keeps its default: on
