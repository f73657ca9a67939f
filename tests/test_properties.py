"""Property-based tests: random architectures, data and seeds (hypothesis).

Each test prints how many examples it tried, so the figures can be quoted. The runs are
derandomized (the same examples every time, so CI cannot flake) and bounded in number.
"""
import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from minnet import (SGD, Affine, Dropout, MSELoss, Net, ReLU, Sigmoid, SigmoidCrossEntropy,
                    SoftmaxLoss, Tanh, bugs)
from minnet.checker import check_net
from minnet.params import dictionary_to_vector, vector_to_dictionary
from minnet import registry
from minnet.course.quiz import quiz_net, quiz_net_for

ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}
LOSSES = {"softmax": SoftmaxLoss, "sigmoid": SigmoidCrossEntropy, "mse": MSELoss}
# the classes a random MLP from architectures() has, and the Net's regularization gradient
MLP_TARGETS = {"Affine", "ReLU", "Tanh", "Sigmoid", "Dropout", "SoftmaxLoss",
               "SigmoidCrossEntropy", "MSELoss", "Net"}


def examples(n):
    return settings(max_examples=n, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


@st.composite
def architectures(draw, dtypes=(np.float64, np.float32)):
    """A random MLP: depth, widths, activations, dropout, regularization, dtype and loss."""
    depth = draw(st.integers(1, 3))
    widths = draw(st.lists(st.integers(1, 7), min_size=depth + 1, max_size=depth + 1))
    loss = draw(st.sampled_from(sorted(LOSSES)))
    C = 1 if loss == "sigmoid" else draw(st.integers(2, 4))
    return {"widths": widths, "C": C, "loss": loss,
            "activations": draw(st.lists(st.sampled_from(sorted(ACTIVATIONS)),
                                         min_size=depth, max_size=depth)),
            "keep_probs": draw(st.lists(st.one_of(st.none(), st.floats(0.3, 1.0)),
                                        min_size=depth, max_size=depth)),
            "reg": draw(st.sampled_from([0.0, 1e-3, 0.1, 1.0])),
            "dtype": draw(st.sampled_from(dtypes)),
            "seed": draw(st.integers(0, 2**16)), "N": draw(st.integers(1, 8))}


def build(arch):
    """(net, X, y) for an architecture drawn by architectures()."""
    rng = np.random.default_rng(arch["seed"])
    layers = []
    sizes = arch["widths"] + [arch["C"]]
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Affine(fan_in, fan_out, rng=rng))
        if i < len(arch["activations"]):
            layers.append(ACTIVATIONS[arch["activations"][i]]())
            if arch["keep_probs"][i] is not None:
                # every other Dropout unseeded: the checker must fix its mask itself
                seed = int(rng.integers(1000)) if i % 2 else None
                layers.append(Dropout(arch["keep_probs"][i], seed=seed, rng=rng.spawn(1)[0]))
    net = Net(layers, LOSSES[arch["loss"]](), reg=arch["reg"], dtype=arch["dtype"])
    for name, value in net.params.items():  # nonzero biases: zeros would hide bias bugs
        if name.startswith("b"):
            value[...] = 0.3 * rng.standard_normal(value.shape)
    N, D = arch["N"], sizes[0]
    X = rng.standard_normal((N, D))
    y = {"softmax": rng.integers(0, arch["C"], N), "sigmoid": rng.integers(0, 2, N),
         "mse": rng.standard_normal((N, arch["C"]))}[arch["loss"]]
    return net, X, y


def test_correct_nets_always_pass(capsys):
    tried = []

    @examples(300)
    @given(architectures(), st.booleans())
    def correct_nets_pass(arch, fast):
        net, X, y = build(arch)
        report = check_net(net, X, y, fast=fast)
        assert report.passed, (arch, fast, str(report))
        tried.append(fast)

    correct_nets_pass()
    with capsys.disabled():
        print(f"\ncorrect nets: {len(tried)} random architectures checked ({len(tried) - sum(tried)}"
              f" full checks, {sum(tried)} fast), 0 false alarms")


def gradient_changes(net, X, y, name, layer):
    """Per tensor, (the largest change the bug makes to its gradient, the gradient's size)."""
    generators = [(lay.rng, lay.rng.bit_generator.state) for lay in net.layers
                  if isinstance(lay, Dropout)]

    def grads():
        for generator, state in generators:  # the same draws for both backward passes
            generator.bit_generator.state = state
        return net.loss_and_grads(X, y)[1]
    right = grads()
    with bugs.inject(net, name, layer=layer):
        wrong = grads()
    grads()
    return {key: (np.abs(wrong[key] - right[key]).max(), np.abs(right[key]).max())
            for key in right}


def test_every_catalogued_bug_is_caught_and_localized(capsys):
    tried = {bug.name: 0 for bug in bugs.catalogue()}

    @examples(25)
    @given(architectures((np.float64,)), st.integers(0, 2**16), st.booleans())
    def bug_is_found(name, arch, pick, fast):
        bug = bugs.get(name)
        if bug.target not in MLP_TARGETS:  # a class a random MLP lacks: its first quiz net
            net, X, y = quiz_net(quiz_net_for(bug), np.random.default_rng(arch["seed"]))
        else:
            if registry.is_loss(bug.target):
                arch["loss"] = {"SoftmaxLoss": "softmax", "SigmoidCrossEntropy": "sigmoid",
                                "MSELoss": "mse"}[bug.target]
                arch["C"] = 1 if arch["loss"] == "sigmoid" else max(arch["C"], 2)
            if bug.target in ("ReLU", "Tanh", "Sigmoid"):
                arch["activations"][0] = bug.target.lower()
            if bug.target == "Dropout":
                arch["keep_probs"][0] = 0.7
            if bug.name in ("affine-dW-transposed", "affine-dx-missing-transpose"):
                h = max(arch["widths"][1], 2)  # a square Affine after the first, for them to fit
                arch["widths"] = [arch["widths"][0], h, h]
                arch["activations"] = (arch["activations"] * 2)[:2]
                arch["keep_probs"] = (arch["keep_probs"] * 2)[:2]
            if bug.target == "Net":
                arch["reg"] = 0.1
            net, X, y = build(arch)
        for i, lay in enumerate(net.layers):  # the masks the check will use, known up front
            if isinstance(lay, Dropout) and lay.seed is None:
                lay.seed = 100 + i
        sites = bugs.applicable_layers(net, name) or [None]
        if "-dx-" in name:  # nothing uses the first layer's dx: break a later one
            sites = sites[1:] or sites
        layer = sites[pick % len(sites)]
        change = gradient_changes(net, X, y, name, layer)
        # Wrong by more than 0.1% (and by more than 1e-6, far above the difference
        # quotient's own error, about 1e-10 here): the check must flag it. Changed at all:
        # it may. Unchanged: it must not.
        must = {key for key, (c, size) in change.items() if c > max(1e-3 * size, 1e-6)}
        may = {key for key, (c, size) in change.items() if c > 0}
        assume(must)  # a bug that changes nothing here (a dx bug in the first layer, ...)
        with bugs.inject(net, name, layer=layer):
            report = check_net(net, X, y, fast=fast)
        assert must <= set(report.failed) <= may, (name, layer, fast, change, str(report))
        tried[name] += 1

    for name in tried:
        bug_is_found(name)
    with capsys.disabled():
        print(f"\ncatalogued bugs: {sum(tried.values())} injections into random nets, "
              f"{min(tried.values())} to {max(tried.values())} for each of the {len(tried)} "
              "bugs; every one caught and localized")


def test_parameter_vectors_round_trip_exactly(capsys):
    tried = []
    shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)

    @examples(200)
    @given(st.dictionaries(st.text("Wbxyz", min_size=1, max_size=3), shapes, min_size=1,
                           max_size=5),
           st.sampled_from([np.float64, np.float32]), st.integers(0, 2**16))
    def round_trip(layout, dtype, seed):
        rng = np.random.default_rng(seed)
        params = {name: (rng.standard_normal(shape) * 10.0 ** rng.integers(-30, 30, shape)
                         ).astype(dtype) for name, shape in layout.items()}
        theta, keys = dictionary_to_vector(params)
        assert theta.shape == (sum(p.size for p in params.values()),)
        back = vector_to_dictionary(theta, params)
        assert list(back) == list(params)
        for name in params:
            assert back[name].shape == params[name].shape
            assert back[name].astype(dtype).tobytes() == params[name].tobytes()
        again, _ = dictionary_to_vector(back)
        assert again.tobytes() == theta.tobytes()
        tried.append(layout)

    round_trip()
    with capsys.disabled():
        print(f"\nparameter vectors: {len(tried)} random dicts round-tripped bit for bit")


def test_save_and_load_round_trip_exactly(tmp_path_factory, capsys):
    tried = []

    @examples(100)
    @given(architectures())
    def round_trip(arch):
        net, X, y = build(arch)
        path = tmp_path_factory.mktemp("nets") / "net.npz"
        net.save(path)
        loaded = Net.load(path)
        assert repr(loaded) == repr(net)
        assert list(loaded.params) == list(net.params)
        for name, value in net.params.items():
            assert loaded.params[name].dtype == value.dtype
            assert loaded.params[name].tobytes() == value.tobytes()
        net.eval(), loaded.eval()
        assert net.forward(X).tobytes() == loaded.forward(X).tobytes()
        tried.append(arch)

    round_trip()
    with capsys.disabled():
        print(f"\nsave and load: {len(tried)} random nets round-tripped bit for bit")


def test_training_at_sane_learning_rates_never_gives_nan(capsys):
    tried = []

    @examples(100)
    @given(architectures(), st.floats(1e-3, 0.1), st.integers(10, 60))
    def trains(arch, lr, steps):
        net, X, y = build(arch)
        optimizer = SGD(lr)
        for _ in range(steps):
            _, grads = net.loss_and_grads(X, y)  # raises if the loss is not finite
            assert all(np.all(np.isfinite(g)) for g in grads.values())
            optimizer.step(net.params, grads)
        assert all(np.all(np.isfinite(p)) for p in net.params.values())
        tried.append(steps)

    trains()
    with capsys.disabled():
        print(f"\ntraining: {len(tried)} random nets, {sum(tried)} SGD steps at learning rates "
              "1e-3..0.1, no NaN or Inf")
