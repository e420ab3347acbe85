"""Argument checks shared by the layer constructors: each error names the argument, what was
expected and what was received."""

from __future__ import annotations

from typing import Any


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_int(layer: str, name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``."""
    if not is_int(value) or value < minimum:
        kind = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{layer}: {name} must be {kind}, got {value!r}")
    return int(value)


def pair(layer: str, name: str, value: Any, minimum: int = 1) -> tuple[int, int]:
    """``value`` (an int or a pair of ints, each >= ``minimum``) as a pair ``(h, w)``."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2 or not all(is_int(v) and v >= minimum for v in values):
        kind = "positive ints" if minimum == 1 else f"ints >= {minimum}"
        raise ValueError(f"{layer}: {name} must be an int or a pair of {kind}, got {value!r}")
    return int(values[0]), int(values[1])


def check_probability(layer: str, p: Any) -> float:
    """A dropout probability in [0, 1) (p = 1 would scale the kept units by 1 / 0)."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
        raise ValueError(f"{layer}: p must be a probability in [0, 1), got {p!r}")
    return float(p)
