"""Length-prefixed messages over a stream socket, with a deadline and a size cap."""
from __future__ import annotations

import select
import socket
import struct
import time


class ChannelClosed(EOFError):
    """The other end closed the connection (the child died or exited)."""


class ChannelTimeout(TimeoutError):
    """No complete message arrived before the deadline."""


class MessageTooLarge(ValueError):
    """The other end announced a message larger than the cap."""


def send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack("<Q", len(payload)) + payload)


def _recv_exact(sock: socket.socket, n: int, deadline: float | None) -> bytes:
    chunks = bytearray()
    while len(chunks) < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChannelTimeout()
            ready, _, _ = select.select([sock], [], [], left)
            if not ready:
                raise ChannelTimeout()
        try:
            chunk = sock.recv(min(n - len(chunks), 1 << 20))
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise ChannelClosed()
        chunks += chunk
    return bytes(chunks)


def recv(sock: socket.socket, *, deadline: float | None = None, max_bytes: int) -> bytes:
    (size,) = struct.unpack("<Q", _recv_exact(sock, 8, deadline))
    if size > max_bytes:
        raise MessageTooLarge(f"{size} bytes announced, at most {max_bytes} accepted")
    return _recv_exact(sock, size, deadline)
