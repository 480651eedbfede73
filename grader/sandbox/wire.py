"""A small, code-free encoding for values crossing the sandbox boundary.

Student code runs in a child process; what it returns must reach the grader as
plain data. Pickle (and anything that can run code while loading) is never used:
a message is a JSON header describing the structure plus raw tensor buffers.
The same codec carries the grader's arguments to the child.
"""
from __future__ import annotations

import json
import struct
from typing import Any

import torch

# Bound when the sandbox loads, before any submission runs: a submission that rebinds
# json.dumps changes nothing the child sends.
_DUMPS = json.JSONEncoder(ensure_ascii=True).encode
_LOADS = json.loads

MAGIC = b"AGL1"
_HEAD_LENGTH = struct.Struct("<I")
_BUFFER_LENGTH = struct.Struct("<Q")
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 16
MAX_ITEMS = 100_000

DTYPES: dict[str, torch.dtype] = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "complex64": torch.complex64,
    "complex128": torch.complex128,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "uint8": torch.uint8,
    "bool": torch.bool,
}
DTYPE_NAMES = {dtype: name for name, dtype in DTYPES.items()}
ITEMSIZE = {dtype: dtype.itemsize for dtype in DTYPES.values()}


class WireError(ValueError):
    """A message that is malformed, too large or of an unknown shape."""


class FnSpec:
    """A named callable from the trusted catalogue, with tensor or number parameters."""

    def __init__(self, name: str, **params: Any) -> None:
        self.name = name
        self.params = params

    def __repr__(self) -> str:
        return f"FnSpec({self.name!r})"


class Opaque:
    """A value that could not be encoded, described by its type name only."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


class Received:
    """A tensor that arrived from the child, with what the child said about it.

    ``tensor`` is always a fresh plain ``torch.Tensor`` built from the raw bytes;
    ``info`` holds the child's description of the original object (its class,
    whether it required grad), which is evidence of honest mistakes only.
    """

    def __init__(self, tensor: torch.Tensor, info: dict[str, Any]) -> None:
        self.tensor = tensor
        self.info = info

    def __repr__(self) -> str:
        return f"Received({tuple(self.tensor.shape)}, {self.tensor.dtype})"


# A tensor whose values would not fit in a reply is described, not sent (a stride-0
# view can claim terabytes that only exist once made contiguous).
MAX_TENSOR_BYTES = 32 * 1024 * 1024


def _unsendable(t: torch.Tensor) -> str | None:
    """Why a tensor's values cannot be sent as a dense CPU array, if they cannot
    (called with subclass overrides disabled)."""
    if t.is_nested:
        return "nested torch.Tensor"
    if t.layout != torch.strided:
        return f"torch.Tensor with layout {t.layout}"
    if t.device.type != "cpu":
        return f"torch.Tensor on device {t.device.type}"
    if t.is_quantized or t.dtype not in DTYPE_NAMES:
        return f"torch.Tensor of dtype {t.dtype}"
    if t.numel() * t.element_size() > MAX_TENSOR_BYTES:
        return f"torch.Tensor too large to check ({t.numel()} elements)"
    return None


def _span(t: torch.Tensor) -> list[int]:
    """The bytes [first, end) of memory the tensor's elements occupy (two views of one
    storage overlap only if their spans do); [0, 0] for an empty tensor."""
    if t.numel() == 0:
        return [0, 0]
    extent = sum((size - 1) * stride for size, stride in zip(t.shape, t.stride())) + 1  # torch has no negative strides
    first = int(t.data_ptr())
    return [first, first + extent * t.element_size()]


def _encode_tensor(value: torch.Tensor, buffers: list[bytes]) -> dict[str, Any]:
    # A subclass's __torch_function__ (student code) must not run while it is read.
    with torch._C.DisableTorchFunctionSubclass():
        why = _unsendable(value)
        if why is not None:
            return {"$other": why}
        plain = torch.Tensor.detach(value).contiguous()
        if plain.dtype == torch.bfloat16:
            raw = plain.view(torch.int16).numpy().tobytes()
        elif plain.is_conj() or plain.is_neg():
            raw = plain.resolve_conj().resolve_neg().numpy().tobytes()
        else:
            raw = plain.numpy().tobytes()
        cls = type(value)
        info = {
            "class": None if cls is torch.Tensor else f"{cls.__module__}.{cls.__qualname__}",
            "requires_grad": bool(value.requires_grad),
            "grad_fn": value.grad_fn is not None,
            "storage": int(value.untyped_storage().data_ptr()) if value.numel() else 0,
            "span": _span(value),
        }
    buffers.append(raw)
    return {"$t": len(buffers) - 1, "dtype": DTYPE_NAMES[plain.dtype], "shape": list(plain.shape), "info": info}


class Encoded:
    """A value read into the wire's form at once: its header node and raw buffers.

    What the value's own code does while it is read (a tuple subclass's iteration, a
    tensor subclass's dispatch) happens when this is made, not later when a message
    holding it is encoded. ``depth``: where it will sit in that message.
    """

    def __init__(self, value: Any, depth: int = 1) -> None:
        self.buffers: list[bytes] = []
        self.header = _encode(value, self.buffers, depth)

    def spliced(self, buffers: list[bytes]) -> Any:
        """The header, its tensors numbered after ``buffers``, which take its buffers."""
        offset = len(buffers)
        buffers.extend(self.buffers)
        return _shifted(self.header, offset) if offset else self.header


def _shifted(node: Any, offset: int) -> Any:
    """A header node with every tensor's buffer index moved on by ``offset``."""
    if type(node) is list:
        return [_shifted(item, offset) for item in node]
    if type(node) is not dict:
        return node
    if "$t" in node:
        return {**node, "$t": node["$t"] + offset}
    if "$dict" in node:
        return {"$dict": {key: _shifted(item, offset) for key, item in node["$dict"].items()}}
    if "$tuple" in node:
        return {"$tuple": [_shifted(item, offset) for item in node["$tuple"]]}
    if "$fn" in node:
        return {**node, "params": _shifted(node["params"], offset)}
    return node


def encode(value: Any) -> bytes:
    """Encode ``value`` (tensors, numbers, strings, None, lists, tuples, dicts)."""
    buffers: list[bytes] = []
    header = _encode(value, buffers, 0)
    head = _DUMPS(header).encode()
    out = [MAGIC, _HEAD_LENGTH.pack(len(head)), head]
    for raw in buffers:
        out += [_BUFFER_LENGTH.pack(len(raw)), raw]
    return b"".join(out)


def _encode(value: Any, buffers: list[bytes], depth: int) -> Any:
    """The header node of ``value``. Strings, bools, None, lists and floats are JSON's own
    (a float is written as its repr, so it comes back exact, NaN and infinities too);
    the rest is tagged: ``$t`` tensor, ``$tuple``, ``$dict``, ``$fn``, ``$other``."""
    if depth > MAX_DEPTH:
        return {"$other": "too deeply nested"}
    kind = type(value)
    if kind is str or kind is float or kind is bool or value is None:
        return value
    if kind is Encoded:
        return value.spliced(buffers)
    if kind is int:
        return value if -(2**63) < value < 2**63 else {"$other": "int (too large)"}
    if kind is list:
        return [_encode(v, buffers, depth + 1) for v in value[: MAX_ITEMS + 1]]
    if kind is dict and all(type(k) is str for k in value):
        return {"$dict": {k: _encode(v, buffers, depth + 1) for k, v in value.items()}}
    if isinstance(value, torch.Tensor):
        return _encode_tensor(value, buffers)
    if isinstance(value, FnSpec):
        return {"$fn": value.name, "params": _encode(value.params, buffers, depth + 1)}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v, buffers, depth + 1) for v in list(value)[: MAX_ITEMS + 1]]}
    return {"$other": f"{kind.__module__}.{kind.__qualname__}"}


def decode(data: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> Any:
    """Decode a message; raise ``WireError`` on anything malformed.

    Tensors come back as ``Received`` (plain tensors built from bytes), named
    callables as ``FnSpec`` and unknown values as ``Opaque``.
    """
    if len(data) > max_bytes:
        raise WireError(f"message of {len(data)} bytes exceeds {max_bytes}")
    if data[:4] != MAGIC or len(data) < 8:
        raise WireError("not a sandbox message")
    (hlen,) = _HEAD_LENGTH.unpack_from(data, 4)
    pos = 8 + hlen
    if pos > len(data):
        raise WireError("truncated header")
    try:
        header = _LOADS(data[8:pos])
    except (ValueError, RecursionError) as exc:
        raise WireError(f"bad header: {exc}") from None
    buffers: list[memoryview] = []
    view = memoryview(data)
    while pos < len(data):
        if pos + 8 > len(data):
            raise WireError("truncated buffer length")
        (blen,) = _BUFFER_LENGTH.unpack_from(data, pos)
        pos += 8
        if pos + blen > len(data):
            raise WireError("truncated buffer")
        buffers.append(view[pos : pos + blen])
        pos += blen
    return _Decoder(buffers).node(header, 0)


class _Decoder:
    """Walks a header once, bounding its depth and its number of nodes."""

    def __init__(self, buffers: list[memoryview]) -> None:
        self.buffers = buffers
        self.count = 0

    def node(self, node: Any, depth: int) -> Any:
        self.count += 1
        if depth > MAX_DEPTH + 2 or self.count > MAX_ITEMS:
            raise WireError("message too deeply nested or too large")
        kind = type(node)
        if kind is str or kind is int or kind is float or kind is bool or node is None:
            return node
        if kind is list:
            return [self.node(v, depth + 1) for v in node]
        if kind is not dict or len(node) == 0:
            raise WireError("unexpected node")
        if "$t" in node:
            return _decode_tensor(node, self.buffers)
        if "$dict" in node and type(node["$dict"]) is dict:
            return {str(k): self.node(v, depth + 1) for k, v in node["$dict"].items()}
        if "$tuple" in node or "$list" in node:  # "$list": the older, tagged form of a list
            items = node.get("$list", node.get("$tuple"))
            if type(items) is not list:
                raise WireError("bad sequence")
            out = [self.node(v, depth + 1) for v in items]
            return out if "$list" in node else tuple(out)
        if "$float" in node:  # the older, tagged form of a float
            try:
                return float(node["$float"])
            except (TypeError, ValueError):
                raise WireError("bad float") from None
        if "$fn" in node and type(node["$fn"]) is str:
            params = self.node(node.get("params", {"$dict": {}}), depth + 1)
            if type(params) is not dict:
                raise WireError("bad callable parameters")
            return FnSpec(node["$fn"], **{k: (v.tensor if isinstance(v, Received) else v) for k, v in params.items()})
        if "$other" in node:
            return Opaque(str(node["$other"])[:200])
        raise WireError("unknown node")


def _decode_tensor(node: dict, buffers: list[memoryview]) -> Received:
    index, dtype_name, shape = node.get("$t"), node.get("dtype"), node.get("shape")
    if type(index) is not int or not 0 <= index < len(buffers):
        raise WireError("bad tensor buffer index")
    dtype = DTYPES.get(dtype_name) if type(dtype_name) is str else None
    if dtype is None:
        raise WireError(f"unknown dtype {dtype_name!r}")
    if type(shape) is not list or len(shape) > 16 or not all(type(s) is int and 0 <= s < 2**40 for s in shape):
        raise WireError("bad tensor shape")
    numel = 1
    for s in shape:
        numel *= s
    raw = buffers[index]
    if numel * ITEMSIZE[dtype] != len(raw):
        raise WireError("tensor buffer does not match its shape")
    if numel == 0:
        tensor = torch.empty(shape, dtype=dtype)
    elif dtype == torch.bfloat16:
        tensor = torch.frombuffer(bytearray(raw), dtype=torch.int16).view(torch.bfloat16).reshape(shape)
    else:
        tensor = torch.frombuffer(bytearray(raw), dtype=dtype).reshape(shape)
    info = node.get("info")
    info = info if type(info) is dict else {}
    clean = {
        "class": info.get("class") if type(info.get("class")) is str else None,
        "requires_grad": info.get("requires_grad") is True,
        "grad_fn": info.get("grad_fn") is True,
        "storage": info.get("storage") if type(info.get("storage")) is int else 0,
        "span": info.get("span") if type(info.get("span")) is list and len(info["span"]) == 2
        and all(type(v) is int for v in info["span"]) else None,
    }
    return Received(tensor, clean)

