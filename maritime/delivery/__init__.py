"""Where alerts go: JSON lines, Redis Streams, webhooks with CAP 1.2; the delivery spool; subscriptions."""

from maritime.delivery.jsonl import JsonLinesSink

__all__ = ["JsonLinesSink"]
