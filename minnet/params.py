"""Parameter vectors: every parameter of a net as one flat vector, and back.

Gradient checking perturbs one number at a time, so it is easiest to see all
the parameters (W1, b1, W2, ...) as one long vector theta. These helpers are
the ones the classic gradient-checking exercise is built on, for any net.

    theta, keys = dictionary_to_vector(net.params)   # theta: (P,), keys: (P,)
    params = vector_to_dictionary(theta, like=net.params)
    grad = gradients_to_vector(grads, like=net.params)  # (P,), aligned with theta
"""
from __future__ import annotations

import numpy as np


def dictionary_to_vector(params: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Flatten a dict of arrays into one vector.

    params: dict name -> array of any shape, in the order to flatten them
    returns (theta, keys): theta (P,) float64, every element of every array
        in dict order, each array in row-major order; keys (P,) the name of
        the parameter each element of theta comes from
    """
    if not params:
        raise ValueError("dictionary_to_vector: params is empty; pass a dict such as net.params")
    theta = np.concatenate([np.asarray(value, dtype=np.float64).ravel()
                            for value in params.values()])
    keys = np.concatenate([np.full(np.size(value), name) for name, value in params.items()])
    return theta, keys


def vector_to_dictionary(theta: np.ndarray, like: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Cut the vector theta back into arrays shaped like the arrays of `like`.

    theta: (P,) with P the total number of elements in `like`
    like: dict name -> array, giving the names, order and shapes
    returns: a new dict name -> float64 array (copies, not views of theta)
    """
    theta = np.asarray(theta)
    sizes = {name: np.size(value) for name, value in like.items()}
    total = sum(sizes.values())
    if theta.ndim != 1 or theta.size != total:
        raise ValueError(
            f"vector_to_dictionary: expected a vector of length {total} "
            f"({', '.join(f'{name}: {size}' for name, size in sizes.items())}), "
            f"got an array of shape {theta.shape}")
    params, start = {}, 0
    for name, value in like.items():
        stop = start + sizes[name]
        params[name] = theta[start:stop].reshape(np.shape(value)).astype(np.float64)
        start = stop
    return params


def gradients_to_vector(grads: dict[str, np.ndarray],
                        like: dict[str, np.ndarray]) -> np.ndarray:
    """Flatten gradients in the order of the parameters they belong to.

    grads: dict keyed like the parameters ("W1") or with the "d" prefix of the
        classic exercise ("dW1"); other keys (such as "dZ1" or "dA1") are ignored
    like: dict name -> array, the parameters, giving names, order and shapes
    returns: (P,) float64, aligned element by element with dictionary_to_vector(like)
    """
    missing = [name for name in like if name not in grads and "d" + name not in grads]
    if missing:
        raise ValueError(
            f"gradients_to_vector: no gradient for {', '.join(missing)}; grads has keys "
            f"{sorted(grads)}, and needs each parameter's name (e.g. 'W1') or 'd' + name ('dW1')")
    pieces = []
    for name, value in like.items():
        grad = np.asarray(grads[name] if name in grads else grads["d" + name])
        if grad.shape != np.shape(value):
            raise ValueError(f"gradients_to_vector: the gradient of {name} has shape "
                             f"{grad.shape}, but {name} has shape {np.shape(value)}")
        pieces.append(grad.astype(np.float64).ravel())
    return np.concatenate(pieces)
