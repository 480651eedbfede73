"""The options of a grading: one object, holding the only copy of each default.

``grade run``, ``grade batch`` (its parent, its workers and ``--resume``'s record),
``grade gradescope``'s config and ``grade()`` all build and pass an ``Options``.
"""
from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

TIMEOUT_RANGE = (0.5, 600.0)   # seconds each task may spend in student code
MEMORY_RANGE = (64, 65536)     # megabytes a task may allocate
LANGUAGES = ("en", "zh")
SEED_RANGE = (0, 2**31 - 1)


class OptionsError(ValueError):
    """An option's value cannot be used (one line, for the user)."""


@dataclass(frozen=True)
class Options:
    """How to grade. ``seed`` None means a fresh one (``seeded()`` draws it)."""

    seed: int | None = None
    patterns: tuple[str, ...] = ()
    timeout: float = 10.0
    memory_mb: int = 1024
    lang: str = "en"
    # Extra report formats to write, as (name, file or None for the default name).
    formats: tuple[tuple[str, str | None], ...] = field(default=())
    allow_weak_isolation: bool = False

    def __post_init__(self) -> None:
        if self.seed is not None and not (type(self.seed) is int and SEED_RANGE[0] <= self.seed <= SEED_RANGE[1]):
            raise OptionsError(f"seed {self.seed!r}: expected an integer from 0 to {SEED_RANGE[1]}")
        if not (isinstance(self.timeout, (int, float)) and TIMEOUT_RANGE[0] <= self.timeout <= TIMEOUT_RANGE[1]):
            raise OptionsError(f"timeout {self.timeout!r}: expected seconds from {TIMEOUT_RANGE[0]:g} "
                               f"to {TIMEOUT_RANGE[1]:g}")
        if not (type(self.memory_mb) is int and MEMORY_RANGE[0] <= self.memory_mb <= MEMORY_RANGE[1]):
            raise OptionsError(f"memory {self.memory_mb!r}: expected megabytes from {MEMORY_RANGE[0]} "
                               f"to {MEMORY_RANGE[1]}")
        if self.lang not in LANGUAGES:
            raise OptionsError(f"language {self.lang!r}: expected one of {', '.join(LANGUAGES)}")
        object.__setattr__(self, "timeout", float(self.timeout))
        object.__setattr__(self, "patterns", tuple(str(p) for p in self.patterns))

    def seeded(self) -> Options:
        """These options with a seed: the given one, or a fresh one."""
        return self if self.seed is not None else replace(self, seed=secrets.randbelow(SEED_RANGE[1] + 1))

    def but(self, **changes: Any) -> Options:
        return replace(self, **changes)

    @property
    def limits(self) -> Any:
        from .sandbox.client import Limits

        return Limits(timeout=self.timeout, memory_mb=self.memory_mb)

    def to_json(self) -> dict[str, Any]:
        """Plain data (for the worker protocol and batch.json); ``from_json`` reads it back."""
        data = asdict(self)
        data["patterns"] = list(self.patterns)
        data["formats"] = [list(f) for f in self.formats]
        return data

    @classmethod
    def from_json(cls, data: Any, **defaults: Any) -> Options:
        """Options from plain data; missing keys take ``defaults`` or the defaults here."""
        if not isinstance(data, dict):
            raise OptionsError("options: expected a JSON object")
        known = {f.name for f in fields(cls)}
        values = {**defaults, **{k: v for k, v in data.items() if k in known}}
        if "patterns" in values:
            if not isinstance(values["patterns"], (list, tuple)):
                raise OptionsError("patterns: expected a list of task patterns")
            values["patterns"] = tuple(values["patterns"])
        if "formats" in values:
            values["formats"] = tuple(tuple(f) for f in values["formats"])
        if "memory_mb" in values and isinstance(values["memory_mb"], float) and values["memory_mb"].is_integer():
            values["memory_mb"] = int(values["memory_mb"])
        return cls(**values)


DEFAULTS = Options()
