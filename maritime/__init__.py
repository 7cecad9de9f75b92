"""Maritime domain awareness for Caribbean waters."""

__version__ = "0.1.0"

import maritime.buildinfo as _buildinfo

# the pure-Python reference runs when asked (MARITIME_PURE=1) or when compiled modules are older than their
# source (an in-place build, then an edit): never a mix of the two
_buildinfo.choose()
