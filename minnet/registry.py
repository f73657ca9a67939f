"""The registry: every layer and loss class minnet knows, by name, in one place.

Net.save writes a class's name and Net.load finds the class here; the bug catalogue,
the quiz and the grader look classes up here too. What a class can do is not written
here but on the class itself, as capability attributes (see minnet.contract.Layer):
adding a layer to minnet means its class, its line below, and, if you like, its
bugs (course/bugs.py) and its grading entry (course/grade/table.py).

Your own layer saves and loads once you register it:

    @minnet.register
    class Square(minnet.Layer):
        ...
"""
from __future__ import annotations

from . import layers, losses
from .contract import Layer, Loss

LAYERS = {cls.__name__: cls for cls in [
    layers.Affine, layers.ReLU, layers.Sigmoid, layers.Tanh, layers.Dropout,
    layers.Conv2D, layers.MaxPool2D, layers.BatchNorm, layers.LayerNorm,
    layers.RNN, layers.LSTM, layers.TimeAffine, layers.Embedding,
]}
LOSSES = {cls.__name__: cls for cls in [
    losses.SoftmaxLoss, losses.SVMLoss, losses.SigmoidCrossEntropy, losses.MSELoss,
    losses.TemporalSoftmaxLoss,
]}


def register(cls: type) -> type:
    """Add a Layer or Loss subclass to the registry, under its class name; returns cls.

    Net.load rebuilds it as cls(**layer.config()), so its config() must return the
    constructor's arguments. A name can only be taken once.
    """
    if not isinstance(cls, type) or not issubclass(cls, (Layer, Loss)):
        raise TypeError(f"register: expected a subclass of minnet.Layer or minnet.Loss, got "
                        f"{cls!r}")
    table = LAYERS if issubclass(cls, Layer) else LOSSES
    name = cls.__name__
    known = LAYERS.get(name) or LOSSES.get(name)
    if known is not None and known is not cls:
        raise ValueError(f"register: the name {name!r} is taken by {known.__module__}.{name}; "
                         "give your class another name")
    table[name] = cls
    return cls


def lookup(name: str) -> type:
    """The registered layer or loss class called `name`, or an error listing them all."""
    cls = LAYERS.get(name) or LOSSES.get(name)
    if cls is None:
        raise KeyError(f"no layer or loss class named {name!r} is registered; known: "
                       f"{', '.join([*LAYERS, *LOSSES])} (register your own with "
                       "minnet.register)")
    return cls


def name_of(obj: Layer | Loss) -> str:
    """The registered name of obj's class, or an error that says how to register it."""
    name = type(obj).__name__
    if (LAYERS.get(name) or LOSSES.get(name)) is not type(obj):
        raise ValueError(f"{obj!r} is of a class the registry does not know, so a Net cannot "
                         f"save it; decorate the class with @minnet.register (known: "
                         f"{', '.join([*LAYERS, *LOSSES])})")
    return name


def is_loss(name: str) -> bool:
    """Whether `name` is a registered loss (else a layer, or unknown)."""
    return name in LOSSES
