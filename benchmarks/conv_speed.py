"""Conv2D, MaxPool2D and BatchNorm speed: minnet against torch.nn.functional on the CPU.

Every case is one training step of one layer, forward then backward, in float32, on a
batch of 64, from the same x, weights and dout for every contender:

- Conv2D 1->16 channels, 28x28, 3x3, pad 1: a first layer, timed with dx and without
- Conv2D 16->32 channels, 14x14, 3x3, pad 1, with dx (and without, for information)
- MaxPool2D 2x2 and BatchNorm (training mode) on the outputs of those convolutions,
  (64, 16, 28, 28) and (64, 32, 14, 14), always with dx (their dx is all they compute
  besides BatchNorm's two small gradients)

Contenders: minnet's layer; torch.nn.functional (conv2d, max_pool2d, batch_norm) with
autograd, as it comes (oneDNN on) and with oneDNN turned off (PyTorch's own kernels:
faster for some of these shapes; the ratio to the faster of the two is reported too);
for Conv2D, naive loops written below. dx: minnet skips it when
layer.needs_dx is False, PyTorch when x.requires_grad is False; a "no dx" case sets both.

The rules, the same for every contender:
- threads: --threads N (default 1) goes to numpy's BLAS (OPENBLAS_NUM_THREADS and
  friends, set before numpy loads it) and to torch.set_num_threads(N). numpy's
  elementwise operations run on one thread whatever N; PyTorch's use N. One thread is
  the default because this 2-core machine is shared: with two, any busy core makes both
  libraries' threads wait for each other, and the figures swing by several times.
- timing: common.interleaved_rounds. Rounds in turn, each contender called back to back
  for 0.1 s (once if it takes longer), its time per call the mean over that burst; the
  figure is the median over the rounds (--repeats, 7). Every contender is called twice
  before the rounds (warm-up; the naive loops once).
- the naive loops take seconds per call, so they sit in the first --naive-repeats rounds
  (3) only, one call per round: the same measurement, repeated fewer times.
- the results are compared: out, dW, db, dx of every contender against minnet's.

Then what bounds Conv2D: its steps timed one at a time (pad, im2col copy, the matrix
products, col2im), one GEMM as large as the convolution, and numpy's GEMM throughput.

    python benchmarks/conv_speed.py                # writes results/conv_speed_1thread.json
    python benchmarks/conv_speed.py --threads 2    # writes results/conv_speed_2threads.json
    python benchmarks/conv_speed.py --before PATH  # adds the minnet package in folder PATH
                                                   # (an older version) as a contender
"""
import argparse
import os

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for numpy's BLAS and for PyTorch alike (1)")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds (7)")
    parser.add_argument("--naive-repeats", type=int, default=3,
                        help="rounds the naive loops take part in (3)")
    parser.add_argument("--no-naive", action="store_true", help="leave the naive loops out")
    parser.add_argument("--before", metavar="PATH",
                        help="the minnet folder of another version, timed side by side")
    parser.add_argument("--name", help="the results file's name (default: from the threads)")
    parser.add_argument("--only", choices=("conv", "pool", "norm", "bounds"), action="append",
                        help="run only these parts (repeatable); all by default")
    return parser.parse_args()


ARGS = arguments()
for _variable in THREAD_VARIABLES:  # before numpy loads its BLAS, which reads them once
    os.environ[_variable] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

import minnet  # noqa: E402
from common import interleaved_rounds, load_package, median, save, table  # noqa: E402

torch.set_num_threads(ARGS.threads)
N = 64
CONVS = {  # label: (C, F, H = W, needs_dx, naive loops?)
    "Conv2D 1->16, 28x28, 3x3 pad 1, with dx": (1, 16, 28, True, True),
    "Conv2D 1->16, 28x28, 3x3 pad 1, no dx": (1, 16, 28, False, True),
    "Conv2D 16->32, 14x14, 3x3 pad 1, with dx": (16, 32, 14, True, True),
    "Conv2D 16->32, 14x14, 3x3 pad 1, no dx": (16, 32, 14, False, False),
}
MAPS = [(N, 16, 28, 28), (N, 32, 14, 14)]  # what those convolutions put out


def arrays(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(np.float32) for shape in shapes]


# -- the naive convolution ----------------------------------------------------------

def naive_conv_step(x, W, b, dout, pad, needs_dx):
    """Conv2D's forward and backward as six loops: f, c over the filters and channels,
    i, j over the output pixels, p, q over the kernel; the batch is one vector per step.

    That is the generous naive version: a loop over the 64 images as well would make 64
    times as many Python-level steps. Stride 1. Returns out, dW, db, dx (None without).
    """
    N, C, H, Wd = x.shape
    F, _, HH, WW = W.shape
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho, Wo = H + 2 * pad - HH + 1, Wd + 2 * pad - WW + 1
    out = np.empty((N, F, Ho, Wo), dtype=x.dtype)
    for f in range(F):
        out[:, f] = b[f]
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    for p in range(HH):
                        for q in range(WW):
                            out[:, f, i, j] += W[f, c, p, q] * xpad[:, c, i + p, j + q]
    dW, db, dxpad = np.zeros_like(W), dout.sum(axis=(0, 2, 3)), np.zeros_like(xpad)
    for f in range(F):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    for p in range(HH):
                        for q in range(WW):
                            dW[f, c, p, q] += dout[:, f, i, j] @ xpad[:, c, i + p, j + q]
                            if needs_dx:
                                dxpad[:, c, i + p, j + q] += W[f, c, p, q] * dout[:, f, i, j]
    return out, dW, db, dxpad[:, :, pad:pad + H, pad:pad + Wd] if needs_dx else None


# -- the contenders, each a run() that keeps its last results -------------------------

def without_onednn(run):
    """The same PyTorch run with oneDNN (mkldnn) turned off: PyTorch's own CPU kernels.

    PyTorch picks oneDNN on the CPU by default; which of the two is faster depends on the
    shape (and, we saw, on the load of the machine), so both are timed and the faster
    one counts too.
    """
    def run_native():
        torch.backends.mkldnn.enabled = False
        try:
            run()
        finally:
            torch.backends.mkldnn.enabled = True
    return run_native


def minnet_conv(package, x, W, b, dout, needs_dx, results, label):
    layer = package.Conv2D(W.shape[1], W.shape[0], W.shape[2:], pad=1)
    layer.params["W"], layer.params["b"] = W.copy(), b.copy()
    layer.needs_dx = needs_dx

    def run():
        out = layer.forward(x)
        dx = layer.backward(dout)
        results[label] = (out, layer.grads["W"], layer.grads["b"], dx)
    return run


def torch_conv(x, W, b, dout, needs_dx, results, label):
    xt = torch.from_numpy(x).requires_grad_(needs_dx)  # no dx asked: autograd skips it
    Wt, bt = torch.from_numpy(W.copy()).requires_grad_(), torch.from_numpy(b.copy()).requires_grad_()
    dt = torch.from_numpy(dout)

    def run():
        xt.grad = Wt.grad = bt.grad = None  # fresh gradients, as minnet's
        out = TF.conv2d(xt, Wt, bt, padding=1)
        out.backward(dt)
        results[label] = (out, Wt.grad, bt.grad, xt.grad)
    return run


def naive_conv(x, W, b, dout, needs_dx, results, label):
    def run():
        results[label] = naive_conv_step(x, W, b, dout, 1, needs_dx)
    return run


def minnet_pool(package, x, dout, results, label):
    layer = package.MaxPool2D(2)

    def run():
        out = layer.forward(x)
        results[label] = (out, layer.backward(dout))
    return run


def torch_pool(x, dout, results, label):
    xt, dt = torch.from_numpy(x).requires_grad_(), torch.from_numpy(dout)

    def run():
        xt.grad = None
        out = TF.max_pool2d(xt, 2)
        out.backward(dt)
        results[label] = (out, xt.grad)
    return run


def minnet_norm(package, x, dout, results, label):
    layer = package.BatchNorm(x.shape[1])
    layer.params = {name: value.astype(np.float32) for name, value in layer.params.items()}
    layer.running_mean = layer.running_mean.astype(np.float32)
    layer.running_var = layer.running_var.astype(np.float32)

    def run():
        out = layer.forward(x)
        dx = layer.backward(dout)
        results[label] = (out, dx, layer.grads["gamma"], layer.grads["beta"])
    return run


def torch_norm(x, dout, results, label):
    C = x.shape[1]
    xt, dt = torch.from_numpy(x).requires_grad_(), torch.from_numpy(dout)
    gamma, beta = torch.ones(C, requires_grad=True), torch.zeros(C, requires_grad=True)
    running_mean, running_var = torch.zeros(C), torch.ones(C)

    def run():
        xt.grad = gamma.grad = beta.grad = None
        out = TF.batch_norm(xt, running_mean, running_var, gamma, beta, training=True,
                            momentum=0.1, eps=1e-5)
        out.backward(dt)
        results[label] = (out, xt.grad, gamma.grad, beta.grad)
    return run


# -- measuring ----------------------------------------------------------------------

def largest_difference(results, reference):
    """max |a - b| / max |b| over the arrays of each contender's results, against minnet's."""
    def plain(a):
        return a.detach().numpy() if isinstance(a, torch.Tensor) else a

    want = results[reference]
    worst = {}
    for label, got in results.items():
        gaps = [float(np.abs(plain(g) - w).max() / max(np.abs(w).max(), 1e-30))
                for g, w in zip(got, want) if g is not None and w is not None]
        worst[label] = max(gaps)
    return worst


def measure(runs, results, slow=()):
    """Warm up, time interleaved, return (median seconds, all rounds, differences)."""
    for label, run in runs.items():
        for _ in range(1 if label in slow else 2):
            run()
    repeats = {label: ARGS.naive_repeats if label in slow else ARGS.repeats for label in runs}
    rounds = interleaved_rounds(runs, repeats)
    seconds = {label: median(times) for label, times in rounds.items()}
    return seconds, rounds, largest_difference(results, "minnet")


def report(case, seconds, rounds, differences, figures, rows):
    torch_s = seconds["PyTorch"]
    best_torch_s = min(seconds["PyTorch"], seconds["PyTorch, oneDNN off"])
    figures[case] = {"seconds_median": seconds, "seconds_rounds": rounds,
                     "largest_relative_difference_from_minnet": differences,
                     "minnet_speed_over_pytorch": torch_s / seconds["minnet"],
                     "minnet_speed_over_faster_pytorch": best_torch_s / seconds["minnet"]}
    if "naive loops" in seconds:
        figures[case]["minnet_speed_over_naive"] = seconds["naive loops"] / seconds["minnet"]
    if "minnet before" in seconds:
        figures[case]["minnet_speed_over_before"] = seconds["minnet before"] / seconds["minnet"]
    for label, s in seconds.items():
        rows.append([case if label == "minnet" else "", label, f"{s * 1e3:.3f}",
                     f"{len(rounds[label])}", f"{torch_s / s:.3g}", f"{best_torch_s / s:.3g}",
                     f"{seconds['naive loops'] / s:,.0f}" if "naive loops" in seconds else "",
                     f"{differences[label]:.1e}"])


def conv_cases(before, figures):
    rows = []
    for case, (C, F, H, needs_dx, with_naive) in CONVS.items():
        x, W, b, dout = arrays(0, (N, C, H, H), (F, C, 3, 3), (F,), (N, F, H, H))
        W *= np.sqrt(2 / (C * 9))
        results = {}
        runs = {"minnet": minnet_conv(minnet, x, W, b, dout, needs_dx, results, "minnet"),
                "PyTorch": torch_conv(x, W, b, dout, needs_dx, results, "PyTorch"),
                "PyTorch, oneDNN off": without_onednn(torch_conv(
                    x, W, b, dout, needs_dx, results, "PyTorch, oneDNN off"))}
        if before is not None:
            runs["minnet before"] = minnet_conv(before, x, W, b, dout, needs_dx, results,
                                                "minnet before")
        if with_naive and not ARGS.no_naive:
            runs["naive loops"] = naive_conv(x, W, b, dout, needs_dx, results, "naive loops")
        report(case, *measure(runs, results, slow={"naive loops"}), figures, rows)
    return rows


def layer_cases(kind, before, figures):
    rows = []
    for shape in MAPS:
        x, dout = arrays(1, shape, shape if kind == "norm" else
                         (shape[0], shape[1], shape[2] // 2, shape[3] // 2))
        results = {}
        mine, theirs, what = ((minnet_pool, torch_pool, "MaxPool2D 2x2 on") if kind == "pool"
                              else (minnet_norm, torch_norm, "BatchNorm training on"))
        case = f"{what} {shape}"
        runs = {"minnet": mine(minnet, x, dout, results, "minnet"),
                "PyTorch": theirs(x, dout, results, "PyTorch"),
                "PyTorch, oneDNN off": without_onednn(theirs(
                    x, dout, results, "PyTorch, oneDNN off"))}
        if before is not None:
            runs["minnet before"] = mine(before, x, dout, results, "minnet before")
        report(case, *measure(runs, results), figures, rows)
    return rows


# -- what bounds Conv2D ---------------------------------------------------------------

def conv_steps(C, F, H):
    """Conv2D's forward and backward (stride 1, pad 1, with dx), one step at a time, as in
    minnet/layers/conv.py; plus one GEMM as large as the convolution and PyTorch's step."""
    x, W, b, dout = arrays(0, (N, C, H, H), (F, C, 3, 3), (F,), (N, F, H, H))
    K, P = C * 9, H * H
    W2, d3 = W.reshape(F, K), dout.reshape(N, F, P)
    xpad = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(xpad, (3, 3), axis=(2, 3))
    cols = windows.transpose(0, 1, 4, 5, 2, 3).reshape(N, K, P)
    dcols = (W2.T @ d3).reshape(N, C, 3, 3, H, H)
    rows_ = np.ascontiguousarray(cols.transpose(0, 2, 1)).reshape(N * P, K)

    def col2im():
        dxpad = np.zeros(xpad.shape, dtype=np.float32)
        for i in range(3):
            for j in range(3):
                dxpad[:, :, i:i + H, j:j + H] += dcols[:, :, i, j]

    def pytorch_step():
        xt = torch.from_numpy(x).requires_grad_()
        Wt, bt = torch.from_numpy(W).requires_grad_(), torch.from_numpy(b).requires_grad_()
        TF.conv2d(xt, Wt, bt, padding=1).backward(torch.from_numpy(dout))

    steps = {
        "pad": lambda: np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))),
        "im2col copy": lambda: windows.transpose(0, 1, 4, 5, 2, 3).reshape(N, K, P),
        "forward: W @ cols": lambda: W2 @ cols,
        "forward: + b": lambda: d3 + b.reshape(-1, 1),
        "dW.T: cols @ dout.T, summed": lambda: (cols @ d3.transpose(0, 2, 1)).sum(axis=0),
        "db: dout summed": lambda: d3.sum(axis=(0, 2)),
        "dcols: W.T @ dout": lambda: W2.T @ d3,
        "col2im: 9 strided additions": col2im,
        "one GEMM (N H W, C 9) @ (C 9, F)": lambda: rows_ @ W2.T,
        "PyTorch conv2d forward + backward": pytorch_step,
        "PyTorch conv2d forward + backward, oneDNN off": without_onednn(pytorch_step),
    }
    seconds = {label: median(times) for label, times in
               interleaved_rounds(steps, ARGS.repeats, pause=0.1).items()}
    flops = 2 * N * P * K * F  # one of the three products
    return seconds, flops


def gemm_throughput(size=1024):
    a, b = arrays(2, (size, size), (size, size))
    seconds = median(interleaved_rounds({"gemm": lambda: a @ b}, ARGS.repeats)["gemm"])
    return 2 * size**3 / seconds / 1e9


def bounds(figures):
    gflops = gemm_throughput()
    print(f"\nnumpy float32 GEMM 1024x1024x1024: {gflops:.1f} GFLOP/s on {ARGS.threads} "
          "thread(s)")
    figures["numpy_gemm_gflops_1024"] = gflops
    for C, F, H in [(1, 16, 28), (16, 32, 14)]:
        seconds, flops = conv_steps(C, F, H)
        minnet_sum = sum(s for label, s in seconds.items()
                         if not label.startswith(("one GEMM", "PyTorch")))
        torch_s = min(seconds["PyTorch conv2d forward + backward"],
                      seconds["PyTorch conv2d forward + backward, oneDNN off"])
        gemm_s = seconds["one GEMM (N H W, C 9) @ (C 9, F)"]
        print(f"\nConv2D {C}->{F}, {H}x{H}, with dx, step by step "
              f"({flops / 1e6:.0f} MFLOP per product, 3 products):")
        rows = [[label, f"{s * 1e3:.3f}", f"{flops / s / 1e9:.1f}" if "@" in label else ""]
                for label, s in seconds.items()]
        rows.append(["sum of minnet's steps", f"{minnet_sum * 1e3:.3f}", ""])
        rows.append(["3 single GEMMs (the products at one GEMM's speed)",
                     f"{3 * gemm_s * 1e3:.3f}", ""])
        print(table(["step", "ms", "GFLOP/s"], rows))
        print(f"PyTorch's faster whole step runs the 3 products' {3 * flops / 1e6:.0f} MFLOP "
              f"at {3 * flops / torch_s / 1e9:.1f} GFLOP/s; the 3 products alone as numpy "
              f"GEMMs take {3 * gemm_s / torch_s:.2f} times that whole step")
        figures[f"bounds Conv2D {C}->{F} {H}x{H}"] = {
            "seconds_median": seconds, "mflop_per_product": flops / 1e6,
            "sum_of_minnet_steps": minnet_sum,
            "pytorch_gflops": 3 * flops / torch_s / 1e9,
            "three_gemms_over_pytorch_step": 3 * gemm_s / torch_s}


LOAD_BEFORE = os.getloadavg()


def main():
    parts = ARGS.only or ["conv", "pool", "norm", "bounds"]
    before = load_package(os.path.abspath(ARGS.before)) if ARGS.before else None
    figures = {"threads": {"numpy BLAS": ARGS.threads, "torch": torch.get_num_threads()},
               "torch": torch.__version__, "onednn_available": torch.backends.mkldnn.is_available(), "dtype": "float32", "batch": N,
               "timing": "median over interleaved rounds of the mean time per call in a "
                         "0.1 s burst; naive loops in fewer rounds",
               "repeats": ARGS.repeats, "naive_repeats": ARGS.naive_repeats,
               "before": ARGS.before}
    print(f"threads: numpy BLAS {ARGS.threads}, torch {torch.get_num_threads()}; float32, "
          f"batch {N}; median of {ARGS.repeats} interleaved rounds "
          f"({ARGS.naive_repeats} for the naive loops)")
    header = ["case", "contender", "ms per step", "rounds", "speed / PyTorch's",
              "/ faster PyTorch's", "speed / naive's", "rel. difference"]
    rows = []
    if "conv" in parts:
        rows += conv_cases(before, figures)
    if "pool" in parts:
        rows += layer_cases("pool", before, figures)
    if "norm" in parts:
        rows += layer_cases("norm", before, figures)
    if rows:
        print(table(header, rows))
    if "bounds" in parts:
        bounds(figures)
    name = ARGS.name or f"conv_speed_{ARGS.threads}thread{'s' if ARGS.threads > 1 else ''}" + \
        ("_partial" if ARGS.only else "") + ("_compared" if ARGS.before else "") + ".json"
    figures["load_average_before_after"] = [LOAD_BEFORE, os.getloadavg()]
    print("wrote", save(name, figures))


if __name__ == "__main__":
    main()
