"""Training throughput: samples per second of forward + backward + SGD step.

minnet against PyTorch (CPU, if installed) and against a hand-written numpy loop doing
the same arithmetic with no framework around it, on the same batches, from the same
initial weights, in float64 and float32:

    python benchmarks/train_speed.py            # prints a table, writes results/train_speed.json

Every figure is a ratio measured side by side in this run; absolute speeds vary from
machine to machine and from minute to minute.
"""
import argparse

import numpy as np

import minnet
from common import digits, interleaved, mnist, save, table

CASES = {"digits 64-128-64-10, batch 64": (digits, [64, 128, 64, 10], 64),
         "MNIST subset 784-256-128-10, batch 128": (mnist, [784, 256, 128, 10], 128)}
LR = 0.05


def batches(N, batch_size, steps, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.choice(N, batch_size, replace=False) for _ in range(steps)]


def minnet_loop(X, y, sizes, dtype, order):
    net = minnet.Net.mlp(sizes, activation="relu", seed=0, dtype=dtype)
    optimizer = minnet.SGD(LR)
    X = X.astype(dtype)

    def run():
        for batch in order:
            _, grads = net.loss_and_grads(X[batch], y[batch])
            optimizer.step(net.params, grads)
    return run, net


def numpy_loop(X, y, params, dtype, order):
    """The same arithmetic written out by hand: the practical limit for numpy."""
    W = [params[f"W{k}"].astype(dtype) for k in (1, 2, 3)]
    b = [params[f"b{k}"].astype(dtype) for k in (1, 2, 3)]
    X = X.astype(dtype)

    losses = []  # minnet and PyTorch compute the loss too

    def run():
        for batch in order:
            x, labels = X[batch], y[batch]
            N = len(x)
            z1 = x @ W[0] + b[0]
            a1 = np.maximum(z1, 0)
            z2 = a1 @ W[1] + b[1]
            a2 = np.maximum(z2, 0)
            scores = a2 @ W[2] + b[2]
            shifted = scores - scores.max(axis=1, keepdims=True)
            probs = np.exp(shifted)
            total = probs.sum(axis=1, keepdims=True)
            losses.append(np.mean(np.log(total[:, 0]) - shifted[np.arange(N), labels]))
            probs /= total
            dscores = probs
            dscores[np.arange(N), labels] -= 1
            dscores /= N
            dW3, db3 = a2.T @ dscores, dscores.sum(axis=0)
            da2 = (dscores @ W[2].T) * (z2 > 0)
            dW2, db2 = a1.T @ da2, da2.sum(axis=0)
            da1 = (da2 @ W[1].T) * (z1 > 0)
            dW1, db1 = x.T @ da1, da1.sum(axis=0)
            for p, g in zip(W + b, (dW1, dW2, dW3, db1, db2, db3)):
                p -= LR * g
    return run


def torch_loop(torch, X, y, params, dtype, order):
    tdtype = {np.float64: torch.float64, np.float32: torch.float32}[dtype]
    layers = []
    for k in (1, 2, 3):
        linear = torch.nn.Linear(*params[f"W{k}"].shape, dtype=tdtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(params[f"W{k}"].T.copy()))
            linear.bias.copy_(torch.from_numpy(params[f"b{k}"].copy()))
        layers += [linear, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    Xt, yt = torch.from_numpy(X.astype(dtype)), torch.from_numpy(y.astype(np.int64))
    order_t = [torch.from_numpy(batch) for batch in order]

    def run():
        for batch in order_t:
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(Xt[batch]), yt[batch])
            loss.backward()
            optimizer.step()
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300, help="steps per timing (300)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds (5)")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch is not installed (pip install -e '.[bench]'): comparing with numpy only")
    rows, figures = [], {}
    for case, (load, sizes, batch_size) in CASES.items():
        X, y = load()
        order = batches(len(X), batch_size, args.steps)
        for dtype in (np.float64, np.float32):
            run_minnet, net = minnet_loop(X, y, sizes, dtype, order)
            params = {name: value.astype(np.float64).copy() for name, value in net.params.items()}
            runs = {"minnet": run_minnet, "numpy loop": numpy_loop(X, y, params, dtype, order)}
            if torch is not None:
                runs["PyTorch"] = torch_loop(torch, X, y, params, dtype, order)
            seconds = interleaved(runs, args.repeats)
            speed = {label: args.steps * batch_size / s for label, s in seconds.items()}
            name = f"{case}, {np.dtype(dtype).name}"
            figures[name] = {"samples_per_second": speed,
                             "minnet_over_numpy_loop": speed["minnet"] / speed["numpy loop"]}
            row = [name, f"{speed['minnet']:,.0f}", f"{speed['numpy loop']:,.0f}",
                   f"{speed['minnet'] / speed['numpy loop']:.2f}"]
            if torch is not None:
                figures[name]["minnet_over_pytorch"] = speed["minnet"] / speed["PyTorch"]
                row[2:2] = [f"{speed['PyTorch']:,.0f}"]
                row.append(f"{speed['minnet'] / speed['PyTorch']:.2f}")
            rows.append(row)
    header = ["case", "minnet samples/s", "numpy loop", "minnet / numpy loop"]
    if torch is not None:
        header[2:2] = ["PyTorch"]
        header.append("minnet / PyTorch")
        figures["torch_threads"] = torch.get_num_threads()
    print(table(header, rows))
    print("wrote", save("train_speed.json", figures))


if __name__ == "__main__":
    main()
