"""What isolation held student code: the report's ``isolation`` record, in words.

The record itself comes from the sandbox server (``jail.Backend.prepare``), a
trusted process that never runs student code; this module only reads it.
"""
from __future__ import annotations

from typing import Any

from . import jail


def not_needed() -> dict[str, Any]:
    """The record of a run in which no student code ran (every task decided statically)."""
    return jail.describe("none", kernel=False, why="no student code ran")


def is_kernel(info: Any) -> bool:
    return isinstance(info, dict) and info.get("kernel") is True


def summary_line(info: Any, t: Any) -> str:
    """One line for the terminal, through the translator ``t``."""
    if not isinstance(info, dict) or info.get("backend") == "none":
        return t("Isolation: no student code ran.")
    if is_kernel(info):
        layers = [t("Landlock ABI {abi}").format(abi=info.get("landlock_abi", 0)), "seccomp"]
        if info.get("namespaces"):
            layers.append(t("namespaces: {names}").format(names=", ".join(info["namespaces"])))
        if info.get("chroot"):
            layers.append("chroot")
        layers.append(t("uid {uid}").format(uid=info.get("uid", "?")))
        return t("Isolation: Linux kernel jail ({layers}).").format(layers="; ".join(str(x) for x in layers))
    return t("Isolation: WEAK, resource limits only ({why}): student code could read your files.").format(
        why=str(info.get("why") or info.get("backend", "?")))
