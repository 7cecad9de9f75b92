#!/usr/bin/env python3
"""The translation catalogs: extract the template from the sources and bring each language's catalog up to it.

    python scripts/i18n.py extract    # maritime/i18n/maritime.pot from the sources
    python scripts/i18n.py update     # extract, then merge the template into each maritime.po (new texts empty)
    python scripts/i18n.py check      # exit 1 when the template is stale or a catalog lacks a translation

Texts come from Python (``N_("...")``, ``_("...")``), the map's scripts (``_("...")``) and its page
(``data-i18n``, ``data-i18n-ph``, ``data-i18n-title``). Babel does the extraction (Python) and the
merging; the page's attributes are read here.
"""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
I18N = ROOT / "maritime" / "i18n"
POT = I18N / "maritime.pot"
LANGS = ("es", "fr", "nl")
PY_SOURCES = [ROOT / "maritime" / "vocabulary.py", ROOT / "maritime" / "delivery" / "cap.py",
              ROOT / "maritime" / "cli" / "_display.py"]
JS_SOURCES = [ROOT / "maritime" / "views" / "static" / "live.js"]
HTML_SOURCES = [ROOT / "maritime" / "views" / "static" / "live.html"]
_JS_CALL = re.compile(r'(?<![\w$.])_\("((?:[^"\\]|\\.)*)"\)')
_ATTR = re.compile(r'data-i18n(?:-ph|-title)?="([^"]+)"')


def template() -> Catalog:
    """The template catalog of every marked text, with where each comes from."""
    cat = Catalog(project="caribbean-mda", msgid_bugs_address="", fuzzy=False)
    for path in PY_SOURCES:
        for line, text, _comments, _ctx in extract_from_file("python", str(path), keywords={"N_": None, "_": None}):
            cat.add(text, locations=[(str(path.relative_to(ROOT)), line)])
    for path in JS_SOURCES:  # the scripts call _("...") with double-quoted literals only (Babel's JavaScript
        # lexer takes some divisions for regular expressions and loses the texts after them)
        for n, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for text in _JS_CALL.findall(row):
                cat.add(json.loads(f'"{text}"'), locations=[(str(path.relative_to(ROOT)), n)])
    for path in HTML_SOURCES:
        for n, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for text in _ATTR.findall(row):
                cat.add(text, locations=[(str(path.relative_to(ROOT)), n)])
    return cat


def _bytes(cat: Catalog) -> bytes:
    buf = io.BytesIO()
    write_po(buf, cat, omit_header=True, sort_output=True, width=120, no_location=True)
    return buf.getvalue()


def po_path(lang: str) -> Path:
    return I18N / "locale" / lang / "LC_MESSAGES" / "maritime.po"


def update() -> None:
    pot = template()
    POT.write_bytes(_bytes(pot))
    for lang in LANGS:
        path = po_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as fh:
                cat = read_po(fh, locale=lang)
        else:
            cat = Catalog(locale=lang)
        cat.update(pot, no_fuzzy_matching=True)
        cat.obsolete.clear()
        path.write_bytes(_bytes(cat))


def check() -> list[str]:
    """What is wrong: a stale template, missing or fuzzy translations."""
    problems = []
    if not POT.exists() or POT.read_bytes() != _bytes(template()):
        problems.append(f"{POT.relative_to(ROOT)} is stale: run python scripts/i18n.py update")
    ids = {m.id for m in template() if m.id}
    for lang in LANGS:
        with po_path(lang).open("rb") as fh:
            cat = read_po(fh, locale=lang)
        have = {m.id for m in cat if m.id and m.string and not m.fuzzy}
        problems += [f"{lang}: no translation of {t!r}" for t in sorted(ids - have, key=str)]
    return problems


def main() -> int:
    what = sys.argv[1] if len(sys.argv) > 1 else "check"
    if what == "extract":
        POT.write_bytes(_bytes(template()))
    elif what == "update":
        update()
    elif what == "check":
        problems = check()
        for p in problems:
            print(p)
        return 1 if problems else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
