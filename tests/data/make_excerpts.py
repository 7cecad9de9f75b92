"""Cut the test excerpts in ``tests/data/nmea`` from the third-party recordings in ``../shared/data/nmea``.

Each excerpt is the first lines of its recording, whole files under :data:`WHOLE_UNDER` lines kept as they
are, cut after a line that ends its message (never between the fragments of a multipart message), so that a
fresh clone tests the decoder, the time model and the runtimes on real lines. Run from the project root::

    python tests/data/make_excerpts.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT.parent / "shared" / "data" / "nmea"
TARGET = Path(__file__).resolve().parent / "nmea"
LINES = 300
WHOLE_UNDER = 400

FRAGMENT = re.compile(rb"!\w{5},(\d),(\d),")


def cut(lines: list[bytes], n: int) -> list[bytes]:
    """The first ``n`` lines or a few more, up to the end of the message the ``n``-th line belongs to."""
    end = n
    while end < len(lines):
        m = FRAGMENT.search(lines[end - 1])
        if m is None or m.group(1) == m.group(2):
            break
        end += 1
    return lines[:end]


def main() -> int:
    if not SOURCE.is_dir():
        print(f"{SOURCE} is not here", file=sys.stderr)
        return 1
    TARGET.mkdir(parents=True, exist_ok=True)
    for path in sorted(SOURCE.iterdir()):
        lines = path.read_bytes().splitlines(keepends=True)
        kept = lines if len(lines) < WHOLE_UNDER else cut(lines, LINES)
        (TARGET / path.name).write_bytes(b"".join(kept))
        print(f"{path.name}: {len(kept)} of {len(lines)} lines")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
