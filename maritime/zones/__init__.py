"""Zones: zone files, validation and the spatial index; Caribbean geography; building the bundled set."""
