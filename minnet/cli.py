"""The `minnet` command (also `python -m minnet`).

    minnet demo      train an MLP on the bundled handwritten digits and report its accuracy
"""
import argparse
import sys
import time

from . import datasets
from .net import Net
from .optim import Momentum
from .train import fit


def demo(epochs=30, seed=0, verbose=True):
    """Train a 64-128-64-10 ReLU MLP with dropout on the digits; return (net, history, test accuracy)."""
    X, y = datasets.load_digits()
    X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, test_fraction=0.2, seed=seed)
    X_train, X_test = datasets.standardize(X_train, X_test)
    net = Net.mlp([64, 128, 64, 10], activation="relu", keep_prob=0.9, reg=1e-3, seed=seed)
    if verbose:
        print(f"digits: {len(X_train)} training and {len(X_test)} test images of 8x8 pixels")
        print(net)
    history = fit(net, X_train, y_train, Momentum(lr=0.1), epochs=epochs, batch_size=64,
                  val=(X_test, y_test), seed=seed, verbose=verbose)
    return net, history, net.accuracy(X_test, y_test)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="minnet", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="train an MLP on the bundled digits")
    demo_parser.add_argument("--epochs", type=int, default=30, help="passes over the data (30)")
    demo_parser.add_argument("--seed", type=int, default=0, help="seed for everything random (0)")
    args = parser.parse_args(argv)

    if args.command == "demo":
        if args.epochs < 1:
            parser.error(f"--epochs must be at least 1, got {args.epochs}")
        start = time.perf_counter()
        _, history, accuracy = demo(epochs=args.epochs, seed=args.seed)
        print(f"held-out accuracy: {accuracy:.1%} after {history.steps} steps "
              f"({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
