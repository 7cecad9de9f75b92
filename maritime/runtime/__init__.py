"""Runtimes: the one assembly (settings → stages), the embedded pipeline, the partitioned core."""
