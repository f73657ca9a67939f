"""Gradient-check speed: minnet's check_net against the textbook loops and PyTorch.

The reference net is 64-128-64-10 with Tanh hidden layers and the softmax loss, on a
batch of 32 digits, in float64: 17,226 parameters, every one checked with centered
differences. Compared, side by side in one run:

- minnet check_net (stacked: activations before the perturbed layer reused, thousands
  of perturbations pushed through the rest as one batch)
- minnet check_net(fast=True): 3 random directions per tensor
- the textbook loop: copy the parameter vector for every coordinate, evaluate the loss
- the in-place loop: perturb one entry, evaluate the loss, put the entry back
  (both loops evaluate the net's loss written out in plain numpy, with no framework
  around it)
- torch.autograd.gradcheck on the same function, slow mode and fast mode (if PyTorch
  is installed: pip install -e ".[bench]")

then the same with the hidden widths doubled (64-256-128-10), and the cost of checking
during training: the digits demo's training with check_at every 200 steps against
the same training without checks.

    python benchmarks/check_speed.py      # prints tables, writes results/check_speed.json

With --before PATH (the minnet folder of another version, a git worktree of an older
commit say), that version's check_net and check_net(fast=True) run side by side with
this one's, in the same interleaved rounds: how a change to the checker moved its speed.
"""
import argparse
import importlib.util
import sys
import time

import numpy as np

import minnet
from common import digits, interleaved, save, table
from minnet.checker import RELATIVE_STEPS, difference
from minnet.params import dictionary_to_vector, gradients_to_vector, vector_to_dictionary

H = RELATIVE_STEPS["central"]  # minnet's relative step, used by every method here


def reference(hidden=(128, 64), seed=0):
    X, y = digits()
    net = minnet.Net.mlp([64, *hidden, 10], activation="tanh", seed=seed)
    return net, X[:32], y[:32]


def steps_for(theta):
    return H * np.maximum(1.0, np.abs(theta))


def verdict(numerical, analytic):
    """The norm-form difference and the classic verdict: below 1e-7 passes."""
    d = difference(analytic, numerical)
    return d, "pass" if d < 1e-7 else "FAIL"


def numpy_loss(params, X, y):
    """The reference net's loss written out in plain numpy: what the two loops evaluate,
    with no framework (and none of its input checks) around it."""
    out, layers = X, len(params) // 2
    for k in range(1, layers + 1):
        out = out @ params[f"W{k}"] + params[f"b{k}"]
        if k < layers:
            out = np.tanh(out)
    shifted = out - out.max(axis=1, keepdims=True)
    return np.mean(np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(len(y)), y])


def textbook_loop(net, X, y):
    """The classic exercise's loop: a fresh copy of the whole vector for every coordinate."""
    theta, _ = dictionary_to_vector(net.params)
    steps = steps_for(theta)
    numerical = np.empty_like(theta)

    def J(vector):
        return numpy_loss(vector_to_dictionary(vector, net.params), X, y)

    for i in range(len(theta)):
        plus = np.copy(theta)
        plus[i] += steps[i]
        minus = np.copy(theta)
        minus[i] -= steps[i]
        numerical[i] = (J(plus) - J(minus)) / (2 * steps[i])
    return numerical


def in_place_loop(net, X, y):
    """Perturb one entry in place, run the whole net, put the entry back."""
    numerical = []
    for value in net.params.values():
        flat = value.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            step = H * max(1.0, abs(old))
            flat[i] = old + step
            plus = numpy_loss(net.params, X, y)
            flat[i] = old - step
            minus = numpy_loss(net.params, X, y)
            flat[i] = old
            numerical.append((plus - minus) / (2 * step))
    return np.array(numerical)


def torch_function(torch, net, X, y):
    """The net's loss as a function of one flat parameter vector, in PyTorch."""
    shapes = [(name, value.shape) for name, value in net.params.items()]
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))

    def loss(theta):
        tensors, start = {}, 0
        for name, shape in shapes:
            size = int(np.prod(shape))
            tensors[name] = theta[start:start + size].reshape(shape)
            start += size
        out = Xt
        layers = len(shapes) // 2
        for k in range(1, layers + 1):
            out = out @ tensors[f"W{k}"] + tensors[f"b{k}"]
            if k < layers:
                out = torch.tanh(out)
        return torch.nn.functional.cross_entropy(out, yt)
    return loss


def load_before(path):
    """The minnet package at path, imported as minnet_before beside this one."""
    spec = importlib.util.spec_from_file_location(
        "minnet_before", f"{path}/__init__.py", submodule_search_locations=[path])
    module = importlib.util.module_from_spec(spec)
    sys.modules["minnet_before"] = module
    spec.loader.exec_module(module)
    return module


def compare(net, X, y, torch, repeats, before=None, hidden=None):
    analytic = gradients_to_vector(net.loss_and_grads(X, y)[1], net.params)
    theta, _ = dictionary_to_vector(net.params)
    results = {}

    def minnet_full():
        report = minnet.check_net(net, X, y, sample=None)
        results["minnet check_net"] = (report.difference, "pass" if report.passed else "FAIL",
                                       sum(row.checked + row.kinks for row in report.rows))

    def minnet_fast():
        report = minnet.check_net(net, X, y, fast=True)
        results["minnet check_net(fast=True)"] = (
            report.difference, "pass" if report.passed else "FAIL",
            f"{sum(row.checked for row in report.rows)} directions")

    def loop(label, function):
        def run():
            numerical = function(net, X, y)
            results[label] = (*verdict(numerical, analytic), len(numerical))
        return run

    runs = {"minnet check_net": minnet_full, "minnet check_net(fast=True)": minnet_fast,
            "textbook loop (copy per coordinate)": loop("textbook loop (copy per coordinate)",
                                                        textbook_loop),
            "in-place loop": loop("in-place loop", in_place_loop)}
    if before is not None:  # the other version, on the very same weights
        old = before.Net.mlp([64, *hidden, 10], activation="tanh", seed=0)
        for name, value in net.params.items():
            old.params[name][...] = value

        def before_full():
            report = before.check_net(old, X, y, sample=None)
            results["before: check_net"] = (report.difference,
                                            "pass" if report.passed else "FAIL", len(theta))

        def before_fast():
            report = before.check_net(old, X, y, fast=True)
            results["before: check_net(fast=True)"] = (
                report.difference, "pass" if report.passed else "FAIL", "directions")
        runs["before: check_net"] = before_full
        runs["before: check_net(fast=True)"] = before_fast
    if torch is not None:
        f = torch_function(torch, net, X, y)
        theta_t = torch.tensor(theta, requires_grad=True)
        for mode in ("slow", "fast"):
            label = f"torch gradcheck ({mode} mode)"

            def run(label=label, mode=mode):
                ok = torch.autograd.gradcheck(f, (theta_t,), eps=H, atol=1e-5, rtol=1e-3,
                                              fast_mode=mode == "fast", raise_exception=False)
                results[label] = (float("nan"), "pass" if ok else "FAIL",
                                  len(theta) if mode == "slow" else "1 direction")
            runs[label] = run
    return interleaved(runs, repeats), results


def training_overhead(repeats):
    """The digits demo's training, with and without check_at every 200 steps.

    Two measures: the time fit spent in the checks (history.check_seconds, the best
    of `repeats` trainings) over the training time without checks, and the difference
    between whole trainings with and without them (noisier: a few hundredths of a
    second out of a few tenths).
    """
    from minnet.datasets import load_digits, standardize, train_test_split
    X, y = load_digits()
    X_train, _, y_train, _ = train_test_split(X, y, test_fraction=0.2, seed=0)
    X_train = standardize(X_train)
    trained = {}

    def train(check_at):
        net = minnet.Net.mlp([64, 128, 64, 10], activation="relu", keep_prob=0.9, reg=1e-3,
                             seed=0)
        history = minnet.fit(net, X_train, y_train, minnet.Momentum(lr=0.1), epochs=30,
                             batch_size=64, seed=0, verbose=False, check_at=check_at)
        trained.setdefault(bool(check_at), []).append((net, history))

    steps = 30 * int(np.ceil(len(X_train) / 64))
    check_at = list(range(0, steps + 1, 200))
    seconds = interleaved({"without checks": lambda: train(()),
                           "with checks": lambda: train(check_at)}, repeats)
    passed = all(report.passed for _, history in trained[True] for _, report in history.checks)
    in_checks = min(sum(history.check_seconds) for _, history in trained[True])
    return {"check_at": check_at, "seconds": seconds, "seconds_in_checks": in_checks,
            "overhead_whole_runs": seconds["with checks"] / seconds["without checks"] - 1,
            "overhead_checks": in_checks / seconds["without checks"],
            "all_checks_passed": passed}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3,
                        help="interleaved rounds, the same for every method (3)")
    parser.add_argument("--no-doubled", action="store_true", help="skip the doubled widths")
    parser.add_argument("--before", metavar="PATH",
                        help="the minnet folder of another version, timed side by side")
    parser.add_argument("--no-training", action="store_true",
                        help="skip the cost of checking during training")
    args = parser.parse_args()
    before = load_before(args.before) if args.before else None
    try:
        import torch
        torch.set_default_dtype(torch.float64)
    except ImportError:
        torch = None
        print("PyTorch is not installed (pip install -e '.[bench]'): no gradcheck columns")
    figures = {}
    sizes = {"reference 64-128-64-10": (128, 64)}
    if not args.no_doubled:
        sizes["doubled 64-256-128-10"] = (256, 128)
    for label, hidden in sizes.items():
        net, X, y = reference(hidden)
        P = sum(value.size for value in net.params.values())
        seconds, results = compare(net, X, y, torch, args.repeats, before, hidden)
        full = seconds["minnet check_net"]
        rows = [[method, f"{s:.4f}", f"{s / full:.3g}", results[method][2],
                 results[method][1],
                 "-" if np.isnan(results[method][0]) else f"{results[method][0]:.1e}"]
                for method, s in sorted(seconds.items(), key=lambda item: item[1])]
        print(f"\n{label}: {P:,} parameters, batch of 32, centered differences")
        print(table(["method", "seconds", "x minnet's time", "checked", "verdict",
                     "difference"], rows))
        print(f"full check / fast check: {full / seconds['minnet check_net(fast=True)']:.0f} "
              "times the time")
        if before is not None:
            for kind in ("check_net", "check_net(fast=True)"):
                print(f"this version / before, {kind}: "
                      f"{seconds['minnet ' + kind] / seconds['before: ' + kind]:.3f}")
        figures[label] = {"parameters": int(P), "seconds": seconds,
                          "over_minnet_full": {m: s / full for m, s in seconds.items()},
                          "verdicts": {m: r[1] for m, r in results.items()}}
    if len(figures) == 2:
        (_, small), (_, big) = figures.items()
        growth = {m: big["seconds"][m] / small["seconds"][m] for m in small["seconds"]}
        figures["growth_when_widths_double"] = growth
        print(f"\ntime with doubled widths / time with the reference "
              f"({big['parameters'] / small['parameters']:.2f} times the parameters):")
        print(table(["method", "growth"], [[m, f"{g:.1f}"] for m, g in growth.items()]))
    if args.no_training:
        print("wrote", save("check_speed_compared.json" if before else "check_speed.json",
                            figures))
        return
    overhead = training_overhead(args.repeats)
    figures["training_overhead"] = overhead
    print(f"\ndigits demo training (30 epochs) with check_at every 200 steps "
          f"{overhead['check_at']} (fast checks of 16 samples): the checks take "
          f"{overhead['overhead_checks']:.1%} of the training time "
          f"({overhead['seconds_in_checks'] * 1e3:.1f} ms in all); whole runs differ by "
          f"{overhead['overhead_whole_runs']:+.1%} "
          f"({overhead['seconds']['without checks']:.2f} s without checks, "
          f"{overhead['seconds']['with checks']:.2f} s with); every check passed: "
          f"{overhead['all_checks_passed']}")
    print("wrote", save("check_speed.json", figures))


if __name__ == "__main__":
    main()
