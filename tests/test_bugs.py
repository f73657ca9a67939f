import numpy as np
import pytest

from minnet import Dropout, ReLU, bugs
from minnet.checker import check_net
from minnet.course.quiz import quiz_loss, quiz_net


def make_net(loss="SoftmaxLoss", seed=0):
    return quiz_net(loss, np.random.default_rng(seed))


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


def injection_sites(bug, net):
    if bug.target in bugs.LOSS_TARGETS or bug.target == "Net":
        return [None]
    return bugs.applicable_layers(net, bug.name)


def test_catalogue_covers_every_layer_loss_and_the_net():
    catalogue = bugs.catalogue()
    assert len(catalogue) >= 25
    assert len({bug.name for bug in catalogue}) == len(catalogue)
    assert {bug.target for bug in catalogue} == {
        "Affine", "ReLU", "Sigmoid", "Tanh", "Dropout", "RNN", "TimeAffine", "SoftmaxLoss",
        "SigmoidCrossEntropy", "MSELoss", "TemporalSoftmaxLoss", "Net"}
    for bug in catalogue:
        assert isinstance(bug.description, str) and 10 < len(bug.description) < 120
        assert "\n" not in bug.description


@pytest.mark.parametrize("mode", ["full", "fast"])
def test_mutation_score_every_bug_is_caught_and_localized(mode, capsys):
    options = {"fast": True} if mode == "fast" else {}
    caught = localized = total = clean_passed = clean_total = 0
    misses = []
    for bug in bugs.catalogue():
        for seed in range(3):
            net, X, y = make_net(quiz_loss(bug), seed)
            clean_total += 1
            clean_passed += check_net(net, X, y, **options).passed
            for layer in injection_sites(bug, net):
                expected = corrupted_tensors(net, X, y, bug, layer)
                if not expected:  # e.g. a dx bug in the first layer: no parameter is hurt
                    continue
                total += 1
                with bugs.inject(net, bug.name, layer=layer):
                    report = check_net(net, X, y, **options)
                caught += not report.passed
                localized += set(report.failed) == expected
                if set(report.failed) != expected:
                    misses.append((bug.name, seed, layer, sorted(expected), report.failed))
    with capsys.disabled():
        print(f"\nmutation score ({mode} check): caught {caught}/{total}, localized "
              f"{localized}/{total}; the same nets without bugs passed {clean_passed}/{clean_total}")
    assert misses == []
    assert clean_passed == clean_total


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
    assert not any("backward" in vars(layer) for layer in net.layers)


def test_buggy_class_is_the_layer_with_the_bug_built_in():
    ReLUBug = bugs.buggy_class("relu-mask-inverted")
    assert issubclass(ReLUBug, ReLU) and ReLUBug.__name__ == "ReLU"
    layer = ReLUBug()
    layer.forward(np.array([[-1.0, 2.0]]))
    np.testing.assert_array_equal(layer.backward(np.ones((1, 2))), [[1.0, 0.0]])
    with pytest.raises(ValueError, match="regularization gradient"):
        bugs.buggy_class("reg-gradient-missing")
