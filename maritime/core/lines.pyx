# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Typed fast path of :class:`maritime.ingest.ais.AisDecoder` for the common line (Cython).

The common line is one complete AIS sentence, optionally after an NMEA 4.0 tag block with ``c:`` and ``s:``,
optionally followed by an epoch after the checksum: ``\\s:rx1,c:1700000000*hh\\!AIVDM,1,1,,A,<payload>,0*hh``.
Everything about it is read here in C: the tag block and its checksum, the sentence checksum, the seven fields,
the payload's armour, and, for the 168-bit position reports of types 1, 2, 3 and 18, every field straight from
the six-bit payload into C integers.

What is not common is not guessed at: a line with anything else (a time prefix, a ``$PGHP`` before it, a
multipart fragment, a bad checksum, a tag block checksum that does not match, an unusable time, a non-ASCII
byte, extra fields) goes to the pure-Python decoder unchanged, before any state was touched, and gets
exactly its answer, its counters and its dead letters. Payloads other than the position reports go to the
decoder's own payload layer (pyais). The pure-Python decoder is the reference: a differential test runs both
over every recording.
"""

from libc.stdint cimport int64_t, uint32_t, uint64_t
from libc.stdlib cimport strtod
from libc.string cimport memcmp, memcpy, memset
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_GetItem
from cpython.list cimport PyList_GET_ITEM
from cpython.float cimport PyFloat_AS_DOUBLE, PyFloat_FromDouble
from cpython.long cimport PyLong_AsLongLong, PyLong_FromLongLong
from cpython.ref cimport Py_INCREF, PyObject
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE, PyTuple_New, PyTuple_SET_ITEM

from maritime.ingest.errors import DecodeError
from maritime.ingest.eventtime import SourceClock
from datetime import UTC, datetime
from heapq import heappop as _heappop, heappush as _heappush

from maritime.destination import resolve_eta
from maritime.models import TIME_MAX_S, TIME_MIN_S, BaseStationReport, Position, VesselInfo

cdef extern from "Python.h":
    ctypedef struct PyMemberDef:
        pass
    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member
    void PyObject_GC_UnTrack(void* op)
    bint PyFloat_CheckExact(object o)
    bint PyLong_CheckExact(object o)
    bint PyTuple_CheckExact(object o)
    bint PyBytes_CheckExact(object o)

cdef extern from "structmember.h":
    int PyMember_SetOne(char* addr, PyMemberDef* m, PyObject* v) except -1

# -- records without their frozen __init__ -----------------------------------------------------------------------
# Position and VesselInfo are frozen, slotted dataclasses: their __init__ sets each field through
# object.__setattr__, and the pure path's maker (maritime.ingest.messages._fast_init) through each slot's
# descriptor, from Python. Here each slot is set by the descriptor's own C function (PyMember_SetOne, what the
# descriptor's __set__ calls) with the slot's member definition, read once from the class; used only when every
# field is such a slot, in field order, and a record made here equals the dataclass's own (checked at import).

cdef enum:
    N_POSITION = 11
    N_INFO = 15
cdef PyMemberDef* POSITION_SLOTS[N_POSITION]
cdef PyMemberDef* INFO_SLOTS[N_INFO]
cdef bint POSITION_SLOTS_OK = False
cdef bint INFO_SLOTS_OK = False
_object_new = object.__new__


cdef bint _slots_of(object cls, PyMemberDef** out, int n):
    """The member definitions of the fields of dataclass ``cls`` into ``out``, when it has ``n`` fields that are
    all slots."""
    import dataclasses
    import types

    names = [f.name for f in dataclasses.fields(cls)]
    if len(names) != n:
        return False
    for i, name in enumerate(names):
        d = cls.__dict__.get(name)
        if type(d) is not types.MemberDescriptorType:
            return False
        out[i] = (<PyMemberDescrObject*>d).d_member
    return True


cdef object _make(object cls, PyMemberDef** slots, tuple values):
    """A ``cls`` with its slots set to ``values``, in field order (a new object: none of the dataclass's code runs)."""
    o = _object_new(cls)
    cdef char* at = <char*><PyObject*>o
    cdef Py_ssize_t i
    for i in range(len(values)):
        PyMember_SetOne(at, slots[i], <PyObject*>values[i])
    return o


cdef object _make_position(object mmsi, object time_s, object lat, object lon, object sog, object cog,
                           object heading, object status, object msg_type, object source, object err):
    values = (mmsi, time_s, lat, lon, sog, cog, heading, status, msg_type, source, err)
    return _make(Position, POSITION_SLOTS, values) if POSITION_SLOTS_OK else Position(*values)


cdef object _make_info(object mmsi, object time_s, object name, object callsign, object imo, object ship_type,
                       object to_bow, object to_stern, object to_port, object to_starboard, object draught,
                       object destination, object msg_type, object source, object eta):
    """``VesselInfo(*fields)``, positional, in the dataclass's field order."""
    values = (mmsi, time_s, name, callsign, imo, ship_type, to_bow, to_stern, to_port, to_starboard, draught,
              destination, msg_type, source, eta)
    return _make(VesselInfo, INFO_SLOTS, values) if INFO_SLOTS_OK else VesselInfo(*values)


def new_position(mmsi, time_s, lat, lon, sog_kn, cog_deg, heading_deg, nav_status, msg_type, source, time_err_s):
    """``Position(*fields)``, positional, without the frozen dataclass's per-field ``object.__setattr__``
    (:data:`maritime.ingest.messages.new_position` when the core is built)."""
    return _make_position(mmsi, time_s, lat, lon, sog_kn, cog_deg, heading_deg, nav_status, msg_type, source,
                          time_err_s)


def new_info(mmsi, time_s, name, callsign, imo, ship_type, to_bow_m, to_stern_m, to_port_m, to_starboard_m,
             draught_m, destination, msg_type, source, eta_s):
    """``VesselInfo(*fields)``, positional, as the C reader of static reports makes it."""
    return _make_info(mmsi, time_s, name, callsign, imo, ship_type, to_bow_m, to_stern_m, to_port_m, to_starboard_m,
                      draught_m, destination, msg_type, source, eta_s)


POSITION_SLOTS_OK = _slots_of(Position, POSITION_SLOTS, N_POSITION)
if POSITION_SLOTS_OK:
    _probe = (366999001, 1.7e9, 12.5, -61.25, None, 181.5, 7, 5, 18, "rx", 0.5)
    POSITION_SLOTS_OK = new_position(*_probe) == Position(*_probe)
INFO_SLOTS_OK = _slots_of(VesselInfo, INFO_SLOTS, N_INFO)
if INFO_SLOTS_OK:
    _probe = (366999001, 1.7e9, "SEA", "J8AB", 9123456, 70, 100, 20, 5, 6, 7.5, "CASTRIES", 5, "rx", 1.8e9)
    INFO_SLOTS_OK = new_info(*_probe) == VesselInfo(*_probe)
#: whether :func:`new_position` and the static reports set their records' slots from C (else they call the
#: dataclasses)
position_in_c = bool(POSITION_SLOTS_OK)
info_in_c = bool(INFO_SLOTS_OK)


# six-bit value of each armour character, -1 outside the alphabet (ITU-R M.1371 §8.2.4)
cdef signed char ARMOR[256]
cdef signed char HEX[256]


cdef void _tables():
    cdef int i
    for i in range(256):
        ARMOR[i] = -1
        HEX[i] = -1
    for i in range(48, 88):
        ARMOR[i] = i - 48
    for i in range(96, 120):
        ARMOR[i] = i - 56
    for i in range(10):
        HEX[48 + i] = i
    for i in range(6):
        HEX[65 + i] = 10 + i
        HEX[97 + i] = 10 + i


_tables()

cdef double T_MIN = TIME_MIN_S
cdef double T_MAX = TIME_MAX_S
cdef double AGREE_S = SourceClock.AGREE_S
cdef double AHEAD_S = SourceClock.AHEAD_S


cdef inline bint _space(unsigned char c) noexcept:
    # what bytes.strip() removes
    return c == 32 or c == 9 or c == 10 or c == 13 or c == 11 or c == 12


cdef inline bint _float_letter(unsigned char c) noexcept:
    # the letters of "inf", "infinity" and "nan" (either case): a token with them may be a float to Python
    c |= 32
    return c == 97 or c == 102 or c == 105 or c == 110 or c == 116 or c == 121


cdef inline int _xor(const unsigned char* p, Py_ssize_t a, Py_ssize_t b) noexcept:
    cdef int x = 0
    cdef Py_ssize_t i
    for i in range(a, b):
        x ^= p[i]
    return x


cdef inline Py_ssize_t _rfind(const unsigned char* p, Py_ssize_t lo, Py_ssize_t hi, unsigned char c) noexcept:
    """The last index of ``c`` in p[lo:hi], or -1."""
    cdef Py_ssize_t i
    for i in range(hi - 1, lo - 1, -1):
        if p[i] == c:
            return i
    return -1


cdef inline bint _sealed(const unsigned char* p, Py_ssize_t a, Py_ssize_t star) noexcept:
    """Whether the two hex digits after ``star`` are the XOR of p[a:star]."""
    cdef int hi = HEX[p[star + 1]], lo = HEX[p[star + 2]]
    return hi >= 0 and lo >= 0 and _xor(p, a, star) == hi * 16 + lo


cdef double _epoch(const unsigned char* p, Py_ssize_t a, Py_ssize_t b, int* state) noexcept:
    """An epoch (s or ms) of digits with at most one dot in p[a:b]. state: 1 a time of this era, 0 not a
    number at all (cannot be one for Python's float() either), -1 undecided here (ask Python)."""
    cdef Py_ssize_t i
    cdef int digits = 0, dots = 0
    cdef unsigned char c
    cdef char buf[40]
    cdef double v
    if b - a <= 0:
        state[0] = 0
        return 0.0
    for i in range(a, b):
        c = p[i]
        if 48 <= c <= 57:
            digits += 1
        elif c == 46:
            dots += 1
        elif not (c == 43 or c == 45 or c == 95 or c == 69 or c == 101 or _space(c) or _float_letter(c)):
            state[0] = 0  # a character no float literal has: float() fails, as here
            return 0.0
        else:
            state[0] = -1
            return 0.0
    if digits == 0 or dots > 1 or b - a >= 39:
        state[0] = -1
        return 0.0
    for i in range(a, b):
        buf[i - a] = <char>p[i]
    buf[b - a] = 0
    v = strtod(buf, NULL)
    if v > 1e11:
        v /= 1000.0
    if 3e8 < v < 4.2e9:
        state[0] = 1
        return v
    state[0] = -1  # a number but no epoch: the Python decoder says what it is
    return 0.0


cdef struct Sentence:
    Py_ssize_t a, b          # the stripped line
    Py_ssize_t st_a, st_b    # the tag block's s: value (st_b <= st_a: none, or empty)
    Py_ssize_t fs[8]         # the start of each of the seven fields, and one past the checksum's '*'
    bint has_tb_time, has_trailer_time
    double tb_time, trailer_time
    int count, num, fill, plen


cdef bint _read(const unsigned char* p, Py_ssize_t n, Sentence* sn) noexcept:
    """Read the common line p[:n] (module docstring) into ``sn``; False for any other line (the pure-Python
    decoder's, untouched)."""
    cdef Py_ssize_t a = 0, b = n, i, s, e, star, tstar, f0, k
    cdef Py_ssize_t* fs = sn.fs
    cdef int nf, state
    cdef bint saw_c = False, saw_s = False
    sn.has_tb_time = False
    sn.has_trailer_time = False
    sn.tb_time = 0.0
    sn.trailer_time = 0.0
    sn.st_a = 0
    sn.st_b = 0
    while a < b and _space(p[a]):
        a += 1
    while b > a and _space(p[b - 1]):
        b -= 1
    sn.a = a
    sn.b = b
    if b - a < 12:
        return False
    for i in range(a, b):
        if p[i] < 32 or p[i] > 126:
            return False
    s = a
    if p[a] == 92:  # a tag block
        e = -1
        for i in range(a + 1, b):
            if p[i] == 92:
                e = i
                break
        if e < 0:
            return False
        tstar = _rfind(p, a + 1, e, 42)
        if tstar >= 0:  # its checksum: two hex digits that match, or the Python decoder says what it is
            if e - tstar != 3 or not _sealed(p, a + 1, tstar):
                return False
        else:
            tstar = e
        f0 = a + 1
        for i in range(a + 1, tstar + 1):
            if i == tstar or p[i] == 44:
                if i - f0 >= 2 and p[f0 + 1] == 58:
                    if p[f0] == 99:  # c:
                        if saw_c:
                            return False
                        saw_c = True
                        sn.tb_time = _epoch(p, f0 + 2, i, &state)
                        if state != 1:
                            return False
                        sn.has_tb_time = True
                    elif p[f0] == 115:  # s:
                        if saw_s:
                            return False
                        saw_s = True
                        sn.st_a = f0 + 2
                        sn.st_b = i
                f0 = i + 1
        s = e + 1
    if s >= b or p[s] != 33:  # '!': anything else (a prefix time, '$', '#') is the Python decoder's
        return False
    star = _rfind(p, s + 1, b, 42)
    if star < 0 or b < star + 3 or not _sealed(p, s + 1, star):
        return False
    if not sn.has_tb_time and b > star + 3:  # an epoch after the checksum: the last token that is one
        e = b
        for i in range(b - 1, star + 2, -1):
            if p[i] == 44 or i == star + 3:
                k = i + 1 if p[i] == 44 else i
                sn.trailer_time = _epoch(p, k, e, &state)
                if state == -1:
                    return False
                if state == 1:
                    sn.has_trailer_time = True
                    break
                e = i
    # the seven fields of the sentence
    nf = 0
    fs[0] = s + 1
    for i in range(s + 1, star):
        if p[i] == 44:
            nf += 1
            if nf >= 7:
                return False
            fs[nf] = i + 1
    if nf != 6:
        return False
    fs[7] = star + 1
    # the talker and sentence: ..VDM or ..VDO; fill 0-5
    if fs[1] - fs[0] != 6 or p[fs[0] + 2] != 86 or p[fs[0] + 3] != 68 or not (p[fs[0] + 4] == 77 or
                                                                               p[fs[0] + 4] == 79):
        return False
    # the fragment count and number, one digit each (1 <= number <= count <= 9)
    if fs[2] - fs[1] != 2 or fs[3] - fs[2] != 2:
        return False
    sn.count = p[fs[1]] - 48
    sn.num = p[fs[2]] - 48
    if not (1 <= sn.num <= sn.count <= 9):
        return False
    if fs[7] - fs[6] != 2 or not (48 <= p[fs[6]] <= 53):
        return False
    sn.fill = p[fs[6]] - 48
    sn.plen = <int>(fs[6] - 1 - fs[5])
    if sn.plen < 1 or sn.plen > 168:
        return False
    for i in range(fs[5], fs[5] + sn.plen):
        if ARMOR[p[i]] < 0:
            return False
    return True


cdef inline int _own_time(Sentence* sn, double* t) noexcept:
    """The line's own time into ``t``: 1 (its tag block's, else the epoch after its checksum), 0 (none), -1 (one
    outside the times a record may have: the Python decoder's)."""
    if not (sn.has_tb_time or sn.has_trailer_time):
        return 0
    t[0] = sn.tb_time if sn.has_tb_time else sn.trailer_time
    return 1 if T_MIN <= t[0] < T_MAX else -1


cdef class FastLines:
    """The C path of one :class:`~maritime.ingest.ais.AisDecoder` (it holds the decoder's state)."""

    cdef object dec
    cdef object stats
    cdef object source
    cdef object by_type
    cdef bint time_only
    #: lines handed to the pure-Python decoder (not the common line)
    cdef public long long handed_on
    cdef unsigned char bits[32]
    # the fields of the report just unpacked (-1: none)
    cdef int64_t mmsi, speed, course, heading, sec, status
    cdef double lat_deg, lon_deg

    def __init__(self, decoder, bint time_only=False):
        self.dec = decoder
        # the event-time pass (maritime.ingest.ordering): each message's time, its payload not decoded
        self.time_only = time_only
        self.stats = decoder.stats
        self.source = decoder.source
        self.by_type = decoder.stats.messages_by_type

    cdef void _commit(self, object station, object assigned_time_s, bint timed, double event_time) except *:
        # the line is the C path's from here on: the decoder's state as the Python path leaves it
        dec = self.dec
        self.stats.lines += 1
        dec.station = station
        dec.assigned_time_s = assigned_time_s
        dec.timed = timed
        dec.last_time_s = event_time

    cdef object _hand_on(self, raw, recv_time_s, assigned_time_s):
        # not the common line: the pure-Python decoder's, untouched
        self.handed_on += 1
        return self.dec.decode_line_py(raw, recv_time_s, assigned_time_s)

    cdef inline uint64_t _get(self, int start, int n) noexcept:
        # n <= 32 bits from bit `start` of the unpacked payload (big-endian)
        cdef int byte = start >> 3
        cdef uint64_t w = 0
        cdef int k
        for k in range(5):
            w = (w << 8) | self.bits[byte + k]
        return (w >> (40 - (start & 7) - n)) & ((<uint64_t>1 << n) - 1)

    def decode_line(self, raw, recv_time_s=None, assigned_time_s=None):
        """:meth:`AisDecoder.decode_line`: the common line here, any other to the pure-Python decoder."""
        if type(raw) is not bytes:
            return self._hand_on(raw, recv_time_s, assigned_time_s)
        cdef const unsigned char* p = raw
        cdef Sentence sn
        cdef Py_ssize_t k
        cdef Py_ssize_t* fs
        cdef int mt, own
        cdef double event_time
        cdef object station = None
        if not _read(p, len(raw), &sn):
            return self._hand_on(raw, recv_time_s, assigned_time_s)
        fs = sn.fs
        if sn.st_b > sn.st_a:
            station = raw[sn.st_a:sn.st_b].decode("ascii")
        dec = self.dec
        if dec._pghp_time is not None:
            return self._hand_on(raw, recv_time_s, assigned_time_s)
        # the event time (AisDecoder._event_time)
        clock = dec.clock
        own = _own_time(&sn, &event_time)
        if own < 0:
            return self._hand_on(raw, recv_time_s, assigned_time_s)
        timed = own == 1
        if not timed:
            if recv_time_s is not None:
                event_time = recv_time_s
            elif assigned_time_s is not None:
                clock = None
                event_time = assigned_time_s
            elif dec.last_time_s is not None:
                clock = None
                event_time = dec.last_time_s
            else:
                clock = None
                event_time = dec.default_time_s
        if sn.count > 1:  # a fragment: the decoder's multipart layer keeps it until its message is whole
            self._commit(station, assigned_time_s, timed, event_time)
            if self.time_only:
                dec.pghp_line = False
            fields = [raw[fs[k]:fs[k + 1] - 1] for k in range(7)]
            return dec.finish_fragment(raw[sn.a:sn.b], fields, sn.count, sn.num, fields[5], sn.fill, event_time,
                                       clock)
        if self.time_only:
            self._commit(station, assigned_time_s, timed, event_time)
            dec.pghp_line = False
            dec.message_time_s = event_time
            return raw[fs[5]:fs[5] + sn.plen], []
        mt = ARMOR[p[fs[5]]]
        if sn.fill != 0 or sn.plen != 28 or not (mt == 1 or mt == 2 or mt == 3 or mt == 18):
            mt = 0
        elif not self._unpack(p + fs[5], mt):
            # position not available, or out of range: the Python decoder rejects it with its reason
            return self._hand_on(raw, recv_time_s, assigned_time_s)
        self._commit(station, assigned_time_s, timed, event_time)
        stats = self.stats
        payload = raw[fs[5]:fs[5] + sn.plen]
        if mt == 0:
            return dec.finish_payload(raw[sn.a:sn.b], payload, sn.fill, event_time, clock)
        cdef bint typed_window
        try:
            dedup = dec.dedup
            if dedup is not None:
                typed_window = type(dedup) is PayloadWindow  # (the C window is called directly)
                if (<PayloadWindow>dedup).seen_c(payload, event_time) if typed_window \
                        else dedup.seen(payload, event_time):
                    stats.messages += 1
                    stats.duplicates += 1
                    self.by_type[mt] = self.by_type.get(mt, 0) + 1
                    return None
                if typed_window:
                    (<PayloadWindow>dedup).remember_c(payload, event_time)
                else:
                    dedup.remember(payload, event_time)
            stats.messages += 1
            self.by_type[mt] = self.by_type.get(mt, 0) + 1
            return payload, [self._position(mt, event_time, clock)]
        except DecodeError as err:
            dec._reject(err.reason, err.message, raw[sn.a:sn.b], dec.last_time_s)
        except Exception as err:  # a decoder bug must not stop a watch floor (as the pure decoder)
            dec._unexpected(err, raw[sn.a:sn.b])
        return None

    cdef bint _unpack(self, const unsigned char* q, int mt) noexcept:
        """The fields of a 168-bit type 1/2/3/18 report (ITU-R M.1371-5 Tables 46 and 74) into this object;
        False when its position is not available or out of range."""
        cdef int i, c0, c1, c2, c3
        cdef int64_t lon, lat
        cdef unsigned char* o = self.bits
        for i in range(7):  # 4 characters -> 3 bytes
            c0 = ARMOR[q[4 * i]]
            c1 = ARMOR[q[4 * i + 1]]
            c2 = ARMOR[q[4 * i + 2]]
            c3 = ARMOR[q[4 * i + 3]]
            o[3 * i] = <unsigned char>((c0 << 2) | (c1 >> 4))
            o[3 * i + 1] = <unsigned char>(((c1 & 15) << 4) | (c2 >> 2))
            o[3 * i + 2] = <unsigned char>(((c2 & 3) << 6) | c3)
        for i in range(21, 32):
            o[i] = 0
        self.mmsi = <int64_t>self._get(8, 30)
        if mt == 18:
            self.speed = <int64_t>self._get(46, 10)
            lon = <int64_t>self._get(57, 28)
            lat = <int64_t>self._get(85, 27)
            self.course = <int64_t>self._get(112, 12)
            self.heading = <int64_t>self._get(124, 9)
            self.sec = <int64_t>self._get(133, 6)
            self.status = -1
        else:
            self.status = <int64_t>self._get(38, 4)
            self.speed = <int64_t>self._get(50, 10)
            lon = <int64_t>self._get(61, 28)
            lat = <int64_t>self._get(89, 27)
            self.course = <int64_t>self._get(116, 12)
            self.heading = <int64_t>self._get(128, 9)
            self.sec = <int64_t>self._get(137, 6)
        if lon == 0x6791AC0 or lat == 0x3412140:  # 181° / 91°: not available
            return False
        if lon & 0x8000000:
            lon -= 0x10000000
        if lat & 0x4000000:
            lat -= 0x8000000
        self.lat_deg = <double>_floordiv6(10 * lat + 3) / 1e6
        self.lon_deg = <double>_floordiv6(10 * lon + 3) / 1e6
        return -90.0 <= self.lat_deg <= 90.0 and -180.0 <= self.lon_deg <= 180.0

    cdef object _position(self, int mt, double time_s, object clock):
        """The Position of the report just unpacked; ``clock`` weighs its own UTC second against ``time_s``
        (:func:`maritime.ingest.messages.unpack_position`)."""
        cdef int64_t off, sec = self.sec
        t = time_s
        err = 0.0
        if clock is not None:
            if clock.verdict is not None and clock.quality == "auto":
                # judged already: only this report's own second matters (the hot path of a long feed)
                if sec < 60:
                    off = (<int64_t>time_s - sec) % 60
                    if off < 0:
                        off += 60
                    if AGREE_S < off < 60 - AHEAD_S:
                        err = clock.delivered_err_s
            else:
                t, err = clock.judge(time_s, sec)
        return _make_position(
            self.mmsi, t, self.lat_deg, self.lon_deg,
            None if self.speed >= 1023 else self.speed / 10.0,
            None if self.course >= 3600 else self.course / 10.0,
            None if self.heading >= 360 else self.heading,
            None if self.status < 0 or self.status == 15 else self.status, mt, self.source, err,
        )


cdef inline int64_t _floordiv6(int64_t a) noexcept:
    # Python's a // 6 (towards minus infinity)
    cdef int64_t q = a / 6
    if (a % 6 != 0) and (a < 0):
        q -= 1
    return q


# -- static and voyage data (types 5 and 24): the C path of the payload layer --------------------------------

cdef const char* SIXBIT_C = b"@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_ !\"#$%&'()*+,-./0123456789:;<=>?"


cdef class Bits:
    """An armoured payload unpacked into bytes (at most 181 six-bit characters)."""

    cdef unsigned char b[136]
    cdef int nbits

    cdef bint load(self, const unsigned char* q, int n, int fill) noexcept:
        """The ``n`` armoured characters at ``q`` as bits, six to a character: False for a character outside the
        armour, or a payload longer than the 1,088 bits held (181 characters; the caller then asks pyais)."""
        cdef int i, v, nacc = 0, byte = 0
        cdef unsigned int acc = 0
        if n < 0 or 6 * n > 8 * 136:
            return False
        memset(self.b, 0, 136)
        for i in range(n):
            v = ARMOR[q[i]]
            if v < 0:
                return False
            acc = (acc << 6) | <unsigned int>v  # the bits not yet stored are the ``nacc`` lowest
            nacc += 6
            if nacc >= 8:
                nacc -= 8
                self.b[byte] = <unsigned char>((acc >> nacc) & 0xFF)
                byte += 1
        if nacc > 0:
            self.b[byte] = <unsigned char>((acc << (8 - nacc)) & 0xFF)
        self.nbits = 6 * n - fill
        return True

    cdef uint64_t get(self, int start, int n) noexcept:
        cdef uint64_t w = 0
        cdef int i
        for i in range(start, start + n):
            w = (w << 1) | ((self.b[i >> 3] >> (7 - (i & 7))) & 1)
        return w

    cdef object text(self, int start, int nchars):
        """Six-bit text with its ``@`` padding and blanks removed, or None (as pyais's text, then ours: every
        ``@`` made a blank, the blanks at both ends stripped; six-bit text has no other white space)."""
        cdef char buf[64]
        cdef int i, a = 0, b
        cdef unsigned char c
        if nchars > 64:
            nchars = 64
        for i in range(nchars):
            c = SIXBIT_C[self.get(start + 6 * i, 6)]
            buf[i] = b' ' if c == b'@' else c
        b = nchars
        while a < b and buf[a] == b' ':
            a += 1
        while b > a and buf[b - 1] == b' ':
            b -= 1
        if a == b:
            return None
        return buf[a:b].decode("ascii")


cdef inline object _nz(uint64_t v):
    # maritime.ingest.messages._int: 0 is "not available"
    return None if v == 0 else <object>v


def payload_records(bytes payload, int fill, double time_s, str source):
    """The records of a type 5 or type 24 payload, as :func:`maritime.ingest.messages.static_info` makes them
    from pyais's message, or of a base station's type 4 or 11 as :func:`~maritime.ingest.messages.to_records`
    does; None for any other payload, or one whose length or part number pyais reads otherwise (the caller then
    asks pyais)."""
    cdef const unsigned char* q = payload
    cdef int n = len(payload)
    cdef int mt, part
    cdef Bits bv
    if n == 0:
        return None
    mt = ARMOR[q[0]]
    if mt != 5 and mt != 24 and mt != 4 and mt != 11:
        return None
    bv = Bits()
    if not bv.load(q, n, fill):
        return None
    mmsi = <object>bv.get(8, 30)
    if mt == 4 or mt == 11:
        return _base_station(bv, mt, mmsi, time_s, source)
    if mt == 5:
        if bv.nbits < 424:
            return None
        raw_type = bv.get(232, 8)
        draught = bv.get(294, 8)
        # (the fields in VesselInfo's order: mmsi, time_s, name, callsign, imo, ship_type, to_bow_m, to_stern_m,
        # to_port_m, to_starboard_m, draught_m, destination, msg_type, source, eta_s)
        return [_make_info(
            mmsi, time_s, bv.text(112, 20), bv.text(70, 7), _nz(bv.get(40, 30)), _nz(raw_type),
            _nz(bv.get(240, 9)), _nz(bv.get(249, 9)), _nz(bv.get(258, 6)), _nz(bv.get(264, 6)),
            None if draught == 0 else draught / 10.0, bv.text(302, 20), 5, source,
            resolve_eta(_nz(bv.get(274, 4)), _nz(bv.get(278, 5)), _nz(bv.get(283, 5)), _nz(bv.get(288, 6)),
                        time_s))]
    part = <int>bv.get(38, 2)
    if part == 0:
        if bv.nbits < 160:
            return None
        return [_make_info(mmsi, time_s, bv.text(40, 20), None, None, None, None, None, None, None, None, None, 24,
                           source, None)]
    if part != 1 or bv.nbits < 168 or 980000000 <= bv.get(8, 30) <= 989999999:  # an auxiliary craft: pyais
        return None
    return [_make_info(
        mmsi, time_s, None, bv.text(90, 7), None, _nz(bv.get(40, 8)), _nz(bv.get(132, 9)), _nz(bv.get(141, 9)),
        _nz(bv.get(150, 6)), _nz(bv.get(156, 6)), None, None, 24, source, None)]


cdef object _base_station(Bits bv, int mt, object mmsi, double time_s, str source):
    """A type 4 or 11 report (ITU-R M.1371-5 Table 51): the station's position and its own UTC."""
    cdef int64_t lon, lat
    cdef double lat_deg, lon_deg
    if bv.nbits < 168:
        return None
    lon = <int64_t>bv.get(79, 28)
    lat = <int64_t>bv.get(107, 27)
    if lon & 0x8000000:
        lon -= 0x10000000
    if lat & 0x4000000:
        lat -= 0x8000000
    lat_deg = <double>_floordiv6(10 * lat + 3) / 1e6
    lon_deg = <double>_floordiv6(10 * lon + 3) / 1e6
    try:
        utc_s = datetime(bv.get(38, 14), bv.get(52, 4), bv.get(56, 5), bv.get(61, 5), bv.get(66, 6),
                         bv.get(72, 6), tzinfo=UTC).timestamp()
    except ValueError:
        utc_s = None
    return [BaseStationReport(mmsi=mmsi, time_s=time_s, lat=None if lat_deg == 91 else lat_deg,
                              lon=None if lon_deg == 181 else lon_deg, station_utc_s=utc_s, msg_type=mt,
                              source=source)]



cdef class _ClockView:
    """One source's running clock as :class:`TimeScan` keeps it between write-backs."""

    cdef object clock
    cdef bint has_ref, has_low, dirty
    cdef double ref, low
    cdef long long accepted


cdef class TimeScan:
    """The event-time pass of a bounded input (:func:`maritime.ingest.ordering.ordered_lines`) for the common line.

    :class:`maritime.ingest.ordering.Release` is the reference: it puts each message the sources' clocks release
    into the external sort, in the order released, and each refused line at the time of the message before it.
    This does the same, and takes a line itself (:meth:`take`) when it is one complete sentence (its time in a
    tag block or after the checksum, or none) of a source whose clock is running with nothing held back (not
    starting, no candidate of a jump) and the line falls within that clock's bounds: the clock's answer is then
    the message's own time (or the clock's, for an untimed one), as :meth:`SourceClocks.push` would give. The
    clocks fed here, the sort's buffer and the scan decoder's line count and last time are kept here meanwhile,
    and written back (:meth:`sync`) before any other line goes to the Python pass; a clock the Python pass then
    pushed to is read again (:meth:`touched`).
    """

    cdef object scan, clocks, sorter, name
    cdef double max_behind, max_jump
    cdef Py_ssize_t run_items
    #: messages put in the sort so far, and the time of the last one released
    cdef public long long seq
    cdef public double last_time
    #: lines taken here (the rest went to the Python pass)
    cdef public long long taken
    # the running clocks fed here, by the bytes of their station (b"": none), and those changed since written back
    cdef dict views
    cdef list dirty
    # the sort's buffer while it is fed here, and the items added to it
    cdef list buffer
    cdef long long items
    # lines taken here not yet counted by the scan decoder, and the time of the last one
    cdef long long lines
    cdef double last_event

    def __init__(self, scan, clocks, sorter, name, double default_time_s):
        self.scan = scan
        self.clocks = clocks
        self.sorter = sorter
        self.name = name
        self.max_behind = clocks.max_behind_s
        self.max_jump = clocks.max_jump_s
        self.run_items = sorter.run_items
        self.seq = 0
        self.last_time = default_time_s
        self.views = {}
        self.dirty = []
        self.buffer = None

    # -- the Python pass's side (the same as Release) --------------------------------------------------------

    def released(self, out):
        """Messages released by the clocks, as ``(time, (lines, timed))``, into the sort."""
        sorter = self.sorter
        for t, (lines, timed) in out:
            sorter.add((t, self.seq, lines, None if timed else t))
            self.seq += 1
            self.last_time = t

    def refused(self, refused):
        """Lines the scan refused (``(line, time)``): each travels at the time of the message before it."""
        sorter = self.sorter
        for ln, _t in refused:
            sorter.add((self.last_time, self.seq, (ln,), self.last_time))
            self.seq += 1
        refused.clear()

    def touched(self, station):
        """The Python pass pushed a message to the clock of ``station`` (None: none): read it again when next fed
        here."""
        self.views.pop(station.encode("ascii") if station else b"", None)

    # -- the common line ---------------------------------------------------------------------------------------

    def sync(self):
        """Write back what is kept here: the clocks fed, the sort's item count, the scan's line count and last
        time."""
        cdef _ClockView v
        if self.dirty:
            for v in self.dirty:
                clock = v.clock
                clock.ref = v.ref if v.has_ref else None
                clock.low = v.low if v.has_low else None
                clock.accepted += v.accepted
                v.accepted = 0
                v.dirty = False
            self.dirty = []
        if self.items:
            self.sorter.items += self.items
            self.items = 0
        self.buffer = None
        if self.lines:
            scan = self.scan
            scan.stats.lines += self.lines
            scan.last_time_s = self.last_event
            self.lines = 0

    cdef _ClockView _fetch(self, bytes station):
        """The view of the clock of ``station`` (b"": none) when it is running with nothing held, else None."""
        cdef _ClockView v
        key = (self.name, station.decode("ascii") if station else None)
        clock = self.clocks.clocks.get(key)
        if clock is None or clock.start is not None or clock.candidates:
            return None
        v = _ClockView()
        v.clock = clock
        ref = clock.ref
        low = clock.low
        v.has_ref = ref is not None
        v.ref = ref if ref is not None else 0.0
        v.has_low = low is not None
        v.low = low if low is not None else 0.0
        self.views[station] = v
        return v

    def take(self, raw):
        """Put ``raw`` (one line as read) in the sort here when it is the common line: True. Otherwise False,
        with everything kept here written back, for the Python pass to read the line."""
        cdef const unsigned char* p
        cdef Sentence sn
        cdef Py_ssize_t sl
        cdef double event_time, t
        cdef bint timed
        cdef int own
        cdef _ClockView v
        if type(raw) is not bytes:
            self.sync()
            return False
        p = raw
        if not _read(p, len(raw), &sn) or sn.count != 1:
            self.sync()
            return False
        scan = self.scan
        if scan._pghp_time is not None:
            self.sync()
            return False
        own = _own_time(&sn, &event_time)
        if own < 0:
            self.sync()
            return False
        timed = own == 1
        if not timed:
            if self.lines:
                event_time = self.last_event
            else:
                last = scan.last_time_s
                event_time = last if last is not None else scan.default_time_s
        sl = sn.st_b - sn.st_a if sn.st_b > sn.st_a else 0
        station = raw[sn.st_a:sn.st_a + sl] if sl else b""
        got = self.views.get(station)
        if got is None:
            v = self._fetch(station)
            if v is None:
                self.sync()
                return False
        else:
            v = <_ClockView>got
        # SourceClocks._judge of a running clock with no candidates
        if timed:
            t = event_time
            if v.has_ref and not (-self.max_behind <= t - v.ref <= self.max_jump):
                self.sync()
                return False
            if not v.has_ref or t > v.ref:
                v.ref = t
                v.has_ref = True
            if not v.has_low or t < v.low:
                v.low = t
                v.has_low = True
        else:
            t = v.ref if v.has_ref else event_time
        v.accepted += 1
        if not v.dirty:
            v.dirty = True
            self.dirty.append(v)
        # the scan decoder's state as its own pass leaves it
        self.lines += 1
        self.last_event = event_time
        # into the sort (SpillSort.add)
        if self.buffer is None:
            self.buffer = self.sorter.buffer
        lines = (raw[sn.a:sn.b],)
        item = (t, self.seq, lines, None if timed else t)
        # atoms in tuples: out of the collector's sight, as CPython itself leaves such tuples after a collection
        # (hundreds of thousands wait in the sort; each collection would walk them all)
        PyObject_GC_UnTrack(<PyObject*>lines)
        PyObject_GC_UnTrack(<PyObject*>item)
        self.buffer.append(item)
        self.items += 1
        self.seq += 1
        self.taken += 1
        self.last_time = t
        if len(self.buffer) >= self.run_items:
            self.sync()  # the sort's count first, then its spill (which starts a new buffer)
            self.sorter._spill()
        return True


# -- the external sort's runs on disk ---------------------------------------------------------------------------
# A run of :class:`maritime.ingest.ordering.SpillSort` is a sorted list of items ``(time s, seq, lines, assigned
# time s or None)``. Pickled, writing and reading one back took about 0.6 µs an item; here each item is a fixed
# head and its lines' bytes: the time (double), the sequence (int64), whether an assigned time follows and the
# number of lines (uint32 each), the assigned time (double, when given), then each line as its length (uint32)
# and its bytes. A run with any item of another shape is left to pickle (``write_run`` says so, having written
# nothing).

cdef enum:
    RUN_HEAD = 24  # time, seq, flags and line count
    RUN_BLOCK = 1 << 20  # bytes written or read at a time

cdef bint _run_item_ok(object item):
    """Whether ``item`` has the shape the binary run holds exactly."""
    if not PyTuple_CheckExact(item) or PyTuple_GET_SIZE(item) != 4:
        return False
    t = <object>PyTuple_GET_ITEM(item, 0)
    seq = <object>PyTuple_GET_ITEM(item, 1)
    lines = <object>PyTuple_GET_ITEM(item, 2)
    assigned = <object>PyTuple_GET_ITEM(item, 3)
    if not PyFloat_CheckExact(t) or not PyLong_CheckExact(seq) or not PyTuple_CheckExact(lines):
        return False
    if not (assigned is None or PyFloat_CheckExact(assigned)):
        return False
    if not -(1 << 62) < seq < (1 << 62):
        return False
    cdef Py_ssize_t k
    for k in range(PyTuple_GET_SIZE(lines)):
        ln = <object>PyTuple_GET_ITEM(lines, k)
        if not PyBytes_CheckExact(ln) or PyBytes_GET_SIZE(ln) > 0xFFFFFFFF:
            return False
    return True


def write_run(list items, fh):
    """Write the sorted ``items`` to the binary file ``fh`` as one run: True; False, having written nothing, when
    some item has another shape (the run is then the caller's to pickle)."""
    cdef Py_ssize_t n = len(items), k, j, nl, size
    cdef double d
    cdef int64_t s
    cdef uint64_t u
    cdef uint32_t l32
    cdef bytearray buf
    cdef char* p
    cdef Py_ssize_t at = 0
    for k in range(n):
        if not _run_item_ok(items[k]):
            return False
    buf = bytearray(RUN_BLOCK + 64)
    for k in range(n):
        item = items[k]
        lines = <object>PyTuple_GET_ITEM(item, 2)
        assigned = <object>PyTuple_GET_ITEM(item, 3)
        nl = PyTuple_GET_SIZE(lines)
        size = RUN_HEAD + (8 if assigned is not None else 0)
        for j in range(nl):
            size += 4 + PyBytes_GET_SIZE(<object>PyTuple_GET_ITEM(lines, j))
        if at + size > len(buf):
            fh.write(memoryview(buf)[:at])
            at = 0
            if size > len(buf):
                buf = bytearray(size)
        p = buf
        p += at
        d = PyFloat_AS_DOUBLE(<object>PyTuple_GET_ITEM(item, 0))
        memcpy(p, &d, 8)
        s = PyLong_AsLongLong(<object>PyTuple_GET_ITEM(item, 1))
        memcpy(p + 8, &s, 8)
        u = (<uint64_t>nl << 1) | (1 if assigned is not None else 0)
        memcpy(p + 16, &u, 8)
        p += RUN_HEAD
        if assigned is not None:
            d = PyFloat_AS_DOUBLE(assigned)
            memcpy(p, &d, 8)
            p += 8
        for j in range(nl):
            ln = <object>PyTuple_GET_ITEM(lines, j)
            l32 = <uint32_t>PyBytes_GET_SIZE(ln)
            memcpy(p, &l32, 4)
            memcpy(p + 4, PyBytes_AS_STRING(ln), l32)
            p += 4 + l32
        at += size
    if at:
        fh.write(memoryview(buf)[:at])
    return True


cdef class RunReader:
    """The items of one run written by :func:`write_run`, in order; the file is closed at its end."""

    cdef object fh
    cdef bytes data
    cdef Py_ssize_t at
    cdef bint done

    def __init__(self, fh):
        self.fh = fh
        self.data = b""
        self.at = 0
        self.done = False

    def __iter__(self):
        return self

    cdef bint _fill(self, Py_ssize_t need) except -1:
        """At least ``need`` bytes from ``at`` in ``data``: False at the end of the file."""
        while PyBytes_GET_SIZE(self.data) - self.at < need:
            more = self.fh.read(max(RUN_BLOCK, need))
            if not more:
                return False
            self.data = self.data[self.at:] + more
            self.at = 0
        return True

    def __next__(self):
        cdef const char* p
        cdef double d
        cdef int64_t s
        cdef uint64_t u
        cdef uint32_t ln
        cdef Py_ssize_t nl, j, size
        cdef bint has_assigned
        if self.done or not self._fill(RUN_HEAD):
            self._close()
            raise StopIteration
        p = PyBytes_AS_STRING(self.data) + self.at
        memcpy(&u, p + 16, 8)
        nl = <Py_ssize_t>(u >> 1)
        has_assigned = u & 1
        # the whole item: its head, the assigned time, the lines' lengths and bytes
        size = RUN_HEAD + (8 if has_assigned else 0)
        if not self._fill(size):
            raise ValueError("a run of the external sort ends inside an item")
        for j in range(nl):
            if not self._fill(size + 4):
                raise ValueError("a run of the external sort ends inside an item")
            p = PyBytes_AS_STRING(self.data) + self.at
            memcpy(&ln, p + size, 4)
            size += 4 + <Py_ssize_t>ln
        if not self._fill(size):
            raise ValueError("a run of the external sort ends inside an item")
        p = PyBytes_AS_STRING(self.data) + self.at
        memcpy(&d, p, 8)
        memcpy(&s, p + 8, 8)
        t = PyFloat_FromDouble(d)
        lines = PyTuple_New(nl)
        size = RUN_HEAD
        if has_assigned:
            memcpy(&d, p + RUN_HEAD, 8)
            assigned = PyFloat_FromDouble(d)
            size += 8
        else:
            assigned = None
        for j in range(nl):
            memcpy(&ln, p + size, 4)
            b = PyBytes_FromStringAndSize(p + size + 4, <Py_ssize_t>ln)
            Py_INCREF(b)
            PyTuple_SET_ITEM(lines, j, b)
            size += 4 + <Py_ssize_t>ln
        self.at += size
        item = (t, PyLong_FromLongLong(s), lines, assigned)
        PyObject_GC_UnTrack(<PyObject*>lines)  # atoms in tuples (see TimeScan.take)
        PyObject_GC_UnTrack(<PyObject*>item)
        return item

    cdef _close(self):
        if not self.done:
            self.done = True
            self.data = b""
            self.fh.close()


# -- the decode workers' events, in the replaying process ---------------------------------------------------------


def released_run(list events, Py_ssize_t start, str source, unpack):
    """:meth:`maritime.runtime.decode_workers.DecodePool.stream` for a run of released messages: from
    ``events[start]`` up to the first event of another kind (or the end), each ``[0, time, payload, records]``
    as ``(time, (payload, records made))``, one position made here, any other list of records by
    ``unpack(fields, source)``. Returns the items and the index of the first event not taken."""
    cdef Py_ssize_t i = start, n = len(events)
    cdef list out = []
    while i < n:
        ev = events[i]
        if type(ev) is not list or len(<list>ev) != 4 or ev[0] != 0:
            break
        recs = ev[3]
        if type(recs) is list and len(<list>recs) == 1 and type(recs[0]) is list and len(<list>recs[0]) == 10:
            f = <list>recs[0]
            made = [_make_position(f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], source, f[9])]
        else:
            made = [unpack(f, source) for f in recs]
        out.append((ev[1], (ev[2], made)))
        i += 1
    return out, i


# -- decoded positions between processes ------------------------------------------------------------------------
# A decode worker sends the common released message (one Position, its payload) as a fixed-width record in one
# bytes object instead of nested msgpack lists: the main process makes the Position straight from the record's C
# fields. The format is the pure reference's (maritime.runtime.decode_workers.POSITION_RECORD, struct "=7d6q"):
# native byte order, no padding, a worker and its main process run the same build on one machine.

from cpython.mem cimport PyMem_Free, PyMem_Realloc

cdef packed struct PositionRecord:
    double t          # release time (s): the reorder window's key
    double time_s
    double lat
    double lon
    double sog        # 0.0 when None (flag 1)
    double cog        # 0.0 when None (flag 2)
    double time_err
    int64_t mmsi
    int64_t heading   # 0 when None (flag 4)
    int64_t status    # 0 when None (flag 8)
    int64_t msg_type
    int64_t payload_len  # -1: no payload (None)
    int64_t flags

cdef enum:
    NO_SOG = 1
    NO_COG = 2
    NO_HEADING = 4
    NO_STATUS = 8


cdef inline bint _as_int64(object x, int64_t* out):
    """``x`` as an int64 when it is exactly an int that fits (False otherwise, nothing raised)."""
    if not PyLong_CheckExact(x):
        return False
    try:
        out[0] = PyLong_AsLongLong(x)
    except OverflowError:
        return False
    return True


cdef inline bint _optional_float(object x, double* out, int64_t* flags, int64_t none_flag):
    """A float field or None (0.0 and ``none_flag`` set) into ``out``; False for any other type."""
    if x is not None and not PyFloat_CheckExact(x):
        return False
    out[0] = 0.0 if x is None else PyFloat_AS_DOUBLE(x)
    flags[0] |= none_flag if x is None else 0
    return True


cdef inline bint _optional_int64(object x, int64_t* out, int64_t* flags, int64_t none_flag):
    """An int field that fits int64, or None (0 and ``none_flag`` set), into ``out``; False otherwise."""
    if x is None:
        out[0] = 0
        flags[0] |= none_flag
        return True
    return _as_int64(x, out)


cdef class PositionPacker:
    """:class:`maritime.runtime.decode_workers.PositionPacker` (the reference) in C: released messages that are one
    :class:`Position` of the decoder's own types, as fixed-width records and their payloads."""

    cdef char* recs
    cdef Py_ssize_t n, cap
    cdef bytearray payloads
    cdef readonly object position_type

    def __cinit__(self):
        self.recs = NULL
        self.n = 0
        self.cap = 0
        self.payloads = bytearray()
        self.position_type = Position

    def __dealloc__(self):
        PyMem_Free(self.recs)

    def __len__(self):
        return self.n

    def add(self, object t, object payload, object records):
        """Keep ``(t, (payload, records))`` as a record when it is one Position of the expected types (True);
        anything else is left to the caller (False) and nothing is kept."""
        cdef PositionRecord r
        cdef char* grown
        if not PyFloat_CheckExact(t) or type(records) is not list or len(<list>records) != 1:
            return False
        rec = (<list>records)[0]
        if type(rec) is not Position:
            return False
        if payload is None:
            r.payload_len = -1
        elif PyBytes_CheckExact(payload):
            r.payload_len = PyBytes_GET_SIZE(payload)
        else:
            return False
        time_s, lat, lon, err = rec.time_s, rec.lat, rec.lon, rec.time_err_s
        if not (PyFloat_CheckExact(time_s) and PyFloat_CheckExact(lat) and PyFloat_CheckExact(lon)
                and PyFloat_CheckExact(err)):
            return False
        r.flags = 0
        if not (_optional_float(rec.sog_kn, &r.sog, &r.flags, NO_SOG)
                and _optional_float(rec.cog_deg, &r.cog, &r.flags, NO_COG)
                and _optional_int64(rec.heading_deg, &r.heading, &r.flags, NO_HEADING)
                and _optional_int64(rec.nav_status, &r.status, &r.flags, NO_STATUS)):
            return False
        if not _as_int64(rec.mmsi, &r.mmsi) or not _as_int64(rec.msg_type, &r.msg_type):
            return False
        r.t = PyFloat_AS_DOUBLE(t)
        r.time_s = PyFloat_AS_DOUBLE(time_s)
        r.lat = PyFloat_AS_DOUBLE(lat)
        r.lon = PyFloat_AS_DOUBLE(lon)
        r.time_err = PyFloat_AS_DOUBLE(err)
        if self.n == self.cap:
            grown = <char*>PyMem_Realloc(self.recs, (self.cap * 2 + 256) * sizeof(PositionRecord))
            if grown == NULL:
                raise MemoryError()
            self.recs = grown
            self.cap = self.cap * 2 + 256
        memcpy(self.recs + self.n * sizeof(PositionRecord), &r, sizeof(PositionRecord))
        self.n += 1
        if r.payload_len > 0:
            self.payloads += payload
        return True

    def take(self):
        """The records kept and their payloads, as ``(records, payloads)`` bytes; the packer is then empty."""
        got = (PyBytes_FromStringAndSize(self.recs, self.n * sizeof(PositionRecord)), bytes(self.payloads))
        self.n = 0
        self.payloads = bytearray()
        return got


def positions_run(bytes recs, bytes payloads, str source):
    """:func:`maritime.runtime.decode_workers.positions_run` in C: the messages a :class:`PositionPacker` kept,
    each as ``(t, (payload, [Position]))``, ``source`` their source."""
    cdef Py_ssize_t size = PyBytes_GET_SIZE(recs), n, i, at = 0, total = PyBytes_GET_SIZE(payloads)
    cdef PositionRecord r
    cdef const char* base = PyBytes_AS_STRING(recs)
    cdef const char* pay = PyBytes_AS_STRING(payloads)
    if size % sizeof(PositionRecord):
        raise ValueError(f"position records of {size} bytes: not a whole number of records")
    n = size // sizeof(PositionRecord)
    cdef list out = []
    for i in range(n):
        memcpy(&r, base + i * sizeof(PositionRecord), sizeof(PositionRecord))
        if r.payload_len < 0:
            payload = None
        else:
            if at + r.payload_len > total:
                raise ValueError("position records longer than their payloads")
            payload = PyBytes_FromStringAndSize(pay + at, r.payload_len)
            at += r.payload_len
        made = _make_position(
            PyLong_FromLongLong(r.mmsi), PyFloat_FromDouble(r.time_s), PyFloat_FromDouble(r.lat),
            PyFloat_FromDouble(r.lon),
            None if r.flags & NO_SOG else PyFloat_FromDouble(r.sog),
            None if r.flags & NO_COG else PyFloat_FromDouble(r.cog),
            None if r.flags & NO_HEADING else PyLong_FromLongLong(r.heading),
            None if r.flags & NO_STATUS else PyLong_FromLongLong(r.status),
            PyLong_FromLongLong(r.msg_type), source, PyFloat_FromDouble(r.time_err))
        out.append((PyFloat_FromDouble(r.t), (payload, [made])))
    if at != total:
        raise ValueError("payloads left over after the position records")
    return out


# -- the de-duplication window -----------------------------------------------------------------------------------


cdef inline double _as_double(object x) except? -1.0:
    """A time kept by the window, as a double (a float, as it keeps them; anything else put in ``_seen`` from
    outside converted as ``float()`` would)."""
    return PyFloat_AS_DOUBLE(x) if type(x) is float else float(x)


cdef class PayloadWindow:
    """:class:`maritime.ingest.eventtime.PayloadWindow` (the reference) with its loop in C: payloads seen in the
    last ``window_s`` seconds of (roughly ordered) event time. The same answers and the same state: ``_seen``
    (payload → the event time it was remembered at, s) and ``_order`` (``(time, payload)`` in the order
    remembered, those not yet forgotten), which a checkpoint's snapshot reads."""

    cdef readonly double window_s
    cdef readonly dict _seen
    # (time, payload) in the order remembered; those before ``head`` are forgotten (dropped in blocks)
    cdef list queue
    cdef Py_ssize_t head

    def __init__(self, double window_s):
        self.window_s = window_s
        self._seen = {}
        self.queue = []
        self.head = 0

    @property
    def _order(self):
        """What is remembered, ``(time s, payload)`` in the order remembered (a copy)."""
        return self.queue[self.head:]

    cdef bint seen_c(self, object payload, double time_s) except -1:
        cdef PyObject* t = PyDict_GetItem(self._seen, payload)
        if t == NULL:
            return False
        cdef double dt = time_s - _as_double(<object>t)
        return -self.window_s <= dt <= self.window_s

    cdef int remember_c(self, object payload, double time_s) except -1:
        cdef double cutoff = time_s - self.window_s
        cdef list queue = self.queue
        cdef dict seen = self._seen
        cdef Py_ssize_t h = self.head, n = len(queue)
        cdef PyObject* cur
        cdef double te
        while h < n:
            entry = <tuple><object>PyList_GET_ITEM(queue, h)
            te = PyFloat_AS_DOUBLE(<object>PyTuple_GET_ITEM(entry, 0))
            if not te < cutoff:
                break
            h += 1
            p = <object>PyTuple_GET_ITEM(entry, 1)
            cur = PyDict_GetItem(seen, p)
            if cur != NULL and _as_double(<object>cur) == te:
                del seen[p]
        if h > 4096 and 2 * h > n:
            del queue[:h]
            h = 0
        self.head = h
        if PyDict_GetItem(seen, payload) == NULL:
            t = PyFloat_FromDouble(time_s)
            seen[payload] = t
            queue.append((t, payload))
        return 0

    def seen(self, payload, double time_s):
        """True when ``payload`` was remembered within ``window_s`` of ``time_s`` (either side: a receiver whose
        clock runs behind stamps its copy earlier)."""
        return self.seen_c(payload, time_s)

    def remember(self, payload, double time_s):
        """Remember a decoded payload; forget those that left the window."""
        self.remember_c(payload, time_s)


# -- the external sort's merge ----------------------------------------------------------------------------------
# ``heapq.merge`` keeps ``[item, run, next]`` lists in a heap and compares them as lists: the items first (equal as
# a tuple compares its elements, one object being equal to itself), then the runs. With a total order (the sort's
# items have distinct sequence numbers) any merge gives the same order; to give heapq.merge's order whatever the
# items (a NaN time), this compares as it does and moves entries as its heap does (``_siftup`` and ``_siftdown``
# of ``heapq``, which its C module mirrors).


cdef inline int _item_cmp(object a, object b) except -2:
    """For two items of the external sort, ``(time s, seq, ...)``: 0 when ``a == b`` as tuples compare, else 1
    when ``a < b``, -1 when not; anything but a float time and an int sequence number by the tuples' own
    comparison."""
    if type(a) is tuple and type(b) is tuple and PyTuple_GET_SIZE(a) >= 2 and PyTuple_GET_SIZE(b) >= 2:
        ta = <object>PyTuple_GET_ITEM(a, 0)
        tb = <object>PyTuple_GET_ITEM(b, 0)
        sa = <object>PyTuple_GET_ITEM(a, 1)
        sb = <object>PyTuple_GET_ITEM(b, 1)
        if type(ta) is float and type(tb) is float and type(sa) is int and type(sb) is int:
            if not (ta is tb or PyFloat_AS_DOUBLE(ta) == PyFloat_AS_DOUBLE(tb)):
                return 1 if PyFloat_AS_DOUBLE(ta) < PyFloat_AS_DOUBLE(tb) else -1
            if not (sa is sb or sa == sb):
                return 1 if sa < sb else -1
    if a == b:
        return 0
    return 1 if a < b else -1


cdef class MergedRuns:
    """``heapq.merge`` of the external sort's sorted runs (:class:`maritime.ingest.ordering.SpillSort`) in C: the
    same items in the same order."""

    cdef list iters
    cdef list heads
    # the runs with an item waiting, as heapq.merge's heap (of run numbers)
    cdef list heap

    def __init__(self, runs):
        cdef Py_ssize_t k, n
        self.iters = [iter(r) for r in runs]
        self.heads = [None] * len(self.iters)
        self.heap = []
        for k in range(len(self.iters)):
            got = next(self.iters[k], _END)
            if got is not _END:
                self.heads[k] = got
                self.heap.append(k)
        n = len(self.heap)
        for k in reversed(range(n // 2)):  # heapq.heapify
            self._siftup(k)

    cdef bint _less(self, Py_ssize_t i, Py_ssize_t j) except -1:
        """``[head i, i] < [head j, j]``, as heapq.merge's lists compare."""
        cdef int c = _item_cmp(self.heads[i], self.heads[j])
        if c == 0:
            return i < j
        return c == 1

    cdef int _siftdown(self, Py_ssize_t startpos, Py_ssize_t pos) except -1:
        cdef list heap = self.heap
        cdef Py_ssize_t newitem = heap[pos], parentpos, parent
        while pos > startpos:
            parentpos = (pos - 1) >> 1
            parent = heap[parentpos]
            if self._less(newitem, parent):
                heap[pos] = parent
                pos = parentpos
                continue
            break
        heap[pos] = newitem
        return 0

    cdef int _siftup(self, Py_ssize_t pos) except -1:
        cdef list heap = self.heap
        cdef Py_ssize_t endpos = len(heap), startpos = pos, newitem = heap[pos], childpos, rightpos
        childpos = 2 * pos + 1
        while childpos < endpos:
            rightpos = childpos + 1
            if rightpos < endpos and not self._less(<Py_ssize_t>heap[childpos], <Py_ssize_t>heap[rightpos]):
                childpos = rightpos
            heap[pos] = heap[childpos]
            pos = childpos
            childpos = 2 * pos + 1
        heap[pos] = newitem
        return self._siftdown(startpos, pos)

    def __iter__(self):
        return self

    def __next__(self):
        cdef list heap = self.heap
        if not heap:
            raise StopIteration
        cdef Py_ssize_t k = heap[0]
        item = self.heads[k]
        got = next(self.iters[k], _END)
        if got is not _END:
            self.heads[k] = got
            if len(heap) > 1:
                self._siftup(0)  # heapq.heapreplace
        else:
            self.heads[k] = None
            last = heap.pop()  # heapq.heappop
            if heap:
                heap[0] = last
                self._siftup(0)
        return item


cdef object _END = object()


# -- the reorder window ------------------------------------------------------------------------------------------


cdef double _NEG_INF = float("-inf")


cdef class Reorder:
    """:class:`maritime.ingest.eventtime.Reorder` (the reference) in C: the same releases, in the same order, and
    the same late items. Items in time order wait in a queue; the first one out of order turns what waits into a
    heap (heapq's, on the same ``(time, arrival, item)`` entries), which serves until it is empty."""

    cdef public double window_s
    cdef public object on_late
    cdef public double max_time_s, released_s
    cdef list heap
    # the queue: entries from ``head`` on wait (those before it were released, dropped in blocks)
    cdef list queue
    cdef Py_ssize_t head
    cdef double queue_s
    cdef long long seq

    def __init__(self, double window_s, on_late=None):
        self.window_s = window_s
        self.on_late = on_late
        self.heap = []
        self.queue = []
        self.head = 0
        self.queue_s = _NEG_INF
        self.seq = 0
        self.max_time_s = _NEG_INF
        self.released_s = _NEG_INF

    def push(self, time, item):
        """Add one item at event time ``time`` (s); return those now released, oldest first."""
        cdef double time_s = time  # (the time object itself is kept, as the reference keeps it)
        if time_s < self.released_s:
            if self.on_late is not None:
                self.on_late(time, item)
            return ()
        cdef list heap = self.heap, queue = self.queue, out
        entry = (time if type(time) is float else PyFloat_FromDouble(time_s), PyLong_FromLongLong(self.seq), item)
        self.seq += 1
        if heap:
            _heappush(heap, entry)
        elif time_s >= self.queue_s:
            queue.append(entry)
            self.queue_s = time_s
        else:  # out of order: what waits (sorted, so a heap as it is) and this one go to the heap
            heap.extend(queue[self.head:])
            del queue[:]
            self.head = 0
            self.queue_s = _NEG_INF
            _heappush(heap, entry)
        if time_s > self.max_time_s:
            self.max_time_s = time_s
        cdef double limit = self.max_time_s - self.window_s
        cdef Py_ssize_t h, n
        if heap:
            if PyFloat_AS_DOUBLE(<object>PyTuple_GET_ITEM(<tuple>heap[0], 0)) > limit:
                return ()
            out = []
            while heap and PyFloat_AS_DOUBLE(<object>PyTuple_GET_ITEM(<tuple>heap[0], 0)) <= limit:
                got = <tuple>_heappop(heap)
                out.append((<object>PyTuple_GET_ITEM(got, 0), <object>PyTuple_GET_ITEM(got, 2)))
        else:
            h = self.head
            n = len(queue)
            if PyFloat_AS_DOUBLE(<object>PyTuple_GET_ITEM(<tuple><object>PyList_GET_ITEM(queue, h), 0)) > limit:
                return ()
            out = []
            while h < n:
                got = <tuple><object>PyList_GET_ITEM(queue, h)
                if not PyFloat_AS_DOUBLE(<object>PyTuple_GET_ITEM(got, 0)) <= limit:
                    break
                out.append((<object>PyTuple_GET_ITEM(got, 0), <object>PyTuple_GET_ITEM(got, 2)))
                h += 1
            if h == n:
                del queue[:]
                h = 0
            elif h > 1024 and 2 * h > n:
                del queue[:h]
                h = 0
            self.head = h
        if not out:  # a NaN time at the top of the heap: the reference fails the same way
            raise IndexError("list index out of range")
        self.released_s = PyFloat_AS_DOUBLE(<object>PyTuple_GET_ITEM(<tuple>out[len(out) - 1], 0))
        return out

    def flush(self):
        """Release everything held (end of input)."""
        waiting = sorted(self.heap) if self.heap else self.queue[self.head:]
        out = [(t, it) for t, _, it in waiting]
        self.heap = []
        self.queue = []
        self.head = 0
        self.queue_s = _NEG_INF
        if out:
            self.released_s = out[len(out) - 1][0]
        return out

    def __len__(self):
        return len(self.heap) + len(self.queue) - self.head
