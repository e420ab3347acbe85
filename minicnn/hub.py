"""``minicnn.hub``: PyTorch Hub's entry points, which minicnn cannot serve: it has no model
hub and never downloads code. Each raises an error that says what to do instead."""

from __future__ import annotations

from typing import Any

_INSTEAD = (
    "build the network from minicnn.models (or minicnn.vision.models, with torchvision's "
    "names) and load saved weights with model.load_state_dict(minicnn.load(path))"
)


def load(repo_or_dir: str, model: str, *args: Any, **kwargs: Any) -> Any:
    """Raises: minicnn has no model hub."""
    raise RuntimeError(
        f"hub.load({repo_or_dir!r}, {model!r}): minicnn has no model hub; {_INSTEAD}"
    )


def load_state_dict_from_url(url: str, *args: Any, **kwargs: Any) -> Any:
    """Raises: minicnn downloads no weights."""
    raise RuntimeError(
        f"hub.load_state_dict_from_url({url!r}): minicnn downloads no weights; fetch the file "
        f"yourself and {_INSTEAD}"
    )


def list(github: str, *args: Any, **kwargs: Any) -> Any:  # noqa: A001
    """Raises: minicnn has no model hub."""
    raise RuntimeError(f"hub.list({github!r}): minicnn has no model hub; {_INSTEAD}")
