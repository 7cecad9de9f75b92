"""Vectorised AIS encoding for the simulator (types 1 and 18), checked against pyais in the tests.

pyais's encoder takes tens of microseconds a message; a simulated day of
thousands of vessels has tens of millions of position reports, so the
position payloads are packed here with numpy, many at a time. Static data
(types 5 and 24) change rarely and are encoded once per vessel with pyais.
"""

from __future__ import annotations

import functools
import operator
from typing import Any

import numpy as np
from pyais.encode import encode_dict

_ARMOR = np.array([c + 48 if c < 40 else c + 56 for c in range(64)], dtype=np.uint8)
_WEIGHTS = np.array([32, 16, 8, 4, 2, 1], dtype=np.uint8)

# (field, offset, width) of the 168-bit position reports (ITU-R M.1371)
_TYPE1 = (("type", 0, 6), ("repeat", 6, 2), ("mmsi", 8, 30), ("status", 38, 4), ("turn", 42, 8),
          ("speed", 50, 10), ("accuracy", 60, 1), ("lon", 61, 28), ("lat", 89, 27), ("course", 116, 12),
          ("heading", 128, 9), ("second", 137, 6), ("maneuver", 143, 2), ("spare", 145, 3), ("raim", 148, 1),
          ("radio", 149, 19))
_TYPE18 = (("type", 0, 6), ("repeat", 6, 2), ("mmsi", 8, 30), ("reserved", 38, 8), ("speed", 46, 10),
           ("accuracy", 56, 1), ("lon", 57, 28), ("lat", 85, 27), ("course", 112, 12), ("heading", 124, 9),
           ("second", 133, 6), ("reserved2", 139, 2), ("cs", 141, 1), ("display", 142, 1), ("dsc", 143, 1),
           ("band", 144, 1), ("msg22", 145, 1), ("assigned", 146, 1), ("raim", 147, 1), ("radio", 148, 20))


def _pack(fields: dict[str, np.ndarray], layout: tuple[tuple[str, int, int], ...], n: int) -> np.ndarray:
    bits = np.zeros((n, 168), dtype=np.uint8)
    for name, off, width in layout:
        v = fields.get(name)
        if v is None:
            continue
        v = np.asarray(v, dtype=np.int64) & ((1 << width) - 1)
        shifts = np.arange(width - 1, -1, -1, dtype=np.int64)
        bits[:, off:off + width] = ((v[:, None] >> shifts) & 1).astype(np.uint8)
    six = bits.reshape(n, 28, 6) @ _WEIGHTS
    return _ARMOR[six]


def position_payloads(
    mmsi: np.ndarray, lat: np.ndarray, lon: np.ndarray, sog_kn: np.ndarray, cog_deg: np.ndarray,
    heading_deg: np.ndarray, nav_status: np.ndarray, second: np.ndarray, class_b: np.ndarray,
) -> np.ndarray:
    """Armoured 28-character payloads (an ``(n, 28)`` uint8 array) for type 1 or 18 reports.

    NaN sog, cog and heading are written as "not available" (1023, 3600, 511).
    """
    n = len(mmsi)
    sog = np.where(np.isnan(sog_kn), 1023, np.clip(np.round(sog_kn * 10), 0, 1022)).astype(np.int64)
    cog = np.where(np.isnan(cog_deg), 3600, np.round(cog_deg * 10) % 3600).astype(np.int64)
    hdg = np.where(np.isnan(heading_deg), 511, np.round(heading_deg) % 360).astype(np.int64)
    lon_i = np.round(lon * 600000).astype(np.int64)
    lat_i = np.round(lat * 600000).astype(np.int64)
    out = np.empty((n, 28), dtype=np.uint8)
    a = ~class_b
    if a.any():
        out[a] = _pack({"type": np.ones(int(a.sum()), dtype=np.int64), "mmsi": mmsi[a], "status": nav_status[a],
                        "turn": np.full(int(a.sum()), -128), "speed": sog[a], "lon": lon_i[a], "lat": lat_i[a],
                        "course": cog[a], "heading": hdg[a], "second": second[a]}, _TYPE1, int(a.sum()))
    b = class_b
    if b.any():
        k = int(b.sum())
        out[b] = _pack({"type": np.full(k, 18), "mmsi": mmsi[b], "speed": sog[b], "lon": lon_i[b], "lat": lat_i[b],
                        "course": cog[b], "heading": hdg[b], "second": second[b], "cs": np.ones(k),
                        "radio": np.full(k, 0b1100000000000000110)}, _TYPE18, k)
    return out


def checksum(text: bytes) -> int:
    """NMEA checksum of a sentence body."""
    return functools.reduce(operator.xor, text, 0)


def static_payloads(mmsi: int, *, class_b: bool, name: str, callsign: str, imo: int, ship_type: int,
                    length_m: int, beam_m: int, draught_m: float, destination: str,
                    eta: tuple[int, int, int, int] | None = None) -> list[tuple[str, int]]:
    """Armoured (payload, fill bits) of the static report(s): type 5 for Class A (with the destination and
    ``eta`` as AIS gives it: month, day, hour, minute), 24 A and B for Class B."""
    bow = length_m * 2 // 3
    port = beam_m // 2
    dims = {"to_bow": bow, "to_stern": length_m - bow, "to_port": port, "to_starboard": beam_m - port}
    if not class_b:
        msgs: list[dict[str, Any]] = [{"msg_type": 5, "mmsi": mmsi, "imo": imo, "callsign": callsign, "shipname": name,
                 "ship_type": ship_type, "draught": draught_m, "destination": destination, "epfd": 1, **dims,
                 **(dict(zip(("month", "day", "hour", "minute"), eta, strict=True)) if eta else {})}]
    else:
        msgs = [{"msg_type": 24, "mmsi": mmsi, "partno": 0, "shipname": name},
                {"msg_type": 24, "mmsi": mmsi, "partno": 1, "ship_type": ship_type, "callsign": callsign, **dims}]
    out = []
    m: dict[str, Any]
    for m in msgs:
        sentences = encode_dict(m, talker_id="AI", radio_channel="A")
        payload = "".join(s.split(",")[5] for s in sentences)
        fill = int(sentences[-1].split(",")[6].split("*")[0])
        out.append((payload, fill))
    return out


def tag_block(fields: str) -> bytes:
    """An NMEA 4.0 tag block (``\\c:1700000000,s:rx*hh\\``) for comma-separated ``fields``, with its checksum."""
    tb = fields.encode()
    return b"\\" + tb + b"*" + f"{checksum(tb):02X}".encode() + b"\\"


def sentences(payload: str, fill: int, seq: int, channel: str = "A", max_chars: int = 60) -> list[bytes]:
    """NMEA sentences (without tag block) for a payload, split into fragments when long."""
    parts = [payload[i:i + max_chars] for i in range(0, len(payload), max_chars)] or [""]
    n = len(parts)
    out = []
    for k, part in enumerate(parts, 1):
        seq_s = str(seq) if n > 1 else ""
        f = fill if k == n else 0
        body = f"AIVDM,{n},{k},{seq_s},{channel},{part},{f}".encode()
        out.append(b"!" + body + b"*" + f"{checksum(body):02X}".encode())
    return out
