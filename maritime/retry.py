"""One backoff for everything that retries: feeds reconnecting, sinks redelivering."""

from __future__ import annotations

import random


class Backoff:
    """Exponential backoff with jitter: ``first_s``, doubling up to ``max_s``, each wait drawn from
    ``[delay × (1 − jitter), delay]`` so that many clients of one server do not retry in step."""

    __slots__ = ("_next_s", "first_s", "jitter", "max_s")

    def __init__(self, first_s: float = 0.2, max_s: float = 60.0, jitter: float = 0.5) -> None:
        if not (0.0 < first_s <= max_s and 0.0 <= jitter < 1.0):
            raise ValueError(f"backoff needs 0 < first_s <= max_s and 0 <= jitter < 1 (got {first_s}, {max_s}, "
                             f"{jitter})")
        self.first_s = first_s
        self.max_s = max_s
        self.jitter = jitter
        self._next_s = first_s

    def next_delay(self) -> float:
        """The wait before the next try (s); the one after it doubles."""
        d = self._next_s
        self._next_s = min(d * 2.0, self.max_s)
        return d * random.uniform(1.0 - self.jitter, 1.0)

    def reset(self) -> None:
        """A try succeeded: the next failure waits ``first_s`` again."""
        self._next_s = self.first_s
