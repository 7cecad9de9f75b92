"""AIS as NMEA 0183 over TCP for chart plotters, a view of the run like the maps: OpenCPN adds it as a network
connection (TCP, the host, port 10110 by convention) and shows the tracked vessels and the alerts among its own
targets.

- Each vessel the run tracks is sent as a position report (type 1, or 18 for a class B report) at most every
  ``every_s`` seconds of event time, and as a static report (type 5: name, call sign, IMO, ship type,
  destination) when its static data change.
- Each open alert with a position is sent as a virtual aid to navigation (type 21) named after the alert, so a
  plotter draws it as a named mark: ``R SEA BREEZE`` for a rendezvous. Its MMSI is ``99`` + a stable number
  of the alert id (the range ITU-R M.585 keeps for aids to navigation). Closed alerts are no longer sent.
- A client that connects gets the current picture at once, then the changes. A client that reads too slowly
  loses lines (counted), never the run.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from typing import Any

from pyais.encode import encode_dict

from maritime.models import Alert, Position, Record, VesselInfo
from maritime.views.maps import ALERT_GLYPHS

logger = logging.getLogger(__name__)

#: bytes waiting for one client beyond which its lines are dropped
MAX_BUFFER = 1 << 20


def _sentences(fields: dict[str, Any]) -> list[bytes]:
    """``!AIVDM`` sentences of one message (none, logged, for values AIS cannot carry)."""
    try:
        return [s.encode("ascii") for s in encode_dict(fields, talker_id="AI", sentence_type="VDM", radio_channel="A")]
    except (ValueError, TypeError, OverflowError) as err:
        logger.warning("NMEA relay: message %s of MMSI %s not encoded (%s)", fields.get("msg_type"),
                       fields.get("mmsi"), err)
        return []


def _name(text: str | None) -> str:
    """Text in AIS 6-bit characters: upper case, the others as spaces."""
    allowed = set("@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_ !\"#$%&'()*+,-./0123456789:;<=>?")
    return "".join(ch if ch in allowed else " " for ch in (text or "").upper())


def aton_mmsi(alert_id: str) -> int:
    """A stable aid-to-navigation MMSI (99MIDXXXX form) for an alert."""
    return 990_000_000 + zlib.crc32(alert_id.encode()) % 10_000_000


class NmeaRelay:
    """A pipeline listener and alert sink that serves AIVDM sentences to TCP clients."""

    def __init__(self, every_s: float = 10.0) -> None:
        self.every_s = every_s
        self.clients: set[asyncio.StreamWriter] = set()
        self.positions: dict[int, tuple[float, list[bytes]]] = {}  # mmsi -> (event time sent, sentences)
        self.statics: dict[int, tuple[tuple[Any, ...], list[bytes]]] = {}
        self.marks: dict[str, list[bytes]] = {}  # open alert id -> its type 21 sentences
        self.sent = 0
        self.dropped = 0
        self.server: asyncio.Server | None = None

    # -- the pipeline's side ------------------------------------------------------------------

    def __call__(self, rec: Record) -> None:
        if isinstance(rec, Position):
            last = self.positions.get(rec.mmsi)
            if last is not None and rec.time_s - last[0] < self.every_s:
                return
            b = rec.msg_type in (18, 19)
            fields: dict[str, Any] = {"msg_type": 18 if b else 1, "mmsi": rec.mmsi, "lat": rec.lat, "lon": rec.lon,
                                      "speed": min(rec.sog_kn, 102.2) if rec.sog_kn is not None else 102.3,
                                      "course": rec.cog_deg if rec.cog_deg is not None else 360.0,
                                      "heading": rec.heading_deg if rec.heading_deg is not None else 511,
                                      "second": int(rec.time_s) % 60}
            if not b:
                fields["status"] = rec.nav_status if rec.nav_status is not None else 15
            lines = _sentences(fields)
            self.positions[rec.mmsi] = (rec.time_s, lines)
            self._send(lines)
        elif isinstance(rec, VesselInfo):
            key = (rec.name, rec.callsign, rec.imo, rec.ship_type, rec.destination)
            before = self.statics.get(rec.mmsi)
            if before is not None and before[0] == key:
                return
            old = before[0] if before is not None else (None,) * 5
            # a report that leaves a field out keeps what was known of it
            name: str | None = rec.name or old[0]
            callsign: str | None = rec.callsign or old[1]
            imo: int | None = rec.imo or old[2]
            ship_type: int | None = rec.ship_type or old[3]
            dest: str | None = rec.destination or old[4]
            lines = _sentences({"msg_type": 5, "mmsi": rec.mmsi, "shipname": _name(name)[:20],
                                "callsign": _name(callsign)[:7], "imo": int(imo or 0), "ship_type": int(ship_type or 0),
                                "destination": _name(dest)[:20]})
            self.statics[rec.mmsi] = ((name, callsign, imo, ship_type, dest), lines)
            self._send(lines)

    def write(self, alert: Alert) -> None:
        """Sink interface: an open alert with a position becomes a named mark; a closed one is withdrawn."""
        if alert.status in ("closed", "cancelled") or alert.lat is None or alert.lon is None:
            self.marks.pop(alert.id, None)
            return
        who = " ".join(v.name or str(v.mmsi) for v in alert.vessels)
        label = _name(f"{ALERT_GLYPHS.get(alert.type, '!')} {who}".strip())[:20]
        lines = _sentences({"msg_type": 21, "mmsi": aton_mmsi(alert.id), "aid_type": 1, "name": label,
                            "lat": alert.lat, "lon": alert.lon, "virtual_aid": 1, "epfd": 0})
        self.marks[alert.id] = lines
        self._send(lines)

    def close(self) -> None:
        """Sink interface (the server is stopped by :meth:`stop`)."""

    # -- the clients' side -------------------------------------------------------------------------

    def _send(self, lines: list[bytes]) -> None:
        if not self.clients:
            return
        data = b"\r\n".join(lines) + b"\r\n"
        for w in list(self.clients):
            if w.is_closing():
                self.clients.discard(w)
                continue
            if w.transport.get_write_buffer_size() > MAX_BUFFER:
                self.dropped += len(lines)  # a client that does not read: it loses lines, the run goes on
                continue
            w.write(data)
            self.sent += len(lines)

    def snapshot(self) -> list[bytes]:
        """The current picture: every vessel's static and last position, every open mark."""
        out: list[bytes] = []
        for _key, lines in self.statics.values():
            out += lines
        for _t, lines in self.positions.values():
            out += lines
        for lines in self.marks.values():
            out += lines
        return out

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        logger.info("NMEA relay: %s connected", peer)
        snap = self.snapshot()
        if snap:
            writer.write(b"\r\n".join(snap) + b"\r\n")
        self.clients.add(writer)
        try:
            while await reader.read(1024):  # a plotter sends nothing; its closing ends this
                pass
        except (ConnectionError, OSError):
            pass
        finally:
            self.clients.discard(writer)
            writer.close()
            logger.info("NMEA relay: %s left", peer)

    async def start(self, host: str, port: int) -> asyncio.Server:
        """Listen on ``host:port``; OSError when it cannot."""
        self.server = await asyncio.start_server(self._client, host, port)
        logger.info("NMEA relay on tcp://%s:%d/", host, port)
        return self.server

    async def stop(self) -> None:
        """Close every client and the server."""
        for w in list(self.clients):
            w.close()
        self.clients.clear()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
