"""minnet: a small neural-network framework in numpy, for learning backpropagation.

    import minnet
    net = minnet.Net.mlp([64, 128, 10])
    print(minnet.check_net(net, X[:16], y[:16]))     # is backprop right? which tensor is not?
    history = minnet.fit(net, X, y, minnet.SGD(0.1), epochs=10, batch_size=64,
                         check_at=[0, 200])              # check again after 200 steps
"""
from . import layers, losses
from .layers import *  # noqa: F401,F403  every layer class, as listed in layers.__all__
from .losses import *  # noqa: F401,F403  every loss class, as listed in losses.__all__
from .registry import register
from .net import Net
from .params import dictionary_to_vector, vector_to_dictionary, gradients_to_vector
from .optim import SGD, Momentum, Adam
from .train import fit, History
from .checker import check_net, check_layer, gradient_check_n
from . import checker, datasets, plot
from .course import bugs, quiz

__version__ = "0.1.0"

__all__ = [
    *layers.__all__, *losses.__all__, "register", "Net", "dictionary_to_vector", "vector_to_dictionary", "gradients_to_vector",
    "SGD", "Momentum", "Adam", "fit", "History", "check_net", "check_layer", "gradient_check_n",
    "bugs", "checker", "datasets", "plot", "quiz",
]
