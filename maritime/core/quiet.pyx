# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The quiet path of the per-vessel detectors in C (Cython): a position that changes a vessel's state and raises
nothing, taken without the detector's Python code.

Most positions of a day raise nothing: a vessel heard again a few seconds after its last report, on the track it
was on. For those, each function here does what the detector's own ``on_position`` (or the identity gate's
``check``) would do, on the detector's own state, in place: the same msgspec Structs, dictionaries and ordered
dict the tables and checkpoints keep, so nothing outside the detector changes.

Each function answers True when it took the position (the detector returns at once, with no alerts), False when
the position is anything else: a first fix, a gap, a second track, a time uncertainty, a land check falling due.
It answers False before touching any state, and the detector's Python code then runs unchanged; that code is
the reference, and a differential test runs both on every recording and on generated feeds.

The fields are read and written where the class keeps them (each one a slot: its member descriptor's offset,
checked when this module is imported against ``getattr``). Only atomic values are written (floats, ints, None,
booleans), and tuples of floats to a Struct the collector already follows, so msgspec's garbage-collector tracking
of Structs is never affected. Floats are
compared as the Python code compares them: the same operations in the same order, on the same doubles, and
``math.hypot`` itself for the distance.
"""

from cpython.dict cimport PyDict_GetItem
from cpython.float cimport PyFloat_AS_DOUBLE, PyFloat_CheckExact
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.long cimport PyLong_AsDouble, PyLong_CheckExact
from cpython.ref cimport Py_INCREF, Py_XDECREF, PyObject

cdef extern from "Python.h":
    int PyObject_GC_IsTracked(object o)
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from libc.math cimport copysign, cos, floor, fmod, isfinite
from cpython.long cimport PyLong_FromDouble

import math
import types

from maritime.detectors.anchorages import Rest
from maritime.detectors.base import STATIONARY_STATUSES
from maritime.detectors.state import GapState, IdentityState, Loiter, Meeting, Track, Visit, VoyageState
from maritime.geo import EARTH_RADIUS_M
from maritime.models import Position

cdef extern from "Python.h":
    ctypedef struct PyMemberDef:
        const char* name
        int type
        Py_ssize_t offset
        int flags
    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member

cdef enum:
    T_OBJECT_EX = 16
    READONLY = 1

cdef object FALSE = False
cdef object TRUE = True
cdef object NONE = None
cdef tuple EMPTY = ()
cdef object ZERO = 0.0
cdef object _hypot = math.hypot
cdef double R_EARTH = EARTH_RADIUS_M
cdef double DEG = math.pi / 180.0  # math.radians(x) is x * (pi / 180): the same double

#: why the quiet path is not used (None: it is)
why_not = None


cdef Py_ssize_t _offset(object cls, str name, bint write) except -1:
    """Where instances of ``cls`` keep field ``name``: its own slot (a member descriptor holding any object)."""
    d = cls.__dict__.get(name)
    if type(d) is not types.MemberDescriptorType:
        raise TypeError(f"{cls.__name__}.{name} is not a slot")
    cdef PyMemberDef* m = (<PyMemberDescrObject*>d).d_member
    if m.type != T_OBJECT_EX or (write and (m.flags & READONLY)):
        raise TypeError(f"{cls.__name__}.{name} is not a plain object slot")
    return m.offset


cdef inline PyObject* _get(object o, Py_ssize_t at):
    """The object in slot ``at`` of ``o`` (borrowed; NULL when unset)."""
    return (<PyObject**>((<char*><PyObject*>o) + at))[0]


cdef inline void _set(object o, Py_ssize_t at, object v):
    """Slot ``at`` of ``o`` set to ``v`` (what the descriptor's setter does)."""
    cdef PyObject** slot = <PyObject**>((<char*><PyObject*>o) + at)
    cdef PyObject* old = slot[0]
    Py_INCREF(v)
    slot[0] = <PyObject*>v
    Py_XDECREF(old)


cdef inline double _pymod(double a, double b):
    """``a % b`` for floats, as Python computes it (the result takes the divisor's sign)."""
    cdef double m = fmod(a, b)
    if m != 0.0:
        if (b < 0.0) != (m < 0.0):
            m += b
    else:
        m = copysign(0.0, b)
    return m


cdef inline double _lon_delta(double lon1, double lon2):
    """:func:`maritime.geo.lon_delta`."""
    cdef double d = lon2 - lon1
    if -180.0 <= d < 180.0:
        return d
    return _pymod(d + 180.0, 360.0) - 180.0


cdef double _fast_distance_m(double lat1, double lon1, double lat2, double lon2) except? -1.0:
    """:func:`maritime.geo.fast_distance_m`, with Python's own ``math.hypot``."""
    cdef double x = (_lon_delta(lon1, lon2) * DEG) * cos(((lat1 + lat2) / 2) * DEG)
    cdef double y = (lat2 - lat1) * DEG
    return R_EARTH * PyFloat_AS_DOUBLE(_hypot(x, y))


def fast_distance_m(double lat1, double lon1, double lat2, double lon2):
    """The distance this module compares (m), for the test that it is :func:`maritime.geo.fast_distance_m`'s."""
    return _fast_distance_m(lat1, lon1, lat2, lon2)


# -- the fields read and written ---------------------------------------------------------------------------------

cdef Py_ssize_t P_MMSI, P_T, P_LAT, P_LON, P_SOG, P_STATUS, P_ERR
cdef Py_ssize_t G_T, G_LAT, G_LON, G_SOG, G_STATUS, G_N, G_KIND, G_ZONE, G_CTX, G_OPEN, G_KEY_T, G_OUTAGE, G_SUSPECT
cdef Py_ssize_t I_TRACKS, I_SHARED, I_LAND_S, I_LAND_CHECK, I_UNCERTAIN, I_ERR
cdef Py_ssize_t T_T, T_LAT, T_LON, T_ERR, T_N
cdef Py_ssize_t M_LAST, M_PARTED, M_FIRST, M_RUN_FIRST, M_ALERTED, M_NEXT_UPDATE, M_MIN_D, M_SUM_LAT, M_SUM_LON
cdef Py_ssize_t M_LON0, M_N, M_DISTS, M_SOGS, M_SUPPRESSED
cdef Py_ssize_t V_SINCE, V_OUT_SINCE, V_TYPED, V_DWELL
cdef Py_ssize_t Y_NEXT, Y_SEEN, Y_IN_PORT, Y_RECENT, Y_CALLED
cdef Py_ssize_t R_T0, R_LAT0, R_LON0, R_LAST, R_SUM_LAT, R_SUM_LON, R_N, R_COUNTED
cdef Py_ssize_t L_START, L_LAST, L_LAT0, L_LON0, L_HARBOUR, L_N, L_SUM_LAT, L_SUM_LON, L_MAX_SOG, L_ALERTED
cdef Py_ssize_t L_NEXT_UPDATE, L_MAX_D, L_STATUS_SEEN


cdef void _offsets() except *:
    global P_MMSI, P_T, P_LAT, P_LON, P_SOG, P_STATUS, P_ERR
    global G_T, G_LAT, G_LON, G_SOG, G_STATUS, G_N, G_KIND, G_ZONE, G_CTX, G_OPEN, G_KEY_T, G_OUTAGE, G_SUSPECT
    global I_TRACKS, I_SHARED, I_LAND_S, I_LAND_CHECK, I_UNCERTAIN, I_ERR
    global T_T, T_LAT, T_LON, T_ERR, T_N, M_LAST, M_PARTED, V_SINCE, V_OUT_SINCE, V_TYPED, V_DWELL
    global Y_NEXT, Y_SEEN, Y_IN_PORT, Y_RECENT, Y_CALLED
    global M_FIRST, M_RUN_FIRST, M_ALERTED, M_NEXT_UPDATE, M_MIN_D, M_SUM_LAT, M_SUM_LON
    global M_LON0, M_N, M_DISTS, M_SOGS, M_SUPPRESSED
    global R_T0, R_LAT0, R_LON0, R_LAST, R_SUM_LAT, R_SUM_LON, R_N, R_COUNTED
    global L_START, L_LAST, L_LAT0, L_LON0, L_HARBOUR, L_N, L_SUM_LAT, L_SUM_LON, L_MAX_SOG, L_ALERTED
    global L_NEXT_UPDATE, L_MAX_D, L_STATUS_SEEN
    P_MMSI, P_T, P_LAT, P_LON = (_offset(Position, n, False) for n in ("mmsi", "time_s", "lat", "lon"))
    P_SOG, P_STATUS, P_ERR = (_offset(Position, n, False) for n in ("sog_kn", "nav_status", "time_err_s"))
    G_T, G_LAT, G_LON, G_SOG, G_STATUS, G_N = (_offset(GapState, n, True)
                                               for n in ("t", "lat", "lon", "sog", "status", "n"))
    G_KIND, G_ZONE, G_CTX, G_OPEN = (_offset(GapState, n, True) for n in ("kind", "zone", "ctx", "open"))
    G_KEY_T, G_OUTAGE, G_SUSPECT = (_offset(GapState, n, True) for n in ("key_t", "outage", "suspect"))
    I_TRACKS, I_SHARED, I_LAND_S = (_offset(IdentityState, n, True) for n in ("tracks", "shared", "land_s"))
    I_LAND_CHECK, I_UNCERTAIN, I_ERR = (_offset(IdentityState, n, True) for n in ("land_check", "uncertain", "err"))
    T_T, T_LAT, T_LON, T_ERR, T_N = (_offset(Track, n, True) for n in ("t", "lat", "lon", "err", "n"))
    M_LAST, M_PARTED, M_FIRST, M_RUN_FIRST = (_offset(Meeting, n, True) for n in ("last", "parted", "first", "run_first"))
    M_ALERTED, M_NEXT_UPDATE, M_MIN_D = (_offset(Meeting, n, True) for n in ("alerted", "next_update", "min_d"))
    M_SUM_LAT, M_SUM_LON, M_LON0, M_N = (_offset(Meeting, n, True) for n in ("sum_lat", "sum_lon", "lon0", "n"))
    M_DISTS, M_SOGS, M_SUPPRESSED = (_offset(Meeting, n, True) for n in ("dists", "sogs", "suppressed"))
    V_SINCE, V_OUT_SINCE, V_TYPED, V_DWELL = (_offset(Visit, n, False) for n in ("since", "out_since", "typed", "dwell"))
    Y_NEXT, Y_SEEN = (_offset(VoyageState, n, True) for n in ("next_check_s", "seen"))
    Y_IN_PORT, Y_CALLED = (_offset(VoyageState, n, False) for n in ("in_port", "called"))
    Y_RECENT = _offset(VoyageState, "recent_port", True)
    R_T0, R_LAT0, R_LON0 = (_offset(Rest, n, False) for n in ("t0", "lat0", "lon0"))
    R_LAST, R_SUM_LAT, R_SUM_LON, R_N, R_COUNTED = (_offset(Rest, n, True)
                                                     for n in ("last", "sum_lat", "sum_lon", "n", "counted"))
    L_START, L_LAT0, L_LON0, L_HARBOUR, L_ALERTED, L_NEXT_UPDATE = (
        _offset(Loiter, n, False) for n in ("start", "lat0", "lon0", "harbour", "alerted", "next_update"))
    L_LAST, L_N, L_SUM_LAT, L_SUM_LON, L_MAX_SOG, L_MAX_D, L_STATUS_SEEN = (
        _offset(Loiter, n, True) for n in ("last", "n", "sum_lat", "sum_lon", "max_sog", "max_d", "status_seen"))


cdef bint _reads_as_getattr(object o) except -1:
    """Whether every field of a probe record reads here as ``getattr`` reads it."""
    for name in type(o).__struct_fields__ if hasattr(type(o), "__struct_fields__") else type(o).__dataclass_fields__:
        want = getattr(o, name)
        if _get(o, _offset(type(o), name, False)) != <PyObject*>want:
            return False
    return True


try:
    _offsets()
    _probes = (Position(366999001, 1.7e9, 12.5, -61.25, 3.5, 181.5, 7, 5, 18, "rx", 0.5),
               GapState(1.7e9, 12.5, -61.25, 3.5, 5, 4, "mpa", {"id": "z"}, True, True, 1.6e9, True, True),
               IdentityState([Track(1.7e9, 12.5, -61.25, 0.0, 3, 1.6e9)], 0, None, None, None, (1.7e9, 12.5, -61.2),
                             2, 30.0),
               Track(1.7e9, 12.5, -61.25, 0.0, 3, 1.6e9),
               Meeting(1.6e9, 1.7e9, 12.5, -61.25, 120.0, 4, 50.0, -245.0, [0.5], True, 1.7e9, False, 1.71e9, True,
                       1.65e9, 600.0, [120.0]),
               Visit(1.6e9, 12.5, -61.25, True, False, True, True, None, 1.7e9, 12.6, -61.3),
               VoyageState("CASTRIES", "LCCAS", 0.9, 1.71e9, 1.6e9, ["LCCAS"], ["LC"], ["CASTRIES"], 1, "z", True,
                           "TTPOS", 1.65e9, "LCCAS", 1.7e9, True, ["CASTRIES"], 1.69e9),
               Rest(1.6e9, 12.5, -61.25, 1.7e9, 25.0, -122.5, 2, True),
               Loiter(1.6e9, 1.7e9, 12.5, -61.25, False, 3, 37.5, -183.75, 0.8, True, 1.71e9, 120.0, True, None))
    if not all(_reads_as_getattr(p) for p in _probes):
        why_not = "a field does not read here as getattr reads it"
except TypeError as err:
    why_not = str(err)


# -- the parts ------------------------------------------------------------------------------------------------


cdef class Quiet:
    """One part's quiet path, bound to the part's own state: ``take(pos, vessel)`` is True when the position was
    taken here, False when nothing was touched and the part's Python code must judge it. :func:`run_chain`
    calls it from C; the part's own ``on_position`` (or ``check``) calls it from Python."""

    #: positions taken here so far
    cdef public long taken

    cdef bint take_c(self, object pos, object vessel) except -1:
        return False

    def take(self, object pos, object vessel):
        """True when the position was taken here (no alert); False: nothing was touched."""
        if self.take_c(pos, vessel):
            self.taken += 1
            return True
        return False


cdef inline object _category(object vessel):
    """``vessel.category`` (the tracker's word for its AIS ship type)."""
    return getattr(vessel, "category")


def run_chain(list gates, list detectors, object tracker, object pos, object vessel, object emit):
    """:meth:`maritime.runtime.assembly.Chain.position`'s gates, tracker and detectors, each part's quiet path
    first: None when every gate accepted the fix, else the gate that withheld it (the chain then does what it
    does for a withheld fix)."""
    cdef object q
    for gate in gates:
        q = getattr(gate, "quiet", None)
        if q is not None and isinstance(q, Quiet) and (<Quiet>q).take_c(pos, vessel):
            (<Quiet>q).taken += 1
            continue
        ok, got = gate.check(pos, vessel)
        if got:
            emit(got)
        if not ok:
            return gate
    tracker.on_position(pos)
    for det in detectors:
        q = getattr(det, "quiet", None)
        if q is not None and isinstance(q, Quiet) and (<Quiet>q).take_c(pos, vessel):
            (<Quiet>q).taken += 1
            continue
        raised = det.on_position(pos, vessel)
        if raised:
            emit(list(raised))
    return None


# -- dark gaps ------------------------------------------------------------------------------------------------


cdef class GapsQuiet(Quiet):
    """:meth:`maritime.detectors.gaps.GapDetector.on_position` for a vessel heard again with no gap open or to
    open: its last fix replaced by this one, its count up by one, its place at the back of the sweep's order."""

    cdef double min_gap_s
    cdef object min_before
    cdef dict state
    cdef object by_last

    def __init__(self, double min_gap_s, int min_positions_before, dict state, object by_last):
        """``state`` and ``by_last``: the detector's own (kept, never replaced)."""
        self.min_gap_s = min_gap_s
        self.min_before = min_positions_before
        self.state = state
        self.by_last = by_last

    cdef bint take_c(self, object pos, object vessel) except -1:
        state = self.state
        by_last = self.by_last
        if type(pos) is not Position:
            return False
        mmsi = <object>_get(pos, P_MMSI)
        cdef PyObject* found = PyDict_GetItem(state, mmsi)
        if found == NULL or type(<object>found) is not GapState:
            return False
        st = <object>found
        if _get(st, G_OPEN) != <PyObject*>FALSE:
            return False
        t = <object>_get(pos, P_T)
        last = <object>_get(st, G_T)
        err = <object>_get(pos, P_ERR)
        n = <object>_get(st, G_N)
        if not (PyFloat_CheckExact(t) and PyFloat_CheckExact(last) and PyFloat_CheckExact(err)
                and PyLong_CheckExact(n)):
            return False
        silent = PyFloat_AS_DOUBLE(t) - PyFloat_AS_DOUBLE(last)
        if silent - PyFloat_AS_DOUBLE(err) >= self.min_gap_s and n >= self.min_before \
                and _get(st, G_OUTAGE) != <PyObject*>TRUE:
            return False  # a silence the sweep never saw: the gap is raised and closed at once (Python)
        _set(st, G_T, t)
        _set(st, G_LAT, <object>_get(pos, P_LAT))
        _set(st, G_LON, <object>_get(pos, P_LON))
        _set(st, G_SOG, <object>_get(pos, P_SOG))
        _set(st, G_STATUS, <object>_get(pos, P_STATUS))
        _set(st, G_N, n + 1)
        _set(st, G_KIND, NONE)
        _set(st, G_ZONE, NONE)
        _set(st, G_KEY_T, NONE)
        _set(st, G_CTX, FALSE)
        _set(st, G_OPEN, FALSE)
        _set(st, G_OUTAGE, FALSE)
        _set(st, G_SUSPECT, FALSE)
        by_last[mmsi] = t
        by_last.move_to_end(mmsi)
        return True


# -- identity -------------------------------------------------------------------------------------------------


cdef class IdentityQuiet(Quiet):
    """:meth:`maritime.detectors.identity.IdentityGate.check` for a fix that fits the one track of its MMSI:
    no time uncertainty of its own, no second track or sharing episode, and no land check due or, when one is
    due, the fix surely at sea (outside the land region, or in a cell of the land index with no land in it:
    ``LandMask.on_land``'s first answers); the track moved to the fix."""

    cdef double min_jump_m
    cdef double slack_s
    cdef bint land
    cdef double kn_to_ms
    cdef bint has_region
    cdef double lon0, lat0, lon1, lat1
    cdef object land_cells, land_sub
    cdef double land_cell_deg, land_sub_deg
    cdef dict state
    cdef dict by_type
    cdef object default_limit

    def __init__(self, dict state, dict by_type, double default_limit, double min_jump_m, double slack_s, bint land,
                 double kn_to_ms, object region=None, object land_cells=None, double land_cell_deg=0.0,
                 object land_sub=None, double land_sub_deg=0.0):
        """``state`` the gate's own, ``by_type`` its speed limits by vessel category and ``default_limit`` the
        others' (kn); ``region`` (lon0, lat0, lon1, lat1) where land is judged (None: everywhere), ``land_cells``
        the land index's cells by (row, column, margin) with ``land_cell_deg`` degrees a side (None: every due
        check goes to Python)."""
        self.state = state
        self.by_type = by_type
        self.default_limit = default_limit
        self.min_jump_m = min_jump_m
        self.slack_s = slack_s
        self.land = land
        self.kn_to_ms = kn_to_ms
        self.has_region = region is not None
        if region is not None:
            self.lon0, self.lat0, self.lon1, self.lat1 = region
        self.land_cells = land_cells if type(land_cells) is dict and land_cell_deg > 0.0 else None
        self.land_cell_deg = land_cell_deg
        self.land_sub = land_sub if type(land_sub) is dict and land_sub_deg > 0.0 else None
        self.land_sub_deg = land_sub_deg

    cdef bint _surely_at_sea(self, double lat, double lon) except -1:
        """``LandMask.on_land`` is False, by its first answers: outside the region, no land in the cell, or none
        in the point's sub-cell (worked out already)."""
        if not lat >= -60.0 or self.land_cells is None:
            return False
        if self.has_region and not (self.lon0 <= lon <= self.lon1 and self.lat0 <= lat <= self.lat1):
            return True
        cdef double i = lat / self.land_cell_deg, j = lon / self.land_cell_deg
        if not (isfinite(i) and isfinite(j)):
            return False
        cdef PyObject* got = PyDict_GetItem(<dict>self.land_cells, (PyLong_FromDouble(floor(i)),
                                                                    PyLong_FromDouble(floor(j)), 0))
        if got == NULL or type(<object>got) is not tuple:
            return False
        if PyTuple_GET_SIZE(<object>got) == 0:
            return True
        if self.land_sub is None:
            return False
        i = lat / self.land_sub_deg
        j = lon / self.land_sub_deg
        if not (isfinite(i) and isfinite(j)):
            return False
        got = PyDict_GetItem(<dict>self.land_sub, (PyLong_FromDouble(floor(i)), PyLong_FromDouble(floor(j))))
        return got != NULL and <object>got is TRUE

    def surely_at_sea(self, double lat, double lon):
        """Whether a due land check is answered here: the point is surely not on land (for the tests)."""
        return self._surely_at_sea(lat, lon)

    cdef bint take_c(self, object pos, object vessel) except -1:
        if type(pos) is not Position:
            return False
        cdef PyObject* found = PyDict_GetItem(self.state, <object>_get(pos, P_MMSI))
        if found == NULL or type(<object>found) is not IdentityState:
            return False
        st = <object>found
        t = <object>_get(pos, P_T)
        lat = <object>_get(pos, P_LAT)
        lon = <object>_get(pos, P_LON)
        e_own = <object>_get(pos, P_ERR)
        if not (PyFloat_CheckExact(t) and PyFloat_CheckExact(lat) and PyFloat_CheckExact(lon)
                and PyFloat_CheckExact(e_own)) or PyFloat_AS_DOUBLE(e_own) > 0.0:
            return False
        cdef double ts = PyFloat_AS_DOUBLE(t), la = PyFloat_AS_DOUBLE(lat), lo = PyFloat_AS_DOUBLE(lon)
        cdef PyObject* check
        cdef bint checked = False
        if self.land and _get(st, I_LAND_S) == <PyObject*>NONE:
            # the land check is due unless the last one was under 10 min and 5 km ago (IdentityGate._land_due)
            check = _get(st, I_LAND_CHECK)
            if check == <PyObject*>NONE or type(<object>check) is not tuple or PyTuple_GET_SIZE(<object>check) != 3:
                return False
            c0 = <object>PyTuple_GET_ITEM(<object>check, 0)
            c1 = <object>PyTuple_GET_ITEM(<object>check, 1)
            c2 = <object>PyTuple_GET_ITEM(<object>check, 2)
            if not (PyFloat_CheckExact(c0) and PyFloat_CheckExact(c1) and PyFloat_CheckExact(c2)):
                return False
            if not (ts - PyFloat_AS_DOUBLE(c0) < 600
                    and _fast_distance_m(PyFloat_AS_DOUBLE(c1), PyFloat_AS_DOUBLE(c2), la, lo) < 5000):
                # due: done here only when the fix is surely at sea (its state keeps a new tuple: the Struct
                # must be one the collector follows, as msgspec keeps one holding a list)
                if not (PyObject_GC_IsTracked(st) and self._surely_at_sea(la, lo)):
                    return False
                checked = True
        uncertain = <object>_get(st, I_UNCERTAIN)
        if not PyLong_CheckExact(uncertain):
            return False
        err = ZERO  # IdentityGate._time_err: the largest uncertainty once the vessel has sent two uncertain reports
        if uncertain >= 2:
            err = <object>_get(st, I_ERR)
            if not PyFloat_CheckExact(err):
                return False
        if _get(st, I_SHARED) != <PyObject*>NONE:
            return False
        tracks = <object>_get(st, I_TRACKS)
        if type(tracks) is not list or PyList_GET_SIZE(tracks) != 1:
            return False
        tr = <object>PyList_GET_ITEM(tracks, 0)
        if type(tr) is not Track:
            return False
        tt = <object>_get(tr, T_T)
        tlat = <object>_get(tr, T_LAT)
        tlon = <object>_get(tr, T_LON)
        terr = <object>_get(tr, T_ERR)
        tn = <object>_get(tr, T_N)
        if not (PyFloat_CheckExact(tt) and PyFloat_CheckExact(tlat) and PyFloat_CheckExact(tlon)
                and PyFloat_CheckExact(terr) and PyLong_CheckExact(tn)):
            return False
        cdef double limit = self.by_type.get(_category(vessel), self.default_limit)
        cdef double dt = ts - PyFloat_AS_DOUBLE(tt)
        cdef double e = PyFloat_AS_DOUBLE(err) if PyFloat_AS_DOUBLE(err) > PyFloat_AS_DOUBLE(terr) \
            else PyFloat_AS_DOUBLE(terr)
        cdef double reach = self.min_jump_m + limit * self.kn_to_ms * ((dt if dt > 0.0 else -dt) + self.slack_s + e)
        if not _fast_distance_m(PyFloat_AS_DOUBLE(tlat), PyFloat_AS_DOUBLE(tlon), la, lo) <= reach:
            return False
        if checked:
            _set(st, I_LAND_CHECK, (t, lat, lon))
        _set(tr, T_T, t)
        _set(tr, T_LAT, lat)
        _set(tr, T_LON, lon)
        _set(tr, T_ERR, err)
        _set(tr, T_N, tn + 1)
        return True


# -- rendezvous -----------------------------------------------------------------------------------------------


cdef inline double _wrap_lon(double lon):
    """:func:`maritime.geo.wrap_lon`."""
    if -180.0 <= lon < 180.0:
        return lon
    return _pymod(lon + 180.0, 360.0) - 180.0


cdef inline bint _floats(tuple t, Py_ssize_t a, Py_ssize_t b):
    """Whether items ``a`` to ``b - 1`` of ``t`` are floats."""
    cdef Py_ssize_t i
    for i in range(a, b):
        if not PyFloat_CheckExact(<object>PyTuple_GET_ITEM(t, i)):
            return False
    return True


cdef inline double _f(object o):
    return PyFloat_AS_DOUBLE(o)


cdef class RendezvousQuiet(Quiet):
    """:meth:`maritime.detectors.rendezvous.RendezvousDetector.on_position` when nothing but numbers change:

    - a vessel under way (not slow, or no speed given) that was not in the grid of slow vessels, and whose pairs
      have all parted already: its last fix kept, a rest in progress (learned anchorages) ended;
    - a slow vessel whose comparisons with the slow vessels around it (the grid's nine cells) only add to
      closenesses already going on (no closeness begins or resumes, none reaches the rendezvous duration
      unless it was judged ordinary life when it did, none falls due for an update) and part no pair: those closenesses updated, its place in the grid moved, its rest followed
      (``LearnedAnchorages.observe``, in Python).

    Everything is decided before anything is touched: a position that would do more goes to Python whole."""

    cdef double max_sog_kn
    cdef double rest_max_sog_kn, rest_radius_m, rest_s
    cdef bint learned
    cdef dict prev, where, pairs, episodes, cells, elsewhere
    cdef object resting, observe, excluded
    cdef double cell_deg, max_gap_s, max_d, apart_m, merge_s, min_dur_s, reach_ms
    cdef long ncols

    def __init__(self, object det, double kn_to_ms):
        """On the detector's own grid (``_cells``, ``_where``, ``_prev``, ``_elsewhere``), pairs and episodes, and
        its learned anchorages (``resting``, ``observe``) when it has them."""
        self.max_sog_kn = det.p.max_sog_kn
        self.prev, self.where, self.pairs, self.episodes = det._prev, det._where, det._pairs, det.state
        self.cells, self.elsewhere = det._cells, det._elsewhere
        learned = det.learned
        self.learned = learned is not None
        self.resting = learned.resting if learned is not None else None
        self.observe = learned.observe if learned is not None else None
        self.rest_max_sog_kn = learned.s.rest_max_sog_kn if learned is not None else 0.0
        self.rest_radius_m = learned.s.rest_radius_m if learned is not None else 0.0
        self.rest_s = learned.rest_s if learned is not None else 0.0
        self.excluded = det._rest_excluded
        self.cell_deg = det.cell_deg
        self.ncols = det._ncols
        self.max_gap_s = det.max_gap_s
        self.max_d = det.p.max_distance_m
        self.apart_m = det.apart_m
        self.merge_s = det.merge_s
        self.min_dur_s = det.min_dur_s
        self.reach_ms = det.p.max_sog_kn * kn_to_ms  # RendezvousDetector._reach_m's factor

    cdef bint take_c(self, object pos, object vessel) except -1:
        prev, where, pairs, episodes, resting = self.prev, self.where, self.pairs, self.episodes, self.resting
        if type(pos) is not Position:
            return False
        sog = <object>_get(pos, P_SOG)
        cdef double knots
        if sog is not None:
            if PyFloat_CheckExact(sog):
                knots = PyFloat_AS_DOUBLE(sog)
            elif PyLong_CheckExact(sog) and -1000 < sog < 1000:
                knots = PyLong_AsDouble(sog)  # exact: a table's whole knots compare as Python compares them
            else:
                return False
            if knots < self.max_sog_kn:
                return self._slow(pos, sog, knots)
            if self.learned and knots < self.rest_max_sog_kn:
                return False  # a rest to follow (never, while the rest speed is under the meeting speed)
        mmsi = <object>_get(pos, P_MMSI)
        if PyDict_GetItem(where, mmsi) != NULL:
            return False  # it was slow until now: out of the grid, its pairs judged (Python)
        cdef PyObject* keys = PyDict_GetItem(pairs, mmsi)
        cdef PyObject* ep
        cdef PyObject* last
        if keys != NULL and <object>keys:
            # its pairs are parted now (RendezvousDetector._apart_all), unless each has parted already or was
            # last together after this fix
            if type(<object>keys) is not set:
                return False
            t = <object>_get(pos, P_T)
            if not PyFloat_CheckExact(t):
                return False
            for key in <set>keys:
                if self._would_part(key, PyFloat_AS_DOUBLE(t)):
                    return False
        if self.learned:
            if type(resting) is not dict:
                return False
            (<dict>resting).pop(mmsi, None)
        prev[mmsi] = (<object>_get(pos, P_T), <object>_get(pos, P_LAT), <object>_get(pos, P_LON))
        return True

    cdef bint _would_part(self, object key, double t) except -1:
        """Whether ``RendezvousDetector._apart(key, t)`` would change anything (True also when unsure)."""
        cdef PyObject* ep = PyDict_GetItem(self.episodes, key)
        if ep == NULL:
            return False
        if type(<object>ep) is not Meeting:
            return True
        if _get(<object>ep, M_PARTED) != <PyObject*>NONE:
            return False
        last = <object>_get(<object>ep, M_LAST)
        return not PyFloat_CheckExact(last) or not t < PyFloat_AS_DOUBLE(last)

    cdef long _col(self, long j):
        """``RendezvousDetector._col``: a grid column brought round at 180°."""
        cdef long n = self.ncols, half = self.ncols // 2
        if -half <= j < n - half:
            return j
        return ((j + half) % n + n) % n - half

    cdef bint _slow(self, object pos, object sog, double knots) except -1:
        """The slow vessel's comparisons, decided, then applied (see the class)."""
        where, episodes, cells, elsewhere = self.where, self.episodes, self.cells, self.elsewhere
        mmsi = <object>_get(pos, P_MMSI)
        t_o = <object>_get(pos, P_T)
        lat_o = <object>_get(pos, P_LAT)
        lon_o = <object>_get(pos, P_LON)
        if not (PyFloat_CheckExact(t_o) and PyFloat_CheckExact(lat_o) and PyFloat_CheckExact(lon_o)):
            return False
        if self.learned and (type(self.resting) is not dict or knots < self.rest_max_sog_kn and self.observe is None):
            return False
        cdef double t = _f(t_o), lat = _f(lat_o), lon = _f(lon_o)
        cdef double ci_d = lat / self.cell_deg, cj_d = _wrap_lon(lon) / self.cell_deg
        if not (isfinite(ci_d) and isfinite(cj_d)) or not (-1e9 < ci_d < 1e9 and -1e9 < cj_d < 1e9):
            return False
        cdef long ci = <long>floor(ci_d), cj = <long>floor(cj_d)
        # its last fix, for the comparisons at the partner's time
        cdef bint has_prev = False
        cdef double p_t = 0.0, p_lat = 0.0, p_lon = 0.0
        cdef PyObject* got = PyDict_GetItem(self.prev, mmsi)
        if got != NULL:
            if type(<object>got) is not tuple or PyTuple_GET_SIZE(<object>got) != 3 or not _floats(<tuple>got, 0, 3):
                return False
            has_prev = True
            p_t = _f(<object>PyTuple_GET_ITEM(<object>got, 0))
            p_lat = _f(<object>PyTuple_GET_ITEM(<object>got, 1))
            p_lon = _f(<object>PyTuple_GET_ITEM(<object>got, 2))
        cdef double own_elsewhere = -1.0
        got = PyDict_GetItem(elsewhere, mmsi)
        if got != NULL:
            if not PyFloat_CheckExact(<object>got):
                return False
            own_elsewhere = _f(<object>got)
        cdef list closes = []
        cdef set compared = set()
        cdef int di, dj
        cdef double tb, lat_b, lon_b, lat_a, lon_a, t_cmp, d, f, other_elsewhere, dt
        cdef PyObject* w
        cdef PyObject* ep
        for di in range(-1, 2):
            for dj in range(-1, 2):
                got = PyDict_GetItem(cells, (ci + di, self._col(cj + dj)))
                if got == NULL or not <object>got:
                    continue
                if type(<object>got) is not set:
                    return False
                for other in <set>got:
                    if other == mmsi:
                        continue  # (taken out of its old cell before the comparisons)
                    w = PyDict_GetItem(where, other)
                    if w == NULL or type(<object>w) is not tuple or PyTuple_GET_SIZE(<object>w) != 5 \
                            or not _floats(<tuple>w, 1, 4):
                        return False
                    tb = _f(<object>PyTuple_GET_ITEM(<object>w, 1))
                    lat_b = _f(<object>PyTuple_GET_ITEM(<object>w, 2))
                    lon_b = _f(<object>PyTuple_GET_ITEM(<object>w, 3))
                    other_elsewhere = -1.0
                    got = PyDict_GetItem(elsewhere, other)
                    if got != NULL:
                        if not PyFloat_CheckExact(<object>got):
                            return False
                        other_elsewhere = _f(<object>got)
                    if t - tb > self.max_gap_s or other_elsewhere > tb:
                        continue
                    if has_prev and p_t <= tb <= t and t - p_t <= self.max_gap_s \
                            and not (p_t < own_elsewhere < t):
                        # maritime.geo.interpolate(prev lat, lon, t; this lat, lon, t; tb)
                        if t == p_t:
                            lat_a, lon_a = lat, lon
                        else:
                            f = (tb - p_t) / (t - p_t)
                            lat_a = p_lat + (lat - p_lat) * f
                            lon_a = _wrap_lon(p_lon + _lon_delta(p_lon, lon) * f)
                        t_cmp = tb
                    else:
                        lat_a, lon_a, t_cmp = lat, lon, t
                    d = _fast_distance_m(lat_a, lon_a, lat_b, lon_b)
                    key = (mmsi, other) if mmsi < other else (other, mmsi)
                    compared.add(other)
                    if d <= self.max_d:
                        if not self._adds_to(key, t_cmp, closes, d, (lat_a + lat_b) / 2,
                                             _wrap_lon(lon_a + _lon_delta(lon_a, lon_b) / 2)):
                            return False
                    else:
                        dt = t_cmp - tb
                        if d - self.reach_ms * (dt if dt > 0 else -dt) > self.apart_m \
                                and self._would_part(key, t_cmp):
                            return False
        # RendezvousDetector._apart_from_far: partners the grid did not offer, clearly far away
        got = PyDict_GetItem(self.pairs, mmsi)
        if got != NULL and <object>got:
            if type(<object>got) is not set:
                return False
            for key in <set>got:
                if type(key) is not tuple or PyTuple_GET_SIZE(key) != 2:
                    return False
                other = key[1] if key[0] == mmsi else key[0]
                if other in compared:
                    continue
                w = PyDict_GetItem(where, other)
                if w == NULL:
                    continue
                if type(<object>w) is not tuple or PyTuple_GET_SIZE(<object>w) != 5 or not _floats(<tuple>w, 1, 4):
                    return False
                dt = t - _f(<object>PyTuple_GET_ITEM(<object>w, 1))
                if _fast_distance_m(lat, lon, _f(<object>PyTuple_GET_ITEM(<object>w, 2)),
                                    _f(<object>PyTuple_GET_ITEM(<object>w, 3))) \
                        - self.reach_ms * (dt if dt > 0 else -dt) > self.apart_m and self._would_part(key, t):
                    return False
        # decided: applied in the detector's order
        if self.learned:
            if knots < self.rest_max_sog_kn:
                if not self._rest_goes_on(mmsi, t_o, t, lat, lon):
                    self.observe(pos, self.excluded)
            else:
                (<dict>self.resting).pop(mmsi, None)
        self.prev[mmsi] = (t_o, lat_o, lon_o)
        got = PyDict_GetItem(where, mmsi)
        if got != NULL:
            old_cell = (<object>got)[0]
            where.pop(mmsi)
            members = cells.get(old_cell)
            if members is not None:
                members.discard(mmsi)
                if not members:
                    del cells[old_cell]
        cdef Py_ssize_t k
        for k in range(0, len(closes), 5):
            self._add(closes[k], closes[k + 1], closes[k + 2], closes[k + 3], closes[k + 4], sog)
        cell = (ci, cj)
        where[mmsi] = (cell, t_o, lat_o, lon_o, sog)
        members = cells.get(cell)
        if members is None:
            members = cells[cell] = set()
        members.add(mmsi)
        return True

    cdef bint _rest_goes_on(self, object mmsi, object t_o, double t, double lat, double lon) except -1:
        """``LearnedAnchorages.observe`` of a slow fix that goes on with its vessel's rest (within the rest's radius
        and time) without making it count now: the rest's last fix and sums moved, True. False, with nothing
        touched, for anything else (a new rest, one broken off, one to be counted: Python)."""
        cdef PyObject* got = PyDict_GetItem(<dict>self.resting, mmsi)
        if got == NULL or type(<object>got) is not Rest:
            return False
        r = <object>got
        for field in (R_T0, R_LAT0, R_LON0, R_LAST, R_SUM_LAT, R_SUM_LON):
            if not PyFloat_CheckExact(<object>_get(r, field)):
                return False
        n = <object>_get(r, R_N)
        counted = <object>_get(r, R_COUNTED)
        if not PyLong_CheckExact(n) or not (counted is TRUE or counted is FALSE):
            return False
        if _fast_distance_m(_f(<object>_get(r, R_LAT0)), _f(<object>_get(r, R_LON0)), lat, lon) > self.rest_radius_m \
                or t - _f(<object>_get(r, R_LAST)) > self.rest_s:
            return False  # the rest is broken off: a new one begins (Python)
        if counted is FALSE and t - _f(<object>_get(r, R_T0)) >= self.rest_s:
            return False  # long enough to count (Python: whether it is excluded, and the cell remembered)
        _set(r, R_LAST, t_o)
        _set(r, R_SUM_LAT, _f(<object>_get(r, R_SUM_LAT)) + lat)
        _set(r, R_SUM_LON, _f(<object>_get(r, R_SUM_LON)) + lon)
        _set(r, R_N, n + 1)
        return True

    cdef bint _adds_to(self, object key, double t, list closes, double d, double lat, double lon) except -1:
        """Whether ``RendezvousDetector._close`` would only add to a closeness going on (no new or resumed one,
        none reaching the duration or due an update); if so, what to add is put on ``closes``."""
        cdef PyObject* ep = PyDict_GetItem(self.episodes, key)
        if ep == NULL or type(<object>ep) is not Meeting:
            return False
        e = <object>ep
        if _get(e, M_PARTED) != <PyObject*>NONE:
            return False
        last = <object>_get(e, M_LAST)
        run_first = <object>_get(e, M_RUN_FIRST)
        if not PyFloat_CheckExact(last):
            return False
        if t - _f(last) > self.merge_s:
            return False
        cdef double new_last = _f(last) if not t > _f(last) else t
        if run_first is None:
            run_first = <object>_get(e, M_FIRST)
        if not PyFloat_CheckExact(run_first):
            return False
        alerted = <object>_get(e, M_ALERTED)
        if alerted is FALSE:
            if new_last - _f(run_first) >= self.min_dur_s:
                sup = <object>_get(e, M_SUPPRESSED)
                if sup is None or not sup:
                    return False  # the duration reached: judged (Python)
                # judged ordinary life when it reached the duration (a reason): nothing more to raise
        elif alerted is TRUE:
            nxt = <object>_get(e, M_NEXT_UPDATE)
            if nxt is not None and (not PyFloat_CheckExact(nxt) or t >= _f(nxt)):
                return False  # an update due (Python)
        else:
            return False
        for field in (M_MIN_D, M_SUM_LAT, M_SUM_LON, M_LON0):
            if not PyFloat_CheckExact(<object>_get(e, field)):
                return False
        if not PyLong_CheckExact(<object>_get(e, M_N)) or type(<object>_get(e, M_DISTS)) is not list \
                or type(<object>_get(e, M_SOGS)) is not list:
            return False
        closes.extend((e, t, d, lat, lon))
        return True

    cdef void _add(self, object e, double t, double d, double lat, double lon, object sog) except *:
        """``RendezvousDetector._close`` on a closeness going on: what the fix adds to it."""
        cdef double last = _f(<object>_get(e, M_LAST))
        if t > last:
            _set(e, M_LAST, t)
        if d < _f(<object>_get(e, M_MIN_D)):
            _set(e, M_MIN_D, d)
        _set(e, M_N, <object>_get(e, M_N) + 1)
        _set(e, M_SUM_LAT, _f(<object>_get(e, M_SUM_LAT)) + lat)
        cdef double lon0 = _f(<object>_get(e, M_LON0))
        _set(e, M_SUM_LON, _f(<object>_get(e, M_SUM_LON)) + (lon0 + _lon_delta(lon0, lon)))
        dists = <list>_get(e, M_DISTS)
        if len(dists) < 2000:
            dists.append(d)
        sogs = <list>_get(e, M_SOGS)
        if sog is not None and len(sogs) < 2000:
            sogs.append(sog)


# -- geofences ------------------------------------------------------------------------------------------------


cdef bint _zones_at(dict cells, double cell_deg, Py_ssize_t n, double fine_deg, double la, double lo,
                    PyObject** inside, PyObject** holds) except -1:
    """The zones of a :class:`~maritime.zones.index.ZoneIndex` (its ``cells`` of ``cell_deg``, ``n`` × ``n``
    sub-cells of ``fine_deg`` to a side of a crossed one) holding the point, as ``containing_idx`` finds them,
    when its cells say so without testing the point: True, with the indices in the cell's ``inside`` and the
    sub-cell's ``holds`` (borrowed from ``cells``). False when the cell or its sub-cells are not worked out yet,
    or a boundary comes near the point's sub-cell."""
    cdef double i = floor(la / cell_deg), j = floor(lo / cell_deg)
    if not (isfinite(i) and isfinite(j)):
        return False
    key = (PyLong_FromDouble(i), PyLong_FromDouble(j))  # ZoneIndex.containing_idx's key
    cdef PyObject* got = PyDict_GetItem(cells, key)
    if got == NULL or type(<object>got) is not tuple or PyTuple_GET_SIZE(<object>got) != 3:
        return False
    cdef PyObject* within = PyTuple_GET_ITEM(<object>got, 0)
    edge = <object>PyTuple_GET_ITEM(<object>got, 1)
    if type(<object>within) is not tuple or type(edge) is not tuple:
        return False
    cdef PyObject* held = <PyObject*>EMPTY
    cdef double r, c
    if edge:  # a crossed cell: the point's sub-cell, when no boundary comes near it
        sub = <object>PyTuple_GET_ITEM(<object>got, 2)
        r = floor(la / fine_deg) - i * n
        c = floor(lo / fine_deg) - j * n
        if type(sub) is not tuple or PyTuple_GET_SIZE(sub) != n * n or not (0 <= r < n and 0 <= c < n):
            return False
        pair = <object>PyTuple_GET_ITEM(sub, <Py_ssize_t>r * n + <Py_ssize_t>c)
        if type(pair) is not tuple or PyTuple_GET_SIZE(pair) != 2:
            return False
        held = PyTuple_GET_ITEM(pair, 0)
        near = <object>PyTuple_GET_ITEM(pair, 1)
        if type(<object>held) is not tuple or type(near) is not tuple or near:
            return False
    inside[0] = within
    holds[0] = held
    return True


cdef class GeofenceQuiet(Quiet):
    """:meth:`maritime.detectors.geofence.GeofenceDetector.on_position` for a fix that changes nothing: it falls in
    a cell of the zone index that no zone boundary crosses, or in a sub-cell of a crossed cell that no boundary
    comes near (a cell already worked out; a new one, or a sub-cell a boundary comes near, is left to Python),
    and the vessel is inside exactly the zones it was already visiting, none of them with an exit pending, an
    entry still to judge, a dwell falling due or a speed limit to check."""

    cdef double cell_deg, fine_deg
    cdef Py_ssize_t fine
    cdef list ids, dwell_s, speed, types
    cdef bint unique
    cdef dict state, cells

    def __init__(self, dict state, dict cells, double cell_deg, Py_ssize_t fine, list ids, list dwell_s, list speed,
                 list types, bint unique):
        """The detector's own ``state`` and its zone index's ``cells`` (with ``fine`` sub-cells to a side of a
        crossed one); ``ids`` of the ruled zones by index, their dwell limits (s; None without a dwell rule),
        whether they have a speed rule, their ``vessel_types`` (None: every vessel), and whether the ids are
        unique."""
        self.state = state
        self.cells = cells
        self.cell_deg = cell_deg
        self.fine = fine
        self.fine_deg = cell_deg / <double>fine  # ZoneIndex.containing_idx's sub-cell size, as it computes it
        self.ids = ids
        self.dwell_s = dwell_s
        self.speed = speed
        self.types = types
        self.unique = unique

    cdef bint take_c(self, object pos, object vessel) except -1:
        state, cells = self.state, self.cells
        if type(pos) is not Position or not self.unique:
            return False
        cdef PyObject* found = PyDict_GetItem(state, <object>_get(pos, P_MMSI))
        if found == NULL or type(<object>found) is not dict:
            return False
        visits = <dict>found
        lat = <object>_get(pos, P_LAT)
        lon = <object>_get(pos, P_LON)
        t = <object>_get(pos, P_T)
        if not (PyFloat_CheckExact(lat) and PyFloat_CheckExact(lon) and PyFloat_CheckExact(t)):
            return False
        cdef PyObject* within
        cdef PyObject* held
        if not _zones_at(cells, self.cell_deg, self.fine, self.fine_deg, PyFloat_AS_DOUBLE(lat), PyFloat_AS_DOUBLE(lon),
                         &within, &held):
            return False
        inside = <tuple>within
        holds = <tuple>held
        if PyTuple_GET_SIZE(inside) + PyTuple_GET_SIZE(holds) != len(visits):
            return False  # a zone entered or left (with unique ids, one visit per zone it is in)
        sog = <object>_get(pos, P_SOG)
        category = _category(vessel)
        return self._visits_quiet(inside, visits, t, sog, category) and \
            self._visits_quiet(holds, visits, t, sog, category)

    cdef bint _visits_quiet(self, tuple zones, dict visits, object t, object sog, object category) except -1:
        """Whether the visits to ``zones`` (indices) go on with nothing to judge."""
        cdef Py_ssize_t k, z
        cdef PyObject* v
        cdef PyObject* limit
        for k in range(PyTuple_GET_SIZE(zones)):
            zi = <object>PyTuple_GET_ITEM(zones, k)
            if not PyLong_CheckExact(zi):
                return False
            z = zi
            if not 0 <= z < len(self.ids):
                return False
            v = PyDict_GetItem(visits, self.ids[z])
            if v == NULL or type(<object>v) is not Visit:
                return False  # an entry
            if _get(<object>v, V_OUT_SINCE) != <PyObject*>NONE:
                return False  # back in before the exit was sure
            if _get(<object>v, V_TYPED) != <PyObject*>TRUE and category != "unknown":
                return False  # its type is known now: the entry is judged
            kinds = self.types[z]
            if kinds is not None and category not in kinds:
                continue  # the zone's rules are not for this vessel
            limit = <PyObject*>self.dwell_s[z]
            if limit != <PyObject*>NONE and _get(<object>v, V_DWELL) != <PyObject*>TRUE:
                since = <object>_get(<object>v, V_SINCE)
                if not PyFloat_CheckExact(since) or not PyFloat_CheckExact(<object>limit):
                    return False
                if PyFloat_AS_DOUBLE(t) - PyFloat_AS_DOUBLE(since) >= PyFloat_AS_DOUBLE(<object>limit):
                    return False  # the dwell falls due
            if self.speed[z] is True and sog is not None:
                return False  # a speed rule to judge
        return True


# -- loitering ------------------------------------------------------------------------------------------------


cdef class LoiteringQuiet(Quiet):
    """:meth:`maritime.detectors.loitering.LoiteringDetector.on_position` for a vessel in no slow episode that
    does not begin one (under way, or no speed given; at anchor or moored; of a category never judged), and for a
    slow episode that goes on with nothing to judge: still slow, not excused, within the episode's radius, and
    short of the duration (or in a harbour, or alerted with no update due). A new episode, an episode's end, and
    a judgement are left to Python."""

    cdef double max_sog_kn, radius_m, anchored_radius_m, min_dur_s
    cdef object excluded
    cdef dict state

    def __init__(self, dict state, double max_sog_kn, object exclude_categories, double radius_m=0.0,
                 double anchored_radius_m=0.0, double min_dur_s=0.0):
        """The detector's own ``state``; its speed (kn), categories left out, the episode's radius and the anchored
        radius (m) and the duration that raises it (s)."""
        self.state = state
        self.max_sog_kn = max_sog_kn
        self.excluded = frozenset(exclude_categories)
        self.radius_m = radius_m
        self.anchored_radius_m = anchored_radius_m
        self.min_dur_s = min_dur_s

    cdef bint take_c(self, object pos, object vessel) except -1:
        if type(pos) is not Position:
            return False
        cdef PyObject* ep = PyDict_GetItem(self.state, <object>_get(pos, P_MMSI))
        if ep != NULL:
            return self._goes_on(<object>ep, pos, vessel)
        sog = <object>_get(pos, P_SOG)
        if sog is None:
            return True  # not slow
        if not PyFloat_CheckExact(sog):
            return False
        if not PyFloat_AS_DOUBLE(sog) < self.max_sog_kn:
            return True
        status = <object>_get(pos, P_STATUS)
        return status is not None and status in STATIONARY_STATUSES or _category(vessel) in self.excluded

    cdef bint _goes_on(self, object ep, object pos, object vessel) except -1:
        """The episode ``ep`` goes on with this fix and nothing to judge: its sums, last fix, farthest distance,
        top speed and status seen moved, True. False with nothing touched otherwise."""
        if type(ep) is not Loiter or self.radius_m <= 0.0:
            return False
        sog = <object>_get(pos, P_SOG)
        t_o = <object>_get(pos, P_T)
        lat_o = <object>_get(pos, P_LAT)
        lon_o = <object>_get(pos, P_LON)
        if sog is None or not (PyFloat_CheckExact(sog) and PyFloat_CheckExact(t_o) and PyFloat_CheckExact(lat_o)
                               and PyFloat_CheckExact(lon_o)):
            return False
        cdef double knots = PyFloat_AS_DOUBLE(sog)
        if not knots < self.max_sog_kn:
            return False  # not slow: the episode ends (Python)
        status = <object>_get(pos, P_STATUS)
        if status is not None and status in STATIONARY_STATUSES or _category(vessel) in self.excluded:
            return False  # excused: the episode ends (Python)
        for field in (L_START, L_LAST, L_LAT0, L_LON0, L_SUM_LAT, L_SUM_LON, L_MAX_SOG, L_MAX_D):
            if not PyFloat_CheckExact(<object>_get(ep, field)):
                return False
        n = <object>_get(ep, L_N)
        alerted = <object>_get(ep, L_ALERTED)
        harbour = <object>_get(ep, L_HARBOUR)
        nxt = <object>_get(ep, L_NEXT_UPDATE)
        if not PyLong_CheckExact(n) or not (alerted is TRUE or alerted is FALSE) \
                or not (harbour is TRUE or harbour is FALSE) or not (nxt is None or PyFloat_CheckExact(nxt)):
            return False
        cdef double t = PyFloat_AS_DOUBLE(t_o), lat = PyFloat_AS_DOUBLE(lat_o), lon = PyFloat_AS_DOUBLE(lon_o)
        cdef double d = _fast_distance_m(_f(<object>_get(ep, L_LAT0)), _f(<object>_get(ep, L_LON0)), lat, lon)
        if d > self.radius_m:
            return False  # moved off: the episode ends (Python)
        if alerted is FALSE:
            if harbour is FALSE and t - _f(<object>_get(ep, L_START)) >= self.min_dur_s:
                return False  # long enough to judge (Python)
        elif nxt is not None and t >= PyFloat_AS_DOUBLE(nxt):
            return False  # an update due (Python)
        # decided: LoiteringDetector.on_position's updates, in its order
        cdef double max_d = _f(<object>_get(ep, L_MAX_D))
        if max_d <= self.anchored_radius_m and d > max_d:
            _set(ep, L_MAX_D, d)
        if status is not None:
            _set(ep, L_STATUS_SEEN, TRUE)
        _set(ep, L_LAST, t_o)
        _set(ep, L_N, n + 1)
        _set(ep, L_SUM_LAT, _f(<object>_get(ep, L_SUM_LAT)) + lat)
        _set(ep, L_SUM_LON, _f(<object>_get(ep, L_SUM_LON)) + lon)
        # max(ep.max_sog, pos.sog_kn or 0.0): the first unless the second is greater
        speed = sog if knots != 0.0 else ZERO
        if PyFloat_AS_DOUBLE(speed) > _f(<object>_get(ep, L_MAX_SOG)):
            _set(ep, L_MAX_SOG, speed)
        return True


# -- voyages --------------------------------------------------------------------------------------------------


cdef class VoyageQuiet(Quiet):
    """:meth:`maritime.detectors.voyage.VoyageDetector.on_position` between a vessel's port look-ups, and at a
    look-up that changes nothing but the time of the next one, the last port it came near and that it was seen:

    - in a cell with no port near (an already worked-out cell of the detector's grid) for a vessel not in a port;
    - near ports, where the index of port zones says without testing the point which hold it, for a vessel in
      none of them and not in a port, or in the port it was in, its call there judged or not to be judged yet
      (under way).

    Entering or leaving a port, and a call to judge, are left to Python."""

    cdef object check_every_s
    cdef double cell_deg, near_m, call_max_sog, port_cell_deg, fine_deg
    cdef Py_ssize_t fine
    cdef dict state, cells, port_cells

    def __init__(self, dict state, dict cells, double check_every_s, double cell_deg, dict port_cells,
                 double port_cell_deg, Py_ssize_t fine, double near_m, double call_max_sog):
        """The detector's own ``state`` and its cells of ports near (each cell's port zones, with their port and
        their index among the port zones); the index of port zones (its ``port_cells`` of ``port_cell_deg``,
        ``fine`` sub-cells to a side); ``near_m`` (m) and the speed at or under which a vessel in a port is
        calling there (kn)."""
        self.state = state
        self.cells = cells
        self.check_every_s = check_every_s
        self.cell_deg = cell_deg
        self.port_cells = port_cells
        self.port_cell_deg = port_cell_deg
        self.fine = fine
        self.fine_deg = port_cell_deg / <double>fine  # ZoneIndex.containing_idx's sub-cell size
        self.near_m = near_m
        self.call_max_sog = call_max_sog

    cdef bint take_c(self, object pos, object vessel) except -1:
        state, cells = self.state, self.cells
        if type(pos) is not Position:
            return False
        cdef PyObject* found = PyDict_GetItem(state, <object>_get(pos, P_MMSI))
        if found == NULL or type(<object>found) is not VoyageState:
            return False
        st = <object>found
        t = <object>_get(pos, P_T)
        nxt = <object>_get(st, Y_NEXT)
        if not (PyFloat_CheckExact(t) and PyFloat_CheckExact(nxt)):
            return False
        if PyFloat_AS_DOUBLE(t) < PyFloat_AS_DOUBLE(nxt):
            return True  # not due: nothing changes
        if not PyObject_GC_IsTracked(st):
            return False
        lat = <object>_get(pos, P_LAT)
        lon = <object>_get(pos, P_LON)
        if not (PyFloat_CheckExact(lat) and PyFloat_CheckExact(lon)):
            return False
        cdef double la = PyFloat_AS_DOUBLE(lat), lo = PyFloat_AS_DOUBLE(lon)
        cdef double i = la / self.cell_deg, j = lo / self.cell_deg
        if not (isfinite(i) and isfinite(j)):
            return False
        cdef PyObject* got = PyDict_GetItem(cells, (PyLong_FromDouble(floor(i)), PyLong_FromDouble(floor(j))))
        if got == NULL or type(<object>got) is not tuple:
            return False  # a cell not worked out yet
        in_port = <object>_get(st, Y_IN_PORT)
        cands = <tuple>got
        recent = <object>_get(st, Y_RECENT)
        if PyTuple_GET_SIZE(cands):
            # VoyageDetector.on_position's look-up: the port zone holding the point, the last port near it
            zone = self._port_zone(cands, la, lo)
            if zone is False:
                return False  # the port zones' cells do not say
            for cand in cands:
                if type(cand) is not tuple or PyTuple_GET_SIZE(cand) != 3:
                    return False
                port = <object>PyTuple_GET_ITEM(cand, 1)
                if port is None:
                    continue
                p_lat = getattr(port, "lat")
                p_lon = getattr(port, "lon")
                if p_lat is None or p_lon is None:
                    continue
                if not (PyFloat_CheckExact(p_lat) and PyFloat_CheckExact(p_lon)):
                    return False
                if _fast_distance_m(la, lo, PyFloat_AS_DOUBLE(p_lat), PyFloat_AS_DOUBLE(p_lon)) <= self.near_m:
                    recent = getattr(port, "id")
            if zone is None:
                if in_port is not None:
                    return False  # it left its port (Python)
            else:
                zid = getattr(zone, "id")
                if type(in_port) is not str or type(zid) is not str or in_port != zid:
                    return False  # it entered a port, or another (Python)
                called = <object>_get(st, Y_CALLED)
                if called is FALSE:
                    sog = <object>_get(pos, P_SOG)
                    if sog is not None:
                        if not PyFloat_CheckExact(sog):
                            return False
                        if PyFloat_AS_DOUBLE(sog) <= self.call_max_sog:
                            return False  # slow in port: its call is judged (Python)
                elif called is not TRUE:
                    return False
        elif in_port is not None:
            return False  # it left its port (Python)
        _set(st, Y_NEXT, t + self.check_every_s)
        _set(st, Y_RECENT, recent)
        _set(st, Y_SEEN, TRUE)
        return True

    cdef object _port_zone(self, tuple cands, double la, double lo):
        """The first of ``cands`` whose port zone holds the point (None: none), as the index of port zones says
        without testing the point; False when it does not say."""
        cdef PyObject* within
        cdef PyObject* held
        if not _zones_at(self.port_cells, self.port_cell_deg, self.fine, self.fine_deg, la, lo, &within, &held):
            return False
        if not PyTuple_GET_SIZE(<tuple>within) and not PyTuple_GET_SIZE(<tuple>held):
            return None
        for cand in cands:
            if type(cand) is not tuple or PyTuple_GET_SIZE(cand) != 3:
                return False
            k = <object>PyTuple_GET_ITEM(cand, 2)
            if k in <tuple>within or k in <tuple>held:
                return <object>PyTuple_GET_ITEM(cand, 0)
        return None


# -- the arrivals stage ---------------------------------------------------------------------------------------


cdef class ArrivalsListener:
    """:class:`maritime.runtime.arrival_watch.ArrivalWatch` as a listener of the chain: a position in the same
    ``step`` bucket of event time as its vessel's last kept one is dropped here (the stage keeps the first of
    each bucket); every other record goes to the stage."""

    cdef object stage
    cdef object step
    cdef dict last_bucket

    def __init__(self, object stage, double step, dict last_bucket):
        self.stage = stage
        self.step = step
        self.last_bucket = last_bucket

    def __call__(self, object rec):
        cdef PyObject* last
        if type(rec) is Position:
            t = <object>_get(rec, P_T)
            if PyFloat_CheckExact(t):
                last = PyDict_GetItem(self.last_bucket, <object>_get(rec, P_MMSI))
                if last != NULL and <object>last == int(t // self.step):
                    return None
        self.stage(rec)
