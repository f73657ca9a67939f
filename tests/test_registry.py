"""The registry: one entry per class, capabilities on the classes, user classes registered."""
import numpy as np
import pytest

import minnet
from minnet import Layer, Loss, Net, registry
from minnet.contract import Layer as ContractLayer


def test_every_exported_layer_and_loss_is_registered_once():
    assert set(registry.LAYERS) == set(minnet.layers.__all__) - {"Layer"}
    assert set(registry.LOSSES) == set(minnet.losses.__all__) - {"Loss"}
    for name, cls in {**registry.LAYERS, **registry.LOSSES}.items():
        assert cls.__name__ == name and getattr(minnet, name) is cls
        assert registry.lookup(name) is cls


CAPABILITIES = {  # what each class is, written down from the definitions
    "Affine": {"samplewise"}, "ReLU": {"samplewise", "elementwise", "has_kinks"},
    "Sigmoid": {"samplewise", "elementwise"}, "Tanh": {"samplewise", "elementwise"},
    "Dropout": {"samplewise", "elementwise", "random"}, "Conv2D": {"samplewise"},
    "MaxPool2D": {"samplewise", "has_kinks"}, "BatchNorm": set(),  # in training mode
    "LayerNorm": {"samplewise"}, "RNN": {"samplewise"}, "LSTM": {"samplewise"},
    "TimeAffine": {"samplewise"}, "Embedding": {"samplewise", "integer_input"},
}


def test_capabilities_are_declared_on_the_classes():
    assert set(CAPABILITIES) == set(registry.LAYERS)
    examples = {"Affine": (3, 2), "Conv2D": (1, 1, 3), "BatchNorm": (2,), "LayerNorm": (2,),
                "RNN": (2, 2), "LSTM": (2, 2), "TimeAffine": (2, 2), "Embedding": (3, 2)}
    for name, cls in registry.LAYERS.items():
        layer = cls(*examples.get(name, ()))
        declared = {c for c in ("samplewise", "elementwise", "has_kinks", "integer_input",
                                "random") if getattr(layer, c) is True}
        assert declared == CAPABILITIES[name], name
    assert registry.LOSSES["SVMLoss"].has_kinks and not registry.LOSSES["SoftmaxLoss"].has_kinks
    # a layer nobody described claims nothing: the safe default
    assert not any(getattr(ContractLayer, c) for c in ("samplewise", "elementwise", "has_kinks",
                                                        "integer_input", "random"))
    assert registry.LAYERS["BatchNorm"](2).buffers == ("running_mean", "running_var")


class Square(Layer):
    """out = x * x, elementwise: a user's own layer."""
    samplewise = elementwise = True

    def __init__(self, scale=1.0):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        self.x = x
        return self.scale * x * x

    def backward(self, dout):
        return 2 * self.scale * self.x * dout

    def config(self):
        return {"scale": self.scale}


def test_a_registered_user_layer_saves_and_loads(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "LAYERS", dict(registry.LAYERS))
    net = Net([minnet.Affine(3, 4, rng=0), Square(0.5), minnet.Affine(4, 2, rng=1)],
              minnet.SoftmaxLoss())
    with pytest.raises(ValueError, match=r"Net.save: Square\(scale=0.5\) is of a class the "
                                         r"registry does not know.*@minnet.register"):
        net.save(tmp_path / "net.npz")
    assert not (tmp_path / "net.npz").exists()
    assert minnet.register(Square) is Square
    net.save(tmp_path / "net.npz")
    loaded = Net.load(tmp_path / "net.npz")
    assert type(loaded.layers[1]) is Square and loaded.layers[1].scale == 0.5
    X = np.random.default_rng(0).standard_normal((5, 3))
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))


def test_register_refuses_what_it_cannot_take(monkeypatch):
    monkeypatch.setattr(registry, "LAYERS", dict(registry.LAYERS))
    with pytest.raises(TypeError, match="expected a subclass of minnet.Layer or minnet.Loss"):
        minnet.register(object)
    with pytest.raises(TypeError, match="expected a subclass"):
        minnet.register(Square())
    impostor = type("Affine", (Layer,), {})
    with pytest.raises(ValueError, match=r"the name 'Affine' is taken by minnet.layers.dense.Affine"):
        minnet.register(impostor)
    assert registry.LAYERS["Affine"] is minnet.Affine
    assert minnet.register(minnet.Affine) is minnet.Affine  # registering twice is harmless
    with pytest.raises(KeyError, match=r"no layer or loss class named 'Square2' is registered"):
        registry.lookup("Square2")


def test_a_registered_loss_lands_among_the_losses(monkeypatch):
    monkeypatch.setattr(registry, "LOSSES", dict(registry.LOSSES))

    class Hinge(Loss):
        pass

    minnet.register(Hinge)
    assert registry.is_loss("Hinge") and "Hinge" not in registry.LAYERS
