"""Optimizers: each one updates the parameters in place from their gradients.

Every optimizer has the same single method:

    optimizer.step(params, grads)

params: dict name -> array (such as net.params), updated in place
grads: dict with the same names and shapes (such as net.backward())
Any state (velocities, moment estimates) is kept per parameter name.
"""
import numpy as np


class Optimizer:
    """Base class: checks the arguments, then calls `update` for each parameter."""

    def __init__(self, lr):
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < np.inf:
            raise ValueError(f"{type(self).__name__}: lr must be a positive number, got {lr!r}")
        self.lr = float(lr)
        self.state = {}

    def step(self, params, grads):
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

    def update(self, name, param, grad):
        raise NotImplementedError


def _described(value):
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype}"
    return f"a {type(value).__name__}"


class SGD(Optimizer):
    """Plain gradient descent: param -= lr * grad."""

    def update(self, name, param, grad):
        param -= self.lr * grad


class Momentum(Optimizer):
    """SGD with momentum: v = beta * v - lr * grad; param += v."""

    def __init__(self, lr, beta=0.9):
        super().__init__(lr)
        if not 0 <= beta < 1:
            raise ValueError(f"Momentum: beta must be in [0, 1), got {beta!r}")
        self.beta = beta

    def update(self, name, param, grad):
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

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(lr)
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0 <= beta < 1:
                raise ValueError(f"Adam: {name} must be in [0, 1), got {beta!r}")
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def update(self, name, param, grad):
        m, v, t = self.state.get(name, (0.0, 0.0, 0))
        t += 1
        m = self.beta1 * m + (1 - self.beta1) * grad
        v = self.beta2 * v + (1 - self.beta2) * grad**2
        self.state[name] = (m, v, t)
        m_hat = m / (1 - self.beta1**t)
        v_hat = v / (1 - self.beta2**t)
        param -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
