"""The classic N-dimensional gradient-checking exercise, written from its formulas.

A 3-layer net LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID with columns as
samples, its cost, and a backward pass with the exercise's two injected bugs (dW2
doubled, db1 multiplied by 4) that `fixed=True` removes.
"""
import numpy as np


def test_case():
    """X (4, 3), Y (1, 3), parameters drawn with randn after seeding numpy with 1."""
    rs = np.random.RandomState(1)  # the same stream as np.random.seed(1), kept private
    X = rs.randn(4, 3)
    Y = np.array([1, 1, 0])
    W1, b1 = rs.randn(5, 4), rs.randn(5, 1)
    W2, b2 = rs.randn(3, 5), rs.randn(3, 1)
    W3, b3 = rs.randn(1, 3), rs.randn(1, 1)
    return X, Y, {"W1": W1, "b1": b1, "W2": W2, "b2": b2, "W3": W3, "b3": b3}


def forward(X, Y, p):
    m = X.shape[1]
    Z1 = p["W1"] @ X + p["b1"]
    A1 = np.maximum(0, Z1)
    Z2 = p["W2"] @ A1 + p["b2"]
    A2 = np.maximum(0, Z2)
    Z3 = p["W3"] @ A2 + p["b3"]
    A3 = 1 / (1 + np.exp(-Z3))
    logprobs = np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y)
    cost = 1.0 / m * np.sum(logprobs)
    return cost, (Z1, A1, Z2, A2, Z3, A3)


def backward(X, Y, p, cache, fixed=False):
    m = X.shape[1]
    Z1, A1, Z2, A2, Z3, A3 = cache
    dZ3 = A3 - Y
    dW3 = 1.0 / m * dZ3 @ A2.T
    db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)
    dA2 = p["W3"].T @ dZ3
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1.0 / m * dZ2 @ A1.T * (1 if fixed else 2)
    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = p["W2"].T @ dZ2
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1.0 / m * dZ1 @ X.T
    db1 = (1.0 if fixed else 4.0) / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dZ3": dZ3, "dW3": dW3, "db3": db3, "dA2": dA2, "dZ2": dZ2, "dW2": dW2,
            "db2": db2, "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}
