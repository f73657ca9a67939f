"""Test helpers: a centered-difference gradient and one declarative check for any layer.

This is the small local helper the core tests use until minnet's own checker lands.
"""
import numpy as np


def numeric_gradient(f, x, h=1e-6):
    """Centered differences of the scalar function f() with respect to the array x (in place)."""
    grad = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        f_plus = f()
        x[idx] = old - h
        f_minus = f()
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def max_relative_error(a, b):
    return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))


def assert_layer_gradients(layer, x, seed=0, tol=1e-6):
    """Check dx and every parameter gradient of `layer` at x against centered differences.

    The scalar checked is sum(forward(x) * dout) for a random dout, whose gradient
    with respect to x is exactly what backward(dout) returns.
    """
    out = layer.forward(x)
    dout = np.random.default_rng(seed).standard_normal(out.shape)
    dx = layer.backward(dout)
    analytic = {"x": dx, **{name: grad.copy() for name, grad in layer.grads.items()}}
    assert dx.shape == x.shape
    assert set(layer.grads) == set(layer.params)

    def f():
        return np.sum(layer.forward(x) * dout)

    for name, target in {"x": x, **layer.params}.items():
        numeric = numeric_gradient(f, target)
        error = max_relative_error(analytic[name], numeric)
        assert error < tol, f"{type(layer).__name__}: d{name} relative error {error:.2e}"
