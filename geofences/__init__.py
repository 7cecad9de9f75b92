"""The default Caribbean zone files, installed as package data (``maritime_geofences``)."""
