"""Many perturbed losses of a Net at once: the fast path of check_net.

A numerical gradient needs the loss at theta + delta * e_k for thousands of k. The
textbook loop runs the whole net for each. Two facts make it far cheaper:

- perturbing a parameter of layer i changes nothing before layer i, so the input of
  layer i, computed once, serves every perturbation of its parameters;
- for Affine, perturbing W[r, c] by delta only adds delta * x[:, r] to column c of
  the output, and perturbing b[c] adds delta to column c: no matrix product needed.
  Elementwise layers after it change in that column only, and the next Affine's
  output changes by (new column - old column) times row c of its W: a rank-1 update.

So the perturbed outputs of layer i are built directly, stacked as P copies of the
batch (P * N rows), and pushed through the downstream layers in one pass; the loss
of each copy is the mean of its rows' sample losses. Kink states (ReLU's mask,
MaxPool2D's winners, SVMLoss's positive margins) are compared copy by copy with the
unperturbed pass.

What a layer allows is read from its capabilities (minnet.contract.Layer):
- a `samplewise` layer runs on all P copies at once (the grader's proxies for a
  student's Affine, say, then run once per stacked chunk in the grading child);
- a layer that is not (BatchNorm in training mode, whose statistics would mix the
  copies, or any layer nobody described) runs once per copy, on that copy alone;
- a `random` samplewise layer (Dropout) reuses the very mask of the unperturbed pass
  in every copy, where its own draws would differ from copy to copy;
- `elementwise` layers carry a single perturbed column of an Affine's output.
The loss must give the loss of each copy: minnet's losses through sample_losses, a
proxy through forward_each(scores stacked by copy, y).
"""
import numpy as np

from ..layers import Affine, TimeAffine
from .evaluators import Evaluator
# Values in the widest stacked array of one downstream pass (1 MB of float64): large
# enough to make every numpy call count, small enough to stay in the CPU's cache.
VALUES_PER_PASS = 1 << 17


def stackable(net):
    """Whether StackedLoss can evaluate this net: the loss can give the loss of each
    stacked copy (every layer can be run, stacked or copy by copy)."""
    return hasattr(net.loss_fn, "sample_losses") or hasattr(net.loss_fn, "forward_each")


def _samplewise(layer):
    return getattr(layer, "samplewise", False) is True


def _elementwise(layer):
    return getattr(layer, "elementwise", False) is True and _samplewise(layer)


def _computes(layer, cls):
    """Whether layer runs cls's own forward, so that cls's formula for a perturbed
    output holds (a subclass with another backward does; a new forward does not)."""
    return getattr(type(layer), "forward", None) is cls.forward and "forward" not in vars(layer)


def _reuses_mask(layer):
    return getattr(layer, "random", False) is True and _samplewise(layer) and layer.training


class StackedLoss(Evaluator):
    """The stacked Evaluator of a Net (see evaluators.Evaluator): at(probes, which, deltas).

    Behind it, self(name, flat, deltas) -> (losses, crossed) for the perturbations of
    one tensor's coordinates, and along(name, V, ts) for directions: losses[p] is the
    loss (part "total", "data" or "reg", times scale) with net.params[name].flat[flat[p]]
    increased by deltas[p]; crossed[p]: whether any layer's kink state differs from the
    unperturbed pass. Create it when the net's parameters hold the point to check; it
    changes nothing in the net.
    """

    def __init__(self, net, X, y, part, scale):
        self.net, self.y, self.part, self.scale = net, np.asarray(y), part, scale
        position = {id(layer): i for i, layer in enumerate(net.layers)}
        self.slots = {name: (position[id(layer)], key) for name, layer, key in net._slots()}
        self.inputs, self.outputs, self.masks, self.kinks = [], [], {}, {}
        self.transposed = {}
        out = net._input(X)
        for i, layer in enumerate(net.layers):
            self.inputs.append(out)
            out = layer.forward(out)
            self.outputs.append(out)
            if _reuses_mask(layer):
                self.masks[i] = layer.mask
            state = layer.kink_state()
            if state is not None:
                self.kinks[i] = np.array(state)
        self.N = len(out)
        self.loss_kinks = None
        if getattr(net.loss_fn, "has_kinks", False) and hasattr(net.loss_fn, "sample_losses"):
            net.loss_fn.forward(out, y)
            self.loss_kinks = np.array(net.loss_fn.kink_state())
        self.reg_sum = sum(float(np.sum(W * W)) for W in net.weights())

    def at(self, probes, which, deltas):
        """The losses (and kink crossings) of probes[which] moved by deltas: coordinate
        probes through self(...), direction probes through along(...)."""
        if probes.flat is not None:
            return self(probes.name, probes.flat[which], deltas)
        return self.along(probes.name, probes.V[which], deltas)

    def __call__(self, name, flat, deltas):
        i, key = self.slots[name]
        flat, deltas = np.asarray(flat), np.asarray(deltas, dtype=np.float64)
        width = max(out[0].size for out in self.outputs[self._first_stacked(i):])
        chunk = max(1, VALUES_PER_PASS // (self.N * width))
        losses, crossed = [], []
        for start in range(0, len(flat), chunk):
            part = slice(start, start + chunk)
            loss, cross = self._evaluate(i, key, flat[part], deltas[part])
            losses.append(loss)
            crossed.append(cross)
        return np.concatenate(losses), np.concatenate(crossed)

    def _first_stacked(self, i):
        """The first layer whose output is stacked when a parameter of layer i moves."""
        layers = self.net.layers
        if not _computes(layers[i], Affine):
            return i
        j = i + 1  # _column_path follows a single column through elementwise layers
        while j < len(layers) and _elementwise(layers[j]):
            j += 1
        return j if j < len(layers) and _computes(layers[j], Affine) else j - 1

    def along(self, name, V, ts):
        """(losses, crossed) with net.params[name] moved to params + ts[k] * V[k], for every k.

        V: (K, *shape) directions; ts: (K,) how far along each.
        """
        i, key = self.slots[name]
        layer, K = self.net.layers[i], len(ts)
        ts = np.asarray(ts, dtype=np.float64)
        crossed = np.zeros(K, dtype=bool)
        data = np.zeros(K)
        if self.part != "reg":
            base, x = self.outputs[i], self.inputs[i]
            if _computes(layer, Affine) or _computes(layer, TimeAffine):
                # (W + t V) gives x @ W + t (x @ V): add t (x @ V) to the output; b + t v adds t v.
                if key == "W" and _computes(layer, Affine):
                    change = x.reshape(len(x), -1) @ V
                elif key == "W":
                    change = x[None] @ V[:, None]
                else:
                    change = V.reshape((K,) + (1,) * (base.ndim - 1) + (-1,))
                shape = (K,) + (1,) * (change.ndim - 1)
                out = (base[None] + ts.reshape(shape) * change).reshape((K * self.N,)
                                                                        + base.shape[1:])
            else:
                out = self._run_moved(layer, key, x, ts.reshape((K,) + (1,) * (V.ndim - 1)) * V)
            data = self._downstream(i + 1, out, K, crossed)
        reg = np.full(K, 0.5 * self.net.reg * self.reg_sum)
        if key in layer.weights and self.net.reg:
            # |w + t v|^2 = |w|^2 + 2 t (w . v) + t^2 |v|^2
            flat_V = V.reshape(K, -1)
            w = layer.params[key].reshape(-1)
            reg = 0.5 * self.net.reg * (self.reg_sum + 2 * ts * (flat_V @ w)
                                        + ts**2 * np.einsum("kd,kd->k", flat_V, flat_V))
        return self._part(data, reg), crossed

    def _evaluate(self, i, key, flat, deltas):
        net, P = self.net, len(flat)
        layer = net.layers[i]
        data = np.zeros(P)
        crossed = np.zeros(P, dtype=bool)
        if self.part != "reg":
            if _computes(layer, Affine):
                j, out = self._column_path(layer, i, key, flat, deltas, crossed)
            else:
                j, out = i + 1, self._perturbed_output(layer, i, key, flat, deltas)
            data = self._downstream(j, out, P, crossed)
        # 0.5 reg sum(W**2) changes only by the perturbed entry.
        reg = np.full(P, 0.5 * net.reg * self.reg_sum)
        if key in layer.weights and net.reg:
            w = layer.params[key].flat[flat]
            reg = 0.5 * net.reg * (self.reg_sum + ((w + deltas)**2 - w**2))
        return self._part(data, reg), crossed

    def _downstream(self, j, out, P, crossed):
        """The data loss of each of P stacked copies, running layers j, j+1, ... on them."""
        for j in range(j, len(self.net.layers)):
            out = self._stacked_forward(self.net.layers[j], j, out, P, crossed)
        loss = self.net.loss_fn
        if not hasattr(loss, "sample_losses"):  # the loss of each copy, one copy at a time
            return np.asarray(loss.forward_each(out.reshape((P, self.N) + out.shape[1:]), self.y))
        y = np.broadcast_to(self.y, (P,) + self.y.shape).reshape((P * self.N,) + self.y.shape[1:])
        if self.loss_kinks is not None:  # forward, for the kink state of all the copies
            loss.forward(out, y)
            crossed |= np.any(np.asarray(loss.kink_state()).reshape(P, -1)
                              != self.loss_kinks.reshape(1, -1), axis=1)
        return loss.sample_losses(out, y).reshape(P, self.N).mean(axis=1)

    def _part(self, data, reg):
        return {"total": data + reg, "data": data, "reg": reg}[self.part] * self.scale

    def _column_path(self, layer, i, key, flat, deltas, crossed):
        """Follow the one changed column of an Affine's output as far as it stays one column.

        returns (j, out): the index of the next layer to run and its stacked input.
        """
        net, P = self.net, len(flat)
        if key == "b":
            cols, change = flat, deltas[:, None]
        else:
            rows, cols = np.unravel_index(flat, layer.params["W"].shape)
            change = deltas[:, None] * self._columns(self.inputs[i])[rows]  # delta * x[:, r]
        # (P, N): the perturbed column of each copy
        column = self._columns(self.outputs[i])[cols] + change
        j = i + 1
        while j < len(net.layers) and _elementwise(net.layers[j]):
            column = self._column_forward(net.layers[j], j, column, cols, crossed)
            j += 1
        before = self.outputs[j - 1]  # what layer j saw without the perturbation
        if j < len(net.layers) and _computes(net.layers[j], Affine):
            W = net.layers[j].params["W"]
            out = (column - self._columns(before)[cols])[:, :, None] * W[cols][:, None, :]
            out += self.outputs[j]  # in place: half the memory traffic of a + b * c
            return j + 1, out.reshape(P * self.N, -1)
        out = np.repeat(before[None], P, axis=0)
        out[np.arange(P), :, cols] = column
        return j, out.reshape(P * self.N, -1)

    def _columns(self, out):
        """out: (N, ...), one of the cached inputs or outputs, as rows of columns: (M, N).

        Transposed once and kept, so that picking the columns of thousands of
        perturbations reads contiguous rows.
        """
        if id(out) not in self.transposed:
            self.transposed[id(out)] = np.ascontiguousarray(out.reshape(len(out), -1).T)
        return self.transposed[id(out)]

    def _column_forward(self, layer, j, column, cols, crossed):
        """An elementwise layer on column cols[p] of copy p; column: (P, N)."""
        if j in self.masks:
            return column * self.masks[j][:, cols].T
        out = layer.forward(column)
        if j in self.kinks:
            crossed |= np.any(np.asarray(layer.kink_state()) != self.kinks[j][:, cols].T, axis=1)
        return out

    def _perturbed_output(self, layer, i, key, flat, deltas):
        """The output of layer i for every perturbation, stacked: (P * N, ...)."""
        base, x = self.outputs[i], self.inputs[i]
        P = len(flat)
        if _computes(layer, TimeAffine):  # as Affine, at every step
            out = np.repeat(base[None], P, axis=0)
            picks = np.arange(P)
            shape = (P,) + (1,) * (base.ndim - 1)
            if key == "b":
                out[picks, ..., flat] += deltas.reshape(shape)
            else:
                rows, cols = np.unravel_index(flat, layer.params["W"].shape)
                out[picks, ..., cols] += deltas.reshape(shape) * np.moveaxis(x[..., rows], -1, 0)
            return out.reshape((P * base.shape[0],) + base.shape[1:])
        if hasattr(layer, "forward_perturbed"):  # it runs them all in one call
            outs, _ = layer.forward_perturbed(x, list(zip([key] * P, flat, deltas)))
            return np.asarray(outs).reshape((P * base.shape[0],) + base.shape[1:])
        # Any other layer with parameters (RNN): run it once per perturbation.
        moves = np.zeros((P,) + layer.params[key].shape)
        moves.reshape(P, -1)[np.arange(P), flat] = deltas
        return self._run_moved(layer, key, x, moves)

    def _run_moved(self, layer, key, x, moves):
        """layer.forward(x) with params[key] + moves[k], for every k, stacked."""
        param = layer.params[key]
        origin = param.copy()
        outs = []
        try:
            for move in moves:
                param[...] = origin + move
                outs.append(layer.forward(x))
        finally:
            param[...] = origin
        layer.forward(x)  # leave the layer's cache as the unperturbed pass left it
        return np.concatenate(outs)

    def _stacked_forward(self, layer, j, out, P, crossed):
        """Layer j on P stacked copies (P * N, ...): at once, or copy by copy."""
        if j in self.masks:
            mask = self.masks[j]  # the same mask in every copy
            return (out.reshape((P,) + mask.shape) * mask).reshape(out.shape)
        if _samplewise(layer):
            out = layer.forward(out)
            states = None if j not in self.kinks else layer.kink_state()
        else:  # its output mixes samples: give it one copy at a time
            outs, states = [], []
            for copy in out.reshape((P, self.N) + out.shape[1:]):
                outs.append(layer.forward(copy))
                states.append(None if j not in self.kinks else layer.kink_state())
            out = np.concatenate(outs)
        if j in self.kinks:
            state = np.asarray(states).reshape(P, -1)
            crossed |= np.any(state != self.kinks[j].reshape(1, -1), axis=1)
        return out
