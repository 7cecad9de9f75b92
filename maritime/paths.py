"""Where the tool keeps its state on this machine, and files only their owner may read."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: overrides the per-user state folder (tests, containers, a service account's data volume)
STATE_ENV = "MARITIME_STATE_DIR"


def state_dir() -> Path:
    """The per-user state folder: ``$MARITIME_STATE_DIR``, else the XDG state folder
    (``~/.local/state/caribbean-mda`` on Linux, via platformdirs), so a run started anywhere finds it."""
    env = os.environ.get(STATE_ENV)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_state_dir("caribbean-mda", appauthor=False))


#: overrides the per-user cache folder (derived data that can always be made again: the water grid)
CACHE_ENV = "MARITIME_CACHE_DIR"


def cache_dir() -> Path:
    """The per-user cache folder: ``$MARITIME_CACHE_DIR``, else the XDG cache folder
    (``~/.cache/caribbean-mda`` on Linux). What is kept there is made again whenever it is missing or unreadable."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("caribbean-mda", appauthor=False))


def keep_arrays(path: Path, what: str, *, compress: bool = False, family: int | None = None, **arrays: Any) -> None:
    """Keep numpy ``arrays`` in the cache file ``path`` (``.npz``), written whole then renamed into place so that a
    reader never sees half a file; a cache that cannot be written is only logged, with ``what`` it would have kept
    (it is made again next time). ``family``: keep only that many files of ``path``'s family
    (:func:`prune_family`)."""
    import numpy as np

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            (np.savez_compressed if compress else np.savez)(fh, **arrays)
        os.replace(tmp, path)
    except OSError as err:
        logger.info("%s not cached (%s): made again next time", what, err)
        return
    if family is not None:
        prune_family(path, family)


def used(path: Path) -> None:
    """Note that the cache file ``path`` was just read (its modification time), so that :func:`prune_family` keeps
    the files in use."""
    with contextlib.suppress(OSError):
        os.utime(path)


def prune_family(path: Path, keep: int) -> None:
    """Remove all but the ``keep`` most recently written or read files of ``path``'s family from its folder: the
    files named as it is up to its key (``<family>-<key>.npz``: ``water-grid``, ``countries``, ``zone-cells``),
    each with the folder ``<family>-<key>-trees`` it may have. Made for other land data, other zones or another
    GEOS, they would otherwise stay for ever. What cannot be removed is left."""
    family = path.name.rsplit("-", 1)[0]
    if family == path.name:
        return
    try:
        mine = [(p.stat().st_mtime_ns, p) for p in path.parent.glob(f"{family}-*.npz")
                if p.name.rsplit("-", 1)[0] == family]
    except OSError:
        return
    mine.sort(key=lambda tp: tp[0], reverse=True)
    for _t, old in mine[keep:]:
        if old == path:
            continue
        with contextlib.suppress(OSError):
            old.unlink()
        shutil.rmtree(old.with_name(f"{old.stem}-trees"), ignore_errors=True)
        logger.info("removed the cache file %s (more than %d of its kind)", old, keep)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (mode 0600 from creation), replacing it whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
