"""Checking the numbers a user passes: one place for "a positive number", "an int >= 1".

Every argument that must be a number (a learning rate, a keep_prob, a layer's width)
goes through `real` or `count`. They accept whatever numpy hands out as well as
Python's own numbers (np.float32(0.1), np.int64(64)), refuse bools and strings,
and return a plain float or int, so nothing downstream meets a numpy scalar. A
refusal names who refused, the argument, what was expected and what came:

    SGD: lr must be a positive number, got '0.1' (a str, not a number; pass the
    number itself, without quotes)
"""
from __future__ import annotations

import math
import numbers
import operator
import sys
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # for the type hints only: typing has TypeGuard from Python 3.10
    from typing import TypeGuard


def is_real(value: object) -> TypeGuard[numbers.Real]:
    """True for a real number (int, float, np.float32, np.int64, ...), False for
    anything else, bools included: True is an int to Python, but never a sensible
    learning rate or width."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def real(value: object, name: str, owner: str, *, low: float = -math.inf,
         high: float = math.inf, low_open: bool = False, high_open: bool = False,
         meaning: str = "", expected: str = "", fix: str = "") -> float:
    """value as a plain float, if it is a finite real number in the interval asked for.

    name, owner: the argument and who takes it ("lr", "SGD"), for the message
    low, high: the bounds; low_open, high_open: whether the bound itself is refused
        (an infinite bound always is: NaN and +-inf are never accepted)
    meaning: what the argument is, in a few words, said after its name
        ("keep_prob, the probability of keeping a unit, must be ...")
    expected: the words for what is wanted, when those made from the bounds
        ("a positive number", "in [0, 1)") do not say it best
    fix: a hint added to the message on a refusal
    Raises ValueError otherwise, with the message described in the module docstring.
    """
    number = _as_finite_float(value)
    if number is None or not ((number > low if low_open else number >= low) and
                              (number < high if high_open else number <= high)):
        # the message shows value as passed: np.float32(-0.1), not -0.10000000149011612
        raise ValueError(_refusal(value, name, owner, expected or _interval(low, high, low_open,
                                                                             high_open),
                                  meaning, fix))
    return number


def _as_finite_float(value: object) -> float | None:
    """value as a finite float, or None for anything else: a non-number, NaN, +-inf, or
    an int too large for a float (10**400)."""
    if not is_real(value):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def count(value: object, name: str, owner: str, *, minimum: int = 1, meaning: str = "",
          expected: str = "", fix: str = "") -> int:
    """value as a plain int, if it is a whole number (an int or a numpy integer) >= minimum.

    Floats are refused even when whole (2.0): a size is counted, not measured.
    name, owner, meaning, expected, fix: as for `real`; by default the message asks for
    "a positive int" (minimum 1) or "an int >= minimum".
    Raises ValueError otherwise.
    """
    try:
        number = None if isinstance(value, (bool, np.bool_)) else operator.index(value)
    except TypeError:
        number = None
    if number is None or number < minimum:
        wanted = expected or ("a positive int" if minimum == 1 else f"an int >= {minimum}")
        raise ValueError(_refusal(value, name, owner, wanted, meaning, fix))
    return int(number)


def _interval(low, high, low_open, high_open):
    """Words for the interval: "a positive number", "a number >= 0", "in [0, 1)"."""
    if high == math.inf:
        if low == 0:
            return "a positive number" if low_open else "a finite number >= 0"
        if low == -math.inf:
            return "a finite number"
        return f"a finite number {'>' if low_open else '>='} {low:g}"
    if low == -math.inf:
        return f"a number {'<' if high_open else '<='} {high:g}"
    return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def _refusal(value, name, owner, expected, meaning, fix):
    """The message: owner, argument (and its meaning), what was expected, what came, a fix."""
    subject = f"{name}, {meaning}," if meaning else name
    message = f"{owner}: {subject} must be {expected}, got {_shown(value)}"
    if isinstance(value, (bool, np.bool_)):
        message += " (a bool, not a number)"
    elif isinstance(value, str):
        message += " (a str, not a number; pass the number itself, without quotes)"
    elif not isinstance(value, numbers.Number):
        message += f" (a {type(value).__name__}, not a number)"
    elif not isinstance(value, numbers.Integral) and "int" in expected:
        message += f" (a {type(value).__name__}, not an int)"
    return message + (f"; {fix}" if fix else "")


def _shown(value):
    """value as the user wrote it (its repr: -1, np.float32(-0.1), '0.1'), but an int too
    large for a float by its size: its 401 digits would bury the message."""
    if isinstance(value, numbers.Integral) and abs(value) > sys.float_info.max:
        digits = int(abs(int(value)).bit_length() * math.log10(2))
        return f"an int near {'-' if value < 0 else ''}10**{digits}, too large for a float"
    return repr(value)
