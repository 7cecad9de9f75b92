"""Reception of the simulated reports: shore receivers at the ports, a thin satellite layer, the delivery-time
satellite service of the ordinary-life day, and the damage real feeds do to lines.

A shore receiver hears a report with a probability falling with distance (``RECEIVER_RANGE_M``); the satellite
hears ``SATELLITE_P`` of all reports, stamped 0-2 s late; the delivery-time service hears ``SAT_BATCH_P`` of the
listed vessels' reports and stamps each with the end of its ``SAT_BATCH_PERIOD_S`` batch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from maritime.sim.encode import checksum, tag_block

RECEIVER_RANGE_M = 40 * 1852.0
SATELLITE_P = 0.02
#: The delivery-time satellite service of the ordinary-life day: the share of a listed vessel's reports it
#: hears, and the period of its deliveries (s); every report is stamped with the time of its delivery.
SAT_BATCH_P = 0.3
SAT_BATCH_PERIOD_S = 1200.0


class Reception:
    """The receivers of one simulated day (drawing from the simulator's random generator, in its order)."""

    def __init__(self, rng: np.random.Generator, names: list[str], rx_lat: np.ndarray, rx_lon: np.ndarray,
                 batch_mmsis: frozenset[int] = frozenset()) -> None:
        self.rng = rng
        self.names = names
        self.rx_lat = rx_lat
        self.rx_lon = rx_lon
        self.batch_mmsis = batch_mmsis

    def receive(self, rows: list[Any], emitted: dict[int, list[float]]) -> list[tuple[float, bytes]]:
        """The lines the receivers write for ``rows`` (``(time, seq, payload, lat, lon[, mmsi])``), each with
        its sort key; ``emitted`` collects the times of the watched MMSIs' reports that were heard."""
        names, rx_lat, rx_lon = self.names, self.rx_lat, self.rx_lon
        out: list[tuple[float, bytes]] = []
        if not rows:
            return out
        lat = np.array([r[3] for r in rows])
        lon = np.array([r[4] for r in rows])
        dlat = np.radians(lat[:, None] - rx_lat[None, :])
        dlon = np.radians(lon[:, None] - rx_lon[None, :]) * np.cos(np.radians(lat[:, None]))
        dist = 6_371_008.8 * np.hypot(dlat, dlon)
        p = np.where(dist < RECEIVER_RANGE_M, 0.95 * (1 - (dist / RECEIVER_RANGE_M) ** 3), 0.0)
        got = self.rng.random(p.shape) < p
        sat = self.rng.random(len(rows)) < SATELLITE_P
        chan = self.rng.random(len(rows)) < 0.5
        sat_delay = self.rng.integers(0, 3, len(rows))
        # (message, station) pairs, in message order; the satellite is station -1
        msg_idx, st_idx = np.nonzero(got)
        sat_idx = np.nonzero(sat)[0]
        # the delivery-time service (station -2) hears a share of the listed vessels' position reports
        batch = self.batch_mmsis
        batch_idx = np.zeros(0, dtype=np.int64)
        if batch:  # (no draw on days without the scene, so that their reception is as before)
            heard = np.nonzero(self.rng.random(len(rows)) < SAT_BATCH_P)[0].tolist()
            batch_idx = np.array([i for i in heard if len(rows[i]) > 5 and rows[i][5] in batch], dtype=np.int64)
        msg_idx = np.concatenate([msg_idx, sat_idx, batch_idx])
        st_idx = np.concatenate([st_idx, np.full(len(sat_idx), -1), np.full(len(batch_idx), -2)])
        order = np.argsort(msg_idx, kind="stable")
        msg_idx = msg_idx[order].tolist()
        st_idx = st_idx[order].tolist()
        prefixes: dict[tuple[int, int], bytes] = {}
        sentence_of: dict[int, bytes] = {}
        for i, j in zip(msg_idx, st_idx, strict=True):
            r = rows[i]
            t = r[0]
            sentence = sentence_of.get(i)
            if sentence is None:
                if r[1] == -1:
                    body = b"AIVDM,1,1,," + (b"A" if chan[i] else b"B") + b"," + r[2] + b",0"
                    sentence = b"!" + body + b"*" + f"{checksum(body):02X}".encode()
                    mmsi = r[5]
                    if mmsi in emitted:
                        emitted[mmsi].append(t)
                else:
                    sentence = r[2]
                sentence_of[i] = sentence
            if j == -2:  # stamped, and written, at the end of the delivery period
                tt = int(math.ceil(t / SAT_BATCH_PERIOD_S) * SAT_BATCH_PERIOD_S)
                key = float(tt)
            else:
                tt = int(t) + (int(sat_delay[i]) if j < 0 else 0)
                key = t
            prefix = prefixes.get((j, tt))
            if prefix is None:
                station = names[j] if j >= 0 else ("sat", "sat-batch")[-1 - j]
                prefix = prefixes[(j, tt)] = tag_block(f"s:{station},c:{tt}")
            if b"\n" in sentence:
                out.append((key, b"\n".join(prefix + x for x in sentence.split(b"\n"))))
            else:
                out.append((key, prefix + sentence))
        return out

    def corrupt(self, line: bytes) -> bytes:
        """A line damaged as real feeds damage them: a flipped byte, cut short, or garbage."""
        kind = self.rng.integers(3)
        if kind == 0 and len(line) > 40:
            i = int(self.rng.integers(len(line) - 12, len(line) - 5))
            return line[:i] + (b"X" if line[i:i + 1] != b"X" else b"Y") + line[i + 1:]
        if kind == 1:
            return line[:int(self.rng.integers(5, max(6, len(line) - 3)))]
        return bytes(self.rng.integers(32, 127, 30).astype(np.uint8).tobytes())

