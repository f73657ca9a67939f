"""minnet: a small neural-network framework in numpy, for learning backpropagation.

    import minnet
    net = minnet.Net.mlp([64, 128, 10])
    history = minnet.fit(net, X, y, minnet.SGD(0.1), epochs=10, batch_size=64)
"""
from .layers import Layer, Affine, ReLU, Sigmoid, Tanh, Dropout
from .losses import Loss, SoftmaxLoss, SigmoidCrossEntropy, MSELoss
from .net import Net
from .params import dictionary_to_vector, vector_to_dictionary, gradients_to_vector
from .optim import SGD, Momentum, Adam
from .train import fit, History
from . import datasets

__version__ = "0.1.0"

__all__ = [
    "Layer", "Affine", "ReLU", "Sigmoid", "Tanh", "Dropout",
    "Loss", "SoftmaxLoss", "SigmoidCrossEntropy", "MSELoss",
    "Net", "dictionary_to_vector", "vector_to_dictionary", "gradients_to_vector",
    "SGD", "Momentum", "Adam", "fit", "History", "datasets",
]
