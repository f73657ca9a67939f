from collections import Counter

import numpy as np
import pytest

from minnet import Conv2D, Dropout, MaxPool2D, ReLU, bugs, registry
from minnet.checker import check_net
from minnet.course.quiz import quiz_net, quiz_nets_for


def make_net(name="SoftmaxLoss", seed=0):
    return quiz_net(name, np.random.default_rng(seed))


def corrupted_tensors(net, X, y, bug, layer):
    """The tensors whose gradient the bug changes, found by running both backward passes."""
    right = net.loss_and_grads(X, y)[1]
    # A bug may draw random numbers (a fresh dropout mask): the check must see the same draw.
    generators = [(layer.rng, layer.rng.bit_generator.state) for layer in net.layers
                  if isinstance(layer, Dropout)]
    with bugs.inject(net, bug.name, layer=layer):
        wrong = net.loss_and_grads(X, y)[1]
    for generator, state in generators:
        generator.bit_generator.state = state
    return {name for name in right
            if np.abs(wrong[name] - right[name]).max() > 1e-12 * (np.abs(right[name]).max() + 1)}


NEW_TARGETS = ("Conv2D", "MaxPool2D", "BatchNorm", "LayerNorm", "LSTM", "Embedding", "SVMLoss")


def test_catalogue_covers_every_registered_class_and_the_net():
    catalogue = bugs.catalogue()
    assert len({bug.name for bug in catalogue}) == len(catalogue)
    per_target = Counter(bug.target for bug in catalogue)
    assert set(per_target) == {*registry.LAYERS, *registry.LOSSES, "Net"}
    assert all(per_target[name] >= 2 for name in [*registry.LAYERS, *registry.LOSSES])
    assert all(per_target[name] >= 3 for name in NEW_TARGETS)
    for bug in catalogue:
        assert isinstance(bug.description, str) and 10 < len(bug.description) < 120
        assert "\n" not in bug.description
        assert quiz_nets_for(bug), f"{bug.name} fits none of the quiz nets"


def mutation_cases(every_net):
    """(bug, quiz net, seed): every bug in the first quiz net it fits, the one the other
    tests show it in, with three seeds; with every_net, in every other quiz net it fits
    too (a quiz may hide it there), with one."""
    for bug in bugs.catalogue():
        first, *others = quiz_nets_for(bug)
        yield from ((bug, first, seed) for seed in range(3))
        yield from ((bug, name, 0) for name in others if every_net)


def diagnosis_problem(bug, layer, report):
    """What a quiz's answer would say wrong about the bug (the pattern its mistake
    implies, where to look first), or None."""
    patterns = {report[name].pattern for name in report.failed}
    if bug.pattern is not None and patterns != {bug.pattern}:
        return f"patterns {patterns}, not {bug.pattern!r}"
    if bug.target == "Net":
        right = report.suspects == ["reg"]
    elif layer is None:
        right = report.suspects[:1] == ["loss"]
    else:
        right = layer in report.suspects
    return None if right else f"suspects {report.suspects}"


@pytest.mark.parametrize("mode", ["full", "fast"])
def test_mutation_score_every_bug_is_caught_and_localized(mode, capsys):
    # The full check, the one a quiz runs, in every quiz net; the fast one in each bug's first.
    options = {"fast": True} if mode == "fast" else {}
    caught = localized = total = 0
    clean = {}
    shown = Counter()  # injections that change some gradient, per bug
    misses, wrong_diagnoses = [], []
    for bug, name, seed in mutation_cases(every_net=mode == "full"):
        net, X, y = make_net(name, seed)
        if (name, seed) not in clean:
            clean[name, seed] = check_net(net, X, y, **options).passed
        for layer in bugs.sites(net, bug.name):
            expected = corrupted_tensors(net, X, y, bug, layer)
            if not expected:  # e.g. a dx bug in the first layer: no parameter is hurt
                continue
            shown[bug.name] += 1
            total += 1
            with bugs.inject(net, bug.name, layer=layer):
                report = check_net(net, X, y, **options)
            caught += not report.passed
            localized += set(report.failed) == expected
            if set(report.failed) != expected:
                misses.append((bug.name, name, seed, layer, sorted(expected), report.failed))
            problem = diagnosis_problem(bug, layer, report) if mode == "full" else None
            if problem:
                wrong_diagnoses.append((bug.name, name, seed, layer, problem))
    with capsys.disabled():
        print(f"\nmutation score ({mode} check): caught {caught}/{total}, localized "
              f"{localized}/{total}, {len(shown)} bugs in {len(clean)} nets; the same nets "
              f"without bugs passed {sum(clean.values())}/{len(clean)}")
    assert misses == []
    assert wrong_diagnoses == []
    assert set(shown) == set(bugs.BUGS)  # every bug really changes a gradient somewhere
    assert all(clean.values())


def backward_results(net, X, y, site):
    """What the broken object's backward gives at a site, on the net's own batch: a
    layer's dx and parameter gradients (from the input the net gives it and a fixed
    dout), the loss's dscores, or the net's regularization gradients (site None)."""
    if site is None:
        net.loss_fn.forward(net.forward(X), y)
        dscores = net.loss_fn.backward()
        reg = [np.asarray(net.reg_gradient(layer, key), dtype=float)
               for layer in net.layers for key in layer.params]
        return [np.array(dscores), *reg]
    x = X
    for layer in net.layers[:site]:
        x = layer.forward(x)
    layer = net.layers[site]
    # both passes draw the same random numbers (a Dropout without a seed)
    generator = getattr(layer, "rng", None)
    state = generator.bit_generator.state if generator is not None else None
    # dx too in a first layer, where the net skips it: a dx bug there is still a bug
    needs_dx, layer.needs_dx = layer.needs_dx, True
    out = layer.forward(x)
    dout = np.random.default_rng(1).standard_normal(np.shape(out))
    dx = layer.backward(dout)
    layer.needs_dx = needs_dx
    if generator is not None:
        generator.bit_generator.state = state
    grads = [np.array(layer.grads[key]) for key in sorted(layer.grads)]
    return grads if dx is None else [np.array(dx), *grads]  # None: Embedding's token ids


def changed(right, wrong):
    """Whether some result differs by more than rounding (or has another shape)."""
    return len(right) != len(wrong) or any(
        np.shape(r) != np.shape(w) or np.abs(w - r).max() > 1e-9 * np.abs(r).max()
        for r, w in zip(right, wrong))


def test_every_catalogued_bug_changes_what_backward_gives_wherever_it_fits():
    # Directly, layer by layer: the mutation score above skips an injection that hurts no
    # parameter (a dx bug in the first layer), so a bug made harmless could hide there.
    harmless = []
    for bug in bugs.catalogue():
        for name in quiz_nets_for(bug):
            net, X, y = make_net(name)
            for site in bugs.sites(net, bug.name):
                right = backward_results(net, X, y, site)
                with bugs.inject(net, bug.name, layer=site):
                    wrong = backward_results(net, X, y, site)
                if not changed(right, wrong):
                    harmless.append((bug.name, name, site))
    assert harmless == []


def test_the_maxpool_tie_bug_meets_exact_ties_in_the_cnn():
    net, X, y = make_net("cnn")
    assert isinstance(net.layers[4], MaxPool2D)
    x = net.layers[3].forward(net.layers[2].forward(net.layers[1].forward(
        net.layers[0].forward(X))))
    windows = x.reshape(x.shape[0], x.shape[1], 4, 2, 4, 2).transpose(0, 1, 2, 4, 3, 5)
    windows = windows.reshape(*windows.shape[:4], 4)
    ties = (windows == windows.max(axis=-1, keepdims=True)).sum(axis=-1) > 1
    assert ties.sum() >= 12 * 2 * len(X)  # the 12 blank windows, in each channel and image
    # and the bug sends dout to the tied entries too: every parameter before it changes
    assert corrupted_tensors(net, X, y, bugs.get("maxpool-every-tie"), 4) == \
        {"W1", "b1", "gamma2", "beta2"}


def test_inject_restores_the_layer_even_on_exceptions():
    net, X, y = make_net()
    before = net.loss_and_grads(X, y)[1]
    with pytest.raises(RuntimeError):
        with bugs.inject(net, "affine-dW-doubled", layer=3) as layer:
            assert layer is net.layers[3]
            data_part = before["W2"] - net.reg * net.params["W2"]
            np.testing.assert_allclose(net.loss_and_grads(X, y)[1]["W2"],
                                       2 * data_part + net.reg * net.params["W2"])
            raise RuntimeError("student code crashed")
    assert "backward" not in vars(net.layers[3])
    after = net.loss_and_grads(X, y)[1]
    for name in before:
        np.testing.assert_array_equal(after[name], before[name])


def test_a_bug_with_its_own_forward_restores_both_methods():
    net, X, y = make_net("cnn")
    before = net.forward(X)
    with bugs.inject(net, "maxpool-every-tie") as layer:
        assert layer is net.layers[4] and {"forward", "backward"} <= set(vars(layer))
        np.testing.assert_array_equal(net.forward(X), before)  # the bug is in backward only
    assert not {"forward", "backward"} & set(vars(net.layers[4]))


def test_classic_bugs_are_named_by_the_checker():
    net, X, y = make_net()
    with bugs.inject(net, "affine-dW-doubled", layer=3):
        assert check_net(net, X, y).failed == ["W2"]
    with bugs.inject(net, "affine-db-times-4", layer=0):
        assert check_net(net, X, y).failed == ["b1"]
    with bugs.inject(net, "reg-gradient-on-biases"):
        assert check_net(net, X, y, part="reg").failed == ["b1", "b2", "b3", "b4"]
        assert check_net(net, X, y, part="data").passed


def test_default_layer_and_bad_requests():
    net, X, y = make_net()
    with bugs.inject(net, "relu-mask-inverted") as layer:
        assert layer is net.layers[1]
    with bugs.inject(net, "affine-dx-missing-transpose") as layer:
        assert layer is net.layers[5]  # the only square Affine
    with pytest.raises(ValueError, match="no bug named 'relu-typo'"):
        with bugs.inject(net, "relu-typo"):
            pass
    with pytest.raises(ValueError, match=r"net.layers\[1\] is ReLU\(\); the layers it fits are "
                                         r"\[0, 3, 5, 7\]"):
        with bugs.inject(net, "affine-dW-doubled", layer=1):
            pass
    with pytest.raises(ValueError, match="the net has no layer 42"):
        with bugs.inject(net, "affine-dW-doubled", layer=42):
            pass
    with pytest.raises(ValueError, match="this net's loss is SoftmaxLoss"):
        with bugs.inject(net, "mse-missing-factor-2"):
            pass
    with pytest.raises(ValueError, match="this net's loss is SoftmaxLoss"):
        with bugs.inject(net, "svm-missing-1/N"):
            pass
    with pytest.raises(ValueError, match="breaks a Conv2D layer, and this net has none it fits"):
        with bugs.inject(net, "conv-db-averaged"):
            pass
    assert not any("backward" in vars(layer) for layer in net.layers)


def test_a_bug_fits_the_layers_its_mistake_can_be_made_in():
    net, X, y = make_net("cnn")
    assert [type(layer).__name__ for layer in net.layers].count("Conv2D") == 2
    assert net.layers[0].stride == 1 and net.layers[5].stride == 2
    assert bugs.applicable_layers(net, "conv-db-averaged") == [0, 5]
    assert bugs.applicable_layers(net, "conv-dW-ignores-stride") == [5]  # stride 1: no mistake
    assert bugs.applicable_layers(make_net()[0], "affine-dW-transposed") == [5]  # W square only
    assert bugs.sites(net, "softmax-no-minus-one") == [None]
    assert bugs.sites(net, "svm-missing-1/N") == []
    assert bugs.sites(net, "reg-gradient-missing") == [None]
    net.reg = 0.0
    assert bugs.sites(net, "reg-gradient-missing") == []
    single = Conv2D(1, 1, 1, stride=2)  # a flipped 1 x 1 kernel is the same kernel
    assert not bugs.get("conv-dx-flipped-kernel").fits(single)
    assert bugs.get("conv-dW-ignores-stride").fits(single)


def test_buggy_class_is_the_layer_with_the_bug_built_in():
    ReLUBug = bugs.buggy_class("relu-mask-inverted")
    assert issubclass(ReLUBug, ReLU) and ReLUBug.__name__ == "ReLU"
    layer = ReLUBug()
    layer.forward(np.array([[-1.0, 2.0]]))
    np.testing.assert_array_equal(layer.backward(np.ones((1, 2))), [[1.0, 0.0]])
    with pytest.raises(ValueError, match="regularization gradient"):
        bugs.buggy_class("reg-gradient-missing")


def test_buggy_class_keeps_the_forward_its_backward_needs():
    PoolBug = bugs.buggy_class("maxpool-every-tie")
    assert issubclass(PoolBug, MaxPool2D) and PoolBug.__name__ == "MaxPool2D"
    layer = PoolBug(2)
    x = np.array([[[[1.0, 1.0], [0.0, 1.0]]]])  # one window, its maximum 1 three times
    np.testing.assert_array_equal(layer.forward(x), [[[[1.0]]]])
    np.testing.assert_array_equal(layer.backward(np.array([[[[5.0]]]])),
                                  [[[[5.0, 5.0], [0.0, 5.0]]]])
    right = MaxPool2D(2)
    right.forward(x)
    np.testing.assert_array_equal(right.backward(np.array([[[[5.0]]]])),
                                  [[[[5.0, 0.0], [0.0, 0.0]]]])
