"""The named pairs that ``max``/``min`` along a dim, ``topk`` and ``sort`` return, as
``torch.return_types``: ``values, indices = x.max(1)`` and ``x.max(1).indices`` both work."""

from __future__ import annotations

from typing import Any, NamedTuple


class max(NamedTuple):
    values: Any
    indices: Any


class min(NamedTuple):
    values: Any
    indices: Any


class topk(NamedTuple):
    values: Any
    indices: Any


class sort(NamedTuple):
    values: Any
    indices: Any
