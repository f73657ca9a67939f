"""The two contracts every part of minnet is written against: `Layer` and `Loss`.

They live in a module of their own, which imports nothing, so that the
autograder can give a student's code these base classes without minnet's reference
layers (see minnet.course.grade).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for the type hints only: this module imports nothing when it runs
    from numpy import ndarray


class _Part:
    """What layers and losses share: the kink state the checker asks for, the config that
    Net.save writes (and the repr built from it), and the check that forward came before
    backward."""

    forward_call = "forward"  # how _cached's error shows the call that must come first
    has_kinks = False         # whether the derivative jumps somewhere (see kink_state)

    def kink_state(self) -> Any:
        """Which side of each kink the last forward's input fell on (an array that changes
        exactly when a step crosses a kink), or None without kinks (ReLU's: x > 0;
        SVMLoss's: which margins are positive)."""
        return None

    def config(self) -> dict:
        """The constructor arguments that rebuild this layer or loss (used by Net.save)."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"

    def _cached(self, name: str) -> Any:
        """Return what forward remembered, or say clearly that forward must come first."""
        value = getattr(self, name, None)
        if value is None:
            raise RuntimeError(f"{type(self).__name__}.backward was called before forward: "
                               f"call {self.forward_call} first, then backward")
        return value


class Layer(_Part):
    """The layer contract, shared by every layer in minnet.

    - Data is row-major: a batch has shape (N, ...), one sample per row (N, D) or per
      entry of the first axis ((N, T, D) sequences, (N, C, H, W) images).
    - `params`: dict of short name -> ndarray, the trainable tensors (Affine has
      "W" of shape (D, M) and "b" of shape (M,)); `{}` for layers without any.
    - `forward(x) -> out`: computes the output for the batch x and remembers
      whatever backward will need.
    - `backward(dout) -> dx`: takes dout = dL/dout (shaped like out) and returns
      dx = dL/dx (shaped like x). It stores the parameter gradients in `grads`, a
      dict with exactly the keys of `params`, as fresh arrays overwritten at every
      backward (never accumulated).
    - `training`: True for a new layer; Dropout and BatchNorm behave differently
      when it is False. `Net.train()` / `Net.eval()` switch every layer of a Net.
    - `needs_dx`: True for a new layer. A Net sets it to False on its first layer,
      whose dx nobody uses; backward may then return None instead of dx (Affine
      does, which saves a matrix product as large as its forward's).
    - `weights`: the names in `params` that L2 regularization applies to (weight
      matrices; biases are left out by the usual convention).
    - `buffers`: the names of attributes that hold state but are not parameters
      (BatchNorm's running statistics): a Net saves and loads them; nothing checks,
      regularizes or trains them.
    - `kink_state()`: for layers with kinks, points where the derivative jumps
      (ReLU at 0), which side of each kink the last forward's input fell on;
      None for smooth layers. The gradient checker compares it between the
      evaluations at x + h and x - h to spot when a step crossed a kink.
    - `in_features`, `out_features` (optional): the size of the last axis of x and of
      out, when the layer fixes it, the other axes passing through (RNN: (N, T, D) ->
      (N, T, H)); a Net compares neighbours' widths when it is built.

    Capabilities, read by the checker, Net and the grader. They are class attributes,
    False here, the safe answer for a layer nobody has described; a layer sets the
    ones that are true of it:
    - `samplewise`: out[n] depends on x[n] alone, so copies of a batch stacked along
      axis 0 give each copy's output (the fast check stacks thousands). BatchNorm in
      training mode is not: its statistics mix the whole batch.
    - `elementwise`: out has the shape of x and each output depends on the input at
      the same position only (ReLU, Tanh).
    - `has_kinks`: the derivative jumps somewhere, and kink_state() says where the
      last input fell (ReLU at 0; MaxPool2D where the maximum changes hands).
    - `integer_input`: x holds integer indices, not values to differentiate
      (Embedding): a Net passes X to it unchanged and backward returns None.
    - `flattens`: x: (N, ...) is flattened per sample, so in_features counts all of a
      sample's values, and out is (N, out_features) (Affine).
    - `random`: forward draws random numbers (Dropout). Such a layer keeps its seed in
      `self.seed` (None: a fresh draw each time) and its last draw in `self.mask`. A
      check sets `seed`, so every forward draws the same mask; a random layer that is
      samplewise must compute out = x * mask, so the fast check can reuse one mask for
      every copy.

    Every layer also works on complex arrays, so that the complex-step method
    can differentiate a whole Net: decisions (like ReLU's x > 0) look at the real
    part only, and nothing uses abs() or comparisons that would drop the
    imaginary part.
    """

    forward_call = "forward(x)"
    samplewise = False
    elementwise = False
    integer_input = False
    flattens = False
    random = False
    buffers: tuple[str, ...] = ()
    weights: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.params: dict[str, ndarray] = {}
        self.grads: dict[str, ndarray] = {}
        self.training = True
        self.needs_dx = True

    def forward(self, x: ndarray) -> ndarray:
        """x: a batch (N, ...) -> out: the layer's output for it, (N, ...).

        Remembers in self whatever backward will need (the input, a mask, ...).
        """
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    def backward(self, dout: ndarray) -> ndarray | None:
        """dout: dL/dout, shaped like the last forward's out -> dx: dL/dx, shaped like x.

        Stores the parameter gradients in self.grads, fresh arrays with exactly the
        keys of self.params. May return None when needs_dx is False (or, for a layer
        with integer_input, always: token ids have no gradient).
        """
        raise NotImplementedError(f"{type(self).__name__}.backward is not implemented")


class Loss(_Part):
    """The loss contract, shared by every loss in minnet.

    - `forward(scores, y) -> loss`: the loss averaged over the batch, a float
      (complex when the scores are, for the complex-step method). It remembers
      what backward needs.
    - `backward() -> dscores`: dL/dscores, shaped like scores.
    - `sample_losses(scores, y) -> (N,)`: the loss of each sample; forward is their
      mean. It remembers nothing (the fast gradient check uses it on many copies of
      the batch at once).
    - `predict(scores) -> predictions`: what the scores say (class labels, or
      the values themselves for regression).
    - `width_problem(width)`: None when scores of `width` values per sample suit
      this loss, else what it needs, in words (SoftmaxLoss: "needs at least 2, one
      per class; ..."); a Net asks it when it is built.
    - `has_kinks`, `kink_state()`: as for layers; SVMLoss has a kink wherever a
      margin is 0.
    - `config()`: the constructor's arguments (SVMLoss's delta), for Net.save.
    - `regression`: True when predict returns values rather than classes (MSELoss), so
      that fit reports R² instead of accuracy.
    """

    forward_call = "forward(scores, y)"
    regression = False

    def forward(self, scores: ndarray, y: ndarray) -> float | complex:
        """scores: (N, ...) the net's output; y: the labels or targets -> the loss, a float:
        the mean over the batch of the sample losses (complex for complex scores).

        Remembers in self what backward will need.
        """
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    def backward(self) -> ndarray:
        """-> dscores: dL/dscores of the last forward, shaped like its scores."""
        raise NotImplementedError(f"{type(self).__name__}.backward is not implemented")

    def predict(self, scores: ndarray) -> ndarray:
        """scores: (N, ...) -> what they say: class labels (N,), or the values themselves."""
        raise NotImplementedError(f"{type(self).__name__}.predict is not implemented")

    def width_problem(self, width: int) -> str | None:
        """None when scores of `width` values per sample suit this loss, else what the
        loss needs, in words ("needs at least 2, one per class; ...")."""
        return None
