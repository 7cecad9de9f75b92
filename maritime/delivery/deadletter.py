"""The dead-letter file: every rejected input line, one JSON object a line, with its reason and source."""

from __future__ import annotations

import json
from typing import IO

from maritime.ingest.errors import Rejected


class DeadLetter:
    """Writes rejected input, one JSON object a line, with its reason and source."""

    def __init__(self, fh: IO[str]) -> None:
        self.fh = fh

    def __call__(self, rej: Rejected) -> None:
        self.fh.write(json.dumps(rej.as_dict(), ensure_ascii=False) + "\n")

    def close(self) -> None:
        """Close the file."""
        self.fh.close()
