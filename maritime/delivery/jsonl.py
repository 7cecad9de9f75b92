"""The JSON-lines alert sink: one alert object (the contract) a line."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import IO

from maritime.models import Alert

logger = logging.getLogger(__name__)


class JsonLinesSink:
    """Append alerts to a file (or an open text stream), one JSON object a line.

    Every status change of an event is its own line with the same ``id``, so
    the file is the full history; readers wanting the latest state keep the
    last line of each id.
    """

    def __init__(self, target: str | Path | IO[str], *, append: bool = False) -> None:
        if isinstance(target, (str, Path)):
            path = Path(target)
            if path.parent and not path.parent.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
            self._fh: IO[str] = path.open("a" if append else "w", encoding="utf-8")
            self._own = True
            self.name = str(path)
        else:
            self._fh = target
            self._own = False
            self.name = getattr(target, "name", "stream")
        self.written = 0

    def write(self, alert: Alert) -> None:
        """Write one alert line (flushed, so a live tail sees it at once)."""
        self._fh.write(alert.to_json() + "\n")
        self._fh.flush()
        self.written += 1

    def close(self) -> None:
        """Close the file if this sink opened it."""
        if self._own:
            self._fh.close()
        else:
            self._fh.flush()
