"""The one assembly: settings, zones and stores → the stages both runtimes run.

The embedded :class:`~maritime.runtime.pipeline.Pipeline`, the partitioned
runners behind the Faust agents (:mod:`maritime.runtime.partitioned`) and
the CLI all get their gates, detectors, enrichers and profile recording from
an :class:`Assembly`, and run one position through them with the same
:class:`Chain`. The same settings therefore give the same alerts everywhere.

Stages:

- **per vessel**: the identity gate, dark gaps, geofences, the watchlist and
  the profile tracker (state keyed by MMSI);
- **per tile**: rendezvous and loitering (state keyed by spatial tile; in the
  embedded run they share the one tracker with the per-vessel detectors);
- **enrichment**: the watchlist's ``details.watchlist`` and the explained risk
  score ``details.risk``, applied to every alert before it leaves the stage
  that raised it, after which the alert is kept in the vessels' profiles.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from maritime.config import Settings
from maritime.detectors.anchorages import LearnedAnchorages
from maritime.detectors.base import LandMask
from maritime.detectors.gaps import GapDetector
from maritime.detectors.geofence import GeofenceDetector
from maritime.detectors.identity import IdentityGate
from maritime.detectors.loitering import LoiteringDetector
from maritime.detectors.protocols import Detector, Gate
from maritime.detectors.rendezvous import RendezvousDetector
from maritime.detectors.tracker import Tracker
from maritime.detectors.watchlist import WatchEntry, Watchlist
from maritime.ingest.eventtime import Deduplicator
from maritime.models import Alert, Position, Record, VesselInfo, iso, parse_iso
from maritime.zones.index import ZoneIndex

logger = logging.getLogger(__name__)

Emit = Callable[[list[Alert]], None]


class AssemblyError(Exception):
    """Settings or stores the assembly cannot use (a bad watchlist, a profile store without Redis)."""


def _chain_runner() -> Any:
    """The typed core's :func:`~maritime.core.quiet.run_chain`, or None."""
    from maritime.core import quiet_path

    core = quiet_path()
    return core.run_chain if core is not None else None


class Chain:
    """One position through the gates, the tracker, the detectors and the listeners: written once.

    ``emit`` receives each detector's alerts as they are raised, so that an
    enricher sees the state the embedded run would show it.
    """

    __slots__ = ("_next_evict_s", "_run", "detectors", "emit", "evict_after_s", "evicted", "forgotten", "gates",
                 "listeners", "shared_withheld", "tracker")

    def __init__(self, tracker: Tracker, gates: Sequence[Gate], detectors: Sequence[Detector], emit: Emit,
                 listeners: list[Callable[[Any], None]] | None = None, evict_after_s: float = 0.0) -> None:
        self.tracker = tracker
        self.gates = list(gates)
        self.detectors = list(detectors)
        self.emit = emit
        self.listeners = listeners if listeners is not None else []
        #: vessels not heard for this long (event time, s) with nothing open are dropped (0: never)
        self.evict_after_s = evict_after_s
        self.evicted = 0
        #: when a list, the MMSIs evicted are added to it, for the caller to empty (a partitioned stage writes them
        #: to its table); None: not kept
        self.forgotten: list[int] | None = None
        self._next_evict_s: float | None = None
        #: whether the last fix a gate withheld was withheld because its MMSI is shared (see :meth:`withheld`)
        self.shared_withheld = False
        #: the gates, tracker and detectors run in C, each part's quiet path first (the typed core's
        #: :func:`~maritime.core.quiet.run_chain`), None when the core is not built
        self._run: Any = _chain_runner()

    def evict(self, watermark_s: float) -> int:
        """Drop the state of every vessel not heard since ``watermark_s - evict_after_s`` that no gate or
        detector holds (an open gap, a visit in a zone, a shared-MMSI episode); return how many went."""
        cutoff = watermark_s - self.evict_after_s
        parts: list[Gate | Detector] = [*self.gates, *self.detectors]
        holders = [p.holds for p in parts]
        forgets = [p.forget for p in parts]
        gone = [v.mmsi for v in self.tracker
                if v.heard_s is not None and v.heard_s < cutoff and not any(h(v.mmsi) for h in holders)]
        for m in gone:
            self.tracker.forget(m)
            for f in forgets:
                f(m)
        self.evicted += len(gone)
        if self.forgotten is not None:
            self.forgotten.extend(gone)
        if gone:
            logger.info("evicted %d vessels not heard for %.0f h (%d kept)", len(gone), self.evict_after_s / 3600,
                        len(self.tracker))
        return len(gone)

    def position(self, pos: Position) -> bool:
        """Judge and apply one position; False when a gate withheld it."""
        vessel = self.tracker.get(pos.mmsi)
        emit = self.emit
        run = self._run
        if run is not None:  # the same, in C (maritime.core.quiet.run_chain)
            refused = run(self.gates, self.detectors, self.tracker, pos, vessel, emit)
            if refused is not None:
                self.shared_withheld = refused.holds(pos.mmsi)
                if self.shared_withheld:
                    self.withheld(pos)
                return False
        else:
            for gate in self.gates:
                ok, got = gate.check(pos, vessel)
                if got:
                    emit(got)
                if not ok:
                    self.shared_withheld = gate.holds(pos.mmsi)
                    if self.shared_withheld:
                        self.withheld(pos)
                    return False
            self.tracker.on_position(pos)
            for det in self.detectors:
                raised = det.on_position(pos, vessel)
                if raised:
                    emit(list(raised))
        vessel.last = pos
        for fn in self.listeners:
            fn(pos)
        return True

    def withheld(self, pos: Position) -> None:
        """A fix withheld while its MMSI is shared by several transmitters: offered to the detectors that
        read where else the MMSI was heard (``on_withheld``: a pair is not together while one is elsewhere)."""
        vessel = self.tracker.get(pos.mmsi)
        for det in self.detectors:
            hook = getattr(det, "on_withheld", None)
            if hook is not None:
                got = hook(pos, vessel)
                if got:
                    self.emit(list(got))

    def late(self, pos: Position) -> None:
        """A position that came after the reorder window: kept, and offered to the detectors that revise
        their events with late data (``on_late``); it does not pass the gates or move the tracker."""
        vessel = self.tracker.get(pos.mmsi)
        for det in self.detectors:
            got = det.on_late(pos, vessel)
            if got:
                self.emit(list(got))

    def static(self, info: VesselInfo) -> None:
        """Apply one static report (and offer it to the detectors that read declarations: ``on_static``)."""
        vessel = self.tracker.on_static(info)
        for det in self.detectors:
            got = det.on_static(info, vessel)
            if got:
                self.emit(list(got))
        for fn in self.listeners:
            fn(info)

    def watermark(self, watermark_s: float) -> None:
        """Event time reached ``watermark_s`` (and, about every ``evict_after_s`` / 8, the silent are evicted)."""
        for det in self.detectors:
            got = det.on_watermark(watermark_s)
            if got:
                self.emit(list(got))
        if self.evict_after_s > 0:
            nxt = self._next_evict_s
            if nxt is None:
                self._next_evict_s = watermark_s + self.evict_after_s / 8
            elif watermark_s >= nxt:
                self._next_evict_s = watermark_s + self.evict_after_s / 8
                self.evict(watermark_s)

    @property
    def next_evict_s(self) -> float | None:
        """When (event time, s) the next eviction is due; kept in a partitioned stage's table, so that a restored
        stage evicts when the first one would have."""
        return self._next_evict_s

    @next_evict_s.setter
    def next_evict_s(self, value: float | None) -> None:
        self._next_evict_s = value

    def finish(self, end_s: float) -> None:
        """The input ended at ``end_s`` (call :meth:`watermark` first)."""
        for det in self.detectors:
            got = det.finish(end_s)
            if got:
                self.emit(list(got))


class Feed:
    """The embedded run's per-message step (:meth:`maritime.runtime.pipeline.Pipeline.process`), here to be
    compiled with the chain: one decoded message released in event-time order, ``(payload, records)``, counted
    in ``stats`` (the run's :class:`~maritime.runtime.pipeline.RunStats`), de-duplicated across streams when
    ``dedup_across``, the watermark moved first (``advance`` is called when ``tick_s`` of event time passed), then
    each position and static report through ``chain``."""

    def __init__(self, chain: Chain, stats: Any, dedup: Deduplicator, tick_s: float,
                 advance: Callable[[float], None]) -> None:
        self.chain = chain
        self.stats = stats
        self.dedup = dedup
        #: each stream's decoder drops its own duplicates; across several streams this does
        self.dedup_across = True
        self.tick_s = tick_s
        #: when (event time, s) the watermark next moves; None before the first message
        self.next_tick_s: float | None = None
        #: the position being judged (an alert raised for its vessel was heard from its source)
        self.current: Position | None = None
        self.advance = advance

    def process(self, time_s: float, item: tuple[bytes | None, list[Record]]) -> None:
        """Handle one decoded message released in event-time order (``time_s``: its event time, s)."""
        payload, records = item
        st = self.stats
        if payload is not None and self.dedup_across and self.dedup.is_duplicate(payload, time_s):
            st.duplicates = self.dedup.duplicates
            return
        if st.first_time_s is None:
            st.first_time_s = time_s
        st.last_time_s = time_s
        # the watermark moves first: what time alone makes due is judged before this record
        nxt = self.next_tick_s
        if nxt is None:
            self.next_tick_s = time_s + self.tick_s
        elif time_s >= nxt:
            self.advance(time_s)
        chain = self.chain
        for rec in records:
            if isinstance(rec, Position):
                self.current = rec
                if chain.position(rec):
                    st.positions += 1
            elif isinstance(rec, VesselInfo):
                st.static_reports += 1
                chain.static(rec)
            # base station reports are kept apart from vessels

    def run(self, items: Iterable[tuple[float, tuple[bytes | None, list[Record]]]]) -> None:
        """:meth:`process` each ``(time_s, item)`` of ``items`` (a replay's merged streams)."""
        process = self.process
        for t, item in items:
            process(t, item)


@dataclass
class Enrichment:
    """What is added to an alert before it leaves its stage, and where it is then kept."""

    enrichers: list[Callable[[Alert], Alert]] = field(default_factory=list)
    profile_store: Any = None

    def __call__(self, alert: Alert) -> Alert:
        for fn in self.enrichers:
            alert = fn(alert)
        if self.profile_store is not None:
            self.profile_store.put_alert(alert)
        return alert


#: the zone kinds that make an alert's jurisdiction
JURISDICTION_KINDS = ("territorial_sea", "contiguous_zone", "eez")


def jurisdiction_enricher(zones: ZoneIndex) -> Callable[[Alert], Alert]:
    """Adds ``jurisdiction``: the territorial sea, contiguous zone and EEZ the alert lies in, with their
    authorities; a dark gap also gets ``reappeared_in``, the waters where the vessel was heard again."""

    def waters(lat: float, lon: float) -> dict[str, Any]:
        out: dict[str, Any] = dict.fromkeys(JURISDICTION_KINDS)
        for z in zones.containing(lat, lon):
            if z.kind in out and out[z.kind] is None:
                out[z.kind] = {"id": z.id, "name": z.name, "authority": z.authority,
                               "country": z.properties.get("country")}
        return out

    def add(alert: Alert) -> Alert:
        if alert.lat is None or alert.lon is None:
            return alert
        j = waters(alert.lat, alert.lon)
        after = alert.details.get("first_position_after") if alert.type == "dark_gap" else None
        if after:
            j["reappeared_in"] = waters(after["lat"], after["lon"])
        return replace(alert, jurisdiction=j)

    return add


def voyage_enricher(store: Any, recent_h: float) -> Callable[[Alert], Alert]:
    """A destination changed at sea soon after a rendezvous or loitering of the vessel (in its profile, as of
    the change: the tile stage sees those) is raised to high, with the events in ``details.preceded_by``."""
    recent_s = recent_h * 3600

    def add(alert: Alert) -> Alert:
        if alert.type != "destination_change" or not alert.vessels:
            return alert
        prof = store.profile(alert.vessels[0].mmsi, as_of=alert.time_s)
        if not prof:
            return alert
        seen = {(p["type"], p.get("end")) for p in alert.details.get("preceded_by", [])}
        found = []
        for a in prof.get("alerts", []):
            if a["type"] not in ("rendezvous", "loitering"):
                continue
            end = parse_iso(a["end"]) if a.get("end") else parse_iso(a["time"])
            if 0 <= alert.time_s - end <= recent_s and (a["type"], iso(end)) not in seen:
                seen.add((a["type"], iso(end)))
                found.append({"type": a["type"], "end": iso(end), "id": a["id"]})
        if not found:
            return alert
        return replace(alert, severity="high", summary=alert.summary + f" (after a {found[-1]['type']})",
                       details={**alert.details, "preceded_by": [*alert.details.get("preceded_by", []), *found]})

    return add


def risk_enricher(store: Any, weights: dict[str, float]) -> Callable[[Alert], Alert]:
    """Adds ``details.risk``: each involved vessel's explained score and its top three factors, from what its
    profile held before the alert's event time (the same in every runtime, however far a stage has read)."""
    from maritime.enrich.profile_store import risk

    def add_risk(alert: Alert) -> Alert:
        scores = {}
        for v in alert.vessels:
            prof = store.profile(v.mmsi, as_of=alert.time_s)
            if prof is not None:
                r = risk(prof, weights)
                scores[str(v.mmsi)] = {"score": r["score"], "top_factors": r["factors"][:3]}
        return replace(alert, details={**alert.details, "risk": scores}) if scores else alert

    return add_risk


class Assembly:
    """Builds the stages from settings, zones, a land mask, watchlist entries and a profile store."""

    def __init__(self, settings: Settings, zones: ZoneIndex | None = None, *, land: LandMask | None = None,
                 watch_entries: Sequence[WatchEntry] | None = None, profile_store: Any = None) -> None:
        self.settings = settings
        self.zones = zones
        self._land = land
        self.watch_entries = list(watch_entries) if watch_entries is not None else None
        self.profile_store = profile_store
        self._ports: Any = None
        #: the watchlists built so far (one per tracker), so a refresh reaches every stage
        self.watchlists: list[Watchlist] = []

    @classmethod
    def from_settings(cls, settings: Settings, zones: ZoneIndex | None = None, *,
                      watchlists: Sequence[Path] = (), profiles: Path | str | None = None,
                      redis_url: str | None = None, land: LandMask | None = None) -> Assembly:
        """The assembly for a run: watchlist files (and Redis's shared list), the profile store.

        ``profiles``: a SQLite file, ``"redis"`` (needs ``redis_url``), or None for ``settings.profiles_db``.
        """
        from maritime.enrich.watchlist_store import WatchlistError, load_watchlist, redis_entries

        files = [Path(p) for p in settings.watchlists] + [Path(p) for p in watchlists]
        entries: list[WatchEntry] | None = None
        if files or redis_url:
            entries = []
            try:
                for f in files:
                    entries.extend(load_watchlist(f))
            except WatchlistError as err:
                raise AssemblyError(str(err)) from None
            if redis_url:  # (redis is imported only when a run uses it: the embedded runtime installs without it)
                import redis

                try:
                    entries.extend(redis_entries(redis_url))
                except (OSError, redis.RedisError) as err:  # Redis unreachable: the file entries still apply
                    logger.warning("shared watchlist in Redis unavailable (%s)", err)
        db = profiles if profiles is not None else (settings.profiles_db or None)
        store: Any = None
        if db is not None:
            from maritime.enrich.profile_store import ProfileStore, RedisProfileStore

            if str(db) == "redis":
                if not redis_url:
                    raise AssemblyError("--profiles redis needs --redis URL")
                store = RedisProfileStore(redis_url)
            else:
                import sqlite3

                try:
                    store = ProfileStore(Path(db))
                except (sqlite3.Error, OSError) as err:
                    raise AssemblyError(f"{db}: cannot be used as the profiles database ({err})") from None
        return cls(settings, zones, land=land, watch_entries=entries, profile_store=store)

    @property
    def land(self) -> LandMask | None:
        """The land mask of the identity gate (loaded on first use, shared by every stage)."""
        ident = self.settings.identity
        if self._land is None and ident.enabled and ident.land_check:
            self._land = LandMask(ident.land_margin_m, ident.land_region)
        return self._land

    # -- the stages -------------------------------------------------------------------

    def _watchlist(self, tracker: Tracker) -> Watchlist | None:
        if self.watch_entries is None:
            return None
        wl = Watchlist(self.watch_entries, tracker, self.settings.watchlist_absence_h)
        self.watchlists.append(wl)
        return wl

    def replace_watch_entries(self, entries: Iterable[WatchEntry]) -> None:
        """A centre changed the shared watchlist: every stage uses the new one."""
        self.watch_entries = list(entries)
        for wl in self.watchlists:
            wl.replace_entries(self.watch_entries)

    def tile_detectors(self, tracker: Tracker) -> list[Detector]:
        """Rendezvous, then loitering (which asks the rendezvous whether a slow vessel was meeting another)."""
        s = self.settings
        out: list[Detector] = []
        rdv = None
        if s.rendezvous.enabled:
            learned = LearnedAnchorages(s.anchorages, store=self.profile_store) if s.anchorages.learn else None
            rdv = RendezvousDetector(s.rendezvous, tracker, self.zones, learned=learned)
            out.append(rdv)
        if s.loitering.enabled:
            out.append(LoiteringDetector(s.loitering, tracker, self.zones, rendezvous=rdv,
                                         harbour_distance_km=s.rendezvous.active.min_port_distance_km))
        return out

    def vessel_stage(self, tracker: Tracker, *, with_tiles: bool = False) -> tuple[list[Gate], list[Detector]]:
        """The gates and the per-vessel detectors (``with_tiles``: the per-tile ones too, in the embedded order)."""
        s = self.settings
        gates: list[Gate] = []
        dets: list[Detector] = []
        if s.identity.enabled:
            gates.append(IdentityGate(s.identity, tracker, land=self.land))
        gaps = None
        if s.gaps.enabled:
            gaps = GapDetector(s.gaps, tracker, self.zones)
            dets.append(gaps)
        if with_tiles:
            dets.extend(self.tile_detectors(tracker))
        if s.geofence.enabled and self.zones is not None and len(self.zones):
            dets.append(GeofenceDetector(s.geofence, tracker, self.zones))
        if s.voyage.enabled and self.zones is not None and any(z.kind == "port" for z in self.zones.zones):
            from maritime.detectors.voyage import VoyageDetector

            dets.append(VoyageDetector(s.voyage, tracker, self.zones, self.ports, gaps=gaps))
        wl = self._watchlist(tracker)
        if wl is not None:
            dets.append(wl)
        if self.profile_store is not None:
            from maritime.detectors.profile_tracker import ProfileTracker

            dets.append(ProfileTracker(self.profile_store, tracker, self.zones, watchlist=wl))
        return gates, dets

    def enrichment(self, tracker: Tracker, watchlist: Watchlist | None = None) -> Enrichment:
        """The enrichers of a stage whose vessels are in ``tracker`` (its watchlist, or a new one)."""
        enr = Enrichment(profile_store=self.profile_store)
        if self.zones is not None and any(z.kind in JURISDICTION_KINDS for z in self.zones.zones):
            enr.enrichers.append(jurisdiction_enricher(self.zones))
        wl = watchlist if watchlist is not None else self._watchlist(tracker)
        if wl is not None:
            enr.enrichers.append(wl.enrich)
        if self.profile_store is not None:
            enr.enrichers.append(voyage_enricher(self.profile_store, self.settings.voyage.recent_h))
            enr.enrichers.append(risk_enricher(self.profile_store, self.settings.risk_weights))
        return enr

    @property
    def ports(self) -> Any:
        """The port gazetteer (:class:`~maritime.zones.ports.PortIndex`), loaded once."""
        if self._ports is None:
            from maritime.zones.ports import PortIndex

            self._ports = PortIndex.load()
        return self._ports

    def close(self) -> None:
        """Commit and close the profile store."""
        if self.profile_store is not None:
            self.profile_store.close()
