"""Translations through standard gettext catalogs kept in the package.

English text is the message id; ``grader/locale/zh_CN/LC_MESSAGES/autograd-lab.po``
holds the Simplified Chinese of the texts the tasks share, compiled to the ``.mo``
beside it that gettext reads. A task's own texts (its summary, seed, check titles,
phrases and hints) keep their Chinese in the task's record (``Task.zh``, ``Hint``):
the translator looks there first, and falls back to the catalogue.
``python -m grader.i18n compile`` rebuilds the ``.mo`` files from the ``.po`` files
(no external tools needed); a test proves they are up to date and complete.
"""
from __future__ import annotations

import ast
import gettext
import os
import struct
import sys
from functools import lru_cache
from pathlib import Path
from typing import Callable

DOMAIN = "autograd-lab"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = {"en": None, "zh": "zh_CN"}


def default_language(environ: os._Environ | dict | None = None) -> str:
    """As gettext chooses: the first of LANGUAGE, LC_ALL, LC_MESSAGES, LANG that is set;
    it may list several (``fr:zh_CN``): the first one there is a catalog for wins
    (English needs none). zh* means Chinese; anything else English."""
    env = os.environ if environ is None else environ
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if value:
            for entry in value.split(":"):
                if entry.lower().startswith("zh"):
                    return "zh"
                if entry.lower().startswith("en"):
                    return "en"
            return "en"
    return "en"


@lru_cache(maxsize=None)
def translator(lang: str) -> Callable[[str], str]:
    """``gettext`` for a language, the task records' own texts first; English is the identity."""
    locale = LANGUAGES.get(lang)
    if locale is None:
        return lambda text: text
    # Imported here: the records are plain data, but the task list imports every one.
    from .tasks import ZH

    catalog = gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[locale])

    def translate(text: str) -> str:
        return ZH.get(text) or catalog.gettext(text)

    return translate


def _unquote(token: str) -> str:
    return ast.literal_eval(token)


def parse_po(text: str) -> dict[str, str]:
    """msgid -> msgstr of a .po file (no plural forms or contexts are used here)."""
    entries: dict[str, str] = {}
    msgid: list[str] | None = None
    msgstr: list[str] | None = None
    current: list[str] | None = None

    def flush() -> None:
        if msgid is not None and msgstr is not None:
            entries["".join(msgid)] = "".join(msgstr)

    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("msgid "):
            flush()
            msgid, msgstr = [_unquote(line[6:])], None
            current = msgid
        elif line.startswith("msgstr "):
            msgstr = [_unquote(line[7:])]
            current = msgstr
        elif line.startswith('"') and current is not None:
            current.append(_unquote(line))
    flush()
    return entries


def compile_mo(entries: dict[str, str]) -> bytes:
    """The GNU .mo encoding of a catalog (the header entry included)."""
    items = sorted((k.encode(), v.encode()) for k, v in entries.items())
    n = len(items)
    ids_start = 28
    strs_start = ids_start + 8 * n
    data_start = strs_start + 8 * n
    ids_table, strs_table, data = [], [], b""
    for key, _ in items:
        ids_table.append((len(key), data_start + len(data)))
        data += key + b"\0"
    for _, value in items:
        strs_table.append((len(value), data_start + len(data)))
        data += value + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, n, ids_start, strs_start, 0, 0)
    tables = b"".join(struct.pack("<2I", *e) for e in ids_table + strs_table)
    return header + tables + data


def po_files() -> list[Path]:
    return sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))


def compile_all() -> list[Path]:
    written = []
    for po in po_files():
        mo = po.with_suffix(".mo")
        mo.write_bytes(compile_mo(parse_po(po.read_text(encoding="utf-8"))))
        written.append(mo)
    return written


if __name__ == "__main__":
    if sys.argv[1:] == ["compile"]:
        for path in compile_all():
            print(f"wrote {path}")
    else:
        print("usage: python -m grader.i18n compile", file=sys.stderr)
        sys.exit(2)
