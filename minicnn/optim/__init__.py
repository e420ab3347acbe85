"""Optimizers and learning-rate schedulers.

Reading order: ``optimizer`` (the base class: parameter groups, state, ``step``, saving), then
``sgd`` and ``adam`` (each an update rule on raw arrays), ``rmsprop``, ``adagrad`` and
``adadelta``, then ``lr_scheduler``; ``swa_utils`` averages weights (SWA, EMA).

Usage, as in PyTorch::

    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    for epoch in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        scheduler.step()
"""

from minicnn.optim import lr_scheduler, swa_utils
from minicnn.optim.adadelta import Adadelta
from minicnn.optim.adagrad import Adagrad
from minicnn.optim.adam import Adam, AdamW
from minicnn.optim.optimizer import Optimizer
from minicnn.optim.rmsprop import RMSprop
from minicnn.optim.sgd import SGD

__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "lr_scheduler",
    "swa_utils",
]
