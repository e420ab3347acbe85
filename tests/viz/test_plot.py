"""The drawing layer: each plot returns a figure with a title and labelled axes; without
matplotlib, a clear error."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from minicnn import viz

pytest.importorskip("matplotlib")


def _texts(fig) -> str:
    parts = [fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""]
    for ax in fig.axes:
        parts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
    return " | ".join(parts)


def test_every_plot_returns_a_titled_figure(lenet, digits, tmp_path):
    x, labels = digits[0][:2], digits[1][:2]
    figs = {
        "filters": viz.plot_filters(lenet, "features.3"),
        "filters-rgb": viz.plot_filters(__import__("minicnn").nn.Conv2d(3, 4, 3)),
        "activations": viz.plot_activations(viz.activations(lenet, x, ["features.1"]), title="t"),
        "saliency": viz.plot_saliency(x[0], {"vanilla": viz.saliency(lenet, x, labels)[0]}),
        "images": viz.plot_images(x, titles=["a", "b"], labels=["p", "q"], title="two"),
        "curves": viz.plot_curves({"J": np.arange(5.0)}, "step", "objective", "ascent"),
    }
    text = {k: _texts(f) for k, f in figs.items()}
    assert "features.3: 16 filters 5x5" in text["filters"] and "input channel" in text["filters"]
    assert "0 of 6 zero for all 2 inputs" in text["activations"]
    assert "vanilla" in text["saliency"] and "two" in text["images"]
    assert "objective" in text["curves"] and "step" in text["curves"]
    figs["saliency"].savefig(tmp_path / "s.png")
    assert (tmp_path / "s.png").stat().st_size > 1000


def test_drawing_without_matplotlib_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"drawing needs matplotlib \(pip install matplotlib\)"):
        viz.plot_images(np.zeros((1, 4, 4)))
