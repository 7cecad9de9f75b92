"""Alert sinks: JSON lines, Redis Streams, webhooks (CAP 1.2), the live map."""

from maritime.sinks.jsonl import JsonLinesSink

__all__ = ["JsonLinesSink"]
