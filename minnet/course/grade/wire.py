"""The grader's private channel to a grading child: JSON and raw arrays, never pickle.

Unpickling what a child sends would let student code run in the grading process, so
messages carry only JSON and numpy arrays of a few plain dtypes, and the receiver
checks every size before it trusts it. A message is:

    8 bytes   the length L of the rest (big-endian)
    8 bytes   the length H of the JSON header
    H bytes   the JSON header; every array in it is replaced by
              {"__array__": k, "dtype": "float64", "shape": [2, 3]}
    the bytes of array 0, array 1, ... in C order, back to back

This module imports nothing from minnet: the child loads it by path (see worker.py).
"""
from __future__ import annotations

import json
import math
import os
import struct

import numpy as np

# The dtypes an array may have on the wire, and the largest message either side accepts.
DTYPES = ("float64", "float32", "complex128", "int64", "bool")
MAX_BYTES = 1 << 25  # 32 MiB: far more than any grading test needs


class Garbage(ValueError):
    """The other side sent bytes that are not a valid message."""


def encode(message: dict) -> bytes:
    """A dict of JSON values and numpy arrays (nested in dicts and lists) -> bytes."""
    arrays = []

    def strip(value):
        if isinstance(value, np.ndarray):
            dtype = value.dtype.name
            if dtype not in DTYPES:
                raise TypeError(f"wire: arrays of dtype {dtype} cannot be sent")
            arrays.append(np.ascontiguousarray(value))
            return {"__array__": len(arrays) - 1, "dtype": dtype, "shape": list(value.shape)}
        if isinstance(value, dict):
            return {str(key): strip(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [strip(item) for item in value]
        if isinstance(value, np.generic):
            return value.item()
        return value

    header = json.dumps(strip(message), allow_nan=True).encode("utf-8")
    body = b"".join(array.tobytes() for array in arrays)
    return struct.pack(">QQ", 8 + len(header) + len(body), len(header)) + header + body


def decode(payload: bytes) -> dict:
    """The bytes after the first 8 of a message -> the dict encode was given.

    Raises Garbage for anything malformed: a bad header, an unknown dtype, a shape
    that does not match the bytes, bytes left over, nesting too deep to read.
    """
    try:
        return _decode(payload)
    except (RecursionError, ValueError, TypeError, OverflowError, MemoryError) as error:
        if isinstance(error, Garbage):
            raise
        raise Garbage(f"an unreadable message ({type(error).__name__})") from None


def _decode(payload):
    if len(payload) < 8:
        raise Garbage("a message shorter than its header length")
    (size,) = struct.unpack(">Q", payload[:8])
    if size > len(payload) - 8:
        raise Garbage("a header longer than the message")
    try:
        header = json.loads(payload[8:8 + size].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise Garbage(f"a header that is not JSON ({error})") from None
    body = memoryview(payload)[8 + size:]
    offset = 0

    def restore(value):
        nonlocal offset
        if isinstance(value, dict) and "__array__" in value:
            dtype, shape = value.get("dtype"), value.get("shape")
            if dtype not in DTYPES or not isinstance(shape, list) or \
                    not all(isinstance(n, int) and n >= 0 for n in shape):
                raise Garbage(f"an array with dtype {dtype!r} and shape {shape!r}")
            count = math.prod(shape) * np.dtype(dtype).itemsize  # Python ints: no overflow
            if offset + count > len(body):
                raise Garbage("an array longer than the message")
            array = np.frombuffer(body[offset:offset + count], dtype=dtype).reshape(shape).copy()
            offset += count
            return array
        if isinstance(value, dict):
            return {key: restore(item) for key, item in value.items()}
        if isinstance(value, list):
            return [restore(item) for item in value]
        return value

    message = restore(header)
    if offset != len(body) or not isinstance(message, dict):
        raise Garbage("bytes left over after the last array" if offset != len(body)
                      else "a message that is not a JSON object")
    return message


def frame_length(prefix: bytes) -> int:
    """The length of the rest of a message, from its first 8 bytes; Garbage if too long."""
    (length,) = struct.unpack(">Q", prefix)
    if length < 8:
        raise Garbage(f"a message announced as {length} bytes long")
    if length > MAX_BYTES:
        raise Garbage(f"a message of {length / 2**20:.0f} MB, over the limit of "
                      f"{MAX_BYTES >> 20} MB: return arrays of the size asked for")
    return length


def send(fd: int, message: dict) -> None:
    """Write a whole message to the file descriptor fd (blocking)."""
    data = memoryview(encode(message))
    while data:
        written = os.write(fd, data)
        data = data[written:]


def receive(fd: int) -> dict | None:
    """Read one whole message from fd (blocking); None if the other side closed it."""
    prefix = _read_exactly(fd, 8)
    if prefix is None:
        return None
    rest = _read_exactly(fd, frame_length(prefix))
    if rest is None:
        raise Garbage("the channel closed in the middle of a message")
    return decode(rest)


def _read_exactly(fd, count):
    chunks, remaining = [], count
    while remaining:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
