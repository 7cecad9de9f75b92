"""One frozen settings object, loaded from a TOML file at the edge.

The core never reads the environment: the CLI loads :class:`Settings` (from
``--config FILE``, else defaults) and passes it down. Every detection
threshold is here with its default and the source of that default
(DESIGN.md, "Detection defaults").
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from maritime.paths import state_dir

TimeQuality = Literal["auto", "sent", "received", "delivered"]


#: the largest number any setting may hold: beyond it times and counts overflow what they feed (dates,
#: integer steps); a setting of a measure (names ending in a unit) that is not 0 is at least ``MIN_MEASURE``
MAX_NUMBER = 1e12
MIN_MEASURE = 1e-3
_UNITS = ("_s", "_min", "_h", "_km", "_m", "_nm", "_kn", "_deg")


class _Frozen(BaseModel):
    # no NaN or infinity in any setting: a tick of inf would stop the watermark, a NaN limit every check
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    @model_validator(mode="after")
    def _bounded(self) -> _Frozen:
        """Numbers within bounds a run can use: none beyond ``MAX_NUMBER``; a measure (a time, a distance, a
        speed) that is not zero at least ``MIN_MEASURE`` of its unit (1e-300 s as a step would overflow)."""
        for name, value in self:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if abs(value) > MAX_NUMBER:
                raise ValueError(f"{name} = {value:g}: too large (at most {MAX_NUMBER:g})")
            if name.endswith(_UNITS) and value != 0 and abs(value) < MIN_MEASURE:
                raise ValueError(f"{name} = {value:g}: too small (0, or at least {MIN_MEASURE:g})")
        return self


class IngestSettings(_Frozen):
    """Decoding and event-time handling."""

    reorder_window_s: float = Field(60.0, ge=0, description="bounded reorder window for out-of-order input (s)")
    dedup_window_s: float = Field(60.0, ge=0, description="same payload within this time is a duplicate (s)")
    fragment_timeout_s: float = Field(60.0, gt=0, description="how long multipart fragments wait (s)")
    start_time: str | None = Field(None, description="ISO time given to lines of untimed files (default: run start)")

    @field_validator("start_time")
    @classmethod
    def _iso_time(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from datetime import datetime

        try:
            t = datetime.fromisoformat(v.replace("Z", "+00:00"))
            if t.tzinfo is None:
                from datetime import UTC

                t = t.replace(tzinfo=UTC)
            secs = t.timestamp()
        except (ValueError, OverflowError, OSError):
            raise ValueError(f"{v!r} is not an ISO 8601 time (as in 2025-05-14T00:00:00Z)") from None
        if not 0 <= secs < 4102444800:  # AIS has no times before 1970 (UNIX 0) or after 2100
            raise ValueError(f"{v!r}: give a time from 1970 to 2099")
        return v
    idle_source_s: float = Field(900.0, gt=0, description="distributed runtime: a source this far (event-time s) "
                                 "behind the newest no longer holds the others back")
    live_quiet_source_s: float = Field(300.0, gt=0, description="live feeds: a source not heard for this long (wall "
                                       "clock, s) no longer holds the watermark back (said in the log)")
    live_idle_flush_s: float = Field(5.0, gt=0, description="live feeds: when no line has come for this long (wall "
                                     "clock, s), what the reorder windows hold is handed on at once")
    default_time_quality: TimeQuality = Field(
        "auto", description="what a source's timestamps are: 'received' (a receiver's clock), 'delivered' "
        "(satellite or aggregator batches), 'sent', or 'auto' (judged from the reports' own UTC seconds)")
    time_quality: dict[str, TimeQuality] = Field(
        default_factory=dict, description="per source (its name or URL as given): the same choices")
    delivered_uncertainty_s: float = Field(
        3600.0, ge=0, description="how long before its stamp a report from a 'delivered' source may have been "
        "sent (s); exactEarth batches are up to an hour out of step")

    max_time_jump_s: float = Field(
        6 * 3600.0, ge=0, description="a message time this far after its source's clock (s), or two days before "
        "it, is quarantined unless time_confirm_lines timed messages in a row confirm it (0: off)")
    time_confirm_lines: int = Field(5, ge=1, description="consecutive timed messages of one source, agreeing with "
                                    "each other, that confirm a jump of its clock")
    time_start_lines: int = Field(5, ge=1, description="a source's clock starts at the median of its first this "
                                  "many timed messages (no single line sets it)")
    delivered_reorder_window_s: float = Field(
        1800.0, ge=0, description="reorder window of a source set to 'delivered' in replays and workers (s): "
        "its batches come up to this much out of step; later reports still revise gaps as late data")

    def time_quality_of(self, source: str) -> str:
        """The time quality set for ``source`` (else the default)."""
        return self.time_quality.get(source, self.default_time_quality)

    def reorder_window_of(self, source: str) -> float:
        """The reorder window of ``source`` (s): wider for a source whose stamps are set as delivery times."""
        if self.time_quality_of(source) == "delivered":
            return max(self.reorder_window_s, self.delivered_reorder_window_s)
        return self.reorder_window_s


class GapSettings(_Frozen):
    """Dark-vessel AIS gaps (Skylight 6 h; GFW gap records start at 6 h, 'suspected disabling' ≥ 12 h)."""

    enabled: bool = True
    min_gap_h: float = Field(6.0, gt=0)
    suspect_gap_h: float = Field(12.0, gt=0)
    suspect_shore_nm: float = Field(50.0, ge=0)
    min_positions_before: int = Field(3, ge=1, description="positions a vessel must have sent to count as 'reporting'")
    max_plausible_kn: float = Field(30.0, gt=0, description="implied speed across a gap above this is implausible")
    outage_fraction: float = Field(0.5, gt=0, le=1, description="share of active vessels silent at once = feed outage")
    outage_min_vessels: int = Field(10, ge=2)
    outage_window_min: float = Field(30.0, gt=0, description="vessels falling silent within this window count together")


class RendezvousProfile(_Frozen):
    """One rendezvous profile (GFW encounters: 500 m, < 2 kn, ≥ 2 h; Skylight: 250 m, ≥ 30 min)."""

    max_distance_m: float = Field(500.0, gt=0)
    max_sog_kn: float = Field(2.0, gt=0)
    min_duration_min: float = Field(120.0, gt=0, description="close without a break this long (min)")
    min_port_distance_km: float = Field(10.0, ge=0)
    merge_gap_h: float = Field(
        24.0, ge=0, description="meetings of one pair less than this apart are one event (h; GFW's encounters "
        "pipeline merges raw encounters less than 24 h apart)")


#: partner rules of :attr:`RendezvousSettings.exempt_partners`
ExemptRule = Literal["authority", "pilot", "service_near_port", "fishing_pair", "cruise_tender",
                     "pilot_or_tug_near_port"]
DEFAULT_EXEMPT: tuple[ExemptRule, ...] = ("authority", "pilot", "service_near_port", "fishing_pair", "cruise_tender")


class RendezvousSettings(_Frozen):
    """Ship-to-ship meetings; ``profile`` selects ``standard`` or ``watch_floor``."""

    enabled: bool = True
    profile: Literal["standard", "watch_floor"] = "standard"
    standard: RendezvousProfile = RendezvousProfile()
    watch_floor: RendezvousProfile = RendezvousProfile(max_distance_m=250.0, min_duration_min=30.0)
    max_interp_gap_min: float = Field(
        70.0, gt=0, description="fixes further apart are not interpolated, and a pair not compared for this "
        "long has parted (min; GFW's encounters pipeline resamples tracks across gaps up to 70 min)")
    group_radius_m: float = Field(
        1000.0, gt=0, description="a third slow vessel this close to a pair makes it a group at rest (an anchorage, "
        "a raft-up, a fleet at a fish aggregating device), not a meeting (m)")
    exempt_partners: list[ExemptRule] = Field(
        default_factory=lambda: list(DEFAULT_EXEMPT),
        description="pairs that are ordinary work, not a rendezvous: 'authority' (military 35, SAR 51, law "
        "enforcement 55, with anyone anywhere), 'pilot' (pilot vessel 50, anywhere), 'service_near_port' (a tug "
        "31/32/52, dredger or diving vessel 33/34, port tender 53, anti-pollution vessel 54, sailing or pleasure "
        "craft 36/37 inside a port or anchorage zone or within service_port_km of a port; at sea it is a "
        "rendezvous), 'fishing_pair' (two fishing vessels; GFW encounters pair a carrier with a fishing "
        "vessel), 'cruise_tender' (a passenger ship at anchor and a small craft); 'pilot_or_tug_near_port' "
        "(older name) means 'pilot' and 'service_near_port'")
    service_port_km: float = Field(
        15.0, gt=0, validation_alias=AliasChoices("service_port_km", "pilot_port_km"),
        description="how far from a port zone tugs, tenders and small craft work alongside ships (km; harbour "
        "approaches, where pilots board and tugs make fast, lie within a few nautical miles of the entrance)")

    @property
    def active(self) -> RendezvousProfile:
        """The selected profile."""
        return self.watch_floor if self.profile == "watch_floor" else self.standard


class LoiteringSettings(_Frozen):
    """One vessel slow for long outside port (GFW loitering: < 2 kn for ≥ 4 h)."""

    enabled: bool = True
    max_sog_kn: float = Field(2.0, gt=0)
    min_duration_h: float = Field(4.0, gt=0)
    max_radius_km: float = Field(20.0, gt=0, description="a slow vessel still drifting this far is not loitering")
    anchored_radius_m: float = Field(
        800.0, ge=0, description="a vessel that reports no navigational status (Class B, status 15) and stays "
        "this close to one spot is at anchor by its behaviour, not loitering (m; GFW's stationary radius)")
    exclude_categories: list[str] = Field(
        default_factory=lambda: ["fishing"],
        description="categories whose slow work is their trade (GFW loitering events are for carriers, not fishing)")


class AnchorageSettings(_Frozen):
    """Learned anchorages: cells where many distinct vessels rest (GFW anchorages: stationary within 0.8 km,
    S2 level-13 cells of about 1.1 km, counted by distinct vessels)."""

    learn: bool = True
    rest_max_sog_kn: float = Field(1.0, gt=0, description="a vessel slower than this may be resting (kn)")
    rest_radius_m: float = Field(800.0, gt=0, description="… while it stays this close to where it stopped (m)")
    rest_min_h: float = Field(2.0, gt=0, description="… for this long (h)")
    min_vessels: int = Field(5, ge=2, description="distinct vessels that make a cell an anchorage")
    cell_deg: float = Field(0.01, gt=0, le=1, description="grid cell size (deg; 0.01° is about 1.1 km)")


class GeofenceSettings(_Frozen):
    """Zone entry/exit hysteresis (GFW port visits: 3 km in, 4 km out)."""

    enabled: bool = True
    exit_margin_m: float = Field(1000.0, ge=0, description="outside by this much before an exit counts")
    exit_after_min: float = Field(10.0, ge=0, description="or outside for this long")
    default_dwell_min: float = Field(60.0, gt=0)


class VoyageSettings(_Frozen):
    """Declared voyages against port calls: ``destination_change`` and ``arrival_undeclared``."""

    enabled: bool = True
    check_every_s: float = Field(120.0, gt=0, description="how often a vessel's port zone is looked up (event s)")
    port_call_max_sog_kn: float = Field(3.0, gt=0, description="a port call begins inside a port zone at or "
                                        "under this speed (GFW port visits: a vessel stopped in port)")
    harbour_km: float = Field(2.0, ge=0, description="a destination changed within this distance of a port or "
                              "anchorage is a change in port, not at sea")
    confirm_reports: int = Field(3, ge=1, description="a new destination counts once this many of the last "
                                 "confirm_window static reports carry it (damaged reports do not change it)")
    confirm_window: int = Field(5, ge=1, description="how many recent static reports the declaration is read from")
    near_port_km: float = Field(8.0, ge=0, description="a port the vessel came this close to is one it passed: "
                                "still declaring it afterwards is a stale declaration, not a voyage")
    recent_h: float = Field(12.0, gt=0, description="a dark gap, rendezvous or loitering this soon before a "
                            "destination change raises it to high")


class ArrivalSettings(_Frozen):
    """Expected arrivals scored ahead of time: ``arrival_risk``, and the daily boards of the centres."""

    enabled: bool = True
    threshold: float = Field(6.0, gt=0, description="an expected arrival scoring this many points raises "
                             "arrival_risk (points as the arrivals board counts them: a rendezvous 4, a dark gap 3, "
                             "a destination changed at sea 3, declaring another port 2; one dark gap alone, common "
                             "in coverage holes, does not)")
    lead_h: float = Field(12.0, gt=0, description="raised when the arrival is this close (h, event time)")
    check_every_s: float = Field(600.0, gt=0, description="how often expected arrivals are judged (event s)")
    lag_s: float = Field(1800.0, ge=0, description="a check waits this long (event s) for the alerts of its time, "
                         "so that every runtime judges it on the same events")
    harbour_km: float = Field(3.0, gt=0, description="a vessel this close to a port at 3 kn or less is in it: "
                              "arrived; leaving it starts a new voyage, whose events the risk counts")
    update_eta_h: float = Field(1.0, gt=0, description="an open arrival_risk is updated when its ETA moves this much")
    daily_at: str = Field("10:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                          description="when (UTC, event time) the daily boards go to the centres (10:00 UTC is "
                          "06:00 in the Eastern Caribbean)")


class IdentitySettings(_Frozen):
    """Identity and kinematics checks (GFW segmenter; AISdb spoofing checks)."""

    enabled: bool = True
    max_speed_kn: float = Field(50.0, gt=0)
    max_speed_by_type_kn: dict[str, float] = Field(
        default_factory=lambda: {"cargo": 30.0, "tanker": 25.0, "fishing": 25.0, "tug": 20.0}
    )
    min_jump_nm: float = Field(2.0, ge=0, description="jumps shorter than this are GPS noise")
    time_slack_s: float = Field(120.0, ge=0, description="allowance for timestamp error when judging a jump (s)")
    max_tracks: int = Field(4, ge=2, description="tracks kept per MMSI (transmitters sharing it, GFW segmenter)")
    track_quiet_s: float = Field(
        3600.0, gt=0, description="a second track unheard this long is forgotten, and a sharing episode ends (s)")
    land_margin_m: float = Field(
        25000.0, ge=0,
        description="a fix is on land only this far inside it (m): Natural Earth land covers lakes, rivers, canals")
    land_check: bool = True
    land_region: list[float] | None = Field(
        default_factory=lambda: [-90.0, 7.0, -58.0, 28.0],
        description="where positions are judged against land (lon0, lat0, lon1, lat1; default the Caribbean, "
        "whose navigable rivers, canals and lakes are known); None: everywhere", min_length=4, max_length=4)


class SubscriptionFilter(_Frozen):
    """Which alerts a centre receives: every given criterion must match (an empty one matches all)."""

    zones: list[str] = Field(default_factory=list, description="zone ids")
    authorities: list[str] = Field(default_factory=list, description="zone authorities (who is told)")
    types: list[str] = Field(default_factory=list, description="alert types")
    min_severity: str = Field("info", pattern="^(info|low|medium|high|critical)$")
    bbox: list[float] | None = Field(None, min_length=4, max_length=4, description="lon0, lat0, lon1, lat1")


class WebhookDelivery(_Frozen):
    """An HTTP endpoint of a centre: JSON alerts or CAP 1.2 XML, signed with HMAC-SHA256."""

    url: str = Field(pattern=r"^https?://[^\s/?#]+", description="http:// or https:// endpoint")
    secret: str = Field(min_length=8)
    format: str = Field("json", pattern="^(json|cap)$")


class Subscription(_Frozen):
    """One operations centre: its filters and its deliveries."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = ""
    filters: SubscriptionFilter = SubscriptionFilter()
    redis: bool = Field(True, description="deliver to the Redis stream mda:alerts:<id>")
    redis_password: str | None = Field(None, description="password of the centre's Redis ACL user")
    webhooks: list[WebhookDelivery] = Field(default_factory=list)
    arrivals: list[str] = Field(default_factory=list, description="ports whose daily arrivals board the centre "
                                "gets (gazetteer id, LOCODE or name), in Redis mda:arrivals:<id> and by webhook")
    arrivals_hours: float = Field(48.0, gt=0, description="how far ahead the daily board looks (h)")
    language: Literal["en", "es", "fr", "nl"] = Field(
        "en", description="the centre's language: its CAP messages lead with this info block (all four follow)")


class DeliverySettings(_Frozen):
    """Alert channels: Redis streams and webhooks, with a bounded on-disk spool for outages."""

    stream_maxlen: int = Field(100_000, gt=0, description="approximate cap of each Redis stream (entries)")
    dedup_ttl_s: int = Field(30 * 86400, gt=0, description="how long Redis remembers an alert was added (s)")
    spool_dir: str = Field(default_factory=lambda: str(state_dir() / "spool"),
                           description="where undelivered alerts wait (survives restarts; default: the per-user "
                           "state folder, ~/.local/state/caribbean-mda/spool, or $MARITIME_STATE_DIR/spool)")
    spool_max: int = Field(200_000, gt=0, description="alerts kept per channel while it is down")
    cap_sender: str = "mda@caribbean-mda.invalid"
    webhook_timeout_s: float = Field(10.0, gt=0)
    retry_max_s: float = Field(300.0, gt=0, description="longest wait between retries (s)")
    webhook_refused_attempts: int = Field(
        8, ge=1, description="a record a webhook refuses (HTTP 4xx other than 408/409/429, or a redirect) is "
        "retried this many times, then written to the dead-letter file beside the spool with the reason")
    flush_timeout_s: float = Field(15.0, ge=0, description="how long closing waits for delivery (s)")


class Settings(_Frozen):
    """Everything configurable; ``Settings()`` gives the documented defaults."""

    ingest: IngestSettings = IngestSettings()
    gaps: GapSettings = GapSettings()
    rendezvous: RendezvousSettings = RendezvousSettings()
    loitering: LoiteringSettings = LoiteringSettings()
    anchorages: AnchorageSettings = AnchorageSettings()
    geofence: GeofenceSettings = GeofenceSettings()
    identity: IdentitySettings = IdentitySettings()
    voyage: VoyageSettings = VoyageSettings()
    arrivals: ArrivalSettings = ArrivalSettings()
    tick_s: float = Field(60.0, gt=0, description="how often detectors look at the watermark (event-time s)")
    flood_max_new: int = Field(
        500, ge=0, description="at most this many new events of one type from one source per flood_window_min "
        "(event time) are sent; the rest are held back and counted in one alert_flood event (0: no limit)")
    flood_window_min: float = Field(10.0, gt=0, description="the window of flood_max_new (event-time min)")
    evict_after_h: float = Field(
        24.0, ge=0, description="a vessel not heard for this long (event time, h) is dropped from memory unless "
        "something is open about it (a dark gap, a zone visit, a shared-MMSI episode); 0: never")
    delivery: DeliverySettings = DeliverySettings()
    watchlists: list[str] = Field(default_factory=list, description="watchlist files (CSV or JSON)")
    profiles_db: str | None = Field(None, description="SQLite file of vessel profiles (off when unset)")
    triage_store: str | None = Field(
        None, description="where officers' triage of alerts is kept: a SQLite file or a redis:// URL (default: "
        "triage.sqlite in the per-user state folder)")
    risk_weights: dict[str, float] = Field(default_factory=dict, description="overrides of the risk weights")
    watchlist_absence_h: float = Field(24.0, gt=0, description="a listed vessel unheard this long hits again (h)")
    subscriptions: list[Subscription] = Field(default_factory=list)
    language: Literal["en", "es", "fr", "nl"] = Field(
        "en", description="the centre's language: the map (a browser may choose its own), alert texts, and the "
        "first info block of CAP messages (each message carries all four)")


class ConfigError(Exception):
    """A configuration file that cannot be used (one-line reason)."""


def load_settings(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Settings from a TOML file (sections as in :class:`Settings`) plus overrides."""
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except OSError as err:
            raise ConfigError(f"{p}: cannot be read ({err.strerror})") from None
        except UnicodeDecodeError as err:
            raise ConfigError(f"{p}: not UTF-8 text (byte {err.start}); TOML files are UTF-8") from None
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{p}: not valid TOML ({err})") from None
        except RecursionError:
            raise ConfigError(f"{p}: nested too deeply to be a settings file") from None
    for key, value in (overrides or {}).items():
        section, _, name = key.partition(".")
        if name:
            data.setdefault(section, {})[name] = value
        else:
            data[key] = value
    try:
        return Settings.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ConfigError(f"{path or 'settings'}: {where}: {first['msg']}") from None
