"""The same traffic written in each format of the field (test helpers): from decoded records, or NMEA lines."""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterable
from datetime import UTC, datetime

from maritime.models import BaseStationReport, Position, Record, VesselInfo


def _iso(t: float, sep: str = "T") -> str:
    return datetime.fromtimestamp(t, UTC).strftime(f"%Y-%m-%d{sep}%H:%M:%S")


def statics(records: Iterable[Record]) -> dict[int, VesselInfo]:
    """The static data known of each vessel (its fields merged), as tables join it to every row."""
    out: dict[int, VesselInfo] = {}
    for r in records:
        if isinstance(r, VesselInfo):
            old = out.get(r.mmsi)
            if old is None:
                out[r.mmsi] = r
            else:
                merged = {k: getattr(r, k) if getattr(r, k) is not None else getattr(old, k)
                          for k in ("name", "callsign", "imo", "ship_type", "destination", "to_bow_m", "to_stern_m",
                                    "to_port_m", "to_starboard_m", "draught_m")}
                out[r.mmsi] = VesselInfo(r.mmsi, old.time_s, **merged)
    return out


def _v(x: object) -> str:
    return "" if x is None else str(x)


def marinecadastre(records: list[Record], newer: bool = False) -> str:
    """A MarineCadastre table: one row per position, the vessel's static data on every row."""
    known = statics(records)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if newer:
        w.writerow(["mmsi", "base_date_time", "longitude", "latitude", "sog", "cog", "heading", "vessel_name", "imo",
                    "call_sign", "vessel_type", "status", "length", "width", "draft", "cargo", "transceiver"])
    else:
        w.writerow(["MMSI", "BaseDateTime", "LAT", "LON", "SOG", "COG", "Heading", "VesselName", "IMO", "CallSign",
                    "VesselType", "Status", "Length", "Width", "Draft", "Cargo", "TransceiverClass"])
    for p in records:
        if not isinstance(p, Position):
            continue
        s = known.get(p.mmsi)
        length = (s.length_m if s else None)
        width = (s.beam_m if s else None)
        static = [_v(s.name if s else None), f"IMO{s.imo}" if s and s.imo else "", _v(s.callsign if s else None),
                  _v(s.ship_type if s else None)]
        kin = [_v(p.sog_kn if p.sog_kn is not None else 102.3), _v(p.cog_deg if p.cog_deg is not None else 360.0),
               _v(p.heading_deg if p.heading_deg is not None else 511)]
        tail = [_v(p.nav_status if p.nav_status is not None else 15), _v(length), _v(width),
                _v(s.draught_m if s else None), "", "B" if p.msg_type in (18, 19) else "A"]
        if newer:
            w.writerow([p.mmsi, _iso(p.time_s), repr(p.lon), repr(p.lat), *kin, static[0], static[1], static[2],
                        static[3], *tail])
        else:
            w.writerow([p.mmsi, _iso(p.time_s), repr(p.lat), repr(p.lon), *kin, *static, *tail])
    return buf.getvalue()


def satellite(records: list[Record]) -> str:
    """An exactEarth-style export: one row per message with its Message_ID, static and base-station rows too."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["MMSI", "Message_ID", "Repeat_indicator", "Time", "Millisecond", "Region", "Vessel_Name", "Call_sign",
                "IMO", "Ship_Type", "Destination", "Navigational_status", "SOG", "Longitude", "Latitude", "COG",
                "Heading", "Ref_A", "Ref_B", "Ref_C", "Ref_D", "Draught", "UTC_second", "Data"])
    for r in records:
        t = datetime.fromtimestamp(r.time_s, UTC).strftime("%Y%m%d_%H%M%S")
        if isinstance(r, Position):
            w.writerow([r.mmsi, r.msg_type, 0, t, 0, 0, "", "", "", "", "",
                        _v(r.nav_status if r.nav_status is not None else 15),
                        _v(r.sog_kn if r.sog_kn is not None else 102.3), repr(r.lon), repr(r.lat),
                        _v(r.cog_deg if r.cog_deg is not None else 360), _v(r.heading_deg if r.heading_deg is not None else 511), "", "", "", "", "",
                        "", ""])
        elif isinstance(r, VesselInfo):
            w.writerow([r.mmsi, r.msg_type if r.msg_type in (5, 24) else 5, 0, t, 0, 0, _v(r.name), _v(r.callsign),
                        _v(r.imo), _v(r.ship_type), _v(r.destination), "", "", "", "", "", "", _v(r.to_bow_m),
                        _v(r.to_stern_m), _v(r.to_port_m), _v(r.to_starboard_m), _v(r.draught_m), "", ""])
        elif isinstance(r, BaseStationReport):
            w.writerow([r.mmsi, r.msg_type, 0, t, 0, 0, "", "", "", "", "", "", "", _v(r.lon), _v(r.lat), "", "",
                        "", "", "", "", "", "", ""])
    return buf.getvalue()


def gpsd(records: list[Record]) -> str:
    """gpsd JSON: a TPV report with the time whenever it changes, then the AIS reports (scaled)."""
    out, now = [], None
    for r in records:
        if r.time_s != now:
            now = r.time_s
            out.append(json.dumps({"class": "TPV", "device": "/dev/ttyUSB0", "mode": 3,
                                   "time": _iso(r.time_s) + ".000Z"}))
        if isinstance(r, Position):
            out.append(json.dumps({"class": "AIS", "device": "stdin", "type": r.msg_type, "repeat": 0,
                                   "mmsi": r.mmsi, "scaled": True, "status": r.nav_status if r.nav_status is not None
                                   else 15, "speed": r.sog_kn if r.sog_kn is not None else 102.3,
                                   "lon": r.lon, "lat": r.lat,
                                   "course": r.cog_deg if r.cog_deg is not None else 360.0,
                                   "heading": r.heading_deg if r.heading_deg is not None else 511}))
        elif isinstance(r, VesselInfo):
            out.append(json.dumps({"class": "AIS", "device": "stdin", "type": 5, "mmsi": r.mmsi, "scaled": True,
                                   "imo": r.imo or 0, "callsign": r.callsign or "", "shipname": r.name or "",
                                   "shiptype": r.ship_type or 0, "destination": r.destination or "",
                                   "to_bow": r.to_bow_m or 0, "to_stern": r.to_stern_m or 0,
                                   "to_port": r.to_port_m or 0, "to_starboard": r.to_starboard_m or 0}))
    return "\n".join(out) + "\n"


def aishub(records: list[Record]) -> str:
    """AISHub JSON snapshots (human form), one a line, each holding the positions of one moment."""
    known = statics(records)
    by_time: dict[float, list[dict[str, object]]] = {}
    for p in records:
        if isinstance(p, Position):
            s = known.get(p.mmsi)
            by_time.setdefault(p.time_s, []).append({
                "MMSI": p.mmsi, "TIME": _iso(p.time_s, " ") + " GMT", "LONGITUDE": p.lon, "LATITUDE": p.lat,
                "COG": p.cog_deg if p.cog_deg is not None else 360, "SOG": p.sog_kn if p.sog_kn is not None else 102.3,
                "HEADING": p.heading_deg if p.heading_deg is not None else 511,
                "NAVSTAT": p.nav_status if p.nav_status is not None else 15, "IMO": (s.imo if s else 0) or 0,
                "NAME": (s.name if s else "") or "", "CALLSIGN": (s.callsign if s else "") or "",
                "TYPE": (s.ship_type if s else 0) or 0, "DEST": (s.destination if s else "") or ""})
    return "".join(json.dumps([{"ERROR": False, "USERNAME": "test", "FORMAT": "HUMAN", "RECORDS": len(v)}, v]) + "\n"
                   for _t, v in sorted(by_time.items()))


def aiscatcher(nmea_lines: list[bytes], with_nmea: bool = True) -> str:
    """AIS-catcher JSON: each message's sentences with the time it was received (the tag block's ``c:``)."""
    out = []
    group: list[str] = []
    for raw in nmea_lines:
        text = raw.decode("latin-1")
        try:
            t = int(text.split("c:")[1].split(",")[0].split("*")[0])
            sentence = text[text.index("\\", 1) + 1:]
        except (IndexError, ValueError):
            continue  # a damaged line: AIS-catcher would not have made a message of it
        parts = sentence.split(",")
        if len(parts) < 7:
            continue
        group.append(sentence)
        if parts[1] == parts[2]:
            out.append(json.dumps({"class": "AIS", "device": "AIS-catcher", "rxuxtime": t,
                                   "rxtime": datetime.fromtimestamp(t, UTC).strftime("%Y%m%d%H%M%S"),
                                   "channel": parts[4] or "A", "nmea": group, "signalpower": -40.5, "ppm": 0.2}))
            group = []
    return "\n".join(out) + "\n"


def shuffled(text: str, seed: int = 1, header: bool = True) -> str:
    """The rows in a random order (the header kept first)."""
    lines = text.splitlines()
    head, body = (lines[:1], lines[1:]) if header else ([], lines)
    random.Random(seed).shuffle(body)
    return "\n".join(head + body) + "\n"


def grouped_by_mmsi(text: str, header: bool = True) -> str:
    """The rows grouped by MMSI (the first column), as exports per vessel come."""
    lines = text.splitlines()
    head, body = (lines[:1], lines[1:]) if header else ([], lines)
    body.sort(key=lambda ln: ln.split(",")[0])
    return "\n".join(head + body) + "\n"
