"""Where lines come from: files (plain or gzip), stdin, TCP, UDP, and CSV tables.

File sources are plain iterators (a replay runs as fast as the CPU allows);
network sources are asyncio iterators that yield batches of
``(line, receive_time_s)`` so that the per-line cost stays in the decoder.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import gzip
import logging
import os
import re
import sys
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlparse

from maritime.retry import Backoff

logger = logging.getLogger(__name__)

#: Lines longer than this are cut off and left to the decoder to reject (bytes).
MAX_LINE_BYTES = 16_384


class SourceError(Exception):
    """A source that cannot be opened or understood (a one-line reason); ``usage`` when the argument itself
    is wrong (a URL without a valid port), not the file behind it."""

    def __init__(self, message: str, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """A parsed source argument: ``kind`` is file (NMEA lines), stdin, csv (a decoded table or JSON: any other
    format), tcp or udp; ``format`` the format it is read as (``""``: told from its first lines, see
    :mod:`maritime.ingest.formats`)."""

    kind: str
    target: str
    host: str = ""
    port: int = 0
    format: str = ""

    @property
    def name(self) -> str:
        """Short name used as the record's ``source``."""
        if self.kind in ("tcp", "udp"):
            return f"{self.kind}://{self.host}:{self.port}"
        if self.kind == "stdin":
            return "stdin"
        return Path(self.target).name


def parse_source(arg: str, fmt: str = "") -> list[SourceSpec]:
    """Turn one command-line source argument into source specs.

    ``-`` is stdin, ``tcp://host:port`` and ``udp://[host]:port`` are network
    feeds, a folder stands for the files in it (at any depth), anything else a
    file path or glob. ``fmt`` forces the format of the files (default: told
    from their first lines when they are read). Raises :class:`SourceError`
    for a glob that matches nothing or a file that does not exist.
    """
    if arg == "-":
        return [SourceSpec("stdin", "-")]
    if arg.startswith(("tcp://", "udp://")):
        url = urlparse(arg)
        try:
            port = url.port
        except ValueError:
            raise SourceError(f"{arg}: the port must be a number from 1 to 65535", usage=True) from None
        if port is None or port == 0:
            raise SourceError(f"{arg}: a port is needed, as in tcp://host:port", usage=True)
        host = url.hostname or ("0.0.0.0" if url.scheme == "udp" else "")
        if url.scheme == "tcp" and not host:
            raise SourceError(f"{arg}: a host is needed, as in tcp://host:port", usage=True)
        return [SourceSpec(url.scheme, arg, host, port)]
    # a file whose name has glob characters ("[b]log.nmea") is taken as it is before it is tried as a glob
    paths = [arg] if Path(arg).is_file() or not any(c in arg for c in "*?[") else sorted(glob.glob(arg))
    if len(paths) == 1 and Path(paths[0]).is_dir():
        paths = sorted(str(f) for f in Path(paths[0]).rglob("*")
                       if f.is_file() and not any(part.startswith(".") for part in f.parts))
        if not paths:
            raise SourceError(f"{arg}: the folder holds no file")
    if not paths:
        raise SourceError(f"{arg}: no file matches")
    specs = []
    for p in paths:
        path = Path(p)
        if not path.is_file():
            if re.fullmatch(r"[\w.-]*:\d{1,5}", p):
                raise SourceError(f"{p}: no such file; for a network feed write tcp://{p} (or udp://{p})",
                                  usage=True)
            raise SourceError(f"{p}: no such file")
        try:
            with path.open("rb"):
                pass
        except OSError as err:
            raise SourceError(f"{p}: cannot be read ({err.strerror})") from None
        kind = "file" if fmt == "nmea" else "csv" if fmt or path.name.lower().endswith((".csv", ".csv.gz")) else "file"
        specs.append(SourceSpec(kind, str(path), format=fmt))
    return specs


def open_binary(path: str) -> BinaryIO:
    """A file opened for reading bytes, gunzipped when it is a gzip."""
    f = open(path, "rb")  # noqa: SIM115 - handed to the caller
    magic = f.peek(2)[:2] if hasattr(f, "peek") else b""
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=f)  # type: ignore[return-value]
    return f


@dataclass
class ReadProgress:
    """How far a reader has got through its file: bytes read of the file's size (of a gzip file: compressed)."""

    total_bytes: int | None = None
    tell: Callable[[], int] | None = None

    def done_bytes(self) -> int:
        """Bytes read so far (0 before the file is open or for stdin)."""
        try:
            return self.tell() if self.tell is not None else 0
        except (OSError, ValueError):  # closed: the whole file was read
            return self.total_bytes or 0


def iter_lines(spec: SourceSpec, progress: ReadProgress | None = None) -> Iterator[bytes]:
    """Lines of a file (plain or gzip, by its magic bytes) or of stdin, as bytes; ``progress`` follows the
    bytes read."""
    if spec.kind == "stdin":
        yield from _capped(sys.stdin.buffer)
        return
    with open_binary(spec.target) as f:
        if progress is not None:
            raw = getattr(f, "fileobj", None) or f  # a gzip file: where the compressed file is
            progress.total_bytes = os.fstat(raw.fileno()).st_size
            progress.tell = raw.tell
        try:
            yield from _capped(f)
        except (EOFError, gzip.BadGzipFile, zlib.error) as err:
            raw = getattr(f, "fileobj", None) or f
            where = f"at byte {raw.tell():,} of {os.fstat(raw.fileno()).st_size:,}"
            why = ("the gzip data ends early (a file cut short)" if isinstance(err, EOFError)
                   else f"damaged gzip data ({err})")
            raise SourceError(f"{spec.target}: {why}, {where}") from None


def _capped(f: BinaryIO) -> Iterator[bytes]:
    """Lines of ``f``, each at most :data:`MAX_LINE_BYTES` (as over TCP): a longer one is cut there (the decoder
    rejects it as malformed) and the rest of it skipped without holding it in memory."""
    while True:
        line = f.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while True:  # skip to the end of this line, a block at a time
                rest = f.readline(1 << 16)
                if not rest or rest.endswith(b"\n"):
                    break
            line = line[:MAX_LINE_BYTES]
        yield line


class LineSplitter:
    """Reassembles lines from a byte stream cut at arbitrary points (TCP reads).

    A line longer than :data:`MAX_LINE_BYTES` is cut there (the decoder then
    rejects it); :meth:`reset` drops and counts a partial line when a
    connection is lost mid-sentence.
    """

    def __init__(self) -> None:
        self._partial = b""
        self.truncated = 0

    def feed(self, data: bytes) -> list[bytes]:
        """Complete lines in ``data`` (with what was left over from the last call)."""
        buf = self._partial + data
        lines = buf.split(b"\n")
        self._partial = lines.pop()
        if len(self._partial) > MAX_LINE_BYTES:
            lines.append(self._partial[:MAX_LINE_BYTES])
            self._partial = b""
        return lines

    def reset(self) -> bytes:
        """Forget the partial line (connection lost); return it, counted in ``truncated``."""
        partial, self._partial = self._partial, b""
        if partial.strip():
            self.truncated += 1
        return partial


async def tcp_lines(
    host: str,
    port: int,
    *,
    min_backoff_s: float = 0.5,
    max_backoff_s: float = 60.0,
    stop: asyncio.Event | None = None,
    splitter: LineSplitter | None = None,
) -> AsyncIterator[list[tuple[bytes, float]]]:
    """Batches of ``(line, receive_time_s)`` from an NMEA-over-TCP server.

    Reconnects forever with exponential backoff and jitter (``min_backoff_s`` …
    ``max_backoff_s``) until ``stop`` is set. A line cut by a lost connection
    is dropped and counted, never glued to the first line of the next one.
    """
    splitter = splitter or LineSplitter()
    backoff = Backoff(min_backoff_s, max_backoff_s)
    down_since: float | None = None
    while stop is None or not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError as err:
            if down_since is None:
                down_since = time.time()
                logger.warning("tcp://%s:%d unreachable (%s); retrying with backoff", host, port, err)
            await _sleep_or_stop(backoff.next_delay(), stop)
            continue
        if down_since is not None:
            logger.info("tcp://%s:%d connected after %.0f s down", host, port, time.time() - down_since)
        else:
            logger.info("tcp://%s:%d connected", host, port)
        down_since = None
        backoff.reset()
        try:
            while stop is None or not stop.is_set():
                data = await reader.read(65536)
                if not data:
                    break
                now = time.time()
                lines = splitter.feed(data)
                if lines:
                    yield [(ln, now) for ln in lines]
        except (ConnectionError, OSError) as err:
            logger.warning("tcp://%s:%d connection lost: %s", host, port, err)
        finally:
            if splitter.reset().strip():
                logger.warning("tcp://%s:%d: dropped a line cut by the disconnect", host, port)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
        if stop is None or not stop.is_set():
            down_since = time.time()
            logger.warning("tcp://%s:%d closed by the server; reconnecting", host, port)
            await _sleep_or_stop(backoff.next_delay(), stop)


async def _sleep_or_stop(seconds: float, stop: asyncio.Event | None) -> None:
    if stop is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, queue: asyncio.Queue[list[tuple[bytes, float]]]) -> None:
        self.queue = queue
        self.dropped = 0

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        now = time.time()
        lines = [(ln, now) for ln in data.split(b"\n") if ln.strip()]
        try:
            self.queue.put_nowait(lines)
        except asyncio.QueueFull:
            self.dropped += len(lines)
            logger.warning("UDP queue full: %d lines dropped so far", self.dropped)


async def udp_lines(
    host: str, port: int, *, stop: asyncio.Event | None = None, max_queue: int = 10_000
) -> AsyncIterator[list[tuple[bytes, float]]]:
    """Batches of ``(line, receive_time_s)`` from UDP datagrams on ``host:port``."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[list[tuple[bytes, float]]] = asyncio.Queue(max_queue)
    transport, _ = await loop.create_datagram_endpoint(lambda: _UdpProtocol(queue), local_addr=(host, port))
    logger.info("listening for UDP on %s:%d", host, port)
    try:
        while stop is None or not stop.is_set():
            try:
                batch = await asyncio.wait_for(queue.get(), timeout=0.5)
            except TimeoutError:
                continue
            yield batch
    finally:
        transport.close()
