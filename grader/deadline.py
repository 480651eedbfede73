"""A time bound on work this process does itself: reading a submission's text.

The static scan runs in the grading process, before any sandbox, on text anyone
can write; code written to make it slow must cost that submission, not stop a
whole ``grade batch`` worker. Where the platform has no interval timer (Windows)
or the work runs outside the main thread (where signals cannot reach), or another
timer is already set, the work runs unbounded.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator


class TooSlow(BaseException):
    """The bound passed. A BaseException: the scan's own ``except Exception`` around
    a lookup must not swallow it."""


@contextlib.contextmanager
def bounded(seconds: float) -> Iterator[None]:
    usable = (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
              and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable:
        yield
        return
    armed = [True]

    def expire(signum: int, frame: object) -> None:
        if armed[0]:
            raise TooSlow()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        yield
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
