"""Maritime domain awareness for Caribbean waters."""

import os as _os

__version__ = "0.1.0"

if _os.environ.get("MARITIME_PURE") == "1":  # run the pure-Python reference even where compiled modules exist
    import maritime.buildinfo

    maritime.buildinfo.install()
