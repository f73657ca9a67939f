"""Optimizers: each one updates the parameters in place from their gradients.

Every optimizer has the same single method:

    optimizer.step(params, grads)

params: dict name -> array (such as net.params), updated in place
grads: dict with the same names and shapes (such as net.backward())
Any state (velocities, moment estimates) is kept per parameter name.
repr(optimizer) shows its settings: SGD(lr=0.1), Adam(lr=0.001, beta1=0.9, ...).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .validate import real


class Optimizer:
    """Base class: checks the arguments, then calls `update` for each parameter.

    lr: the learning rate, a positive number (numpy scalars such as np.float32(0.1)
        are fine; it is kept as a float)
    """

    def __init__(self, lr: float) -> None:
        self.lr = real(lr, "lr", type(self).__name__, low=0, low_open=True,
                       fix="the learning rate scales every step (try 0.1 for SGD, "
                           "1e-3 for Adam)")
        self.state: dict[str, Any] = {}

    def config(self) -> dict:
        """The constructor's arguments, as repr shows them: {"lr": 0.1}."""
        return {"lr": self.lr}

    def __repr__(self) -> str:
        """SGD(lr=0.1): the class and its config(), which rebuild the optimizer."""
        args = ", ".join(f"{name}={value!r}" for name, value in self.config().items())
        return f"{type(self).__name__}({args})"

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Update every array of params in place from the gradient of the same name.

        params: dict name -> float array, such as net.params
        grads: dict with the same names, each gradient shaped like its parameter
        Everything is checked before anything changes, so a bad call leaves params as
        they were.
        """
        if grads.keys() != params.keys():
            missing = [name for name in params if name not in grads]
            extra = [name for name in grads if name not in params]
            raise ValueError(f"{type(self).__name__}.step: grads must have the keys of params; "
                             f"missing {missing}, extra {extra}")
        for name, param in params.items():
            grad = grads[name]
            if not isinstance(param, np.ndarray) or param.dtype.kind != "f":
                raise TypeError(f"{type(self).__name__}.step: parameter {name} must be a float "
                                f"array to be updated in place, got {_described(param)}; "
                                "create it with a float dtype")
            if not param.flags.writeable:
                raise ValueError(f"{type(self).__name__}.step: parameter {name} is read-only "
                                 "and cannot be updated in place; pass a writeable copy")
            if not isinstance(grad, np.ndarray) or grad.dtype.kind not in "biuf":
                raise TypeError(f"{type(self).__name__}.step: the gradient of {name} must be "
                                f"an array of real numbers, got {_described(grad)}")
            if grad.shape != param.shape:
                raise ValueError(f"{type(self).__name__}.step: the gradient of {name} has shape "
                                 f"{grad.shape}, but {name} has shape {param.shape}")
        # Only update once every gradient is known to fit, so a bad call changes nothing.
        for name, param in params.items():
            self.update(name, param, grads[name])

    def update(self, name: str, param: np.ndarray, grad: np.ndarray) -> None:
        """Update one parameter in place: name (its key, for per-parameter state),
        param (any shape), grad (the same shape). Each optimizer defines it."""
        raise NotImplementedError(f"{type(self).__name__}.update is not implemented")


def _described(value):
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype}"
    return f"a {type(value).__name__}"


class SGD(Optimizer):
    """Plain gradient descent: param -= lr * grad."""

    def update(self, name: str, param: np.ndarray, grad: np.ndarray) -> None:
        """param -= lr * grad, in place."""
        param -= self.lr * grad


class Momentum(Optimizer):
    """SGD with momentum: v = beta * v - lr * grad; param += v."""

    def __init__(self, lr: float, beta: float = 0.9) -> None:
        super().__init__(lr)
        self.beta = real(beta, "beta", "Momentum", low=0, high=1, high_open=True,
                         meaning="the fraction of the velocity kept from step to step")

    def config(self) -> dict:
        """{"lr": ..., "beta": ...}"""
        return {"lr": self.lr, "beta": self.beta}

    def update(self, name: str, param: np.ndarray, grad: np.ndarray) -> None:
        """v = beta * v - lr * grad (v starts at 0 for each name); param += v, in place."""
        v = self.state.get(name, 0.0)
        v = self.beta * v - self.lr * grad
        self.state[name] = v
        param += v


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015): steps scaled by running estimates of the gradient's moments.

    m = beta1 m + (1 - beta1) grad;   v = beta2 v + (1 - beta2) grad**2
    param -= lr * m_hat / (sqrt(v_hat) + eps), with m_hat, v_hat corrected for
    their start at zero: m_hat = m / (1 - beta1**t), v_hat = v / (1 - beta2**t).
    """

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.beta1 = real(beta1, "beta1", "Adam", low=0, high=1, high_open=True,
                          meaning="the decay of the gradient's running mean")
        self.beta2 = real(beta2, "beta2", "Adam", low=0, high=1, high_open=True,
                          meaning="the decay of the squared gradient's running mean")
        self.eps = real(eps, "eps", "Adam", low=0, low_open=True,
                        meaning="the guard against dividing by zero")

    def config(self) -> dict:
        """{"lr": ..., "beta1": ..., "beta2": ..., "eps": ...}"""
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}

    def update(self, name: str, param: np.ndarray, grad: np.ndarray) -> None:
        """One Adam step of param, in place, with its moments m, v and step count t
        kept under name."""
        m, v, t = self.state.get(name, (0.0, 0.0, 0))
        t += 1
        m = self.beta1 * m + (1 - self.beta1) * grad
        v = self.beta2 * v + (1 - self.beta2) * grad**2
        self.state[name] = (m, v, t)
        m_hat = m / (1 - self.beta1**t)
        v_hat = v / (1 - self.beta2**t)
        param -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
