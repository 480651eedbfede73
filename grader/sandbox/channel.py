"""Length-prefixed messages over a stream socket, with a deadline and a size cap.

The one framing of the sandbox: the grader and the server, the grader and each
child, and any trusted process and its workers all speak it. A message may carry
file descriptors (``send_with_fds``/``recv_with_fds``, SCM_RIGHTS on a Unix socket);
they travel with the message's first bytes.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import select
import socket
import struct
import time
from typing import Sequence

_LENGTH = struct.Struct("<Q")


class ChannelClosed(EOFError):
    """The other end closed the connection (the child died or exited)."""


class ChannelTimeout(TimeoutError):
    """No complete message arrived before the deadline."""


class MessageTooLarge(ValueError):
    """The other end announced a message larger than the cap."""


class Forged(ValueError):
    """A sealed message whose seal does not hold: someone without the key wrote it."""


SEAL_BYTES = hashlib.sha256().digest_size


# Bound when the sandbox loads, before any submission runs: OpenSSL's own function,
# not hmac.digest, which looks its C function up again on every call (a submission that
# rebinds either would be handed the key).
try:
    from _hashlib import hmac_digest as _DIGEST
except ImportError:  # a Python built without OpenSSL
    _DIGEST = hmac.digest
_SAME = hmac.compare_digest


def seal(key: bytes, number: int, payload: bytes) -> bytes:
    """``payload`` with a MAC of it and of its place in the conversation in front: the
    sandbox child's replies, which code sharing the child's process could otherwise
    write to the same descriptor. The key reaches the child before any student code
    runs and never travels again; the number keeps a reply from standing in for another."""
    return _DIGEST(key, _LENGTH.pack(number) + payload, digest="sha256") + payload


def unseal(key: bytes, number: int, message: bytes) -> bytes:
    """The payload of a message ``seal`` made with this key and number; else ``Forged``."""
    payload = message[SEAL_BYTES:]
    if len(message) < SEAL_BYTES or not _SAME(message[:SEAL_BYTES], _DIGEST(key, _LENGTH.pack(number) + payload,
                                                                             digest="sha256")):
        raise Forged("the reply is not the sandbox's own")
    return payload


def send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(_LENGTH.pack(len(payload)) + payload)


def send_with_fds(sock: socket.socket, payload: bytes, fds: Sequence[int]) -> None:
    """Send a message with file descriptors attached (a Unix socket only)."""
    frame = _LENGTH.pack(len(payload)) + payload
    sent = socket.send_fds(sock, [frame], list(fds))
    if sent < len(frame):
        sock.sendall(frame[sent:])


def _recv_exact(sock: socket.socket, n: int, deadline: float | None, fds: list[int] | None) -> bytes:
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
            if fds is None:
                chunk = sock.recv(min(n - len(chunks), 1 << 20))
            else:
                chunk, received, _flags, _addr = socket.recv_fds(sock, min(n - len(chunks), 1 << 20), 4)
                fds.extend(received)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise ChannelClosed()
        chunks += chunk
    return bytes(chunks)


def recv(sock: socket.socket, *, deadline: float | None = None, max_bytes: int) -> bytes:
    (size,) = _LENGTH.unpack(_recv_exact(sock, 8, deadline, None))
    if size > max_bytes:
        raise MessageTooLarge(f"{size} bytes announced, at most {max_bytes} accepted")
    return _recv_exact(sock, size, deadline, None)


def recv_with_fds(sock: socket.socket, *, deadline: float | None = None, max_bytes: int,
                  max_fds: int) -> tuple[bytes, list[int]]:
    """A message and the file descriptors that came with it (at most ``max_fds``; any
    more are closed). On any failure every descriptor received is closed."""
    fds: list[int] = []
    kept = 0
    try:
        (size,) = _LENGTH.unpack(_recv_exact(sock, 8, deadline, fds))
        if size > max_bytes:
            raise MessageTooLarge(f"{size} bytes announced, at most {max_bytes} accepted")
        payload = _recv_exact(sock, size, deadline, fds)
        kept = max_fds
    finally:
        for fd in fds[kept:]:
            os.close(fd)
    return payload, fds[:kept]
