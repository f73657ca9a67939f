"""Evaluators: the loss at many points along lines through the parameters, in one call.

The driver (engine.py) asks an Evaluator for every point it needs of a tensor at
once. The plain loop here moves one entry (or the whole tensor along a direction),
evaluates the loss, and puts everything back; stacked.py evaluates thousands of
perturbations of a Net as one batch; a layer that runs many perturbed forwards in one
call (the grader's proxies) gets one in checks.py. Whichever it is, every call is
watched: the loss must leave what it reads as it was.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .numerical import as_number


class ForwardChangedParametersError(RuntimeError):
    """Evaluating the loss wrote to the parameters being checked."""


@dataclass
class Probes:
    """The lines through one tensor along which derivatives are taken.

    name: the tensor; x: the array itself (perturbed in place, always restored);
    flat: for coordinates, the flat indices of the entries; V: for directions,
    (K, *shape) unit vectors. Exactly one of flat and V is set.
    """
    name: str
    x: np.ndarray
    flat: np.ndarray | None = None
    V: np.ndarray | None = None

    def __len__(self):
        return len(self.flat) if self.flat is not None else len(self.V)

    def derivatives(self, gradient):
        """The analytic derivative along every probe: entries, or projections v . grad."""
        gradient = np.asarray(gradient)
        if self.flat is not None:
            return np.real(gradient.reshape(-1)[self.flat]).astype(float)
        return np.real(self.V.reshape(len(self.V), -1) @ gradient.reshape(-1)).astype(float)

    def origins(self):
        """Where each probe's line starts: the entry's value, or 0 along a direction."""
        if self.flat is not None:
            return np.real(self.x.reshape(-1)[self.flat]).astype(float)
        return np.zeros(len(self.V))

    def indices(self):
        """Each probe's index: the entry's (i, j, ...), or (k,) for the k-th direction."""
        if self.flat is not None:
            return [tuple(index) for index in
                    np.stack(np.unravel_index(self.flat, self.x.shape), axis=1).tolist()]
        return [(k,) for k in range(len(self.V))]


class Evaluator:
    """f at many points along probe lines, in one call.

    at(probes, which, deltas) -> (values, crossed): f with probes.x moved by deltas[i]
    along probe which[i], for every i; crossed[i]: whether any layer's kink state
    differs there from the unperturbed point. The tensor is restored bit for bit.
    directions: whether it can move along directions too, not only coordinates.
    """
    directions = True

    def at(self, probes, which, deltas):
        raise NotImplementedError

    def reset(self):
        """Called right after f was evaluated at the unperturbed point."""


class LoopEvaluator(Evaluator):
    """The plain loop: move the entry (or the whole tensor along a direction), evaluate
    f, put everything back; one evaluation at a time.

    kink_probe: () -> the kink states of the layers after the last f (see
    Layer.kink_state); a step crossed a kink when they differ from those at the point.
    """

    def __init__(self, f, kink_probe=None):
        self.f, self.probe, self.base = f, kink_probe, None

    def reset(self):
        """Called right after f at the unperturbed point: remember its kink states."""
        self.base = self.probe() if self.probe else None

    def at(self, probes, which, deltas):
        x, values, crossed = probes.x, [], []
        for k, delta in zip(which, deltas):
            if probes.flat is not None:
                index = probes.flat[k]
                old = x.flat[index]
                try:
                    x.flat[index] = old + delta
                    values.append(self._evaluate(crossed))
                finally:
                    x.flat[index] = old
            else:
                origin = x.copy()
                try:
                    x[...] = origin + delta * probes.V[k]
                    values.append(self._evaluate(crossed))
                finally:
                    x[...] = origin
        return np.array(values), np.array(crossed, dtype=bool)

    def _evaluate(self, crossed):
        value = as_number(self.f(), "the loss")
        crossed.append(self.probe is not None and any(
            not np.array_equal(now, then) for now, then in zip(self.probe(), self.base)))
        return value


class Watched(Evaluator):
    """An evaluator whose every call is followed by a check that f left the perturbed
    tensor as it was (every tensor is checked again at the end)."""

    def __init__(self, evaluator, unchanged):
        self.evaluator, self.unchanged = evaluator, unchanged

    def at(self, probes, which, deltas):
        result = self.evaluator.at(probes, which, deltas)
        self.unchanged.confirm(probes.name)
        return result


class Unchanged:
    """A copy of the arrays f reads, to confirm that evaluating f left them as they were."""

    def __init__(self, targets):
        self.targets = targets
        self.before = {name: x.copy() for name, x in targets.items()}

    def confirm(self, name=None):
        """Raise ForwardChangedParametersError if a target (or the one named) changed."""
        names = self.targets if name is None else [name]
        changed = [name for name in names if not _same_bits(self.targets[name], self.before[name])]
        if changed:
            raise ForwardChangedParametersError(
                _changed_message(changed, self.before, self.targets))


def _same_bits(x, y):
    """Whether two arrays hold the very same bits (NaN included): a memory comparison."""
    return x.shape == y.shape and x.dtype == y.dtype and x.tobytes() == y.tobytes()


def _changed_message(changed, before, after):
    name = changed[0]
    differs = (before[name] != after[name]) & ~(np.isnan(before[name]) & np.isnan(after[name]))
    index = tuple(int(i) for i in np.argwhere(differs)[0])
    return (f"computing the loss changed the arrays it reads: {', '.join(changed)} "
            f"({name}{list(index)} went from {before[name][index].item()!r} to "
            f"{after[name][index].item()!r}). A gradient check moves each entry by h and puts "
            "it back, so the forward pass must only read its parameters and its input: do not "
            "update parameters in forward (that is the optimizer's job), and do not modify the "
            "input in place (copy it first, or write x = x - m instead of x -= m)")
