"""The region's four languages: English, Spanish, French and Dutch.

Texts are marked in the sources (``N_("...")`` in Python, ``_("...")`` in the map's scripts, ``data-i18n`` in
its page) and translated in gettext catalogs, one per language, kept as ``.po`` files in
``maritime/i18n/locale/<lang>/LC_MESSAGES/maritime.po`` and read with Babel. ``scripts/i18n.py`` extracts the
template and updates the catalogs; a test checks that every text has all four.

A centre chooses its language in the settings (``language = "es"``); a browser chooses its own on the map.
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

#: the languages, by ISO 639-1 code, each named in itself
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español", "fr": "Français", "nl": "Nederlands"}
DEFAULT = "en"


def N_(text: str) -> str:
    """Mark ``text`` for translation where it is defined (a table of names); translate it where it is shown."""
    return text


def language_of(code: str | None) -> str:
    """One of :data:`LANGUAGES` for a code or an ``Accept-Language``-like tag (``es-DO`` → ``es``), else English."""
    for part in (code or "").replace(";", ",").split(","):
        lang = part.strip().lower()[:2]
        if lang in LANGUAGES:
            return lang
    return DEFAULT


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    """The translations of one language, ``{English: translated}`` (empty for English; fuzzy and empty entries
    left out, so they fall back to English)."""
    if lang == DEFAULT or lang not in LANGUAGES:
        return {}
    from babel.messages.pofile import read_po

    path = importlib.resources.files("maritime.i18n") / "locale" / lang / "LC_MESSAGES" / "maritime.po"
    with path.open("rb") as fh:
        cat = read_po(fh, locale=lang)
    return {str(m.id): str(m.string) for m in cat if m.id and m.string and not m.fuzzy}


def gettext(lang: str, text: str) -> str:
    """``text`` in language ``lang`` (English when the catalog lacks it)."""
    return catalog(lang).get(text, text) if lang != DEFAULT else text


def translator(lang: str) -> Callable[[str], str]:
    """A one-argument ``_`` for language ``lang``."""
    table = catalog(language_of(lang))
    return lambda text: table.get(text, text)


#: the language of the CLI's tables and lines (the settings' ``language``, set when a command loads them)
_cli_language = DEFAULT


def use_cli_language(lang: str | None) -> None:
    """Print the CLI's tables and lines in ``lang`` from now on."""
    global _cli_language
    _cli_language = language_of(lang)


def cli_language() -> str:
    """The CLI's language."""
    return _cli_language


def cli_text(text: str) -> str:
    """``text`` in the CLI's language."""
    return gettext(_cli_language, text)
