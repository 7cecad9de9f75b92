"""The detectors' per-vessel and per-episode state, as msgspec Structs (what the Faust tables keep).

They live in this module, which is never compiled, because msgspec reads each Struct's annotations to
encode and decode it, and mypyc replaces the annotations of the classes it compiles by plain runtime
types (``float | None`` becomes ``type``). The detectors import them from here.
"""

from __future__ import annotations

from typing import Any

import msgspec

# -- gaps ------------------------------------------------------------------------------------------------

class ClosedGap(msgspec.Struct, gc=False):
    """A gap that ended, kept ``LATE_HORIZON_S`` so that a late report can revise it (times s, degrees)."""

    key_t: float
    start: float
    lat: float
    lon: float
    sog: float | None
    status: int | None
    kind: str | None
    zone: dict[str, Any] | None
    end: float
    end_lat: float
    end_lon: float

class GapState(msgspec.Struct):
    """What the gap detector keeps about one vessel: its last fix (time s, degrees, knots, AIS status) and the
    gap it is in, if any; a table serialises it with :func:`msgspec.to_builtins`."""

    t: float
    lat: float
    lon: float
    sog: float | None = None
    status: int | None = None
    #: fixes heard so far
    n: int = 0
    #: kind and reference of the zone where the silence began (looked up once, when a gap opens)
    kind: str | None = None
    zone: dict[str, Any] | None = None
    #: whether ``kind``/``zone`` have been looked up
    ctx: bool = False
    open: bool = False
    #: the time the alert id keeps when a late report moved the start of an open gap
    key_t: float | None = None
    #: silent with many others together: a feed outage, not a gap
    outage: bool = False
    #: re-issued as a suspected disabling
    suspect: bool = False
    gaps: list[ClosedGap] = []  # (msgspec copies an empty default for each instance)


# -- identity --------------------------------------------------------------------------------------------

class Track(msgspec.Struct, gc=False):
    """One transmitter's track on an MMSI: its last fix (time s, degrees), that fix's time uncertainty (s),
    how many fixes it has, and when it began (s)."""

    t: float
    lat: float
    lon: float
    err: float
    n: int
    first: float

class SharedEpisode(msgspec.Struct, gc=False):
    """Several transmitters on one MMSI: since when, last seen (s), their places (lat, lon), names, alert key."""

    start: float
    t: float
    places: list[tuple[float, float]]
    names: list[str]
    key: str

class IdentityState(msgspec.Struct):
    """What the identity gate keeps about one MMSI."""

    #: the established track first, then up to ``max_tracks - 1`` others
    tracks: list[Track] = []  # (msgspec copies an empty default for each instance)
    jumps: int = 0
    shared: SharedEpisode | None = None
    #: the id (after ``identity_anomaly:``) of its factory-default alert, which a sharing episode updates
    default_key: str | None = None
    #: when it was first reported on land (once per vessel)
    land_s: float | None = None
    #: the last land check (time s, lat, lon)
    land_check: tuple[float, float, float] | None = None
    #: reports with uncertain times so far, and the largest uncertainty (s)
    uncertain: int = 0
    err: float = 0.0


# -- geofence --------------------------------------------------------------------------------------------

class Overspeed(msgspec.Struct, gc=False):
    """A spell over a zone's speed limit: since when (s), the highest speed (kn), where it began."""

    start: float
    max: float
    lat: float
    lon: float

class Visit(msgspec.Struct, gc=False):
    """One vessel's visit to one ruled zone (times s, degrees)."""

    since: float
    lat: float
    lon: float
    #: seen crossing in (not inside already at its first fix)
    entered: bool
    #: its category was known when it came in (else the entry is judged when it is)
    typed: bool
    entry_alerted: bool = False
    dwell: bool = False
    speed: Overspeed | None = None
    #: first fix outside, while the exit is not yet sure (hysteresis)
    out_since: float | None = None
    out_lat: float | None = None
    out_lon: float | None = None


# -- rendezvous ------------------------------------------------------------------------------------------

class Meeting(msgspec.Struct, gc=False):
    """One pair's closeness episode (times s, degrees, metres, knots)."""

    first: float
    last: float
    #: where they first came close
    lat0: float
    lon0: float
    #: the closest they came
    min_d: float
    n: int = 0
    sum_lat: float = 0.0
    sum_lon: float = 0.0
    #: speeds seen (up to 2,000), for the median
    sogs: list[float] = []  # (msgspec copies an empty default for each instance)
    alerted: bool = False
    #: when they moved apart (None while together)
    parted: float | None = None
    #: judged once at the rendezvous duration: why it is ordinary life (a reason), False when it is a
    #: rendezvous, None until judged
    suppressed: str | bool | None = None
    next_update: float | None = None
    #: its alert was re-issued closed (a later resumption reopens it)
    closed: bool = False
    #: when the current closeness began (the duration is judged on one closeness without a break; the
    #: episode's ``first`` is the first closeness of a merged event)
    run_first: float | None = None
    #: time together in the closenesses of this event that have ended (s)
    together_s: float = 0.0
    #: distances between the two seen (up to 2,000), for the median kept (m)
    dists: list[float] = []


# -- loitering -------------------------------------------------------------------------------------------

class Loiter(msgspec.Struct, gc=False):
    """One vessel's slow episode (times s, degrees, knots, metres)."""

    start: float
    last: float
    #: where it slowed down: the episode ends when it moves ``max_radius_km`` from here
    lat0: float
    lon0: float
    #: near a port or anchorage (or judged resting): never raised
    harbour: bool
    n: int = 0
    sum_lat: float = 0.0
    sum_lon: float = 0.0
    max_sog: float = 0.0
    alerted: bool = False
    next_update: float | None = None
    #: farthest from ``lat0`` seen (tracked until past the anchored radius)
    max_d: float = 0.0
    #: it has sent a navigational status (else lying in one spot says "at anchor")
    status_seen: bool = False
    end: float | None = None


# -- voyage ----------------------------------------------------------------------------------------------

class VoyageState(msgspec.Struct):
    """What the voyage detector keeps about one vessel (times UNIX s)."""

    #: the declared destination (cleaned text) and the port it names (gazetteer id, None when unknown)
    text: str = ""
    port: str | None = None
    confidence: float = 0.0
    eta_s: float | None = None
    since_s: float | None = None
    #: ports declared on this voyage (since the last port call), and countries declared by island name
    declared: list[str] = []  # (msgspec copies an empty default for each instance)
    countries: list[str] = []  # (msgspec copies an empty default for each instance)
    #: the texts declared on this voyage, as typed (cleaned)
    texts: list[str] = []  # (msgspec copies an empty default for each instance)
    #: destination changes at sea on this voyage
    changes: int = 0
    #: the port zone it is in, and whether its call there has been judged
    in_port: str | None = None
    called: bool = False
    #: the port of its last call, and when it left it
    last_call: str | None = None
    left_s: float | None = None
    #: the last port it came within ``near_port_km`` of, stopping or not
    recent_port: str | None = None
    next_check_s: float = 0.0
    seen: bool = False
    #: the texts of the last few static reports (the declaration is the one most of them carry), and when
    #: the last of them was heard
    recent: list[str] = []  # (msgspec copies an empty default for each instance)
    pending_s: float = 0.0
