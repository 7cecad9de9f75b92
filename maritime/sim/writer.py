"""The simulator's output: every vessel's reports sampled at the ITU-R M.1371 intervals, received by the
shore and satellite layer, encoded as tag-blocked NMEA in time order (``traffic.nmea``), and the truth
(``truth.json``)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from maritime.geo import KN_TO_MS, M_PER_DEG_LAT, bearing_deg, destination
from maritime.models import iso
from maritime.sim.encode import position_payloads, sentences, static_payloads
from maritime.sim.fleet import SHARED_MMSIS, STATIC_INTERVAL_S, Segment, Vessel
from maritime.sim.geofence_truth import GeofenceTruth
from maritime.sim.planning import VoyagePlanner
from maritime.sim.reception import Reception


class TrafficWriter(VoyagePlanner):
    """Samples, receives and writes the day a :class:`VoyagePlanner` planned."""

    def _pad(self, v: Vessel) -> None:
        """Keep every vessel transmitting to the end: moored where its last leg ended."""
        last = max(v.segments, key=lambda s: s.t1)
        if last.t1 < self.t1 + 3600:
            lat, lon = float(last.lats[-1]), float(last.lons[-1])
            if last.kind == "stay" and last.drift_kn:
                lat, lon = destination(lat, lon, last.drift_deg,
                                       last.drift_kn * KN_TO_MS * (last.t1 - (last.ref_t or last.t0)))
            self._stay(v, last.t1, self.t1 + 3600, lat, lon, status=5 if last.kind == "move" else last.status)

    # -- sampling -------------------------------------------------------------------

    def _interval(self, v: Vessel, seg: Segment) -> float:
        if v.class_b:
            return 180.0 if seg.kind == "stay" and seg.speed_kn < 2 else 30.0
        if seg.kind == "stay" and seg.status in (1, 5):
            return 180.0
        sp = seg.speed_kn
        return 10.0 if sp <= 14 else 6.0 if sp <= 23 else 2.0

    def sample(self, v: Vessel, w0: float, w1: float) -> dict[str, np.ndarray] | None:
        """The vessel's true reports in [w0, w1): times, positions, speeds, courses, statuses."""
        cols: dict[str, list[np.ndarray]] = {k: [] for k in ("t", "lat", "lon", "sog", "cog", "hdg", "status")}
        for seg in v.segments:
            if seg.t1 <= w0 or seg.t0 >= w1:
                continue
            step = self._interval(v, seg)
            first = math.ceil((max(seg.t0, w0) - v.phase) / step) * step + v.phase
            ts = np.arange(first, min(seg.t1, w1), step)
            if len(ts) == 0:
                continue
            if seg.kind == "move":
                d = (ts - seg.t0) * seg.speed_kn * KN_TO_MS
                lat = np.interp(d, seg.cum_m, seg.lats)
                lon = np.interp(d, seg.cum_m, seg.lons)
                k = np.clip(np.searchsorted(seg.cum_m, d, side="right") - 1, 0, max(0, len(seg.lats) - 2))
                if len(seg.lats) > 1:
                    cog = np.array([bearing_deg(seg.lats[i], seg.lons[i], seg.lats[i + 1], seg.lons[i + 1])
                                    for i in range(len(seg.lats) - 1)])[k]
                else:
                    cog = np.zeros(len(ts))
                sog = seg.speed_kn + self.rng.normal(0, 0.15, len(ts))
            else:
                el = ts - seg.t0
                dd = seg.drift_kn * KN_TO_MS * np.maximum(0.0, ts - (seg.ref_t if seg.ref_t is not None else seg.t0))
                wob = seg.wobble_m * np.sin(el / 900.0 + v.phase)
                north = dd * math.cos(math.radians(seg.drift_deg)) + wob
                east = dd * math.sin(math.radians(seg.drift_deg)) + seg.wobble_m * np.cos(el / 1300.0 + v.phase)
                lat = seg.lats[0] + north / M_PER_DEG_LAT
                lon = seg.lons[0] + east / (M_PER_DEG_LAT * math.cos(math.radians(seg.lats[0])))
                sog = np.abs(seg.speed_kn + self.rng.normal(0, 0.08, len(ts))) if seg.speed_kn else \
                    np.abs(self.rng.normal(0, 0.05, len(ts)))
                cog = np.full(len(ts), seg.drift_deg) if seg.drift_kn else self.rng.uniform(0, 360, len(ts))
            cols["t"].append(ts)
            cols["lat"].append(np.asarray(lat))
            cols["lon"].append(np.asarray(lon))
            cols["sog"].append(np.clip(sog, 0, 102.2))
            cols["cog"].append(np.asarray(cog) % 360)
            cols["hdg"].append(np.round(np.asarray(cog)) % 360)
            cols["status"].append(np.full(len(ts), 15 if v.class_b else seg.status))
        if not cols["t"]:
            return None
        out = {k: np.concatenate(vs) for k, vs in cols.items()}
        keep = np.ones(len(out["t"]), dtype=bool)
        for a, b in v.silent:
            keep &= ~((out["t"] >= a) & (out["t"] < b))
        out = {k: arr[keep] for k, arr in out.items()}
        for tj in v.jumps:
            i = np.searchsorted(out["t"], tj)
            if i < len(out["t"]) and w0 <= tj < w1:
                v.jumped_at.append(float(out["t"][i]))
                for _ in range(50):  # a spoofed or garbled fix, but still at sea
                    jlat, jlon = destination(float(out["lat"][i]), float(out["lon"][i]),
                                             float(self.rng.uniform(0, 360)), float(self.rng.uniform(60, 120)) * 1852)
                    if self.grid.is_open_water(jlat, jlon):
                        break
                out["lat"][i] = jlat
                out["lon"][i] = jlon
        return out

    # -- writing --------------------------------------------------------------------

    def write(self, out_dir: str | Path, chunk_s: float | None = None,
              progress: Callable[[float], None] | None = None) -> dict[str, Any]:
        """Write ``traffic.nmea`` and ``truth.json``; return counts (``progress``: called with the share of
        simulated time written, 0-1).

        Reports are made ``chunk_s`` of simulated time at a time (by default about
        200 vessel-hours a chunk), so memory stays flat however large the fleet.
        """
        if chunk_s is None:
            chunk_s = max(300.0, min(3600.0, 3600.0 * 200 / max(1, len(self.vessels))))
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        rx_names = [f"rx-{p.name.lower().replace(' ', '-').replace('.', '').replace(chr(39), '')}"
                    for p in self.ports]
        rx_lat = np.array([p.lat for p in self.ports])
        rx_lon = np.array([p.lon for p in self.ports])
        statics: dict[tuple[int, int], list[tuple[str, int]]] = {}

        def static_of(v: Vessel, ts: float) -> list[tuple[str, int]]:
            k, text, eta_s = self._declared_at(v, ts)
            got = statics.get((id(v), k))
            if got is None:
                eta = None
                if eta_s is not None:
                    d = datetime.fromtimestamp(eta_s, UTC)
                    eta = (d.month, d.day, d.hour, d.minute)
                got = statics[(id(v), k)] = static_payloads(
                    v.mmsi, class_b=v.class_b, name=v.name, callsign=v.callsign, imo=v.imo, ship_type=v.ship_type,
                    length_m=v.length_m, beam_m=v.beam_m, draught_m=round(v.length_m / 20, 1), destination=text,
                    eta=eta)
            return got
        watch = {t["vessels"][0]["mmsi"] for t in self.truth if t["type"] in ("dark_gap", "position_jump")}
        emitted: dict[int, list[float]] = {m: [] for m in watch}
        n_lines = n_msgs = n_corrupt = 0
        seq = 0
        reception = Reception(self.rng, rx_names, rx_lat, rx_lon,
                              frozenset(v.mmsi for v in self.vessels if v.sat_batch))
        self._geofence = GeofenceTruth(self.zones, SHARED_MMSIS)
        with (out / "traffic.nmea").open("wb") as fh:
            w = self.t0
            while w < self.t1:
                w_end = min(self.t1, w + chunk_s)
                rows: list[tuple[float, int, bytes]] = []
                parts = []
                for v in self.vessels:
                    s = self.sample(v, w, w_end)
                    if s is None:
                        continue
                    n = len(s["t"])
                    s["mmsi"] = np.full(n, v.mmsi, dtype=np.int64)
                    s["b"] = np.full(n, v.class_b)
                    parts.append(s)
                    step = max(1, int(30 / max(1.0, float(np.median(np.diff(s["t"]))) if n > 1 else 30)))
                    self._geofence.step(v, s["t"][::step], s["lat"][::step], s["lon"][::step], s["sog"][::step])
                    # static reports every 6 minutes
                    for ts in np.arange(math.ceil((w - v.phase * 7) / STATIC_INTERVAL_S) * STATIC_INTERVAL_S
                                        + v.phase * 7, w_end, STATIC_INTERVAL_S):
                        if any(a <= ts < b for a, b in v.silent) or not self._alive(v, ts):
                            continue
                        i = int(np.searchsorted(s["t"], ts).clip(0, n - 1))
                        for payload, fill in (static_of(v, float(ts)) if v.sends_static else ()):
                            seq = (seq + 1) % 10
                            rows.append((float(ts), int(seq), self._static_lines(payload, fill, seq),
                                         float(s["lat"][i]), float(s["lon"][i])))  # type: ignore[arg-type]
                if parts:
                    msgs = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
                    payloads = position_payloads(msgs["mmsi"], msgs["lat"], msgs["lon"], msgs["sog"], msgs["cog"],
                                                 msgs["hdg"], msgs["status"],
                                                 np.floor(msgs["t"]).astype(np.int64) % 60, msgs["b"])
                    n_msgs += len(payloads)
                    for i in range(len(payloads)):
                        rows.append((float(msgs["t"][i]), -1, payloads[i].tobytes(), float(msgs["lat"][i]),
                                     float(msgs["lon"][i]), int(msgs["mmsi"][i])))  # type: ignore[arg-type]
                lines = reception.receive(rows, emitted)
                lines.sort(key=lambda x: x[0])
                for _t, line in lines:
                    if self.rng.random() < 0.002:
                        line = reception.corrupt(line)
                        n_corrupt += 1
                    fh.write(line + b"\n")
                    n_lines += 1 + line.count(b"\n")
                w = w_end
                if progress is not None:
                    progress((w - self.t0) / (self.t1 - self.t0))
        truth = self._finish_truth(emitted)
        doc = {"generator": "maritime simulate", "seed": self.seed, "start": iso(self.t0), "end": iso(self.t1),
               "vessels": len(self.vessels), "events": truth, "hard_negatives": self.negatives}
        (out / "truth.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        return {"lines": n_lines, "messages": n_msgs, "corrupted": n_corrupt, "vessels": len(self.vessels),
                "events": len(truth)}

    def _alive(self, v: Vessel, t: float) -> bool:
        return any(s.t0 <= t < s.t1 for s in v.segments)

    def _static_lines(self, payload: str, fill: int, seq: int) -> bytes:
        return b"\n".join(sentences(payload, fill, seq))

    def _finish_truth(self, emitted: dict[int, list[float]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for ev in self.truth:
            ev = dict(ev)
            t0, t1 = ev.pop("_t0"), ev.pop("_t1")
            m = ev["vessels"][0]["mmsi"]
            if ev["type"] == "dark_gap":
                ts = np.array(sorted(emitted.get(m, [])))
                before = ts[ts < t0]
                after = ts[ts >= t1]
                if len(before) < 3:
                    continue
                t0 = float(before[-1])
                t1 = float(after[0]) if len(after) else None
            elif ev["type"] == "position_jump":
                ts = np.array(sorted(emitted.get(m, [])))
                v = next(x for x in self.vessels if x.mmsi == m)
                received = [tj for tj in v.jumped_at if np.any(ts == tj)]
                if not received:
                    continue
                t0, t1 = received[0] - 60, received[0] + 60
            ev["start"] = iso(t0)
            ev["end"] = iso(t1) if t1 is not None else None
            out.append(ev)
        out.extend(self._geofence.truth)
        for ev in out:
            for vv in ev["vessels"]:
                v = next(x for x in self.vessels if x.mmsi == vv["mmsi"])
                vv.update(name=v.name, ship_type=v.ship_type, category=v.category)
        return sorted(out, key=lambda e: (e["start"] or "", e["type"]))
