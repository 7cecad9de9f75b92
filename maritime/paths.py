"""Where the tool keeps its state on this machine, and files only their owner may read."""

from __future__ import annotations

import logging
import os
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


def keep_arrays(path: Path, what: str, *, compress: bool = False, **arrays: Any) -> None:
    """Keep numpy ``arrays`` in the cache file ``path`` (``.npz``), written whole then renamed into place so that a
    reader never sees half a file; a cache that cannot be written is only logged, with ``what`` it would have kept
    (it is made again next time)."""
    import numpy as np

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            (np.savez_compressed if compress else np.savez)(fh, **arrays)
        os.replace(tmp, path)
    except OSError as err:
        logger.info("%s not cached (%s): made again next time", what, err)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (mode 0600 from creation), replacing it whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
