"""Looking inside a trained network: filters, activation maps, saliency, class models, inversion.

Every method works on any ``Module``: layers are named as ``model.named_modules()`` names them
(``"features.0"``, ``"layers.3.conv2"``) and reached through forward hooks, never through a
fixed model layout. Inputs are what the model takes (normalised, e.g.
``models.get_weights("lenet5", "mnist").preprocess(images)``); results are NumPy arrays, and
the ``plot_*`` functions draw them with matplotlib. No method leaves a hook attached or changes
the model's weights, ``requires_grad`` flags, ``.grad`` or train/eval mode.

Reading order: ``core`` (names, hooks, leaving no trace), ``features`` (filters, activations),
``saliency`` (gradients and occlusion), ``synthesis`` (gradient ascent on the image),
``inversion`` (reconstruction from features, with hand-derived regulariser gradients), ``plot``.
"""

from minicnn.viz.core import Capture, get_layer, inspecting, layer_names
from minicnn.viz.features import (
    activation_grid,
    activations,
    filter_grid,
    filters,
    tile,
    zero_channels,
)
from minicnn.viz.inversion import Inversion, alpha_norm, invert, total_variation
from minicnn.viz.plot import (
    plot_activations,
    plot_curves,
    plot_filters,
    plot_images,
    plot_saliency,
)
from minicnn.viz.saliency import (
    grad_cam,
    input_gradient,
    integrated_gradients,
    occlusion,
    saliency,
    smoothgrad,
)
from minicnn.viz.synthesis import (
    Ascent,
    Fooling,
    class_model,
    fooling_image,
    gaussian_blur,
    max_filter,
)

__all__ = [
    "Ascent",
    "Capture",
    "Fooling",
    "Inversion",
    "activation_grid",
    "activations",
    "alpha_norm",
    "class_model",
    "filter_grid",
    "filters",
    "fooling_image",
    "gaussian_blur",
    "get_layer",
    "grad_cam",
    "input_gradient",
    "inspecting",
    "integrated_gradients",
    "invert",
    "layer_names",
    "max_filter",
    "occlusion",
    "plot_activations",
    "plot_curves",
    "plot_filters",
    "plot_images",
    "plot_saliency",
    "saliency",
    "smoothgrad",
    "tile",
    "total_variation",
    "zero_channels",
]
