"""A small CNN built from minnet's layers, trained with minnet.fit on the bundled MNIST subset.

The data: the 5,000 images of minnet.datasets.load_mnist_subset (500 per class), split
by train_test_split(test_fraction=0.2, seed=seed) into 4,000 training and 1,000 test
images (stratified: 400 and 100 per class). Pixels are divided by 255, then shifted and
scaled by the training images' mean and standard deviation (two numbers, not one per
pixel), and shaped (N, 1, 28, 28) in float32.

The net (float32):

    Conv2D(1, 16, 3, pad=1)  -> BatchNorm(16) -> ReLU -> MaxPool2D(2)    # 16 x 14 x 14
    Conv2D(16, 32, 3, pad=1) -> BatchNorm(32) -> ReLU -> MaxPool2D(2)    # 32 x 7 x 7
    Affine(1568, 128) -> ReLU -> Dropout(0.5) -> Affine(128, 10) -> SoftmaxLoss

trained by minnet.fit with Adam(lr=2e-3), the rate multiplied by 0.85 after every
epoch (a callback), batch 64, 10 epochs; the seed seeds the split, the initial weights,
the dropout masks and fit's shuffling. The test set is used once, after training. Every
seed's wall time counts everything from loading the data file to the test accuracy.

The recipe was chosen with --validate (the last 500 training images as a validation
set, the test set untouched), seeds 0-2: this recipe 0.968-0.982; without the hidden
layer and Dropout (8 epochs, rate times 0.7 per epoch) the net overfits, training
accuracy 0.99 and validation 0.954-0.960; without BatchNorm as well (Adam 1e-3) 0.938-0.950.

    python benchmarks/cnn_mnist.py                 # seeds 0 1 2; writes results/cnn_mnist.json
    python benchmarks/cnn_mnist.py --seeds 3 4     # other seeds

Threads: numpy's BLAS gets --threads (default 1), set before numpy loads it. On a
shared 2-core machine two BLAS threads wait for each other whenever another process
holds a core, and the many small per-image products of Conv2D suffer most: one thread
is the predictable choice.

The share of time per layer type is measured on the way: every layer's forward and
backward is wrapped in a timer (two perf_counter calls each, a few microseconds per
minibatch against tens of milliseconds).
"""
import argparse
import os
import time

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
EPOCHS, BATCH, LR, DECAY, HIDDEN, KEEP_PROB = 10, 64, 2e-3, 0.85, 128, 0.5


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=EPOCHS, help=f"({EPOCHS})")
    parser.add_argument("--lr", type=float, default=LR, help=f"Adam's learning rate ({LR})")
    parser.add_argument("--decay", type=float, default=DECAY,
                        help=f"the learning rate is multiplied by this after every epoch ({DECAY})")
    parser.add_argument("--threads", type=int, default=1, help="numpy BLAS threads (1)")
    parser.add_argument("--no-bn", action="store_true", help="leave BatchNorm out")
    parser.add_argument("--hidden", type=int, default=HIDDEN,
                        help=f"the hidden Affine layer's width, 0 for none ({HIDDEN})")
    parser.add_argument("--keep-prob", type=float, default=KEEP_PROB,
                        help=f"Dropout before the last Affine, 0 for none ({KEEP_PROB})")
    parser.add_argument("--reg", type=float, default=0.0, help="L2 regularization")
    parser.add_argument("--validate", action="store_true",
                        help="for tuning: hold 500 of the training images out as a validation "
                             "set and report accuracy on it every epoch; the test set is not used")
    parser.add_argument("--out", default="cnn_mnist.json", help="results file name")
    return parser.parse_args()


ARGS = arguments()
for _variable in THREAD_VARIABLES:  # before numpy loads its BLAS, which reads them once
    os.environ[_variable] = str(ARGS.threads)

import numpy as np  # noqa: E402

import minnet  # noqa: E402
from common import save, table  # noqa: E402
from minnet.datasets import load_mnist_subset, train_test_split  # noqa: E402


def build(seed, batchnorm=True, hidden=0, keep_prob=None, reg=0.0):
    rng = np.random.default_rng(seed)
    norm = (lambda channels: [minnet.BatchNorm(channels)]) if batchnorm else (lambda _: [])
    drop = [minnet.Dropout(keep_prob, rng=rng.spawn(1)[0])] if keep_prob else []
    layers = [minnet.Conv2D(1, 16, 3, pad=1, rng=rng), *norm(16), minnet.ReLU(),
              minnet.MaxPool2D(2),
              minnet.Conv2D(16, 32, 3, pad=1, rng=rng), *norm(32), minnet.ReLU(),
              minnet.MaxPool2D(2)]
    if hidden:
        layers += [minnet.Affine(32 * 7 * 7, hidden, rng=rng), minnet.ReLU(), *drop,
                   minnet.Affine(hidden, 10, rng=rng)]
    else:
        layers += [*drop, minnet.Affine(32 * 7 * 7, 10, rng=rng)]
    return minnet.Net(layers, minnet.SoftmaxLoss(), reg=reg, dtype=np.float32)


def images(X, mean, std):
    return ((X / 255 - mean) / std).astype(np.float32).reshape(-1, 1, 28, 28)


class LayerClock:
    """Seconds spent in each layer type's forward (training and eval mode) and backward."""

    def __init__(self, net):
        self.seconds = {}
        for layer in net.layers:
            self._wrap(layer, "forward")
            self._wrap(layer, "backward")

    def _wrap(self, layer, method):
        original = getattr(layer, method)
        name = type(layer).__name__

        def timed(arg):
            start = time.perf_counter()
            try:
                return original(arg)
            finally:
                mode = method if method == "backward" else \
                    "forward (training)" if layer.training else "forward (eval)"
                key = (name, mode)
                self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - start
        setattr(layer, method, timed)


def run(seed):
    start = time.perf_counter()
    X, y = load_mnist_subset()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.2, seed=seed)
    if ARGS.validate:  # tuning: the last 500 training images play the test set
        X_train, X_test, y_train, y_test = X_train[:-500], X_train[-500:], y_train[:-500], \
            y_train[-500:]
    mean, std = (X_train / 255).mean(), (X_train / 255).std()
    X_train, X_test = images(X_train, mean, std), images(X_test, mean, std)
    net = build(seed, not ARGS.no_bn, ARGS.hidden, ARGS.keep_prob, ARGS.reg)
    clock = LayerClock(net)
    loaded = time.perf_counter() - start
    optimizer = minnet.Adam(ARGS.lr)
    steps_per_epoch = -(-len(X_train) // BATCH)

    def decay(step, *_):  # after the last step of an epoch, the next epoch's rate
        if step % steps_per_epoch == 0:
            optimizer.lr *= ARGS.decay

    history = minnet.fit(net, X_train, y_train, optimizer, epochs=ARGS.epochs,
                         batch_size=BATCH, seed=seed, verbose=True, callback=decay,
                         val=(X_test, y_test) if ARGS.validate else None)
    fitted = time.perf_counter() - start
    layer_seconds = dict(clock.seconds)  # during fit only, not the test pass below
    test_acc = net.accuracy(X_test, y_test)
    wall = time.perf_counter() - start
    return {"seed": seed, "test_accuracy": test_acc, "wall_seconds": wall,
            "load_and_prepare_seconds": loaded, "fit_seconds": fitted - loaded,
            "epoch_seconds": history.seconds, "mean_epoch_seconds": float(np.mean(history.seconds)),
            "train_accuracy_per_epoch": history.train_acc,
            "validation_accuracy_per_epoch": history.val_acc,
            "final_training_loss": float(np.mean(history.loss[-len(X_train) // BATCH:])),
            "layer_seconds": {f"{name} {mode}": s for (name, mode), s in layer_seconds.items()},
            "train_size": len(X_train), "test_size": len(X_test)}


def shares(layer_seconds, fit_seconds):
    """Where fit's time went: (split, by_type).

    split: the layers during the training steps (forward in training mode and backward),
    the layers during fit's accuracy passes after every epoch (forward in eval mode, the
    whole training set as one batch), and the rest (loss, Adam, batching), as shares of
    fit's time. by_type: each layer type's share of the training steps' layer time.
    """
    steps = {k: s for k, s in layer_seconds.items() if not k.endswith("(eval)")}
    passes = sum(s for k, s in layer_seconds.items() if k.endswith("(eval)"))
    split = {"layers in the training steps": sum(steps.values()) / fit_seconds,
             "layers in fit's accuracy passes": passes / fit_seconds,
             "outside the layers (loss, Adam, batching)":
                 1 - (sum(steps.values()) + passes) / fit_seconds}
    by_type = {}
    for key, seconds in steps.items():
        name = key.split(" ")[0]
        by_type[name] = by_type.get(name, 0.0) + seconds / sum(steps.values())
    return split, by_type


def main():
    runs = []
    for seed in ARGS.seeds:
        print(f"seed {seed}:")
        runs.append(run(seed))
        r = runs[-1]
        print(f"seed {seed}: {'validation' if ARGS.validate else 'test'} accuracy "
              f"{r['test_accuracy']:.4f} in {r['wall_seconds']:.1f} s wall "
              f"({r['mean_epoch_seconds']:.2f} s per epoch)\n", flush=True)
        r["time_split"], r["training_step_shares"] = shares(r["layer_seconds"], r["fit_seconds"])
    print(table(["seed", "test accuracy", "wall s", "fit s", "s per epoch"],
                [[r["seed"], f"{r['test_accuracy']:.4f}", f"{r['wall_seconds']:.1f}",
                  f"{r['fit_seconds']:.1f}", f"{r['mean_epoch_seconds']:.2f}"] for r in runs]))
    mean = {key: {name: float(np.mean([r[key][name] for r in runs])) for name in runs[0][key]}
            for key in ("time_split", "training_step_shares")}
    print("\nwhere fit's time went (mean over the seeds):")
    print(table(["part", "share"], [[name, f"{share:.1%}"]
                                    for name, share in mean["time_split"].items()]))
    print("\nthe training steps' layer time by layer type (forward + backward):")
    print(table(["layer type", "share"],
                [[name, f"{share:.1%}"] for name, share in
                 sorted(mean["training_step_shares"].items(), key=lambda kv: -kv[1])]))
    recipe = {"architecture": [repr(layer) for layer in build(0, not ARGS.no_bn, ARGS.hidden, ARGS.keep_prob, ARGS.reg).layers]
              + ["SoftmaxLoss()"],
              "dtype": "float32", "optimizer": f"Adam(lr={ARGS.lr}), the rate times {ARGS.decay} after every epoch", "batch_size": BATCH,
              "epochs": ARGS.epochs,
              "data": "load_mnist_subset, train_test_split(test_fraction=0.2, seed=seed): "
                      "4000 train / 1000 test" + (" (validate: the last 500 training images "
                                                  "as the evaluation set)" if ARGS.validate
                                                  else ""),
              "preprocessing": "x / 255, minus the training mean, over the training std "
                               "(two scalars); shape (N, 1, 28, 28)",
              "seed": "seeds the split, the initial weights and fit's shuffling",
              "blas_threads": ARGS.threads}
    figures = {"recipe": recipe, "runs": runs, "mean_time_split": mean["time_split"],
               "mean_training_step_shares": mean["training_step_shares"],
               "min_test_accuracy": min(r["test_accuracy"] for r in runs),
               "max_wall_seconds": max(r["wall_seconds"] for r in runs),
               "load_average_after": os.getloadavg()}
    print("wrote", save(ARGS.out, figures))


if __name__ == "__main__":
    main()
