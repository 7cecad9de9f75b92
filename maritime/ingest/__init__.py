"""Input: sources (files, TCP/UDP, CSV), the pyais boundary, and event time (reorder, de-duplication)."""
