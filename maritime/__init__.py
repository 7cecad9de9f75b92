"""Maritime domain awareness for Caribbean waters."""

__version__ = "0.1.0"
