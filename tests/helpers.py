"""What several test files need: small data, a backprop bug to plant, parameter snapshots."""
import numpy as np


def data(seed=0, N=8, D=5, C=3):
    """X: (N, D) standard normal, y: (N,) labels in 0..C-1."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, D)), rng.integers(0, C, N)


def with_bug(net, corrupt):
    """Make net.backward return corrupt(grads): a backprop bug the checker must find."""
    correct = net.backward
    net.backward = lambda: corrupt(dict(correct()))
    return net


def snapshot(net):
    return {name: value.copy() for name, value in net.params.items()}


def assert_unchanged(net, before):
    assert list(net.params) == list(before)
    for name, value in net.params.items():
        assert value.dtype == before[name].dtype
        assert value.tobytes() == before[name].tobytes(), name


def complex_step_gradients(f, arrays, dout, h=1e-30):
    """d sum(f(*arrays) * dout) / d every entry of every array, by the complex step.

    f must work on complex arrays. Im f(a + ih e_k) / h is the derivative along e_k
    with no rounding from a subtraction, so these are exact to float64's rounding: an
    independent reference for any backward, however it is written.
    """
    grads = []
    for i, array in enumerate(arrays):
        grad = np.zeros(np.shape(array))
        for k in range(grad.size):
            moved = [np.asarray(a, dtype=complex) for a in arrays]
            moved[i].flat[k] += 1j * h
            grad.flat[k] = np.sum(f(*moved) * dout).imag / h
        grads.append(grad)
    return grads
