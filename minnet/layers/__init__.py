"""Layers: the building blocks of a Net, each a small class with forward and backward.

Every layer keeps the contract stated once in `Layer` (minnet.contract). Read
`Affine` and `ReLU` in dense.py first: the others follow the same pattern.

- dense.py: Affine, ReLU, Sigmoid, Tanh, Dropout
- conv.py: Conv2D, MaxPool2D, for images (N, C, H, W)
- norm.py: BatchNorm, LayerNorm
- recurrent.py: RNN, LSTM, TimeAffine, Embedding, for sequences (N, T, D)
"""
from ..contract import Layer
from .common import sigmoid
from .conv import Conv2D, MaxPool2D
from .dense import Affine, Dropout, ReLU, Sigmoid, Tanh
from .norm import BatchNorm, LayerNorm
from .recurrent import LSTM, RNN, Embedding, TimeAffine

__all__ = ["Layer", "Affine", "ReLU", "Sigmoid", "Tanh", "Dropout", "Conv2D", "MaxPool2D",
           "BatchNorm", "LayerNorm", "RNN", "LSTM", "TimeAffine", "Embedding"]
