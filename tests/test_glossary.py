"""The Chinese catalogue and the stubs follow docs/glossary.md: each English term of the
glossary is rendered with its one Chinese term, and the variants it rules out appear nowhere."""
from __future__ import annotations

import ast
import re

from grader import i18n
from grader.tasks import MODULES, ZH

from .conftest import EXERCISES, ROOT

GLOSSARY = ROOT / "docs" / "glossary.md"
PO = i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"


def rows() -> list[tuple[str, str, list[str]]]:
    out = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("English", "---") or set(cells[0]) <= {"-"}:
            continue
        english = re.sub(r"\s*\(.*\)$", "", cells[0])
        out.append((english, cells[1], [v.strip() for v in cells[2].split(",") if v.strip()]))
    return out


def catalog() -> dict[str, str]:
    """Every translation: the shared catalogue's and the task records' own."""
    shared = {k: v for k, v in i18n.parse_po(PO.read_text(encoding="utf-8")).items() if k}
    return shared | ZH


def docstrings() -> dict[str, str]:
    found = {}
    for path in (EXERCISES / f"{module}.py" for module in MODULES):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)):
                doc = ast.get_docstring(node)
                if doc:
                    found[f"{path.name}:{getattr(node, 'name', '')}"] = doc
    return found


def test_the_glossary_has_terms_and_variants():
    table = rows()
    assert len(table) >= 15
    assert any(variants for _, _, variants in table)


def test_each_english_term_gets_its_chinese_term():
    wrong = []
    table = sorted(rows(), key=lambda row: -len(row[0]))  # "vector-Jacobian product" before "Jacobian"
    for msgid, msgstr in catalog().items():
        for english, chinese, _ in table:
            pattern = rf"(?<![\w.]){re.escape(english)}(?![\w-])"
            if re.search(pattern, msgid, flags=re.I):
                if chinese not in msgstr:
                    wrong.append(f"{english} → {chinese}: {msgid!r} → {msgstr!r}")
                msgid = re.sub(pattern, " ", msgid, flags=re.I)
                msgstr = msgstr.replace(chinese, " ", 1)
    assert not wrong, "\n".join(wrong)


def test_no_variant_the_glossary_rules_out():
    texts = {f"po:{k}": v for k, v in catalog().items()} | docstrings()
    found = [f"{variant!r} in {where}" for where, text in texts.items()
             for _, _, variants in rows() for variant in variants if variant in text]
    assert not found, "\n".join(found)


def test_no_stray_space_after_full_width_punctuation():
    """"J 与…" sets a Latin word off; "…（∇ₓ fs[1]） 与…" is a stray space."""
    from grader.checking import phrase
    from grader.messages import render_message

    stray = [msgstr for msgstr in catalog().values() if re.search(r"[）」，。：；] ", msgstr)]
    assert not stray, "\n".join(stray)
    what = phrase("entry [{item}] (∇ₓ fs[{item}])", item=1)
    text = render_message("wrong_values", {"what": what, "rtol": 1e-4, "atol": 1e-5}, "zh")
    assert "）与此输入" in text and "） " not in text, text
    assert "J 与" in render_message("wrong_values", {"what": "J", "rtol": 1e-4, "atol": 1e-5}, "zh")


def test_zero_based_labels_do_not_read_as_ordinals():
    ordinal = [(k, v) for k, v in catalog().items()
               if re.search(r"\{(item|position|index)\}", k) and re.search(r"第 ?\{(item|position|index)\}", v)]
    assert not ordinal, ordinal
