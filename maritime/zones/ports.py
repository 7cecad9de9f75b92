"""The region's ports, and what a crew's destination text means: a port (with a confidence) or "unknown".

The gazetteer (``maritime/zones/ports_index.json``, built by :func:`build_port_index`) joins four public sources:
the UNECE UN/LOCODE code list (release 2023-1; the region's ports, country names and island subdivisions,
extracted to ``maritime/zones/unlocode_caribbean.csv`` by ``scripts/extract_unlocode.py``), the crew forms of
the main ports written down in :mod:`maritime.zones.locodes`, the bundled ``port`` zones (their names and
positions) and the NGA World Port Index (``../shared/data/zones/caribbean_wpi_ports.geojson``). Each port has
an id (its LOCODE when it has one), a name, a country (ISO 3166 alpha-2), a position, the port zone that
covers it, and the aliases crews type. The main ports (those with crew forms, a port zone or a WPI entry) are
matched by name, alias and spelling; the code list's other ports by their exact name only, and never over a
main port of the same name.

:meth:`PortIndex.match` reads AIS destination text the way crews write it: a LOCODE (``LCCAS``, ``LC CAS``),
a name or alias (``CASTRIES``, ``ST LUCIA``), a voyage (``CASTRIES>BRIDGETOWN``: the part after the last
``>``; cut at the 20-character limit, ``SANTO DOMINGO>SAN JU`` is read as the one port that name begins),
the usual abbreviations (``STO DGO``), or a misspelling (``BRIGETOWN``, matched with RapidFuzz). A country or
an island with no port of its name (``MONTSERRAT``, ``TOBAGO``) is a country-level answer (``country``,
``region``, the ports in it as ``candidates``). What it cannot place it reports as unknown, never as a silent
guess; two ports that fit equally well are "ambiguous", with the candidates named.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from maritime.destination import clean_destination
from maritime.zones.locodes import LOCODES

logger = logging.getLogger(__name__)

#: the bundled gazetteer (package data of ``maritime.zones``)
BUNDLED = Path(__file__).resolve().parent / "ports_index.json"
#: fuzzy matches under this score (0-100, RapidFuzz ratio) are not taken
FUZZY_MIN = 86.0
#: a second port this close to the best fuzzy score makes the text ambiguous
AMBIGUOUS_WITHIN = 3.0
#: WPI ports this close to a LOCODE port or a port zone are the same port (km)
SAME_PORT_KM = 6.0

#: ISO 3166 alpha-3 -> alpha-2, for the countries and territories of the World Port Index extract
ISO3_TO_2 = {
    "ABW": "AW", "ATG": "AG", "BES": "BQ", "BHS": "BS", "BLZ": "BZ", "BRB": "BB", "COL": "CO", "CRI": "CR",
    "CUB": "CU", "CUW": "CW", "CYM": "KY", "DMA": "DM", "DOM": "DO", "FRA": "FR", "GLP": "GP", "GRD": "GD",
    "GTM": "GT", "HND": "HN", "HTI": "HT", "JAM": "JM", "KNA": "KN", "LCA": "LC", "MEX": "MX", "MTQ": "MQ",
    "NIC": "NI", "PAN": "PA", "PRI": "PR", "SLV": "SV", "SXM": "SX", "TCA": "TC", "TTO": "TT", "USA": "US",
    "VCT": "VC", "VEN": "VE", "VGB": "VG", "VIR": "VI", "GUY": "GY", "SUR": "SR", "AIA": "AI", "MSR": "MS",
    "BLM": "BL", "MAF": "MF",
}

#: the region's extract of the UN/LOCODE code list (package data of ``maritime.zones``)
UNLOCODE_CSV = Path(__file__).resolve().parent / "unlocode_caribbean.csv"
#: abbreviations crews use, read as the words they stand for when the text as written names nothing
ABBREVIATIONS = {"STO": "SANTO", "STA": "SANTA", "DGO": "DOMINGO", "PTO": "PUERTO", "FT": "FORT", "PTE": "POINTE",
                 "SN": "SAN", "BCO": "BLANCO", "GDE": "GRANDE", "IS": "ISLAND", "ISL": "ISLAND"}
#: the AIS destination field holds 20 characters: a text this long may have been cut
AIS_DEST_LEN = 20
_LOCODE = re.compile(r"^([A-Z]{2}) ?([A-Z2-9]{3})$")
_VOYAGE = re.compile(r"\s*(?:>|=>|->|\bTO\b)\s*")
_PUNCT = re.compile(r"[^A-Z0-9 ]+")


def normal(text: str) -> str:
    """Text as the matcher compares it: cleaned, punctuation dropped, SAINT written ST, PORT OF dropped."""
    s = _PUNCT.sub(" ", clean_destination(text))
    s = re.sub(r"\bSAINT\b", "ST", s)
    s = re.sub(r"\bSTE\b", "ST", s)
    s = re.sub(r"^(PORT OF|PUERTO DE|PORT) (?=\w{4,})", "", s.strip())
    return re.sub(r"\s+", " ", s).strip()


@dataclass(frozen=True, slots=True)
class Port:
    """One port (position in degrees; ``zone_id`` the bundled port zone covering it, if any)."""

    id: str
    name: str
    country: str
    lat: float | None
    lon: float | None
    locode: str | None = None
    zone_id: str | None = None
    aliases: tuple[str, ...] = ()
    #: its UN/LOCODE subdivision (an island such as Tobago, ``TOB``), when the code list gives one
    subdivision: str | None = None
    #: a main port (crew forms, a port zone or a WPI entry); False for the code list's other ports
    main: bool = True

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["aliases"] = list(self.aliases)
        return d


@dataclass(frozen=True, slots=True)
class DestinationMatch:
    """What a destination text means: ``port`` (None when unknown), ``confidence`` 0-1, how it was matched
    (``locode``, ``name``, ``alias``, ``fuzzy``; ``unknown``, ``ambiguous`` or ``empty`` without a port)."""

    text: str
    port: Port | None
    confidence: float
    method: str
    #: the part of the text read as the destination (after the last ``>``)
    read: str = ""
    #: for ``ambiguous``: the ports that fit equally well; for ``country``: the ports of that country or island
    candidates: tuple[str, ...] = field(default_factory=tuple)
    #: for ``country``: the country (ISO 3166 alpha-2) and, for an island, its subdivision code
    country: str | None = None
    region: str | None = None
    #: for ``country``: the name of the country or island
    place: str | None = None

    def covers(self, port: Port) -> bool:
        """Whether the text declares ``port``: it names it, or names its island or country (a country or
        island name alone, or a port alias that is one: ``ST LUCIA`` covers Vieux Fort)."""
        if self.port is not None:
            return self.port.id == port.id or (self.method == "alias" and self.port.country == port.country)
        if self.method == "country":
            if self.region is not None:
                return port.id in self.candidates
            return self.country == port.country
        return False

    def as_dict(self) -> dict[str, Any]:
        d = {"text": self.text, "port": self.port.id if self.port else None,
             "port_name": self.port.name if self.port else None, "confidence": round(self.confidence, 2),
             "method": self.method, "read": self.read, "candidates": list(self.candidates)}
        if self.method == "country":
            d.update(country=self.country, region=self.region, place=self.place)
        return d


class PortIndex:
    """The gazetteer, with a matcher for destination text."""

    def __init__(self, ports: Iterable[Port], places: Iterable[tuple[str, str | None, str]] = ()) -> None:
        self.ports = list(ports)
        self.by_id = {p.id: p for p in self.ports}
        self.by_locode = {p.locode: p for p in self.ports if p.locode}
        self.by_zone = {p.zone_id: p for p in self.ports if p.zone_id}
        mains = [p for p in self.ports if p.main]
        #: the main ports (crew forms, a port zone or a WPI entry): the ones boards, port calls and maps use
        self.main_ports = mains
        #: the code list's other ports, by exact name (a name two of them share, or a main port has, is left out)
        taken = {normal(f) for p in mains for f in (p.name, *p.aliases)}
        minor: dict[str, str | None] = {}
        for p in self.ports:
            if not p.main and (n := normal(p.name)) and n not in taken:
                minor[n] = p.id if n not in minor else None
        self._minor = {k: v for k, v in minor.items() if v is not None}
        #: country and island names -> (country, subdivision or None, name), from the code list
        self._places: dict[str, tuple[str, str | None, str]] = {}
        for country, region, name in places:
            for form in _place_forms(name):
                if form not in taken:
                    self._places.setdefault(form, (country, region, name))
        #: normalised name or alias -> (port id, how: name or alias); a form two ports share is left out
        forms: dict[str, tuple[str, str]] = {}
        shared: set[str] = set()
        for p in mains:
            for form, how in [(normal(p.name), "name"), *((normal(a), "alias") for a in p.aliases)]:
                if not form:
                    continue
                if form in forms and forms[form][0] != p.id:
                    shared.add(form)
                forms.setdefault(form, (p.id, how))
        self._forms = {k: v for k, v in forms.items() if k not in shared}
        #: forms that name several ports ("GEORGETOWN": Guyana's and the Caymans'): ambiguous, never guessed
        self._shared: dict[str, tuple[str, ...]] = {}
        for p in mains:
            for form in (normal(p.name), *(normal(a) for a in p.aliases)):
                if form in shared and p.id not in self._shared.get(form, ()):
                    self._shared[form] = (*self._shared.get(form, ()), p.id)
        self._choices = list(self._forms) + list(self._shared)

    @classmethod
    def load(cls, path: str | Path | None = None) -> PortIndex:
        """The bundled gazetteer (or one written by :func:`write_port_index`)."""
        data = json.loads(Path(path or BUNDLED).read_text(encoding="utf-8"))
        places = [(str(c), r, str(n)) for c, r, n in data.get("places", [])]
        return cls((Port(**{**p, "aliases": tuple(p.get("aliases") or ())}) for p in data["ports"]), places)

    def __len__(self) -> int:
        return len(self.ports)

    def match(self, text: str | None) -> DestinationMatch:
        """The port a destination text names (see the module docstring)."""
        clean = clean_destination(text)
        if not clean:
            return DestinationMatch(clean, None, 0.0, "empty")
        if re.search(r"(?:>|\bTO)\s*$", clean):  # "KINGSTON>": from Kingston, to nothing said
            return DestinationMatch(clean, None, 0.0, "unknown", "")
        parts = [p for p in _VOYAGE.split(clean) if p.strip()]
        read = parts[-1].strip() if parts else clean
        got = self._match_part(read)  # "BRIDGETOWN>???": what is after the ">" is unreadable: not guessed
        port, conf, how, cands = got
        if port is None and how == "unknown":
            expanded = " ".join(ABBREVIATIONS.get(w, w) for w in normal(read).split())
            if expanded != normal(read):
                port, conf, how, cands = self._match_part(expanded)
                conf = min(conf, 0.85)
        if port is None and how == "unknown" and len(parts) > 1 and len(clean) >= AIS_DEST_LEN - 1:
            # the field was full: the last port may have been cut ("SANTO DOMINGO>SAN JU")
            port, conf, how, cands = self._prefix(normal(read))
        if (port is None and how == "unknown") or (how == "name" and normal(read) in self._places):
            place = self._places.get(normal(read))
            if place is not None:  # "TOBAGO", "MONTSERRAT", "TRINIDAD AND TOBAGO": a country or an island
                country, region, name = place
                inside = tuple(p.id for p in self.ports if p.country == country and p.main and (
                    region is None or p.subdivision == region or (p.lat is not None and self._on_island(p, name))))
                return DestinationMatch(clean, None, 0.8, "country", read, inside, country, region, name)
        return DestinationMatch(clean, port, conf, how, read, cands)

    def _on_island(self, port: Port, island: str) -> bool:
        """A main port with no subdivision is on an island when one of its names says so ("SCARBOROUGH
        TOBAGO"), or a code-list port of that island lies within 15 km of it."""
        if island.upper() in " ".join((port.name, *port.aliases)).upper():
            return True
        from maritime.geo import haversine_m

        region = self._places.get(normal(island))
        if region is None or region[1] is None or port.lat is None or port.lon is None:
            return False
        return any(q.subdivision == region[1] and q.country == port.country and q.lat is not None
                   and q.lon is not None and haversine_m(port.lat, port.lon, q.lat, q.lon) <= 15_000
                   for q in self.ports)

    def _prefix(self, read: str) -> tuple[Port | None, float, str, tuple[str, ...]]:
        """The one main port a cut name begins (``SAN JU``: San Juan), or ambiguous among those it may begin."""
        if len(read.replace(" ", "")) < 4:
            return None, 0.0, "unknown", ()
        hits = {pid for form, (pid, _how) in self._forms.items() if form.startswith(read)}
        hits |= {pid for form, pids in self._shared.items() if form.startswith(read) for pid in pids}
        if len(hits) == 1:
            return self.by_id[hits.pop()], 0.75, "prefix", ()
        if hits:
            return None, 0.0, "ambiguous", tuple(sorted(hits))
        return None, 0.0, "unknown", ()

    def _match_part(self, read: str) -> tuple[Port | None, float, str, tuple[str, ...]]:
        compact = read.replace(" ", "")
        m = _LOCODE.match(read) or _LOCODE.match(compact)
        if m and (m.group(1) + m.group(2)) in self.by_locode:
            return self.by_locode[m.group(1) + m.group(2)], 1.0, "locode", ()
        n = normal(read)
        hit = self._forms.get(n)
        if hit is not None:
            return self.by_id[hit[0]], 0.95 if hit[1] == "name" else 0.9, hit[1], ()
        if n in self._shared:
            return None, 0.0, "ambiguous", self._shared[n]
        # a LOCODE among other words ("LCCAS CASTRIES", "CASTRIES LCCAS")
        for tok in n.split():
            if len(tok) == 5 and tok in self.by_locode:
                return self.by_locode[tok], 0.95, "locode", ()
        # a known name among other words ("PHILIPSBURG SXM", "KINGSTON JAMAICA WI"): every phrase of the text
        # that names a port must name the same one
        words = n.split()
        named = {self._forms[ph][0] for i in range(len(words)) for j in range(i + 1, len(words) + 1)
                 if len(ph := " ".join(words[i:j])) >= 4 and ph in self._forms}
        if len(named) == 1:
            return self.by_id[named.pop()], 0.85, "name", ()
        if len(named) > 1:
            return None, 0.0, "ambiguous", tuple(sorted(named))
        if n in self._minor:  # a port of the code list, by its exact name
            return self.by_id[self._minor[n]], 0.85, "name", ()
        if len(n.replace(" ", "")) < 4:
            return None, 0.0, "unknown", ()
        found = process.extract(n, self._choices, scorer=fuzz.ratio, limit=6, score_cutoff=FUZZY_MIN)
        if not found:
            return None, 0.0, "unknown", ()

        def ports_of(form: str) -> tuple[str, ...]:
            return self._shared.get(form) or (self._forms[form][0],)

        best = found[0]
        close = {pid for f, score, _ in found if score >= best[1] - AMBIGUOUS_WITHIN for pid in ports_of(f)}
        if len(close) > 1:
            return None, 0.0, "ambiguous", tuple(sorted(close))
        return self.by_id[close.pop()], round(best[1] / 100 * 0.85, 3), "fuzzy", ()

    def near(self, lat: float, lon: float, km: float) -> list[tuple[float, Port]]:
        """Main ports within ``km`` of a point, nearest first, with their distances (km)."""
        from maritime.geo import haversine_m

        out = [(haversine_m(lat, lon, p.lat, p.lon) / 1000, p) for p in self.main_ports
               if p.lat is not None and p.lon is not None]
        return sorted(((d, p) for d, p in out if d <= km), key=lambda dp: (dp[0], dp[1].id))


# -- building the gazetteer ----------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


_QUALIFIER = re.compile(r"\s*\(([^)]*)\)\s*")


def _place_forms(name: str) -> list[str]:
    """The ways a country or island name is written: as the code list has it, without its qualifier
    (``Venezuela (Bolivarian Republic Of)``) or with it in front (``Virgin Islands (British)``: BRITISH VIRGIN
    ISLANDS), and without ``and``."""
    out = []
    m = _QUALIFIER.search(name)
    bases = [name]
    if m is not None:
        bare = _QUALIFIER.sub(" ", name).strip()
        q = m.group(1).replace(".", "")
        if q.lower() in ("british", "us", "u s", "french part", "dutch part"):
            bases = [f"{q.replace(' Part', '')} {bare}"]
        else:
            bases = [bare]
    for b in bases:
        n = normal(b)
        out += [n, re.sub(r"\bAND\b ", "", n)]
    return [f for f in dict.fromkeys(out) if len(f) >= 4]


def load_unlocode(path: str | Path = UNLOCODE_CSV) -> tuple[list[dict[str, str]], list[tuple[str, str | None, str]]]:
    """The region's UN/LOCODE extract: its port rows (dicts of the CSV's columns) and its places (country,
    subdivision or None, name) for country-level answers."""
    ports: list[dict[str, str]] = []
    places: list[tuple[str, str | None, str]] = []
    with Path(path).open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if r["kind"] == "port":
                ports.append(r)
            elif r["kind"] == "country":
                places.append((r["country"], None, r["name"]))
            elif r["kind"] == "island":
                places.append((r["country"], r["subdivision"], r["name"]))
    return ports, places


def build_port_index(port_zones: Sequence[Any], wpi: dict[str, Any] | None) -> list[Port]:
    """The gazetteer from the LOCODE table, the port zones (objects with ``id``, ``name``, ``geometry`` and
    ``properties['country']``) and, when given, the World Port Index GeoJSON; sorted by id (reproducible)."""
    from maritime.geo import haversine_m

    zones = []
    for z in port_zones:
        c = z.geometry.centroid
        zones.append((z.id, re.sub(r"^Port of ", "", z.name), str(z.properties.get("country") or ""), c.y, c.x))
    wpi_rows = []
    for f in (wpi or {}).get("features", []):
        pr = f["properties"]
        iso2 = ISO3_TO_2.get(pr.get("iso3", ""), "")
        wpi_rows.append((str(pr["label"]).strip(), iso2, float(pr["latitude"]), float(pr["longitude"])))
    ports: dict[str, Port] = {}
    used_zones: set[str] = set()
    used_wpi: set[int] = set()
    unloc, _places = load_unlocode()
    listed = {r["code"]: r for r in unloc}
    for code, (name, aliases) in LOCODES.items():
        country = code[:2]
        forms = {normal(name), *(normal(a) for a in aliases)}
        zone = next((z for z in zones if z[2] == country and normal(z[1]) in forms), None)
        lat = lon = None
        zone_id = None
        extra: list[str] = []
        if zone is not None:
            zone_id, lat, lon = zone[0], zone[3], zone[4]
            used_zones.add(zone[0])
            extra.append(zone[1])
        for i, (label, iso2, la, lo) in enumerate(wpi_rows):
            if iso2 != country:
                continue
            if normal(label) in forms or (lat is not None and lon is not None
                                          and haversine_m(lat, lon, la, lo) / 1000 <= SAME_PORT_KM):
                used_wpi.add(i)
                extra.append(label)
                if lat is None:
                    lat, lon = la, lo
        row = listed.get(code)
        if lat is None and row is not None and row["lat"]:
            lat, lon = float(row["lat"]), float(row["lon"])
        al = tuple(sorted({a for a in (*aliases, *(e.upper() for e in extra)) if normal(a) != normal(name)}))
        ports[code] = Port(code, name, country, lat, lon, code, zone_id, al,
                           subdivision=(row["subdivision"] or None) if row else None)
    for zid, name, country, la, lo in zones:
        if zid in used_zones:
            continue
        extra = []
        for i, (label, _iso2, wla, wlo) in enumerate(wpi_rows):
            if i not in used_wpi and haversine_m(la, lo, wla, wlo) / 1000 <= SAME_PORT_KM:
                used_wpi.add(i)
                extra.append(label)
        al = tuple(sorted({e.upper() for e in extra if normal(e) != normal(name)}))
        ports[zid] = Port(zid, name, country, round(la, 5), round(lo, 5), None, zid, al)
    for i, (label, iso2, la, lo) in enumerate(wpi_rows):
        if i in used_wpi:
            continue
        pid = f"wpi-{iso2.lower() or 'xx'}-{_slug(label)}"
        if pid in ports:
            continue
        ports[pid] = Port(pid, label.title(), iso2, la, lo)
    # the code list's other ports: matched by exact name only, never over a main port
    for r in unloc:
        code = r["code"]
        if code in ports:
            continue
        ulat = float(r["lat"]) if r["lat"] else None
        ulon = float(r["lon"]) if r["lon"] else None
        ports[code] = Port(code, r["name"], r["country"], ulat, ulon, code, None,
                           (r["name_ascii"].upper(),) if normal(r["name_ascii"]) != normal(r["name"]) else (),
                           subdivision=r["subdivision"] or None, main=False)
    return [ports[k] for k in sorted(ports)]


def write_port_index(ports: Sequence[Port], path: str | Path) -> Path:
    """Write the gazetteer as JSON (stable order and formatting)."""
    out = Path(path)
    doc = {"_source": "UNECE UN/LOCODE 2023-1 (maritime/zones/unlocode_caribbean.csv), crew forms "
                      "(maritime/zones/locodes.py), the bundled port zones, NGA World Port Index "
                      "(caribbean_wpi_ports.geojson, US public domain); built by maritime zones build",
           "ports": [p.as_dict() for p in ports],
           "places": [list(p) for p in load_unlocode()[1]]}
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return out
