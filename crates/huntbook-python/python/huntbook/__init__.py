"""huntbook: security operations and threat hunting with Jupyter notebooks.

The package is a thin face over huntbook's Rust core (``huntbook._huntbook``).
"""

from huntbook._huntbook import __version__

__all__ = ["__version__"]
